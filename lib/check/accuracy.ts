/**
 * Accuracy against reference outputs, the ONNX operator conformance suite, and the same model
 * in two runtimes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { environment, type Environment } from '../environment.js';
import { describeRuntime } from '../runtimes.js';
import { OptionsError } from '../errors.js';
import type { Constraints } from '../isolate/protocol.js';
import { runIsolated, type ItemOutcome } from '../isolate/run.js';
import type { ConformanceResult } from '../isolate/tasks.js';
import type { Model, OpenOptions } from '../model.js';
import type { ReferenceCase } from '../reference/cases.js';
import { synthesizeTensor, type Tensor } from '../tensor.js';
import { casesOutcome, compareOutputs, feedsFor, keyedBySpec, outcomeOf, type CaseOutcome } from './cases.js';
import type { TensorComparison, Tolerance } from './compare.js';

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
  model: { runtime: string; path: string | null };
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
  const tolerance = { atol: options.tolerance?.atol ?? 1e-5, rtol: options.tolerance?.rtol ?? 1e-3, minCosine: options.tolerance?.minCosine };
  const common = { tolerance, topK: options.topK };
  let results: AccuracyCaseResult[];
  if (options.isolate ?? true) {
    const run = await runIsolated<CaseOutcome>('cases', cases, {
      model: model.spec(),
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
    model: { runtime: model.runtime, path: model.path ?? null },
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

/** The folders of the ONNX operator conformance suite as Debian's libonnx-testdata installs it. */
export const defaultConformanceRoot = '/usr/share/libonnx-testdata/data/node';

export interface ConformanceOptions {
  /** Case folders to run (each holding model.onnx and test_data_set_*). @default every folder under `root` */
  dirs?: string[];
  /** @default /usr/share/libonnx-testdata/data/node */
  root?: string;
  tolerance?: Tolerance;
  /** Per case folder. @default 30000 */
  timeoutMs?: number;
  /** Options for opening each model (ONNX Runtime). */
  open?: OpenOptions;
}

export interface ConformanceCaseResult {
  name: string;
  status: 'passed' | 'failed' | 'unloadable' | 'unreadable' | 'crashed' | 'hung' | 'errored';
  reason: string | null;
}

export interface ConformanceReport {
  kind: 'onnx-conformance';
  root: string | null;
  total: number;
  /** Cases whose model the runtime could load and whose data could be read. */
  loaded: number;
  passed: number;
  failed: number;
  /** The runtime refused the model (an operator or opset it does not implement, …). */
  unloadable: number;
  /** model-audit could not read the test data (strings, sequences, bfloat16 tensors, …). */
  unreadable: number;
  crashed: number;
  hung: number;
  cases: ConformanceCaseResult[];
  environment: Environment;
}

