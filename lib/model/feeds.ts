/**
 * Checking feeds against a model's inputs before the runtime sees them, and ordering them as the
 * runtime wants them.
 */
import { FeedError } from '../errors.js';
import type { NativeFeed } from '../native.js';
import { carriesDType, dtypesOf, elementCount, formatShape, type TensorData, type TensorSpec } from '../tensor/tensor.js';

function describeData(data: unknown): string {
  if (ArrayBuffer.isView(data)) return `${data.constructor.name}(${(data as TensorData).length})`;
  return data === null ? 'null' : Array.isArray(data) ? 'array' : typeof data;
}

/** A FeedError about one input, thrown. */
export type FeedFailure = (field: FeedError['field'] & string, expected: string, actual: string, text: string) => never;

/** Refuses a key that names no input of the model (feeds, or the shapes a binding is given). */
export function refuseUnknownInputs(inputs: readonly TensorSpec[], keys: readonly string[], where: string, path?: string): void {
  for (const key of keys) {
    if (!namesInput(inputs, key)) {
      const names = inputs.map((i) => i.name).join(', ');
      throw new FeedError(`${where}: the model has no input named "${key}" (inputs: ${names})`, {
        path,
        input: key,
        field: 'unknown',
        expected: names,
        actual: key,
      });
    }
  }
}

/** A loop, not inputs.some() with a new callback: feeds are checked on every run() call. */
function namesInput(inputs: readonly TensorSpec[], key: string): boolean {
  for (let i = 0; i < inputs.length; i++) if (inputs[i]!.name === key) return true;
  return false;
}

/** A shape given for an input, checked against the input's: non-negative integers, its rank, each static dimension. */
export function checkGivenShape(spec: TensorSpec, shape: unknown, fail: FeedFailure): number[] {
  // Plain loops, no callbacks: run() checks a shape on every call (bench/README.md, section 11).
  if (!Array.isArray(shape) || !isDims(shape)) {
    return fail('shape', 'an array of non-negative integers', String(shape), `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const dims = shape as number[];
  if (dims.length !== spec.shape.length) {
    return fail('rank', formatShape(spec.shape), formatShape(dims), `expected rank ${spec.shape.length} ${formatShape(spec.shape)}, got rank ${dims.length} ${formatShape(dims)}`);
  }
  for (let axis = 0; axis < dims.length; axis++) {
    const d = spec.shape[axis];
    if (d !== null && d !== dims[axis]) {
      fail('shape', formatShape(spec.shape), formatShape(dims), `expected shape ${formatShape(spec.shape)}, got ${formatShape(dims)} (axis ${axis}: ${d} vs ${dims[axis]})`);
    }
  }
  return dims;
}

function isDims(shape: readonly unknown[]): boolean {
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (!Number.isInteger(d) || (d as number) < 0) return false;
  }
  return true;
}

/**
 * The dtype a feed's typed array is taken as: the one the feed names, else the input's own when the
 * array can carry it, else the first the array can; undefined when the array cannot carry the one
 * named, or none at all.
 */
function feedDType(data: TensorData, named: unknown, spec: TensorSpec): string | undefined {
  if (typeof named === 'string') return carriesDType(data, named) ? named : undefined;
  return carriesDType(data, spec.dtype) ? spec.dtype : dtypesOf(data)[0];
}

/** Checks feeds against the model's inputs and orders them as the runtime wants them. */
export function checkFeeds(inputs: readonly TensorSpec[], feeds: unknown, where: string, path?: string): NativeFeed[] {
  if (typeof feeds !== 'object' || feeds === null || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
    throw new FeedError(`${where}: feeds must be an object keyed by input name (inputs: ${inputs.map((i) => i.name).join(', ')})`, {
      path,
      input: '',
      field: 'data',
      expected: 'object',
      actual: describeData(feeds),
    });
  }
  const given = feeds as Record<string, unknown>;
  refuseUnknownInputs(inputs, Object.keys(given), where, path);
  // A loop rather than map() with a callback: this runs on every run() call.
  const ordered: NativeFeed[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) ordered[i] = checkFeed(inputs[i]!, given[inputs[i]!.name], where, path);
  return ordered;
}

function checkFeed(spec: TensorSpec, value: unknown, where: string, path: string | undefined): NativeFeed {
  const fail: FeedFailure = (field, expected, actual, text) => {
    throw new FeedError(`${where}: input "${spec.name}": ${text}`, { path, input: spec.name, field, expected, actual });
  };
  if (value === undefined) return fail('missing', formatShape(spec.shape), 'nothing', `missing (expected ${spec.dtype} ${formatShape(spec.shape)})`);
  if (spec.dtype === 'unsupported') {
    return fail('dtype', spec.runtimeType, describeData(value), `has type ${spec.runtimeType}, which model-audit cannot feed`);
  }
  const feed = (ArrayBuffer.isView(value) ? { data: value } : value) as { data?: unknown; shape?: unknown; dtype?: unknown } | null;
  if (typeof feed !== 'object' || feed === null || !ArrayBuffer.isView(feed.data)) {
    return fail('data', 'a typed array or { data, shape }', describeData(feed?.data ?? value), `expected a typed array or { data, shape }, got ${describeData(feed?.data ?? value)}`);
  }
  const data = feed.data as TensorData;
  const dtype = feedDType(data, feed.dtype, spec);
  if (dtype === undefined) {
    return fail('dtype', spec.dtype, describeData(data), `expected dtype ${spec.dtype}, got ${describeData(data)}`);
  }
  if (dtype !== spec.dtype) return fail('dtype', spec.dtype, dtype, `expected dtype ${spec.dtype}, got ${dtype} (${describeData(data)})`);
  let shape: number[];
  if (feed.shape === undefined) {
    if (spec.shape.includes(null)) {
      return fail('shape', formatShape(spec.shape), 'no shape', `has dynamic dimensions ${formatShape(spec.shape)}: give { data, shape }`);
    }
    shape = spec.shape as number[];
  } else {
    shape = checkGivenShape(spec, feed.shape, fail);
  }
  const count = elementCount(shape);
  if (data.length !== count) {
    fail('elements', String(count), String(data.length), `shape ${formatShape(shape)} holds ${count} elements but the data has ${data.length}`);
  }
  return { dtype: spec.dtype, shape: shape.slice(), data };
}
