/**
 * The model-audit command: run an audit, compare two reports, render a report, describe the
 * machine. Each command lives in cli/; this module builds the program and maps errors to exit codes.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { packageVersion } from './audit/audit.js';
import { stepDefaults } from './audit/config.js';
import { benchmarkDefaults } from './measure/benchmark.js';
import { compareCommand, compareModelsCommand, type CompareFlags, type CompareModelsFlags } from './cli/compare.js';
import { compareModelsDefaults } from './compare/models.js';
import { envCommand } from './cli/env.js';
import { historyCommand, type HistoryFlags } from './cli/history.js';
import { metricNames } from './history/metrics.js';
import { exitCodeHelp, exitCodes } from './cli/exit-codes.js';
import { profileCommand, type ProfileFlags } from './cli/profile.js';
import { reportCommand } from './cli/report.js';
import { profileDefaults } from './measure/profile.js';
import { formats, runCommand, type Format, type RunFlags } from './cli/run.js';
import { ModelAuditError, OptionsError } from './errors.js';
import { stepNames, type StepName } from './report/json.js';

export { exitCodes };

function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer of at least ${min}`);
    return n;
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number above 0');
  return n;
}

function formatList(value: string): Format[] {
  const list = value.split(',').map((f) => f.trim());
  for (const f of list) if (!(formats as readonly string[]).includes(f)) throw new InvalidArgumentError(`unknown format "${f}" (${formats.join(', ')})`);
  return list as Format[];
}

function stepList(value: string): StepName[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) if (!(stepNames as readonly string[]).includes(s)) throw new InvalidArgumentError(`unknown step "${s}" (${stepNames.join(', ')})`);
  if (list.length === 0) throw new InvalidArgumentError('expected at least one step');
  return list as StepName[];
}

/** `NAME=SOURCE`, repeatable: a distribution, a constant or a .npy file (or folder) for one input. */
function inputFlag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError('expected NAME=SOURCE, e.g. x=normal:0,1, sr=16000 or x=samples.npy');
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** `NAME=1,3,224,224`, repeatable: accumulates into { NAME: [1, 3, 224, 224] }. */
function shapeFlag(value: string, previous: Record<string, number[]> = {}): Record<string, number[]> {
  const at = value.lastIndexOf('=');
  if (at <= 0) throw new InvalidArgumentError('expected NAME=DIMS, e.g. input=1,3,224,224');
  const dims = value.slice(at + 1).split(',').map((d) => Number(d.trim()));
  if (dims.length === 0 || !dims.every((d) => Number.isInteger(d) && d >= 0)) throw new InvalidArgumentError(`expected comma-separated non-negative integers after "=", got "${value.slice(at + 1)}"`);
  return { ...previous, [value.slice(0, at)]: dims };
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command();
  // Before the subcommands are added, so that they inherit it: errors come back to main().
  program.exitOverride();
  program
    .name('model-audit')
    .description('Audit a lightweight AI model (ONNX Runtime, TensorFlow Lite) on the CPU it will run on.')
    .version(packageVersion)
    .showHelpAfterError()
    .addHelpText('after', `\n${exitCodeHelp}`);
  program
    .command('run')
    .description('audit a model (no model: a built-in demo model) and write the reports; each flag overrides the configuration key it names')
    .argument('[model]', 'the .onnx or .tflite file')
    .option('-c, --config <file>', 'configuration (YAML or JSON): steps, budgets, open options, inputs')
    .option('-o, --out <dir>', 'folder for the reports (created if its parent exists)', 'model-audit-report')
    .option('-f, --format <list>', `comma-separated: ${formats.join(', ')}`, formatList, [...formats])
    .option('--steps <list>', `steps to run, comma-separated (${stepNames.join(', ')}); default: latency, throughput, memory, sensitivity, abnormal`, stepList)
    .option('--duration-ms <ms>', `steps.latency.durationMs: steady-state length (default ${stepDefaults.latency.durationMs} when --iterations is not given)`, positive)
    .option('--iterations <n>', 'steps.latency.iterations: steady-state inferences', integer(1))
    .option('--warmup <n>', `steps.latency.warmup.iterations (default ${benchmarkDefaults.warmup.iterations})`, integer(0))
    .option('--cpu <n>', 'steps.latency.cpu: pin the latency measurement to this CPU (default: not pinned)', integer(0))
    .addOption(new Option('--runtime <runtime>', 'open.runtime (default: from the file\'s content)').choices(['onnx', 'tflite']))
    .option('--threads <n>', "open.intraOpThreads: threads one inference may use (default 0: the runtime's own choice)", integer(0))
    .addOption(new Option('--optimization <level>', "open.graphOptimizationLevel, ONNX Runtime (default 'all')").choices(['disabled', 'basic', 'extended', 'all']))
    .option('--xnnpack', 'open.xnnpack: run TFLite through the XNNPack delegate (default off)')
    .option('--no-arena', "open.cpuMemArena: false, ONNX Runtime's CPU arena off (default on)")
    .option('--denormal-as-zero', 'open.denormalAsZero: ONNX Runtime flushes denormals to zero (default off)')
    .option('--shape <name=dims>', 'inputs.shapes: the shape of an input with dynamic dimensions, e.g. input=1,1280 (repeatable; default: 1 for each dynamic dimension, probed larger when the model refuses 1)', shapeFlag)
    .option('--input <name=source>', "inputs.values: an input's values: a distribution (uniform:MIN,MAX, normal:MEAN,STD, constant:V, zeros, denormal, integers:MIN,MAX), a number, or a .npy file or folder of samples (repeatable; default uniform:-1,1 for floats, integers:0,9 otherwise)", inputFlag)
    .option('--data <path>', 'inputs.data: a data set the timed steps cycle through: a folder of test_data_set_* (ONNX test data) or a .json cases file')
    .option('--samples <n>', 'inputs.samples: feed sets to synthesise when no data or file decides how many (default 1)', integer(1))
    .addOption(new Option('--order <order>', "inputs.order: the order timed loops take the feed sets in (default 'sequential')").choices(['sequential', 'shuffle']))
    .option('--seed <n>', `inputs.seed: seed of the synthesised inputs (default ${stepDefaults.inputs.seed})`, integer(0))
    .option('--store <url>', 'record the report in a results store: sqlite:PATH or postgres://USER@HOST/DB (default: $MODEL_AUDIT_STORE, else none)')
    .option('-q, --quiet', 'no progress bar, no summary')
    .action(async (model: string | undefined, flags: RunFlags) => setExit(await runCommand(model, flags)));
  program
    .command('compare')
    .description('compare a report with a baseline; exit 1 on a regression')
    .argument('<baseline>', 'baseline report.json')
    .argument('<current>', 'current report.json')
    .option('--alpha <p>', 'significance a change needs', Number, 0.01)
    .option('--min-effect <fraction>', 'smallest relative change of the median, throughput and memory that counts', Number, 0.15)
    .option('--min-tail-effect <fraction>', 'smallest relative change of p99 that counts', Number, 0.25)
    .option('--json', 'print the comparison as JSON')
    .action((baseline: string, current: string, flags: CompareFlags) => setExit(compareCommand(baseline, current, flags)));
  program
    .command('compare-models')
    .description('time two models in interleaved rounds on the same inputs (A/B); exit 1 when the candidate is slower')
    .argument('<baseline>', 'baseline model file')
    .argument('<candidate>', 'candidate model file')
    .option('--rounds <n>', 'interleaved rounds, each timing both models once (at least 8)', integer(8), compareModelsDefaults.rounds)
    .option('--round-ms <ms>', "each model's timed part of a round", integer(1), compareModelsDefaults.roundMs)
    .option('--cpu <n>', 'pin the measuring thread to this CPU (default: not pinned)', integer(0))
    .option('--threads <n>', 'open.intraOpThreads of both models (default 0: the runtime\'s own choice)', integer(0))
    .option('--shape <name=dims>', 'the shape of an input with dynamic dimensions (repeatable)', shapeFlag)
    .option('--input <name=source>', "an input's values: a distribution, a number, or a .npy file or folder (repeatable)", inputFlag)
    .option('--samples <n>', 'feed sets to draw (default 1)', integer(1))
    .option('--alpha <p>', 'significance a change needs', Number, compareModelsDefaults.alpha)
    .option('--min-effect <fraction>', 'smallest relative change of the median that counts', Number, compareModelsDefaults.minEffect)
    .option('--min-tail-effect <fraction>', 'smallest relative change of p99 that counts', Number, compareModelsDefaults.minTailEffect)
    .option('--json', 'print the comparison as JSON')
    .action(async (baseline: string, candidate: string, flags: CompareModelsFlags) => setExit(await compareModelsCommand(baseline, candidate, flags)));
  program
    .command('profile')
    .description("where the model's time goes: per operator type and per node, from the runtime's profiler (ONNX Runtime)")
    .argument('<model>', 'model file')
    .option('--runs <n>', `profiled runs (default ${profileDefaults.runs})`, integer(1))
    .option('--cpu <n>', 'pin the thread that runs the model (default: not pinned)', integer(0))
    .option('--threads <n>', "open.intraOpThreads (default 0: the runtime's own choice)", integer(0))
    .option('--shape <name=dims>', 'the shape of an input with dynamic dimensions (repeatable)', shapeFlag)
    .option('--input <name=source>', "an input's values: a distribution, a number, or a .npy file or folder (repeatable)", inputFlag)
    .option('--trace <file>', 'write the trace (Chrome trace format) to this file')
    .option('--json', 'print the profile as JSON')
    .action(async (model: string, flags: ProfileFlags) => setExit(await profileCommand(model, flags)));
  program
    .command('history')
    .description('the runs recorded in a results store as series per model, runtime, machine and metric, their steps, and the latest run against the earlier ones')
    .option('--store <url>', 'sqlite:PATH or postgres://USER@HOST/DB (default: $MODEL_AUDIT_STORE)')
    .option('--model <name>', "the model's file name, or a prefix of its sha256")
    .addOption(new Option('--runtime <runtime>', 'only this runtime').choices(['onnx', 'tflite']))
    .option('--machine <id>', 'a machine id prefix, a machine label ($MODEL_AUDIT_MACHINE when recorded) or part of the CPU model')
    .option('--branch <name>', 'only runs recorded on this branch')
    .addOption(new Option('--metric <name>', 'only this metric').choices(metricNames))
    .option('--limit <n>', 'only the most recent n matching runs (default 1000)', integer(1))
    .option('--min-effect <fraction>', 'smallest relative change of a median, throughput or memory metric that counts', Number)
    .option('--min-tail-effect <fraction>', 'smallest relative change of p99 that counts', Number)
    .option('--json', 'print the series as JSON')
    .option('--html <file>', 'write a self-contained HTML dashboard')
    .option('--check', 'exit 1 when the latest run of a series is a regression against the runs before it')
    .action(async (flags: HistoryFlags) => setExit(await historyCommand(flags)));
  program
    .command('report')
    .description('render a report.json as HTML, Markdown or JUnit (no option: Markdown to stdout)')
    .argument('<report>', 'report.json')
    .option('--html <file>', 'write the HTML page')
    .option('--md <file>', 'write the Markdown summary')
    .option('--junit <file>', 'write JUnit XML')
    .action((path: string, flags: { html?: string; md?: string; junit?: string }) => setExit(reportCommand(path, flags)));
  program
    .command('env')
    .description("this machine's fingerprint and what on it threatens measurements")
    .option('--json', 'print as JSON')
    .action((flags: { json?: boolean }) => setExit(envCommand(flags)));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = exitCodes.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return exitCodes.ok;
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) return exitCodes.usage;
    if (err instanceof OptionsError) {
      console.error(`model-audit: ${err.message}`);
      return exitCodes.usage;
    }
    if (err instanceof ModelAuditError) {
      console.error(`model-audit: ${err.message}`);
      return exitCodes.cannotRun;
    }
    throw err;
  }
  return code;
}

/** Whether this module is the script node was asked to run (through any symlink). */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `node dist/cli.js …` runs the command; importing the module does not. The installed bin is bin.js.
if (invokedDirectly()) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
