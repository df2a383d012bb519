/**
 * Data sets: many feed sets for one model, from files a team already has: `.npy` per input (one
 * file with a leading sample axis, or a folder of one-sample files), ONNX test-data folders
 * (test_data_set_N folders of input_N.pb), the JSON case format accuracy reads, or feeds made in code.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OptionsError } from '../errors.js';
import type { Model } from '../model/model.js';
import { loadJsonCases, loadOnnxTestData, readNpy } from '../reference/load.js';
import { formatShape, type Feeds, type Tensor, type TensorSpec } from '../tensor/tensor.js';

/** Feed sets for one model, keyed by its input names, and where they came from. */
export interface DataSet {
  /** Where the sets came from, as reports name it (`npy: input=/data/x.npy`, `onnx test data: /dir`). */
  source: string;
  feedSets: Feeds[];
}

/** Where a data set comes from. */
export type DataSource =
  /** Per input, a .npy file whose leading axis counts samples, or a folder of .npy files of one sample each (in name order). */
  | { npy: Record<string, string> }
  /** A folder of `test_data_set_*` folders (an ONNX test-data folder, model.onnx beside them or not). */
  | { onnxTestData: string }
  /** A JSON cases file: `{ "cases": [{ "inputs": { <input>: { dtype, shape, data } } }] }`. */
  | { cases: string };

/** One input's samples from a .npy file or a folder of them. */
export function readSamples(path: string, spec: TensorSpec, where: string): Tensor[] {
  if (!existsSync(path)) throw new OptionsError(`${where}: ${path} does not exist`, { option: where, kind: 'range' });
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => f.toLowerCase().endsWith('.npy')).sort();
    if (files.length === 0) throw new OptionsError(`${where}: the folder ${path} holds no .npy files`, { option: where, kind: 'range' });
    return files.map((f) => fitSample(readNpyChecked(join(path, f), where), spec, `${where} (${join(path, f)})`));
  }
  const tensor = readNpyChecked(path, where);
  if (tensor.shape.length === spec.shape.length + 1) {
    // A leading sample axis: split it.
    const [count, ...shape] = tensor.shape;
    const per = tensor.data.length / Math.max(1, count!);
    return Array.from({ length: count! }, (_, i) => fitSample({ dtype: tensor.dtype, shape, data: tensor.data.subarray(i * per, (i + 1) * per) as Tensor['data'] }, spec, `${where} (${path}, sample ${i})`));
  }
  return [fitSample(tensor, spec, `${where} (${path})`)];
}

function readNpyChecked(path: string, where: string): Tensor {
  try {
    return readNpy(path);
  } catch (err) {
    throw new OptionsError(`${where}: ${(err as Error).message}`, { option: where, kind: 'range' });
  }
}

/** Checks a sample against the model's input: dtype, rank, static dimensions. */
function fitSample(tensor: Tensor, spec: TensorSpec, where: string): Tensor {
  if (tensor.dtype !== spec.dtype) throw new OptionsError(`${where}: dtype ${tensor.dtype}, the model's input "${spec.name}" takes ${spec.dtype}`, { option: where, kind: 'range' });
  const fits = tensor.shape.length === spec.shape.length && spec.shape.every((d, i) => d === null || d === tensor.shape[i]);
  if (!fits) {
    throw new OptionsError(`${where}: a sample of shape ${formatShape([...tensor.shape])} does not fit the model's input "${spec.name}" ${formatShape(spec.shape)} (a file may add one leading axis that counts samples)`, {
      option: where,
      kind: 'range',
    });
  }
  return tensor;
}

function specOf(model: Model, name: string, where: string): TensorSpec {
  const spec = model.inputs.find((i) => i.name === name);
  if (!spec) throw new OptionsError(`${where}: the model has no input named "${name}" (inputs: ${model.inputs.map((i) => i.name).join(', ')})`, { option: where, kind: 'range' });
  return spec;
}

/** Feeds keyed by input name from tensors keyed by name or given in model order. */
function keyed(model: Model, inputs: Record<string, Tensor> | Tensor[], where: string): Feeds {
  const entries: [string, Tensor][] = Array.isArray(inputs) ? inputs.map((t, i) => [model.inputs[i]?.name ?? `#${i}`, t]) : Object.entries(inputs);
  if (Array.isArray(inputs) && inputs.length > model.inputs.length) {
    throw new OptionsError(`${where}: ${inputs.length} inputs, the model has ${model.inputs.length}`, { option: where, kind: 'range' });
  }
  return Object.fromEntries(entries.map(([name, t]) => [specOf(model, name, where).name, { data: t.data, shape: [...t.shape], dtype: t.dtype }]));
}

/**
 * Loads a data set for `model`. Every sample is checked against the model's inputs (dtype, rank,
 * static dimensions) before anything runs. `where` names the option in errors.
 */
export function loadDataSet(model: Model, source: DataSource, where = 'data'): DataSet {
  if (typeof source !== 'object' || source === null) throw new OptionsError(`Expected { npy }, { onnxTestData } or { cases } for ${where}`, { option: where, kind: 'type' });
  if ('npy' in source) {
    const byInput = Object.entries(source.npy).map(([name, path]) => ({ name, path, samples: readSamples(path, specOf(model, name, `${where}.npy`), `${where}.npy["${name}"]`) }));
    if (byInput.length === 0) throw new OptionsError(`${where}.npy names no input`, { option: `${where}.npy`, kind: 'range' });
    const counts = new Set(byInput.map((i) => i.samples.length));
    if (counts.size > 1) {
      throw new OptionsError(`${where}.npy: the inputs hold different numbers of samples (${byInput.map((i) => `${i.name}: ${i.samples.length}`).join(', ')})`, { option: `${where}.npy`, kind: 'range' });
    }
    const count = byInput[0]!.samples.length;
    const feedSets: Feeds[] = Array.from({ length: count }, (_, s) =>
      Object.fromEntries(byInput.map((i) => [i.name, { data: i.samples[s]!.data, shape: [...i.samples[s]!.shape], dtype: i.samples[s]!.dtype }])),
    );
    return { source: `npy: ${byInput.map((i) => `${i.name}=${i.path}`).join(', ')}`, feedSets };
  }
  if ('onnxTestData' in source) {
    const data = loadOnnxTestData(source.onnxTestData);
    if (data.cases.length === 0) {
      throw new OptionsError(`${where}.onnxTestData: no readable test_data_set_* in ${source.onnxTestData}${data.unreadable[0] ? ` (${data.unreadable[0].reason})` : ''}`, { option: `${where}.onnxTestData`, kind: 'range' });
    }
    return { source: `onnx test data: ${source.onnxTestData}`, feedSets: data.cases.map((c, i) => keyed(model, c.inputs, `${where}.onnxTestData[${i}]`)) };
  }
  if ('cases' in source) {
    const cases = loadJsonCases(source.cases, { requireExpected: false });
    if (cases.length === 0) throw new OptionsError(`${where}.cases: ${source.cases} holds no cases`, { option: `${where}.cases`, kind: 'range' });
    return { source: `cases: ${source.cases}`, feedSets: cases.map((c, i) => keyed(model, c.inputs, `${where}.cases[${i}]`)) };
  }
  throw new OptionsError(`Expected { npy }, { onnxTestData } or { cases } for ${where}`, { option: where, kind: 'type' });
}