/** Runs ONNX test-data folders through ONNX Runtime in isolated children and counts the outcomes. */
export async function runOnnxConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const root = options.root ?? defaultConformanceRoot;
  const dirs = options.dirs ?? (existsSync(root) ? readdirSync(root).sort().map((d) => join(root, d)) : []);
  if (dirs.length === 0) throw new OptionsError(`no ONNX test-data folders found under ${root} (install Debian's libonnx-testdata, or pass options.dirs)`, { option: 'options.root' });
  const tolerance = { atol: options.tolerance?.atol ?? 1e-4, rtol: options.tolerance?.rtol ?? 1e-3 };
  const run = await runIsolated<ConformanceResult>('conformance', dirs, {
    model: null,
    common: { tolerance, options: { intraOpThreads: 1, ...options.open } },
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const cases = run.items.map((o, i): ConformanceCaseResult => {
    const name = dirs[i]!.split('/').pop()!;
    if (o.status === 'completed') return { name, status: o.result.status, reason: o.result.reason };
    if (o.status === 'crashed') return { name, status: 'crashed', reason: `${o.signal ?? `exit ${o.exitCode}`} during ${o.lastPhase}` };
    if (o.status === 'hung') return { name, status: 'hung', reason: `no answer within ${o.timeoutMs} ms during ${o.lastPhase}` };
    return { name, status: 'errored', reason: o.error.message };
  });
  const count = (s: ConformanceCaseResult['status']): number => cases.filter((c) => c.status === s).length;
  return {
    kind: 'onnx-conformance',
    root: options.dirs ? null : root,
    total: cases.length,
    loaded: count('passed') + count('failed'),
    passed: count('passed'),
    failed: count('failed'),
    unloadable: count('unloadable'),
    unreadable: count('unreadable'),
    crashed: count('crashed'),
    hung: count('hung'),
    cases,
    environment: environment([describeRuntime('onnx', options.open?.libraryPath)]),
  };
}

export interface CrossRuntimeOptions {
  /** Cases to compare on; by default `samples` seeded inputs. */
  cases?: ReferenceCase[];
  /** @default 1 */
  seed?: number;
  /** @default 3 */
  samples?: number;
  /** Concrete shapes for dynamic inputs, in input order (the two runtimes name inputs differently). */
  shapes?: (readonly number[])[];
  tolerance?: Tolerance;
  /** Steady-state inferences for the latency comparison; 0 skips it. @default 300 */
  latencyIterations?: number;
}

export interface CrossRuntimeResult {
  kind: 'cross-runtime';
  a: { runtime: string; path: string | null };
  b: { runtime: string; path: string | null };
  /** Per case, one comparison per output (b against a), matched by position. */
  cases: { name: string; passed: boolean; outputs: TensorComparison[] }[];
  agree: boolean;
  /** max |Δ| over every case and output. */
  maxAbsError: number;
  latency: { a: { p50Ns: number; p99Ns: number }; b: { p50Ns: number; p99Ns: number } } | null;
  environment: Environment;
}

/**
 * The same model in two runtimes, fed identical inputs (matched by position): per-output
 * agreement and the two latencies side by side. Runs in this process on the two open models.
 */
export async function compareRuntimes(a: Model, b: Model, options: CrossRuntimeOptions = {}): Promise<CrossRuntimeResult> {
  if (a.inputs.length !== b.inputs.length || a.outputs.length !== b.outputs.length) {
    throw new OptionsError(
      `the two models differ in form: ${a.inputs.length}/${a.outputs.length} inputs/outputs vs ${b.inputs.length}/${b.outputs.length}`,
      { option: 'b' },
    );
  }
  const seed = options.seed ?? 1;
  const cases: ReferenceCase[] =
    options.cases ??
    Array.from({ length: options.samples ?? 3 }, (_, s) => ({
      name: `seed ${seed + s}`,
      inputs: a.inputs.map((spec, i) => {
        const shape = options.shapes?.[i] ?? spec.shape;
        if (shape.some((d) => d === null)) {
          throw new OptionsError(`input ${i} ("${spec.name}") has dynamic dimensions: give options.shapes[${i}]`, { option: 'options.shapes' });
        }
        return synthesizeTensor(spec.dtype as Tensor['dtype'], shape as number[], (seed + s) * 1000 + i);
      }),
      expected: [],
    }));
  const tolerance = options.tolerance ?? { atol: 1e-4, rtol: 1e-3 };
  const compared = [];
  let maxAbs = 0;
  for (const c of cases) {
    const inputsA = keyedBySpec(a.inputs, c.inputs, 'inputs');
    const positional = Object.values(inputsA);
    const outA = await a.run(feedsFor(a, { ...c, inputs: positional }));
    const outB = await b.run(feedsFor(b, { ...c, inputs: positional }));
    const expected = Object.values(outA);
    const actualByName = Object.fromEntries(Object.values(outB).map((t, i) => [b.outputs[i]!.name, t]));
    const comparisons = compareOutputs(b, { name: c.name, inputs: positional, expected }, actualByName, tolerance);
    for (const o of comparisons) maxAbs = Math.max(maxAbs, o.maxAbsError);
    const outcome = outcomeOf(c.name, comparisons);
    compared.push({ name: c.name, passed: outcome.passed, outputs: comparisons });
  }
  let latency: CrossRuntimeResult['latency'] = null;
  const iterations = options.latencyIterations ?? 300;
  if (iterations > 0) {
    const feedsA = feedsFor(a, { ...cases[0]!, inputs: Object.values(keyedBySpec(a.inputs, cases[0]!.inputs, 'inputs')) });
    const feedsB = feedsFor(b, { ...cases[0]!, inputs: Object.values(keyedBySpec(a.inputs, cases[0]!.inputs, 'inputs')) });
    const la = await a.benchmark({ iterations, feeds: feedsA });
    const lb = await b.benchmark({ iterations, feeds: feedsB });
    latency = { a: { p50Ns: la.summary.p50Ns, p99Ns: la.summary.p99Ns }, b: { p50Ns: lb.summary.p50Ns, p99Ns: lb.summary.p99Ns } };
  }
  return {
    kind: 'cross-runtime',
    a: { runtime: a.runtime, path: a.path ?? null },
    b: { runtime: b.runtime, path: b.path ?? null },
    cases: compared,
    agree: compared.every((c) => c.passed),
    maxAbsError: maxAbs,
    latency,
    environment: environment([a.library, b.library]),
  };
}
