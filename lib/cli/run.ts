/**
 * `model-audit run`: flags over the configuration, every check that can be made before measuring
 * made first, the JSON report written after every step, and the four reports at the end.
 */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { audit, type AuditProgress } from '../audit/audit.js';
import { defaultSteps, loadConfig, validateConfig, type AuditConfig, type StepsConfig } from '../audit/config.js';
import { OptionsError, type DynamicInput } from '../errors.js';
import { openModel, type Model } from '../model/model.js';
import type { GraphOptimizationLevel, OpenOptions } from '../model/options.js';
import { demoModel } from '../onnx/demo.js';
import type { AuditReport, StepName } from '../report/json.js';
import { toHtml } from '../report/html.js';
import { toJUnit } from '../report/junit.js';
import { toMarkdown } from '../report/markdown.js';
import { formatShape } from '../tensor/tensor.js';
import { checkCpu } from '../validate.js';
import { exitCodes } from './exit-codes.js';
import { fallbackPath, prepareOutputDir, writeAtomically } from './output.js';
import { storeUrl } from './history.js';
import { openStore, type ResultStore } from '../history/store.js';

export const formats = ['json', 'md', 'junit', 'html'] as const;
export type Format = (typeof formats)[number];

const fileNames: Record<Format, string> = { json: 'report.json', md: 'report.md', junit: 'report.junit.xml', html: 'report.html' };

export interface RunFlags {
  config?: string;
  out: string;
  format: Format[];
  runtime?: 'onnx' | 'tflite';
  threads?: number;
  optimization?: GraphOptimizationLevel;
  xnnpack?: boolean;
  arena?: boolean;
  denormalAsZero?: boolean;
  steps?: StepName[];
  durationMs?: number;
  iterations?: number;
  warmup?: number;
  cpu?: number;
  shape?: Record<string, number[]>;
  input?: Record<string, string>;
  data?: string;
  samples?: number;
  order?: 'sequential' | 'shuffle';
  seed?: number;
  store?: string;
  quiet?: boolean;
}

/** The configuration with the flags laid over it: each flag overrides the key it mirrors. */
export function configFromFlags(base: AuditConfig, flags: RunFlags): AuditConfig {
  const config: AuditConfig = structuredClone(base);
  const open: OpenOptions = { ...config.open };
  if (flags.runtime !== undefined) open.runtime = flags.runtime;
  if (flags.threads !== undefined) open.intraOpThreads = flags.threads;
  if (flags.optimization !== undefined) open.graphOptimizationLevel = flags.optimization;
  if (flags.xnnpack !== undefined) open.xnnpack = flags.xnnpack;
  if (flags.arena === false) open.cpuMemArena = false;
  if (flags.denormalAsZero !== undefined) open.denormalAsZero = flags.denormalAsZero;
  if (Object.keys(open).length > 0) config.open = open;
  if ([flags.shape, flags.seed, flags.input, flags.data, flags.samples, flags.order].some((f) => f !== undefined)) {
    config.inputs = { ...config.inputs };
    if (flags.shape !== undefined) config.inputs.shapes = { ...config.inputs.shapes, ...flags.shape };
    if (flags.seed !== undefined) config.inputs.seed = flags.seed;
    if (flags.input !== undefined) config.inputs.values = { ...config.inputs.values, ...flags.input };
    if (flags.data !== undefined) config.inputs.data = /\.json$/i.test(flags.data) ? { cases: flags.data } : { onnxTestData: flags.data };
    if (flags.samples !== undefined) config.inputs.samples = flags.samples;
    if (flags.order !== undefined) config.inputs.order = flags.order;
  }
  let steps: StepsConfig = config.steps ?? structuredClone(defaultSteps);
  if (flags.steps !== undefined) {
    const chosen: StepsConfig = {};
    for (const step of flags.steps) (chosen as Record<string, unknown>)[step] = (steps as Record<string, unknown>)[step] ?? {};
    steps = chosen;
  }
  const latencyFlags = flags.durationMs !== undefined || flags.iterations !== undefined || flags.warmup !== undefined || flags.cpu !== undefined;
  if (latencyFlags) {
    if (steps.latency === undefined) {
      throw new OptionsError('--duration-ms, --iterations, --warmup and --cpu set the latency step, which --steps leaves out', { option: '--steps' });
    }
    const latency = { ...steps.latency };
    if (flags.durationMs !== undefined) latency.durationMs = flags.durationMs;
    if (flags.iterations !== undefined) latency.iterations = flags.iterations;
    if (flags.warmup !== undefined) latency.warmup = { ...latency.warmup, iterations: flags.warmup };
    if (flags.cpu !== undefined) latency.cpu = flags.cpu;
    steps = { ...steps, latency };
  }
  config.steps = steps;
  return config;
}

