/**
 * The model-audit command: run an audit, compare two reports, render a report, describe the machine.
 */
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { audit, packageVersion, type AuditProgress } from './audit/audit.js';
import { defaultSteps, loadConfig, validateConfig, type AuditConfig } from './audit/config.js';
import { compareReports, readReport } from './compare/reports.js';
import { ModelAuditError, OptionsError } from './errors.js';
import { openModel, type Model } from './model/model.js';
import type { OpenOptions } from './model/options.js';
import { allowedCpus, environment, governorOf, harnessInfo, smtSiblings } from './system/environment.js';
import { demoModel } from './onnx/demo.js';
import { toHtml } from './report/html.js';
import type { AuditReport } from './report/json.js';
import { toJUnit } from './report/junit.js';
import { toMarkdown } from './report/markdown.js';
import { runtimeInfo } from './system/runtimes.js';

/** Exit codes. */
export const exitCodes = {
  ok: 0,
  /** A budget failed, a step errored, or compare found a regression. */
  failed: 1,
  /** Bad command line or configuration. */
  usage: 2,
  /** The model or runtime could not be opened at all. */
  cannotRun: 3,
} as const;

const formats = ['json', 'md', 'junit', 'html'] as const;
type Format = (typeof formats)[number];

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function formatList(value: string): Format[] {
  const list = value.split(',').map((f) => f.trim());
  for (const f of list) if (!(formats as readonly string[]).includes(f)) throw new InvalidArgumentError(`unknown format "${f}" (${formats.join(', ')})`);
  return list as Format[];
}

function progressReporter(quiet: boolean): { onProgress?: (p: AuditProgress) => void; stop(): void } {
  const interactive = !quiet && process.stderr.isTTY && !process.env.CI;
  if (!interactive) return { stop() {} };
  const bar = new cliProgress.SingleBar(
    { format: 'model-audit {bar} {percentage}% | {step}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: (p) => {
      const value = Math.round(((p.index + (p.state === 'end' ? 1 : (p.fraction ?? 0))) / p.count) * 100);
      if (!started) {
        bar.start(100, value, { step: p.step });
        started = true;
      } else bar.update(value, { step: p.step });
    },
    stop: () => started && bar.stop(),
  };
}

export function writeReports(report: AuditReport, dir: string, wanted: Format[]): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, text: string): void => {
    const path = join(dir, name);
    writeFileSync(path, text);
    written.push(path);
  };
  if (wanted.includes('json')) write('report.json', JSON.stringify(report, null, 2) + '\n');
  if (wanted.includes('md')) write('report.md', toMarkdown(report) + '\n');
  if (wanted.includes('junit')) write('report.junit.xml', toJUnit(report));
  if (wanted.includes('html')) write('report.html', toHtml(report));
  return written;
}

interface RunFlags {
  config?: string;
  out: string;
  format: Format[];
  runtime?: 'onnx' | 'tflite';
  threads?: number;
  cpu?: number;
  quiet?: boolean;
}

async function runCommand(modelArg: string | undefined, flags: RunFlags): Promise<number> {
  let config: AuditConfig = flags.config ? loadConfig(flags.config) : {};
  if (flags.cpu !== undefined) {
    const steps = config.steps ?? defaultSteps;
    config = { ...config, steps: { ...steps, latency: { ...steps.latency, cpu: flags.cpu } } };
  }
  config = validateConfig(config, flags.config ?? 'config');
  const open: OpenOptions = { ...config.open };
  if (flags.runtime) open.runtime = flags.runtime;
  if (flags.threads !== undefined) open.intraOpThreads = flags.threads;
  const source = modelArg ?? config.model;
  let model: Model;
  try {
    if (source === undefined) {
      if (!flags.quiet) console.error('model-audit: no model given: auditing the built-in demo model (a small ONNX keyword classifier)');
      model = await openModel(demoModel(), open);
    } else {
      model = await openModel(resolve(source), open);
    }
  } catch (err) {
    console.error(`model-audit: ${(err as Error).message}`);
    return err instanceof OptionsError ? exitCodes.usage : exitCodes.cannotRun;
  }
  const progress = progressReporter(flags.quiet ?? false);
  let report: AuditReport;
  try {
    report = await audit(model, { ...config, open }, progress.onProgress ? { onProgress: progress.onProgress } : {});
  } finally {
    progress.stop();
    model.close();
  }
  const written = writeReports(report, flags.out, flags.format);
  if (!flags.quiet) {
    console.log(toMarkdown(report));
    console.log(`\nreports: ${written.join(', ')}`);
  }
  return report.passed ? exitCodes.ok : exitCodes.failed;
}

