/**
 * Reference cases: inputs and the outputs they should give, from ONNX test-data folders,
 * .npy files or JSON.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OptionsError } from '../errors.js';
import { allocate, dtypes, type DType, type Tensor } from '../tensor/tensor.js';
import { decodeNpy } from './npy.js';
import { decodeTensorProto, UnsupportedTensorError } from './tensorproto.js';

/**
 * One case. Inputs and expected outputs are keyed by name, or given in model order as arrays
 * (ONNX test data is positional).
 */
export interface ReferenceCase {
  name: string;
  inputs: Record<string, Tensor> | Tensor[];
  expected: Record<string, Tensor> | Tensor[];
  /** For classifiers: the true class index of each batch row. */
  labels?: number[];
}

/** A case that could not be read, with why. */
export interface UnreadableCase {
  name: string;
  /** 'unsupported': a TensorProto of a type model-audit does not read (strings, bfloat16, …); 'undecodable': a file the TensorProto decoder failed on (a SequenceProto or OptionalProto, or a damaged file). */
  kind: 'unsupported' | 'undecodable';
  reason: string;
}

function numbered(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => join(dir, f));
}

/**
 * Reads an ONNX test-data folder: `model.onnx` beside `test_data_set_*` folders holding
 * `input_<i>.pb` and `output_<i>.pb` TensorProtos.
 */
export function loadOnnxTestData(dir: string): { model: string; cases: ReferenceCase[]; unreadable: UnreadableCase[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new OptionsError(`Expected an ONNX test-data folder but ${dir} is not a directory`, { option: 'dir' });
  }
  const cases: ReferenceCase[] = [];
  const unreadable: UnreadableCase[] = [];
  const sets = readdirSync(dir).filter((f) => f.startsWith('test_data_set_')).sort();
  for (const set of sets) {
    const setDir = join(dir, set);
    const name = `${basename(dir)}/${set}`;
    try {
      const inputs = numbered(setDir, 'input_').map((f) => decodeTensorProto(readFileSync(f)));
      const expected = numbered(setDir, 'output_').map((f) => decodeTensorProto(readFileSync(f)));
      cases.push({ name, inputs, expected });
    } catch (err) {
      if (err instanceof UnsupportedTensorError) unreadable.push({ name, kind: 'unsupported', reason: err.message });
      else if (err instanceof Error) unreadable.push({ name, kind: 'undecodable', reason: `not a TensorProto the decoder can read (${err.name}: ${err.message})` });
      else throw err;
    }
  }
  return { model: join(dir, 'model.onnx'), cases, unreadable };
}

/** Reads a .npy file as a tensor. */
export function readNpy(path: string): Tensor {
  return decodeNpy(readFileSync(path), path);
}

interface JsonTensor {
  dtype: DType;
  shape: number[];
  data: (number | string | boolean)[];
}

function tensorFromJson(value: unknown, where: string): Tensor {
  const t = value as JsonTensor;
  if (typeof t !== 'object' || t === null || !dtypes.includes(t.dtype) || !Array.isArray(t.shape) || !Array.isArray(t.data)) {
    throw new OptionsError(`${where}: expected { dtype, shape, data } with dtype one of ${dtypes.join(', ')}`, { option: where });
  }
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) throw new OptionsError(`${where}: shape ${JSON.stringify(t.shape)} holds ${count} elements, data has ${t.data.length}`, { option: where });
  const data = allocate(t.dtype, count);
  t.data.forEach((v, i) => {
    if (t.dtype === 'int64') (data as BigInt64Array)[i] = BigInt(v as number | string);
    else (data as Float32Array)[i] = v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v);
  });
  return { dtype: t.dtype, shape: t.shape, data };
}

/**
 * Reads cases from JSON: `{ "cases": [{ "name", "inputs": { <input>: { dtype, shape, data } },
 * "expected": { <output>: { dtype, shape, data } }, "labels"?: [..] }] }`. Non-finite values may be
 * written as the strings "NaN", "Infinity", "-Infinity".
 */
export function loadJsonCases(path: string, options: { requireExpected?: boolean } = {}): ReferenceCase[] {
  let parsed: { cases?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as { cases?: unknown };
  } catch (err) {
    throw new OptionsError(`${path}: ${(err as Error).message}`, { option: 'cases' });
  }
  if (!Array.isArray(parsed.cases)) throw new OptionsError(`${path}: expected an object with a "cases" array`, { option: 'cases' });
  return parsed.cases.map((c: Record<string, unknown>, i: number) => {
    const where = `${path}: cases[${i}]`;
    const toMap = (value: unknown, key: string): Record<string, Tensor> => {
      if (typeof value !== 'object' || value === null) throw new OptionsError(`${where}.${key}: expected an object keyed by tensor name`, { option: key });
      return Object.fromEntries(Object.entries(value).map(([name, t]) => [name, tensorFromJson(t, `${where}.${key}.${name}`)]));
    };
    const result: ReferenceCase = {
      name: typeof c.name === 'string' ? c.name : `case ${i}`,
      inputs: toMap(c.inputs, 'inputs'),
      // A data set needs inputs only; accuracy needs the expected outputs too.
      expected: c.expected === undefined && options.requireExpected === false ? {} : toMap(c.expected, 'expected'),
    };
    if (Array.isArray(c.labels)) result.labels = c.labels.map(Number);
    return result;
  });
}