/** The error for inputs whose shapes could not be resolved, in the command's words: the flag and the YAML that fix it. */
function shapesMessage(err: OptionsError, inputs: DynamicInput[]): string {
  const example = (i: DynamicInput): string => i.shape.map((d) => d ?? 'N').join(',');
  return [
    `model-audit: ${err.message.replace(/ Give the shapes .*$/, '')}`,
    '',
    'Give the shapes your deployment uses (N: the sizes it sends):',
    `  on the command line:  ${inputs.map((i) => `--shape '${i.name}=${example(i)}'`).join(' ')}`,
    '  or in the configuration:',
    '    inputs:',
    '      shapes:',
    ...inputs.map((i) => `        ${JSON.stringify(i.name)}: [${i.shape.map((d) => d ?? 'N').join(', ')}]   # ${formatShape(i.shape)}${i.dimNames.some((n) => n) ? ` (${i.dimNames.map((n) => n ?? '?').join(', ')})` : ''}`),
  ].join('\n');
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

function render(report: AuditReport, format: Format): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n';
  if (format === 'md') return toMarkdown(report) + '\n';
  if (format === 'junit') return toJUnit(report);
  return toHtml(report);
}

/** Writes the chosen formats into `dir`; returns the files written and the errors of those that failed. */
export function writeReports(report: AuditReport, dir: string, wanted: readonly Format[]): { written: string[]; failed: { path: string; error: string }[] } {
  const written: string[] = [];
  const failed: { path: string; error: string }[] = [];
  for (const format of wanted) {
    const path = resolve(dir, fileNames[format]);
    try {
      writeAtomically(path, render(report, format));
      written.push(path);
    } catch (err) {
      failed.push({ path, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
  }
  return { written, failed };
}

function checkCpus(config: AuditConfig): void {
  checkCpu('--cpu (steps.latency.cpu)', config.steps?.latency?.cpu);
  checkCpu('steps.constrained.cpu', config.steps?.constrained?.cpu);
}

export async function runCommand(modelArg: string | undefined, flags: RunFlags): Promise<number> {
  // Everything that can be checked before measuring: the configuration, the flags, the CPUs, the
  // output folder, the model. A problem here costs no measuring time and leaves no half report.
  const base = flags.config ? loadConfig(flags.config) : {};
  const config = validateConfig(configFromFlags(base, flags), flags.config ?? 'config');
  checkCpus(config);
  const out = prepareOutputDir(flags.out);
  const source = modelArg ?? config.model;
  // The store too is opened (and its schema brought up to date) before anything is measured.
  const url = storeUrl(flags.store, false);
  const store: ResultStore | undefined = url !== undefined ? await openStore(url) : undefined;
  try {
    return await auditAndWrite(source, config, out, flags, store);
  } finally {
    await store?.close();
  }
}

async function auditAndWrite(source: string | undefined, config: AuditConfig, out: string, flags: RunFlags, store: ResultStore | undefined): Promise<number> {
  let model: Model;
  try {
    if (source === undefined) {
      if (!flags.quiet) console.error('model-audit: no model given: auditing the built-in demo model (a small ONNX keyword classifier)');
      model = await openModel(demoModel(), config.open ?? {});
    } else {
      model = await openModel(resolve(source), config.open ?? {});
    }
  } catch (err) {
    console.error(`model-audit: ${(err as Error).message}`);
    return err instanceof OptionsError ? exitCodes.usage : exitCodes.cannotRun;
  }
  const progress = progressReporter(flags.quiet ?? false);
  const jsonPath = resolve(out, fileNames.json);
  let partialWriteError: string | null = null;
  let report: AuditReport;
  try {
    report = await audit(model, config, {
      ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
      // The profile step's trace goes beside the reports, for chrome://tracing or Perfetto.
      profileTrace: resolve(out, 'profile.trace.json'),
      // After every step: a kill (or a crash of this process) keeps every step that had finished.
      onReport: (partial) => {
        if (partial.complete || !flags.format.includes('json')) return;
        try {
          writeAtomically(jsonPath, JSON.stringify(partial, null, 2) + '\n');
        } catch (err) {
          partialWriteError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        }
      },
    });
  } catch (err) {
    progress.stop();
    model.close();
    if (err instanceof OptionsError && err.dynamicInputs) {
      console.error(shapesMessage(err, err.dynamicInputs));
      return exitCodes.usage;
    }
    throw err;
  }
  progress.stop();
  model.close();
  const { written, failed } = writeReports(report, out, flags.format);
  let storeFailed = false;
  if (store) {
    try {
      const recorded = await store.record(report);
      if (!flags.quiet) console.error(`model-audit: recorded as run ${recorded.id} in ${store.location}`);
    } catch (err) {
      console.error(`model-audit: ${(err as Error).message}`);
      storeFailed = true;
    }
  }
  if (!flags.quiet) {
    console.log(toMarkdown(report));
    if (written.length) console.log(`\nreports: ${written.join(', ')}`);
  }
  if (failed.length > 0 || partialWriteError !== null) {
    const fallback = fallbackPath('report.json');
    try {
      writeAtomically(fallback, JSON.stringify(report, null, 2) + '\n');
      console.error(`model-audit: could not write ${failed.map((f) => `${f.path} (${f.error})`).join(', ') || `${jsonPath} (${partialWriteError})`}; the JSON report is in ${fallback}`);
    } catch (err) {
      console.error(`model-audit: could not write the reports (${failed.map((f) => f.error).join(', ')}) nor the fallback ${fallback} (${(err as Error).message})`);
    }
    return exitCodes.reportsNotWritten;
  }
  if (storeFailed) return exitCodes.reportsNotWritten;
  return report.passed ? exitCodes.ok : exitCodes.failed;
}