function compareCommand(baselinePath: string, currentPath: string, flags: { alpha: number; minEffect: number; minTailEffect: number; json?: boolean }): number {
  const comparison = compareReports(readReport(baselinePath), readReport(currentPath), { alpha: flags.alpha, minEffect: flags.minEffect, minTailEffect: flags.minTailEffect });
  if (flags.json) {
    console.log(JSON.stringify(comparison, null, 2));
  } else {
    console.log(`| metric | baseline | current | change | verdict |\n| --- | --- | --- | --- | --- |`);
    for (const m of comparison.metrics) {
      console.log(`| ${m.metric} | ${m.baseline ?? '–'} | ${m.current ?? '–'} | ${m.reason} | ${m.verdict} |`);
    }
    for (const w of comparison.warnings) console.log(`warning: ${w}`);
    console.log(comparison.regression ? '\nregression' : '\nno regression');
  }
  return comparison.regression ? exitCodes.failed : exitCodes.ok;
}

function reportCommand(path: string, flags: { html?: string; md?: string; junit?: string }): number {
  const report = readReport(path);
  if (flags.html) writeFileSync(flags.html, toHtml(report));
  if (flags.md) writeFileSync(flags.md, toMarkdown(report) + '\n');
  if (flags.junit) writeFileSync(flags.junit, toJUnit(report));
  if (!flags.html && !flags.md && !flags.junit) console.log(toMarkdown(report));
  return exitCodes.ok;
}

/** The machine's fingerprint, and what on it threatens measurements. */
export function machineWarnings(): string[] {
  const warnings: string[] = [];
  const cpus = allowedCpus();
  const governors = [...new Set(cpus.map(governorOf).filter((g): g is string => g !== undefined))];
  if (governors.length === 0) warnings.push('No CPU frequency governor is exposed (common in VMs): frequency scaling cannot be ruled out.');
  else if (governors.some((g) => g !== 'performance')) warnings.push(`CPU frequency governor "${governors.join(',')}": "performance" gives steadier numbers.`);
  const [load1] = process.platform === 'linux' ? (readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number) as number[]) : [0];
  if ((load1 ?? 0) > Math.max(0.5, cpus.length - 1)) warnings.push(`Load average ${load1} on ${cpus.length} CPUs: other work competes for the machine.`);
  if (cpus.some((c) => smtSiblings(c).length > 1)) warnings.push('SMT is on: pin measurements to a CPU whose sibling is idle.');
  if (cpus.length < 2) warnings.push('Only one CPU is available to this process: the measuring thread shares it with everything else.');
  return warnings;
}

function envCommand(flags: { json?: boolean }): number {
  let runtimes: ReturnType<typeof runtimeInfo> = [];
  try {
    runtimes = runtimeInfo();
  } catch (err) {
    console.error(`model-audit: ${(err as Error).message}`);
  }
  const env = environment(runtimes);
  const harness = harnessInfo();
  const warnings = machineWarnings();
  if (flags.json) {
    console.log(JSON.stringify({ environment: env, harness, warnings }, null, 2));
    return exitCodes.ok;
  }
  console.log(`CPU      ${env.cpu.model} (${env.cpu.vendor}, ${env.cpu.architecture})`);
  console.log(`cores    ${env.cpu.physicalCores} physical, ${env.cpu.logicalCpus} logical, SMT ${env.cpu.smt ? 'on' : 'off'}; this process may use ${env.cpu.allowedCpus.join(', ')}`);
  console.log(`ISA      ${env.cpu.isa.join(' ') || '(none of interest)'}`);
  console.log(`kernel   ${env.os.kernel}; memory ${(env.memory.totalBytes / 2 ** 30).toFixed(1)} GiB; Node ${env.node.version}`);
  for (const r of runtimes) console.log(`runtime  ${r.runtime} ${r.version} ${r.libraryPath} sha256 ${r.sha256.slice(0, 16)}…`);
  console.log(`clock    CLOCK_MONOTONIC_RAW, resolution ${harness.clockResolutionNs} ns, read cost ${harness.clockReadCostNs.toFixed(1)} ns; harness cost ${harness.harnessOverheadNs} ns per sample`);
  for (const w of warnings) console.log(`warning  ${w}`);
  return exitCodes.ok;
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
    .addHelpText('after', `\nExit codes: 0 passed, 1 a budget failed / a step errored / a regression, 2 bad usage or configuration, 3 the model could not be opened.`);
  program
    .command('run')
    .description('audit a model (no model: a built-in demo model) and write the reports')
    .argument('[model]', 'the .onnx or .tflite file')
    .option('-c, --config <file>', 'configuration (YAML or JSON): steps, budgets, open options')
    .option('-o, --out <dir>', 'where to write the reports', 'model-audit-report')
    .option('-f, --format <list>', `comma-separated: ${formats.join(', ')}`, formatList, [...formats])
    .addOption(new Option('--runtime <runtime>', 'force a runtime').choices(['onnx', 'tflite']))
    .option('--threads <n>', 'inference threads (intraOpThreads)', integer)
    .option('--cpu <n>', 'pin the latency measurement to this CPU', integer)
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
    .action((baseline: string, current: string, flags: { alpha: number; minEffect: number; minTailEffect: number; json?: boolean }) =>
      setExit(compareCommand(baseline, current, flags)),
    );
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
