/**
 * audit(): runs the configured steps on a model, checks the budgets and returns the versioned
 * report. A step that fails keeps what it measured and the others still run.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { environment } from '../environment.js';
import { openModel, type Model } from '../model.js';
import { loadJsonCases, loadOnnxTestData, type ReferenceCase } from '../reference/cases.js';
import { reportSchemaVersion, toJsonSafe, type AuditReport, type StepName, type StepRecord } from '../report/json.js';
import { abnormalInputs, type AbnormalCaseKind } from './abnormal.js';
import { checkAccuracy, compareRuntimes } from './accuracy.js';
import { evaluateBudgets } from './budgets.js';
import { defaultSteps, validateConfig, type AuditConfig } from './config.js';
import { constrainedRun } from './constrained.js';

export const packageVersion: string = (
  JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** Progress of an audit, for progress bars. */
export interface AuditProgress {
  step: StepName;
  /** Index of the step among those that run, and their count. */
  index: number;
  count: number;
  state: 'start' | 'end' | 'progress';
  /** For long steps (soak): the fraction done. */
  fraction?: number;
}

export interface AuditOptions {
  onProgress?: (progress: AuditProgress) => void;
}

type StepRunner = (model: Model, config: AuditConfig, progress: (fraction: number) => void) => Promise<unknown>;

const inputOptions = (config: AuditConfig) => ({ seed: config.inputs?.seed ?? 1, ...(config.inputs?.shapes ? { shapes: config.inputs.shapes } : {}) });

const runners: Record<StepName, StepRunner> = {
  latency: (model, config) => {
    const s = config.steps?.latency ?? {};
    const options: Parameters<Model['benchmark']>[0] = { ...inputOptions(config) };
    if (s.iterations !== undefined) options.iterations = s.iterations;
    if (s.durationMs !== undefined) options.durationMs = s.durationMs;
    if (s.iterations === undefined && s.durationMs === undefined) options.durationMs = 2000;
    if (s.cpu !== undefined) options.cpu = s.cpu;
    if (s.warmup) options.warmup = s.warmup;
    return model.benchmark(options);
  },
  throughput: (model, config) => {
    const s = config.steps?.throughput ?? {};
    return model.throughput({ ...inputOptions(config), durationMs: s.durationMs ?? 500, ...(s.concurrency ? { concurrency: s.concurrency } : {}) });
  },
  memory: async (model, config) => {
    // A short counted benchmark: what opening, the first run and each steady inference allocate.
    const result = await model.benchmark({ ...inputOptions(config), iterations: 20, warmup: { iterations: 5 }, memory: { iterations: 100 } });
    const m = result.memory;
    const peaks = [m.firstRun, m.warmup, m.steadyState].map((p) => p?.peakBytesAboveStart ?? 0);
    return {
      counted: m.counted,
      notCountedReason: m.notCountedReason,
      load: m.load,
      creation: m.creation,
      firstRun: m.firstRun,
      steadyState: m.steadyState,
      perInference: m.perInference,
      /** The highest high-water mark of a run above the level before it. */
      peakRunBytes: m.counted ? Math.max(...peaks) : null,
      process: m.process,
    };
  },
  accuracy: async (model, config) => {
    const s = config.steps?.accuracy ?? {};
    let cases: ReferenceCase[] = [];
    if (s.cases) cases = cases.concat(loadJsonCases(s.cases));
    if (s.onnxTestData) cases = cases.concat(loadOnnxTestData(s.onnxTestData).cases);
    const tolerance: { atol?: number; rtol?: number } = {};
    if (s.atol !== undefined) tolerance.atol = s.atol;
    if (s.rtol !== undefined) tolerance.rtol = s.rtol;
    return checkAccuracy(model, cases, { tolerance, ...(s.topK !== undefined ? { topK: s.topK } : {}) });
  },
  crossRuntime: async (model, config) => {
    const s = config.steps!.crossRuntime!;
    const other = await openModel(s.other, { intraOpThreads: model.options.intraOpThreads });
    try {
      const shapes = config.inputs?.shapes ? model.inputs.map((i) => config.inputs!.shapes![i.name]).filter((x): x is number[] => x !== undefined) : undefined;
      return await compareRuntimes(model, other, {
        ...(shapes && shapes.length ? { shapes } : {}),
        tolerance: { atol: s.atol ?? 1e-4, rtol: s.rtol ?? 1e-3 },
      });
    } finally {
      other.close();
    }
  },
  abnormal: (model, config) => {
    const s = config.steps?.abnormal ?? {};
    return abnormalInputs(model, {
      ...inputOptions(config),
      ...(s.kinds ? { kinds: s.kinds as AbnormalCaseKind[] } : {}),
      ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}),
    });
  },
  constrained: (model, config) => {
    const s = config.steps?.constrained ?? {};
    return constrainedRun(model, { threads: s.threads ?? 1, ...(s.cpu !== undefined ? { cpu: s.cpu } : {}), ...(s.memoryLimitBytes ? { memoryLimitBytes: s.memoryLimitBytes } : {}), benchmark: { ...inputOptions(config), iterations: 200 } });
  },
  soak: (model, config, progress) => {
    const s = config.steps!.soak!;
    const windowMs = s.windowMs ?? Math.min(10_000, s.durationMs / 10);
    return model.soak({
      ...inputOptions(config),
      durationMs: s.durationMs,
      windowMs,
      ...(s.ratePerSecond ? { ratePerSecond: s.ratePerSecond } : {}),
      onWindow: (w) => progress(Math.min(1, w.endMs / s.durationMs)),
    });
  },
};

