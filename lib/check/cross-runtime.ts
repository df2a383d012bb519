/**
 * The same model in two runtimes, fed identical inputs: per-output agreement and the two
 * latencies side by side.
 */
import { OptionsError } from '../errors.js';
import { benchmark } from '../measure/benchmark.js';
import { resolveInputShapes } from '../inputs/shapes.js';
import type { Model, ModelDescription } from '../model/model.js';
import type { ReferenceCase } from '../reference/load.js';
import { environment, type Environment } from '../system/environment.js';
import { synthesizeTensor, type Tensor } from '../tensor/tensor.js';
import { compareOutputs, feedsFor, keyedBySpec, outcomeOf } from './run-case.js';
import { checkInteger, checkKnownKeys, checkObject } from '../validate.js';
import { validateTolerance, type TensorComparison, type Tolerance } from './tensor-diff.js';

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
  a: ModelDescription;
  b: ModelDescription;
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
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, ['cases', 'seed', 'samples', 'shapes', 'tolerance', 'latencyIterations']);
  if (o.cases !== undefined && !Array.isArray(o.cases)) throw new OptionsError('Expected an array of reference cases for options.cases', { option: 'options.cases', kind: 'type' });
  if (o.shapes !== undefined && !Array.isArray(o.shapes)) throw new OptionsError('Expected an array of shapes (in input order) for options.shapes', { option: 'options.shapes', kind: 'type' });
  checkInteger('options.seed', o.seed, 0);
  checkInteger('options.samples', o.samples, 1);
  checkInteger('options.latencyIterations', o.latencyIterations, 0);
  validateTolerance(o.tolerance, 'options.tolerance');
  if (a.inputs.length !== b.inputs.length || a.outputs.length !== b.outputs.length) {
    throw new OptionsError(
      `the two models differ in form: ${a.inputs.length}/${a.outputs.length} inputs/outputs vs ${b.inputs.length}/${b.outputs.length}`,
      { option: 'b' },
    );
  }
  const seed = options.seed ?? 1;
  const resolved = options.cases || options.shapes ? null : resolveInputShapes(a, {});
  const cases: ReferenceCase[] =
    options.cases ??
    Array.from({ length: options.samples ?? 3 }, (_, s) => ({
      name: `seed ${seed + s}`,
      inputs: a.inputs.map((spec, i) => {
        const shape = options.shapes?.[i] ?? resolved?.shapes[spec.name] ?? spec.shape;
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
    const la = await benchmark(a, { iterations, feeds: feedsA });
    const lb = await benchmark(b, { iterations, feeds: feedsB });
    latency = { a: { p50Ns: la.summary.p50Ns, p99Ns: la.summary.p99Ns }, b: { p50Ns: lb.summary.p50Ns, p99Ns: lb.summary.p99Ns } };
  }
  return {
    kind: 'cross-runtime',
    a: a.describe(),
    b: b.describe(),
    cases: compared,
    agree: compared.every((c) => c.passed),
    maxAbsError: maxAbs,
    latency,
    environment: environment([a.library, b.library]),
  };
}
