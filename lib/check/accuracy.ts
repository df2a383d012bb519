/**
 * Accuracy against reference outputs: every case run (in a child by default) and every output
 * compared with what was expected.
 */
import { OptionsError } from '../errors.js';
import type { Constraints } from '../isolate/protocol.js';
import { runIsolated, taskRef, type ItemOutcome } from '../isolate/run.js';
import { specOf } from '../model/access.js';
import type { Model, ModelDescription } from '../model/model.js';
import type { ReferenceCase } from '../reference/load.js';
import { environment, type Environment } from '../system/environment.js';
import { casesOutcome, type CaseOutcome } from './run-case.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkObject } from '../validate.js';
import { validateTolerance, type Tolerance } from './tensor-diff.js';

export interface AccuracyOptions {
  tolerance?: Tolerance;
  /** Treat outputs as class scores (last axis): report top-1 and top-k agreement. */
  topK?: number;
  /** Run the cases in a child process (a crash or hang becomes a finding). @default true */
  isolate?: boolean;
  /** Per case, when isolated. @default 30000 */
  timeoutMs?: number;
  constraints?: Constraints;
  /** Worst elements to name per output. @default 5 */
  worst?: number;
}

export interface AccuracyCaseResult extends CaseOutcome {
  status: 'completed' | 'errored' | 'crashed' | 'hung';
  signal: string | null;
}

export interface AccuracyResult {
  kind: 'accuracy';
  model: ModelDescription;
  tolerance: Required<Pick<Tolerance, 'atol' | 'rtol'>> & Pick<Tolerance, 'minCosine'>;
  cases: AccuracyCaseResult[];
  passed: number;
  failed: number;
  crashed: number;
  hung: number;
  /** When `topK` was asked: agreement of the model's top classes with the expected ones, and accuracy against `labels`. */
  classification: { k: number; top1Agreement: number; topKAgreement: number; labelAccuracy: number | null } | null;
  environment: Environment;
}

function toCaseResult(name: string, outcome: ItemOutcome<CaseOutcome>): AccuracyCaseResult {
  if (outcome.status === 'completed') return { ...outcome.result, status: 'completed', signal: null };
  const reason =
    outcome.status === 'crashed'
      ? `the runtime crashed (${outcome.signal ?? `exit ${outcome.exitCode}`}) during ${outcome.lastPhase}`
      : outcome.status === 'hung'
        ? `no answer within ${outcome.timeoutMs} ms during ${outcome.lastPhase}`
        : outcome.error.message;
  return {
    name,
    passed: false,
    reason,
    outputs: [],
    error: outcome.status === 'errored' ? outcome.error : null,
    predictedClasses: null,
    status: outcome.status,
    signal: outcome.status === 'crashed' ? outcome.signal : null,
  };
}

/** Share of labelled rows whose predicted class is the label. */
function labelAccuracy(cases: ReferenceCase[], results: AccuracyCaseResult[]): number | null {
  let total = 0;
  let right = 0;
  cases.forEach((c, i) => {
    const predicted = results[i]?.predictedClasses;
    if (!c.labels || !predicted) return;
    c.labels.forEach((label, row) => {
      total++;
      if (predicted[row] === label) right++;
    });
  });
  return total > 0 ? right / total : null;
}

/**
 * Runs reference cases on a model and compares every output: max abs error, max relative error,
 * RMSE, cosine similarity, pass or fail against the tolerance, and the worst elements.
 */
export async function checkAccuracy(model: Model, cases: ReferenceCase[], options: AccuracyOptions = {}): Promise<AccuracyResult> {
  if (!Array.isArray(cases)) throw new OptionsError('Expected an array of reference cases for cases', { option: 'cases' });
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, ['tolerance', 'topK', 'isolate', 'timeoutMs', 'constraints', 'worst']);
  validateTolerance(o.tolerance, 'options.tolerance');
  checkInteger('options.topK', o.topK, 1);
  checkBoolean('options.isolate', o.isolate);
  checkInteger('options.timeoutMs', o.timeoutMs, 1);
  checkObject('options.constraints', o.constraints);
  checkInteger('options.worst', o.worst, 0);
  const tolerance = { atol: options.tolerance?.atol ?? 1e-5, rtol: options.tolerance?.rtol ?? 1e-3, minCosine: options.tolerance?.minCosine };
  const common = { tolerance, topK: options.topK };
  let results: AccuracyCaseResult[];
  if (options.isolate ?? true) {
    const run = await runIsolated<CaseOutcome>(taskRef(new URL('./accuracy-task.js', import.meta.url), 'casesTask'), cases, {
      model: specOf(model),
      common,
      timeoutMs: options.timeoutMs ?? 30_000,
      constraints: options.constraints ?? {},
    });
    results = run.items.map((o, i) => toCaseResult(cases[i]!.name, o));
  } else {
    results = cases.map((c) => ({ ...casesOutcome(model, c, tolerance, options.topK === undefined ? {} : { topK: options.topK }), status: 'completed', signal: null }));
  }
  let classification: AccuracyResult['classification'] = null;
  if (options.topK !== undefined) {
    const first = results.flatMap((r) => (r.outputs[0]?.topK ? [r.outputs[0].topK] : []));
    const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    classification = {
      k: options.topK,
      top1Agreement: mean(first.map((t) => t.top1Agreement)),
      topKAgreement: mean(first.map((t) => t.topKAgreement)),
      labelAccuracy: labelAccuracy(cases, results),
    };
  }
  return {
    kind: 'accuracy',
    model: model.describe(),
    tolerance,
    cases: results,
    passed: results.filter((r) => r.passed).length,
    failed: results.filter((r) => !r.passed && r.status !== 'crashed' && r.status !== 'hung').length,
    crashed: results.filter((r) => r.status === 'crashed').length,
    hung: results.filter((r) => r.status === 'hung').length,
    classification,
    environment: environment([model.library]),
  };
}

