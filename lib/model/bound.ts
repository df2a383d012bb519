/**
 * BoundRun (Model.bind): a model bound to inputs and outputs that live across calls, for a loop
 * that runs one model on one shape many times (a frame of audio at a time). A call reads no feeds
 * object and makes no output objects: what a call of run() costs besides the model is mostly those
 * (bench/README.md, section 11, "Bound runs").
 */
import { FeedError, ModelAuditError } from '../errors.js';
import type { NativeBindSpec, NativeBoundRun, NativeFeed, NativeOutput, NativeSession } from '../native.js';
import { elementCount, formatShape, view, type TensorData, type TensorSpec } from '../tensor/tensor.js';
import { typeError } from '../validate.js';
import { beforeRun, toOutputs, withPath, type Outputs } from './calls.js';
import { checkGivenShape, refuseUnknownInputs, type FeedFailure } from './feeds.js';

/** The shapes a binding's inputs take: each input's own where it is static, `shapes[name]` where it is not. */
export function bindSpecs(inputs: readonly TensorSpec[], shapes: unknown, where: string, path?: string): NativeBindSpec[] {
  if (shapes !== undefined && (typeof shapes !== 'object' || shapes === null || Array.isArray(shapes))) {
    throw typeError('shapes', 'an object of input shapes keyed by input name', shapes);
  }
  const given = (shapes ?? {}) as Record<string, unknown>;
  refuseUnknownInputs(inputs, Object.keys(given), where, path);
  return inputs.map((spec) => {
    const fail: FeedFailure = (field, expected, actual, text) => {
      throw new FeedError(`${where}: input "${spec.name}": ${text}`, { path, input: spec.name, field, expected, actual });
    };
    if (spec.dtype === 'unsupported') return fail('dtype', spec.runtimeType, spec.runtimeType, `has type ${spec.runtimeType}, which model-audit cannot feed`);
    const shape = given[spec.name];
    if (shape === undefined) {
      if (spec.shape.some((d) => d === null)) {
        return fail('shape', formatShape(spec.shape), 'no shape', `has dynamic dimensions ${formatShape(spec.shape)}: give its shape, bind({ "${spec.name}": [...] })`);
      }
      return { dtype: spec.dtype, shape: spec.shape as number[] };
    }
    const dims = checkGivenShape(spec, shape, fail);
    if (!Number.isSafeInteger(elementCount(dims))) {
      return fail('shape', 'a shape that fits in memory', formatShape(dims), `shape ${formatShape(dims)} holds more elements than memory can`);
    }
    return { dtype: spec.dtype, shape: [...dims] };
  });
}

function frozenOutputs(outputs: NativeOutput[]): Outputs {
  const record = toOutputs(outputs);
  for (const tensor of Object.values(record)) {
    Object.freeze(tensor.shape);
    Object.freeze(tensor);
  }
  return Object.freeze(record);
}

/**
 * A model bound to inputs and outputs that live across calls ({@link Model.bind}). Write a call's
 * input into `inputs`, call run() or runSync(), and read the outputs it returns: the same object
 * and arrays every call while the output shapes stay the same, overwritten by the next call (copy
 * what you keep). One call at a time: another while one runs is refused with `ERR_BINDING_BUSY`;
 * bind again for calls side by side. Closing the model ends the binding's calls too.
 */
export class BoundRun {
  /** The arrays the runs read, by input name, in model input order: write each call's input here. Zero-filled at first. */
  readonly inputs: Readonly<Record<string, TensorData>>;
  /** The shape each input is bound to. */
  readonly inputShapes: Readonly<Record<string, readonly number[]>>;
  readonly #native: NativeBoundRun;
  readonly #path: string | undefined;
  #outputs: Outputs | undefined;
  #busy = false;

  /** @internal use Model.bind() */
  constructor(bound: NativeBoundRun, inputs: readonly TensorSpec[], specs: readonly NativeBindSpec[], path: string | undefined) {
    this.#native = bound;
    this.#path = path;
    const buffers = bound.inputs();
    const arrays: Record<string, TensorData> = {};
    const shapes: Record<string, readonly number[]> = {};
    inputs.forEach(({ name }, i) => {
      const spec = specs[i]!;
      arrays[name] = view(spec.dtype, buffers[i]!);
      shapes[name] = Object.freeze([...spec.shape]);
    });
    this.inputs = Object.freeze(arrays);
    this.inputShapes = Object.freeze(shapes);
  }

