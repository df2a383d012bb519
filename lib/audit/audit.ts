/**
 * audit(): runs the configured steps on a model, checks the budgets and returns the versioned
 * report. A step that fails keeps what it measured and the others still run.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataSet } from '../inputs/dataset.js';
import { measurementFeeds, type InputOptions } from '../inputs/feed-sets.js';
import type { Model } from '../model/model.js';
import { reportSchemaVersion, stepNames, toJsonSafe, type AuditReport, type StepName, type StepRecord } from '../report/json.js';
import { environment } from '../system/environment.js';
import { evaluateBudgets } from './budgets.js';
import { defaultSteps, stepDefaults, validateConfig, type AuditConfig } from './config.js';
import { collectFindings } from './findings.js';
import { stepRunners } from './steps.js';

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
  /**
   * Called with the report as it stands after every step (`complete: false`), and once more at the
   * end (`complete: true`): write it each time and a kill loses nothing that had finished.
   */
  onReport?: (report: AuditReport) => void;
  /** Where the profile step copies the runtime's trace (Chrome trace format). @default not kept */
  profileTrace?: string;
}

function errorRecord(err: unknown): StepRecord['error'] {
  const e = err as { name?: string; code?: string; message?: string };
  return { name: e?.name ?? 'Error', code: typeof e?.code === 'string' ? e.code : null, message: e?.message ?? String(err) };
}

/** The steps a configuration asks for, in the order they run. */
export function plannedSteps(config: AuditConfig): StepName[] {
  const steps = config.steps ?? defaultSteps;
  return stepNames.filter((s) => steps[s as keyof typeof steps] !== undefined || (s === 'memory' && steps.latency !== undefined));
}

/** The configuration's inputs as measurements take them: the data set loaded from its files. */
function auditInputs(model: Model, config: AuditConfig): InputOptions & { seed: number } {
  const i = config.inputs ?? {};
  const out: InputOptions & { seed: number } = { seed: i.seed ?? stepDefaults.inputs.seed };
  if (i.shapes) out.shapes = i.shapes;
  if (i.values) out.values = i.values as InputOptions['values'];
  if (i.samples !== undefined) out.samples = i.samples;
  if (i.order) out.order = i.order;
  if (i.data) out.data = loadDataSet(model, i.data, 'config.inputs.data');
  return out;
}

/**
 * Runs the configured steps (default: latency, throughput, memory, sensitivity, abnormal inputs) and checks
 * the budgets. Input shapes are resolved once, before the first step (an OptionsError naming
 * every dynamic input when they cannot be); after that it never throws for a failing step: the
 * step is recorded as errored, with what it had measured, and the rest run.
 */
export async function audit(model: Model, rawConfig: AuditConfig = {}, options: AuditOptions = {}): Promise<AuditReport> {
  const config = validateConfig(rawConfig);
  const started = performance.now();
  const createdAt = new Date().toISOString();
  const planned = plannedSteps(config);
  const effective: AuditConfig = { ...config, steps: config.steps ?? defaultSteps };
  // The inputs, resolved once for every step: the data set loaded, every value source read, the
  // shapes resolved (default 1, probed) — a problem here is an OptionsError before any step runs.
  const stepInputs = auditInputs(model, config);
  const inputs = measurementFeeds(model, stepInputs, 'config.inputs').description;
  const description = toJsonSafe(model.describe()) as AuditReport['model'];
  const env = toJsonSafe(environment([model.library])) as AuditReport['environment'];
  const steps: AuditReport['steps'] = {};
  const report = (complete: boolean): AuditReport => {
    const budgets = evaluateBudgets({ steps }, config.budgets ?? {});
    const anyErrored = Object.values(steps).some((s) => s?.status === 'errored');
    return {
      schemaVersion: reportSchemaVersion,
      tool: { name: 'model-audit', version: packageVersion },
      createdAt,
      durationMs: performance.now() - started,
      complete,
      model: description,
      inputs,
      environment: env,
      config: effective,
      steps: { ...steps },
      budgets,
      findings: collectFindings(steps),
      passed: complete && !anyErrored && budgets.every((b) => b.passed),
    };
  };
  for (const [index, step] of planned.entries()) {
    options.onProgress?.({ step, index, count: planned.length, state: 'start' });
    const stepStart = performance.now();
    try {
      const result = await stepRunners[step]({
        model,
        config: effective,
        inputs: { ...stepInputs, shapes: inputs.shapes },
        progress: (fraction) => options.onProgress?.({ step, index, count: planned.length, state: 'progress', fraction }),
        ...(options.profileTrace ? { profileTrace: options.profileTrace } : {}),
      });
      steps[step] = { status: 'completed', durationMs: performance.now() - stepStart, result: toJsonSafe(result), error: null };
    } catch (err) {
      const partial = (err as { partial?: unknown }).partial;
      steps[step] = { status: 'errored', durationMs: performance.now() - stepStart, result: partial === undefined ? null : toJsonSafe(partial), error: errorRecord(err) };
    }
    options.onProgress?.({ step, index, count: planned.length, state: 'end' });
    if (index < planned.length - 1) options.onReport?.(report(false));
  }
  const final = report(true);
  options.onReport?.(final);
  return final;
}
