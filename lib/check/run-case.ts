/**
 * Running one reference case on a model and comparing what came out with what was expected.
 */
import type { Outputs } from '../model/calls.js';
import type { Model } from '../model/model.js';
import type { ReferenceCase } from '../reference/load.js';
import type { Feeds, Tensor, TensorSpec } from '../tensor/tensor.js';
import { compareTensors, numbersOf, topIndices, type TensorComparison, type Tolerance } from './tensor-diff.js';

export interface CaseOutcome {
  name: string;
  passed: boolean;
  reason: string | null;
  /** One comparison per expected output. */
  outputs: TensorComparison[];
  /** The error, when the model refused or failed the case. */
  error: { name: string; code: string | null; message: string } | null;
  /** With `topK`: the predicted class (argmax of the first output's last axis) of each batch row. */
  predictedClasses: number[] | null;
}

/** Tensors keyed by the model's names: positional arrays are matched to `specs` in order. */
export function keyedBySpec(specs: readonly TensorSpec[], tensors: Record<string, Tensor> | Tensor[], what: string): Record<string, Tensor> {
  if (!Array.isArray(tensors)) return tensors;
  if (tensors.length > specs.length) throw new Error(`${tensors.length} ${what} given, the model has ${specs.length}`);
  return Object.fromEntries(tensors.map((t, i) => [specs[i]!.name, t]));
}

export function feedsFor(model: Model, c: ReferenceCase): Feeds {
  const byName = keyedBySpec(model.inputs, c.inputs, 'inputs');
  return Object.fromEntries(Object.entries(byName).map(([name, t]) => [name, { data: t.data, shape: t.shape, dtype: t.dtype }]));
}

export function compareOutputs(
  model: Pick<Model, 'outputs'>,
  c: ReferenceCase,
  actual: Outputs,
  tolerance: Tolerance,
  options: { topK?: number } = {},
): TensorComparison[] {
  const expected = keyedBySpec(model.outputs, c.expected, 'expected outputs');
  return Object.entries(expected).map(([name, want]) => {
    const got = actual[name];
    if (!got) {
      return compareTensors(name, want, { dtype: want.dtype, shape: [-1], data: want.data.slice(0, 0) } as Tensor, tolerance);
    }
    return compareTensors(name, want, got, tolerance, options);
  });
}

export function outcomeOf(name: string, comparisons: TensorComparison[], predictedClasses: number[] | null = null): CaseOutcome {
  const failed = comparisons.find((o) => !o.passed);
  return { name, passed: !failed, reason: failed ? `${failed.name}: ${failed.reason}` : null, outputs: comparisons, error: null, predictedClasses };
}

/** Argmax of the last axis, per row. */
function predictedClassesOf(output: Tensor | undefined): number[] | null {
  if (!output) return null;
  const classes = output.shape.at(-1) ?? 1;
  const values = numbersOf(output);
  return Array.from({ length: classes > 0 ? values.length / classes : 0 }, (_, r) => topIndices(values.subarray(r * classes, (r + 1) * classes), 1)[0]!);
}

/** Runs one case in this process and compares its outputs. */
export function casesOutcome(model: Model, c: ReferenceCase, tolerance: Tolerance, options: { topK?: number } = {}): CaseOutcome {
  let actual: Outputs;
  try {
    actual = model.runSync(feedsFor(model, c));
  } catch (err) {
    const e = err as { name?: string; code?: string; message?: string };
    return {
      name: c.name,
      passed: false,
      reason: e.message ?? String(err),
      outputs: [],
      error: { name: e.name ?? 'Error', code: e.code ?? null, message: e.message ?? String(err) },
      predictedClasses: null,
    };
  }
  const predicted = options.topK !== undefined ? predictedClassesOf(actual[model.outputs[0]?.name ?? '']) : null;
  return outcomeOf(c.name, compareOutputs(model, c, actual, tolerance, options), predicted);
}