function errorRecord(err: unknown): StepRecord['error'] {
  const e = err as { name?: string; code?: string; message?: string };
  return { name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : null, message: e?.message ?? String(err) };
}

/** The steps a configuration asks for, in the order they run. */
export function plannedSteps(config: AuditConfig): StepName[] {
  const steps = config.steps ?? defaultSteps;
  const order: StepName[] = ['latency', 'throughput', 'memory', 'accuracy', 'crossRuntime', 'abnormal', 'constrained', 'soak'];
  return order.filter((s) => steps[s as keyof typeof steps] !== undefined || (s === 'memory' && steps.latency !== undefined));
}

/**
 * Runs the configured steps (default: latency, throughput, memory, abnormal inputs) and checks
 * the budgets. Never throws for a failing step: the step is recorded as errored, with what it
 * had measured, and the rest run.
 */
export async function audit(model: Model, rawConfig: AuditConfig = {}, options: AuditOptions = {}): Promise<AuditReport> {
  const config = validateConfig(rawConfig);
  const started = performance.now();
  const steps: AuditReport['steps'] = {};
  const planned = plannedSteps(config);
  const effective: AuditConfig = { ...config, steps: config.steps ?? defaultSteps };
  for (const [index, step] of planned.entries()) {
    options.onProgress?.({ step, index, count: planned.length, state: 'start' });
    const stepStart = performance.now();
    try {
      const result = await runners[step](model, effective, (fraction) =>
        options.onProgress?.({ step, index, count: planned.length, state: 'progress', fraction }),
      );
      steps[step] = { status: 'completed', durationMs: performance.now() - stepStart, result: toJsonSafe(result), error: null };
    } catch (err) {
      const partial = (err as { partial?: unknown }).partial;
      steps[step] = { status: 'errored', durationMs: performance.now() - stepStart, result: partial === undefined ? null : toJsonSafe(partial), error: errorRecord(err) };
    }
    options.onProgress?.({ step, index, count: planned.length, state: 'end' });
  }
  const budgets = evaluateBudgets({ steps }, config.budgets ?? {});
  const anyErrored = Object.values(steps).some((s) => s?.status === 'errored');
  return {
    schemaVersion: reportSchemaVersion,
    tool: { name: 'model-audit', version: packageVersion },
    createdAt: new Date().toISOString(),
    durationMs: performance.now() - started,
    model: toJsonSafe(model.describe()) as AuditReport['model'],
    environment: toJsonSafe(environment([model.library])) as AuditReport['environment'],
    config: effective,
    steps,
    budgets,
    passed: !anyErrored && budgets.every((b) => b.passed),
  };
}
