/**
 * Concrete shapes for a model's inputs. Given shapes win; a static shape is used as declared; a
 * dynamic dimension nobody gave is 1, as onnxruntime_perf_test does. When the model refuses to run
 * on those defaults (a spectrogram needs a window's worth of samples, say), the dimensions after
 * the first are probed at growing sizes until one runs. Every result says which dimensions were
 * chosen and how, so a report never passes a default off as the deployment's shape. Batch axes
 * (axis 0, or named as a batch) stay 1 throughout.
 */
import { OptionsError, type DynamicInput } from '../errors.js';
import { sessionOf } from '../model/access.js';
import type { Model } from '../model/model.js';
import { elementCount, formatShape, synthesizeTensor, type TensorSpec } from '../tensor/tensor.js';

/** A dimension model-audit chose because no shape was given for it. */
export interface ChosenDimension {
  axis: number;
  size: number;
  /** 'default': 1, the default for every dynamic dimension; 'probed': the smallest size tried that the model ran with. */
  how: 'default' | 'probed';
}

/** The shape each input runs with, and which dimensions of it model-audit chose. */
export interface InputShapes {
  shapes: Record<string, number[]>;
  /** By input name; absent for inputs whose shape was given or is static. */
  chosen: Record<string, ChosenDimension[]>;
}

export type { DynamicInput };

/** Sizes tried, in order, for the dynamic dimensions after the first when the model refuses 1. */
export const probeSizes: readonly number[] = [16, 64, 256, 1024, 4096, 16384];
/** No probe makes an input larger than this many elements. */
const maxProbeElements = 16 * 1024 * 1024;

const cache = new WeakMap<Model, Map<string, InputShapes>>();

function dynamicInputs(model: Model): DynamicInput[] {
  return model.inputs.filter((i) => i.shape.some((d) => d === null)).map((i) => ({ name: i.name, shape: [...i.shape], dimNames: [...i.dimNames] }));
}

function checkGiven(spec: TensorSpec, shape: readonly number[], where: string): number[] {
  if (shape.length !== spec.shape.length) {
    throw new OptionsError(`Expected rank ${spec.shape.length} ${formatShape(spec.shape)} for ${where}["${spec.name}"] but received ${formatShape([...shape])}`, {
      option: `${where}["${spec.name}"]`,
      kind: 'range',
    });
  }
  spec.shape.forEach((d, axis) => {
    if (d !== null && d !== shape[axis]) {
      throw new OptionsError(`Expected ${formatShape(spec.shape)} for ${where}["${spec.name}"] but received ${formatShape([...shape])} (axis ${axis} is fixed at ${d})`, {
        option: `${where}["${spec.name}"]`,
        kind: 'range',
      });
    }
  });
  return [...shape];
}

/**
 * Tries one run on seeded inputs of these shapes; returns why it is no good (the runtime refused,
 * or an output came out empty: a spectrogram of fewer samples than one window), or null.
 */