  /** Runs the model once on `inputs`, as Model.run() does (off the JS thread, except a short run made alone). */
  run(): Promise<Outputs> {
    // Not an async function, as Model.run: the caller's await follows the one reaction to the
    // addon's promise. What throws is still a rejection. A call refused because another runs
    // leaves the binding to that one.
    try {
      this.#claim();
    } catch (err) {
      return Promise.reject(err);
    }
    let pending: Promise<NativeOutput[] | null>;
    try {
      beforeRun();
      pending = this.#native.run();
    } catch (err) {
      this.#busy = false;
      return Promise.reject(withPath(err, this.#path));
    }
    return pending.then(this.#ran, this.#failed);
  }

  readonly #ran = (fresh: NativeOutput[] | null): Outputs => {
    this.#busy = false;
    return this.#take(fresh);
  };

  readonly #failed = (err: unknown): never => {
    this.#busy = false;
    throw withPath(err, this.#path);
  };

  /** Runs the model once on `inputs` on the calling thread. */
  runSync(): Outputs {
    this.#claim();
    try {
      return this.#take(this.#native.runSync());
    } catch (err) {
      throw withPath(err, this.#path);
    } finally {
      this.#busy = false;
    }
  }

  #claim(): void {
    if (this.#busy) {
      throw new ModelAuditError(
        `${this.#path ?? 'this binding'}: a call of this binding is still running; await it first, or bind() again for calls side by side`,
        { path: this.#path },
        'ERR_BINDING_BUSY',
      );
    }
    this.#busy = true;
  }

  /** The outputs a call made: new ones when their shapes changed (or on the first call), else the same, written in place. */
  #take(fresh: NativeOutput[] | null): Outputs {
    if (fresh !== null) this.#outputs = frozenOutputs(fresh);
    return this.#outputs!;
  }
}

function sameShapes(shapes: readonly (readonly number[])[] | undefined, feeds: readonly NativeFeed[]): boolean {
  if (shapes === undefined || shapes.length !== feeds.length) return false;
  for (let i = 0; i < feeds.length; i++) {
    const a = shapes[i]!;
    const b = feeds[i]!.shape;
    if (a.length !== b.length) return false;
    for (let d = 0; d < a.length; d++) if (a[d] !== b[d]) return false;
  }
  return true;
}

/** Outputs up to this many bytes a call go through a model's own binding; larger ones would pay a third copy there. */
const ownBindingMaxOutputBytes = 64 * 1024;
/** Inputs up to this many bytes a call: the binding keeps their memory for as long as the model lives. */
const ownBindingMaxInputBytes = 1024 * 1024;

/**
 * The binding Model.run() and runSync() call through when they can: a call made while no other
 * call of the model uses it, on the shapes it is bound to (bound to a call's shapes on the first
 * call, and again when two calls in a row come with the same new shapes). The call's feeds are
 * copied into its inputs and its outputs copied out into new arrays of the caller's own, which
 * costs less than the addon reading a feeds object and making the output objects
 * (bench/README.md, section 11, "run() through the model's own binding"). A model whose outputs
 * are larger than 64 KiB stops using it (there the copy out costs more than it saves), and one
 * whose inputs are larger than 1 MiB never does (their memory would be held for the model's life).
 */
export class OwnBinding {
  readonly #session: NativeSession;
  #bound: NativeBoundRun | undefined;
  #shapes: number[][] | undefined;
  #inputs: TensorData[] = [];
  #outputs: { name: string; dtype: NativeOutput['dtype']; shape: number[]; data: TensorData }[] = [];
  /** Shapes a call came with that the binding is not bound to: bound to them if the next call comes with them too. */
  #candidate: number[][] | undefined;
  #busy = false;
  #off = false;

  readonly #path: string | undefined;

  constructor(session: NativeSession, path: string | undefined) {
    this.#session = session;
    this.#path = path;
  }

  /** Takes the binding for this call and copies its feeds in; false when the call must go the plain way. */
  take(feeds: readonly NativeFeed[]): boolean {
    if (this.#busy || this.#off) return false;
    if (!sameShapes(this.#shapes, feeds)) {
      if (this.#bound !== undefined && !sameShapes(this.#candidate, feeds)) {
        this.#candidate = feeds.map((f) => f.shape);
        return false;
      }
      if (feeds.reduce((sum, f) => sum + f.data.byteLength, 0) > ownBindingMaxInputBytes) {
        this.#off = true;
        return false;
      }
      const specs = feeds.map((f) => ({ dtype: f.dtype, shape: f.shape }));
      const bound = this.#session.bind(specs);
      const buffers = bound.inputs();
      this.#bound = bound;
      this.#shapes = specs.map((s) => s.shape);
      this.#inputs = specs.map((s, i) => view(s.dtype, buffers[i]!));
      this.#outputs = [];
      this.#candidate = undefined;
    }
    for (let i = 0; i < feeds.length; i++) (this.#inputs[i] as Float32Array).set(feeds[i]!.data as Float32Array);
    this.#busy = true;
    return true;
  }

  /**
   * Runs the call take() took (as Model.run: the caller has queued the wait for short calls), and
   * gives the binding back however it ends; errors carry the file, as Model.run's. The outputs are
   * copied out in the one reaction to the addon's promise (the reactions are fields, made once).
   */
  run(): Promise<Outputs> {
    let pending: Promise<NativeOutput[] | null>;
    try {
      pending = this.#bound!.run();
    } catch (err) {
      this.#busy = false;
      return Promise.reject(withPath(err, this.#path));
    }
    return pending.then(this.#ran, this.#failed);
  }

  readonly #ran = (fresh: NativeOutput[] | null): Outputs => {
    this.#busy = false;
    return this.#copyOut(fresh);
  };

  readonly #failed = (err: unknown): never => {
    this.#busy = false;
    throw withPath(err, this.#path);
  };

  /** Runs the call take() took on the calling thread, and gives the binding back however it ends. */
  runSync(): Outputs {
    try {
      return this.#copyOut(this.#bound!.runSync());
    } finally {
      this.#busy = false;
    }
  }

  /** The call's outputs in new arrays of the caller's own. */
  #copyOut(fresh: NativeOutput[] | null): Outputs {
    if (fresh !== null) {
      this.#outputs = fresh.map((o) => ({ name: o.name, dtype: o.dtype, shape: o.shape, data: view(o.dtype, o.buffer) }));
      if (fresh.reduce((sum, o) => sum + o.buffer.byteLength, 0) > ownBindingMaxOutputBytes) this.#off = true;
    }
    const result: Outputs = {};
    for (const o of this.#outputs) result[o.name] = { dtype: o.dtype, shape: o.shape.slice(), data: o.data.slice() };
    return result;
  }
}