function tryRun(model: Model, shapes: Record<string, number[]>): string | null {
  const session = sessionOf(model);
  try {
    const outputs = session.runSync(
      model.inputs.map((spec, i) => {
        const t = synthesizeTensor(spec.dtype as Exclude<TensorSpec['dtype'], 'unsupported'>, shapes[spec.name]!, 1 + i);
        return { dtype: t.dtype, shape: [...t.shape], data: t.data };
      }),
    );
    const empty = outputs.find((o) => o.shape.some((d) => d === 0));
    return empty ? `output "${empty.name}" came out empty, ${formatShape(empty.shape)}` : null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The shapes a measurement runs with. `given` wins (it must match the model's rank and static
 * dimensions); dynamic dimensions nobody gave are 1, and if the model will not run on that, the
 * dimensions after the first are probed at {@link probeSizes}. Throws an OptionsError listing
 * every dynamic input (`dynamicInputs`) when none of that runs.
 */
export function resolveInputShapes(model: Model, given: Record<string, readonly number[]> = {}, where = 'options.shapes'): InputShapes {
  const key = JSON.stringify(given);
  const hit = cache.get(model)?.get(key);
  if (hit) return hit;
  for (const name of Object.keys(given)) {
    if (!model.inputs.some((i) => i.name === name)) {
      throw new OptionsError(`${where}["${name}"]: the model has no input named "${name}" (inputs: ${model.inputs.map((i) => i.name).join(', ')})`, {
        option: `${where}["${name}"]`,
        kind: 'range',
      });
    }
  }
  const shapes: Record<string, number[]> = {};
  const chosen: Record<string, ChosenDimension[]> = {};
  for (const spec of model.inputs) {
    const g = given[spec.name];
    if (g !== undefined) {
      shapes[spec.name] = checkGiven(spec, g, where);
    } else if (spec.shape.some((d) => d === null)) {
      shapes[spec.name] = spec.shape.map((d) => d ?? 1);
      chosen[spec.name] = spec.shape.flatMap((d, axis) => (d === null ? [{ axis, size: 1, how: 'default' as const }] : []));
    } else {
      shapes[spec.name] = spec.shape as number[];
    }
  }
  let result: InputShapes = { shapes, chosen };
  const unsupported = model.inputs.some((i) => i.dtype === 'unsupported');
  if (Object.keys(chosen).length > 0 && !unsupported) {
    const refusal = tryRun(model, shapes);
    if (refusal !== null) result = probe(model, shapes, chosen, refusal, where);
  }
  if (!cache.has(model)) cache.set(model, new Map());
  cache.get(model)!.set(key, result);
  return result;
}

/**
 * Whether a dynamic axis is a batch: axis 0, an axis whose symbolic name says so, or one that
 * shares its symbolic name with some input's axis 0 (recurrent state such as [2, batch, 64]).
 * A batch stays 1 while the other dimensions are probed.
 */
function batchAxes(model: Model): (spec: TensorSpec, axis: number) => boolean {
  const firstAxisNames = new Set(model.inputs.map((i) => i.dimNames[0]).filter((n): n is string => Boolean(n)));
  return (spec, axis) => {
    const name = spec.dimNames[axis];
    return axis === 0 || (name !== null && name !== undefined && (/batch/i.test(name) || firstAxisNames.has(name)));
  };
}

function probe(model: Model, base: Record<string, number[]>, chosen: Record<string, ChosenDimension[]>, refusal: string, where: string): InputShapes {
  const isBatch = batchAxes(model);
  for (const size of probeSizes) {
    const shapes: Record<string, number[]> = {};
    const probedChosen: Record<string, ChosenDimension[]> = {};
    let tooBig = false;
    for (const spec of model.inputs) {
      const dims = chosen[spec.name];
      if (!dims) {
        shapes[spec.name] = base[spec.name]!;
        continue;
      }
      const shape = [...base[spec.name]!];
      probedChosen[spec.name] = dims.map((d) => {
        if (isBatch(spec, d.axis)) return d;
        shape[d.axis] = size;
        return { axis: d.axis, size, how: 'probed' as const };
      });
      if (elementCount(shape) > maxProbeElements) tooBig = true;
      shapes[spec.name] = shape;
    }
    if (tooBig) break;
    if (tryRun(model, shapes) === null) return { shapes, chosen: probedChosen };
  }
  const inputs = dynamicInputs(model);
  const listed = inputs.map((i) => `"${i.name}" ${formatShape(i.shape)}${i.dimNames.some((n) => n) ? ` (${i.dimNames.map((n) => n ?? '?').join(', ')})` : ''}`).join(', ');
  const err = new OptionsError(
    `the model has inputs with dynamic dimensions: ${listed}. It did not run with 1 for each (${refusal}), nor with ${probeSizes.join(', ')} for the dimensions after the first. ` +
      `Give the shapes your deployment uses in ${where}, e.g. ${inputs.map((i) => `${where}["${i.name}"] = [${i.shape.map((d) => d ?? 'N').join(', ')}]`).join('; ')}`,
    { option: where, kind: 'range' },
  );
  err.dynamicInputs = inputs;
  throw err;
}

/** How dynamic dimensions were chosen, in a phrase per input: `input: [1, 1024] (axis 1 probed, axis 0 default 1)`. */
export function describeChosen(shapes: InputShapes): string[] {
  return Object.entries(shapes.chosen).map(
    ([name, dims]) => `${name}: ${formatShape(shapes.shapes[name]!)} (${dims.map((d) => `axis ${d.axis} ${d.how === 'default' ? 'default 1' : `probed ${d.size}`}`).join(', ')})`,
  );
}
