/**
 * openModel() and Model: a model opened in one runtime, described, and run.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClosedModelError, FeedError, ModelAuditError, ModelReadError } from './errors.js';
import { chooseRuntime } from './format.js';
import { native, type NativeFeed, type NativeOutput, type NativeSession, type NativeSessionOptions, type NativeTensorInfo } from './native.js';
import type { ModelSpec } from './isolate/protocol.js';
import { processMemory, toCounters, toPhase, type MemoryPhase, type MemorySnapshot } from './memory.js';
import { describeRuntime, type RuntimeKind, type RuntimeLibraryInfo } from './runtimes.js';
import {
  dtypesOf,
  elementCount,
  formatShape,
  view,
  type DType,
    type Feeds,
  type Tensor,
  type TensorData,
  type TensorSpec,
} from './tensor.js';
import { benchmark, type BenchmarkOptions, type LatencyResult } from './measure/benchmark.js';
import { soak, type SoakOptions, type SoakResult } from './soak/soak.js';
import { throughput, type ThroughputOptions, type ThroughputResultFor } from './measure/throughput.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkObject, checkOneOf, checkString, checkCpu, rangeError, typeError } from './validate.js';

/** ONNX Runtime graph optimisation levels. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

const optimizationLevels: Record<GraphOptimizationLevel, number> = { disabled: 0, basic: 1, extended: 2, all: 99 };

/** Options of {@link openModel}. */
export interface OpenOptions {
  /** Which runtime runs the model. @default picked from the content: `TFL3` identifier → 'tflite', else 'onnx' */
  runtime?: RuntimeKind;
  /** Threads one inference may use (ONNX Runtime intra-op threads, TFLite interpreter threads); 0 leaves the runtime's default. @default 0 */
  intraOpThreads?: number;
  /** ONNX Runtime inter-op threads; more than 1 selects parallel execution of independent nodes. @default 0 */
  interOpThreads?: number;
  /** ONNX Runtime graph optimisation level. @default 'all' */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** TFLite: run through the XNNPack delegate (the packaged TFLite does not apply it by itself). @default false */
  xnnpack?: boolean;
  /** ONNX Runtime CPU memory arena. @default true */
  cpuMemArena?: boolean;
  /** ONNX Runtime memory pattern planning. @default true */
  memPattern?: boolean;
  /** ONNX Runtime intra-op worker threads spin while waiting for work (lower latency, more CPU). @default true */
  allowSpinning?: boolean;
  /**
   * ONNX Runtime: the CPU (0-based) each intra-op worker thread is pinned to, one per worker, so
   * `intraOpThreads − 1` entries (the thread calling Run is the remaining one). @default not pinned
   */
  intraOpCpus?: number[];
  /** Count the runtime library's allocations (see {@link Model.memory}). @default true */
  countAllocations?: boolean;
  /** Path of the runtime library to load instead of the packaged one (also: MODEL_AUDIT_ORT_LIBRARY, MODEL_AUDIT_TFLITE_LIBRARY). */
  libraryPath?: string;
}

/** The options a model was opened with, defaults filled in. */
export interface ResolvedOpenOptions {
  runtime: RuntimeKind;
  intraOpThreads: number;
  interOpThreads: number;
  graphOptimizationLevel: GraphOptimizationLevel;
  xnnpack: boolean;
  cpuMemArena: boolean;
  memPattern: boolean;
  allowSpinning: boolean;
  intraOpCpus: number[];
  countAllocations: boolean;
}

const openOptionKeys = [
  'runtime',
  'intraOpThreads',
  'interOpThreads',
  'graphOptimizationLevel',
  'xnnpack',
  'cpuMemArena',
  'memPattern',
  'allowSpinning',
  'intraOpCpus',
  'countAllocations',
  'libraryPath',
] as const;

function validateOpenOptions(options: unknown): OpenOptions {
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, openOptionKeys);
  const runtime = checkOneOf('options.runtime', o.runtime, ['onnx', 'tflite'] as const);
  const intraOpThreads = checkInteger('options.intraOpThreads', o.intraOpThreads, 0, 1024);
  const interOpThreads = checkInteger('options.interOpThreads', o.interOpThreads, 0, 1024);
  const graphOptimizationLevel = checkOneOf('options.graphOptimizationLevel', o.graphOptimizationLevel, [
    'disabled',
    'basic',
    'extended',
    'all',
  ] as const);
  const xnnpack = checkBoolean('options.xnnpack', o.xnnpack);
  const cpuMemArena = checkBoolean('options.cpuMemArena', o.cpuMemArena);
  const memPattern = checkBoolean('options.memPattern', o.memPattern);
  const allowSpinning = checkBoolean('options.allowSpinning', o.allowSpinning);
  const libraryPath = checkString('options.libraryPath', o.libraryPath);
  const countAllocations = checkBoolean('options.countAllocations', o.countAllocations);
  let intraOpCpus: number[] | undefined;
  if (o.intraOpCpus !== undefined) {
    if (!Array.isArray(o.intraOpCpus)) throw typeError('options.intraOpCpus', 'an array of CPU indices', o.intraOpCpus);
    intraOpCpus = o.intraOpCpus.map((cpu, i) => checkCpu(`options.intraOpCpus[${i}]`, cpu)!);
    if (runtime === 'tflite') throw rangeError('options.intraOpCpus', 'no value for a TFLite model (ONNX Runtime only)', o.intraOpCpus);
    if (intraOpThreads === undefined || intraOpCpus.length !== intraOpThreads - 1) {
      throw rangeError('options.intraOpCpus', `intraOpThreads − 1 = ${(intraOpThreads ?? 0) - 1} CPUs (one per worker thread)`, o.intraOpCpus);
    }
  }
  return { runtime, intraOpThreads, interOpThreads, graphOptimizationLevel, xnnpack, cpuMemArena, memPattern, allowSpinning, intraOpCpus, countAllocations, libraryPath };
}

/** A model's source as given to openModel. */
export type ModelSource = string | URL | Uint8Array;

/** What the runtime library allocated while the model was opened. */
export interface OpenMemory {
  /** Building the model from its bytes (TFLite's TfLiteModelCreate); null for ONNX Runtime, which loads and builds a session in one call. */
  load: MemoryPhase | null;
  /** Creating the session or interpreter, tensor allocation included. */
  creation: MemoryPhase | null;
}

/** How long opening took, by phase. */
export interface OpenTimings {
  /** Reading the file (0 for bytes given directly). */
  readNs: number;
  /** The runtime creating the session (ONNX Runtime) or model + interpreter + tensor allocation (TFLite). */
  createNs: number;
}

/** What a result says about the model it measured. */
export interface ModelDescription {
  path: string | null;
  runtime: RuntimeKind;
  sizeBytes: number;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
  options: Readonly<ResolvedOpenOptions>;
  library: Readonly<RuntimeLibraryInfo>;
}

/** The output tensors of one run, by output name, in the model's output order. */
export type Outputs = Record<string, Tensor>;

interface LoadedSource {
  bytes: Uint8Array;
  path: string | undefined;
  readNs: number;
}

function sourcePath(source: string | URL): string {
  return resolve(source instanceof URL ? fileURLToPath(source) : source);
}

function readError(path: string, err: unknown): ModelReadError {
  const e = err as NodeJS.ErrnoException;
  const systemCode = e.code;
  const reason =
    systemCode === 'ENOENT' ? 'does not exist' : systemCode === 'EISDIR' ? 'is a directory, not a model file' : systemCode === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${e.message})`;
  return new ModelReadError(`model file ${path} ${reason}`, { path, systemCode, cause: err });
}

function checkSource(source: unknown): void {
  if (typeof source === 'string' || source instanceof URL || source instanceof Uint8Array) return;
  throw new ModelReadError(
    `Expected a file path, file URL or Uint8Array for the model but received ${source === null ? 'null' : typeof source}`,
  );
}

async function loadSource(source: ModelSource): Promise<LoadedSource> {
  checkSource(source);
  if (source instanceof Uint8Array) return { bytes: source, path: undefined, readNs: 0 };
  const path = sourcePath(source);
  const start = process.hrtime.bigint();
  try {
    const bytes = await readFile(path);
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, readNs: Number(process.hrtime.bigint() - start) };
  } catch (err) {
    throw readError(path, err);
  }
}

function loadSourceSync(source: ModelSource): LoadedSource {
  checkSource(source);
  if (source instanceof Uint8Array) return { bytes: source, path: undefined, readNs: 0 };
  const path = sourcePath(source);
  const start = process.hrtime.bigint();
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const bytes = readFileSync(path);
    return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, readNs: Number(process.hrtime.bigint() - start) };
  } catch (err) {
    throw readError(path, err);
  }
}

function resolveOptions(options: OpenOptions, runtime: RuntimeKind): ResolvedOpenOptions {
  return {
    runtime,
    intraOpThreads: options.intraOpThreads ?? 0,
    interOpThreads: options.interOpThreads ?? 0,
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    xnnpack: options.xnnpack ?? false,
    cpuMemArena: options.cpuMemArena ?? true,
    memPattern: options.memPattern ?? true,
    allowSpinning: options.allowSpinning ?? true,
    intraOpCpus: options.intraOpCpus ?? [],
    countAllocations: options.countAllocations ?? true,
  };
}

function toNativeOptions(options: ResolvedOpenOptions): NativeSessionOptions {
  return {
    intraOpThreads: options.intraOpThreads,
    interOpThreads: options.interOpThreads,
    graphOptimizationLevel: optimizationLevels[options.graphOptimizationLevel],
    xnnpack: options.xnnpack,
    cpuMemArena: options.cpuMemArena,
    memPattern: options.memPattern,
    allowSpinning: options.allowSpinning,
    // ONNX Runtime numbers CPUs from 1, one ';'-separated entry per worker thread.
    intraOpAffinity: options.intraOpCpus.map((cpu) => String(cpu + 1)).join(';'),
    countAllocations: options.countAllocations,
  };
}

/** Adds the file to errors the runtime raised about the model. */
function withPath(err: unknown, path: string | undefined): unknown {
  if (path === undefined || !(err instanceof ModelAuditError) || err.path !== undefined) return err;
  const Ctor = err.constructor as new (message: string, details: { path?: string; runtimeMessage?: string; cause?: unknown }) => ModelAuditError;
  return new Ctor(`${path}: ${err.message}`, { path, runtimeMessage: err.runtimeMessage, cause: err });
}

interface Prepared {
  bytes: Uint8Array;
  path: string | undefined;
  readNs: number;
  options: ResolvedOpenOptions;
  library: RuntimeLibraryInfo;
}

function prepare(loaded: LoadedSource, rawOptions: unknown): Prepared {
  const options = validateOpenOptions(rawOptions);
  const runtime = chooseRuntime(loaded.bytes, loaded.path, options.runtime);
  if (runtime === 'tflite' && options.intraOpCpus !== undefined) {
    throw rangeError('options.intraOpCpus', 'no value for a TFLite model (ONNX Runtime only)', options.intraOpCpus);
  }
  const library = describeRuntime(runtime, options.libraryPath);
  return { ...loaded, options: resolveOptions(options, runtime), library };
}

/**
 * Opens a model from a file path, a file URL or its bytes, in ONNX Runtime or TFLite.
 * The session is created off the JS thread.
 *
 * @throws ModelReadError, ModelFormatError, CorruptModelError, RuntimeLibraryError,
 *   UnsupportedConfigurationError, OptionsError
 */
export async function openModel(source: ModelSource, options: OpenOptions = {}): Promise<Model> {
  const prepared = prepare(await loadSource(source), options);
  let session: NativeSession;
  try {
    session = await native().openSession(prepared.options.runtime, prepared.library.libraryPath, prepared.bytes, toNativeOptions(prepared.options));
  } catch (err) {
    throw withPath(err, prepared.path);
  }
  return new Model(session, prepared);
}

/** {@link openModel} on the calling thread, for scripts. */
export function openModelSync(source: ModelSource, options: OpenOptions = {}): Model {
  const prepared = prepare(loadSourceSync(source), options);
  let session: NativeSession;
  try {
    session = native().openSessionSync(prepared.options.runtime, prepared.library.libraryPath, prepared.bytes, toNativeOptions(prepared.options));
  } catch (err) {
    throw withPath(err, prepared.path);
  }
  return new Model(session, prepared);
}

function toSpec(info: NativeTensorInfo): TensorSpec {
  return {
    name: info.name,
    dtype: info.dtype,
    runtimeType: info.runtimeType,
    shape: info.shape.map((d) => (d < 0 ? null : d)),
    dimNames: info.dimNames.map((n) => (n === '' ? null : n)),
  };
}

function describeData(data: unknown): string {
  if (ArrayBuffer.isView(data)) return `${data.constructor.name}(${(data as TensorData).length})`;
  return data === null ? 'null' : Array.isArray(data) ? 'array' : typeof data;
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
  const names = new Set(inputs.map((i) => i.name));
  for (const key of Object.keys(given)) {
    if (!names.has(key)) {
      throw new FeedError(`${where}: the model has no input named "${key}" (inputs: ${[...names].join(', ')})`, {
        path,
        input: key,
        field: 'unknown',
        expected: [...names].join(', '),
        actual: key,
      });
    }
  }
  return inputs.map((spec) => {
    const value = given[spec.name];
    const fail = (field: FeedError['field'] & string, expected: string, actual: string, text: string): never => {
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
    const candidates = dtypesOf(data);
    const dtype: DType | undefined = typeof feed.dtype === 'string' ? (feed.dtype as DType) : candidates.includes(spec.dtype) ? spec.dtype : candidates[0];
    if (dtype === undefined || !candidates.includes(dtype)) {
      return fail('dtype', spec.dtype, describeData(data), `expected dtype ${spec.dtype}, got ${describeData(data)}`);
    }
    if (dtype !== spec.dtype) return fail('dtype', spec.dtype, dtype, `expected dtype ${spec.dtype}, got ${dtype} (${describeData(data)})`);
    let shape: number[];
    if (feed.shape === undefined) {
      if (spec.shape.some((d) => d === null)) {
        return fail('shape', formatShape(spec.shape), 'no shape', `has dynamic dimensions ${formatShape(spec.shape)}: give { data, shape }`);
      }
      shape = spec.shape as number[];
    } else {
      if (!Array.isArray(feed.shape) || !feed.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        return fail('shape', 'an array of non-negative integers', String(feed.shape), `shape must be an array of non-negative integers, got ${JSON.stringify(feed.shape)}`);
      }
      shape = feed.shape as number[];
    }
    if (shape.length !== spec.shape.length) {
      return fail('rank', formatShape(spec.shape), formatShape(shape), `expected rank ${spec.shape.length} ${formatShape(spec.shape)}, got rank ${shape.length} ${formatShape(shape)}`);
    }
    spec.shape.forEach((d, axis) => {
      if (d !== null && d !== shape[axis]) {
        fail('shape', formatShape(spec.shape), formatShape(shape), `expected shape ${formatShape(spec.shape)}, got ${formatShape(shape)} (axis ${axis}: ${d} vs ${shape[axis]})`);
      }
    });
    const count = elementCount(shape);
    if (data.length !== count) {
      fail('elements', String(count), String(data.length), `shape ${formatShape(shape)} holds ${count} elements but the data has ${data.length}`);
    }
    return { dtype, shape: [...shape], data };
  });
}

function toOutputs(outputs: NativeOutput[]): Outputs {
  const result: Outputs = {};
  for (const out of outputs) result[out.name] = { dtype: out.dtype, shape: out.shape, data: view(out.dtype, out.buffer) };
  return result;
}

/** A model opened in one runtime. Close it when done; a closed model refuses every call. */
export class Model {
  /** The runtime running this model. */
  readonly runtime: RuntimeKind;
  /** The file the model came from, when it came from one. */
  readonly path: string | undefined;
  /** Size of the model in bytes. */
  readonly sizeBytes: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The options in force, defaults filled in. */
  readonly options: Readonly<ResolvedOpenOptions>;
  /** The runtime library this model runs on. */
  readonly library: Readonly<RuntimeLibraryInfo>;
  readonly timings: Readonly<OpenTimings>;
  /** What the runtime library allocated to open this model (null phases when not counted). */
  readonly openMemory: Readonly<OpenMemory>;
  #session: NativeSession;
  /** The bytes, when the model was opened from bytes (kept by reference, for isolated steps). */
  #bytes: Uint8Array | undefined;

  /** @internal use openModel() */
  constructor(session: NativeSession, prepared: Prepared) {
    this.#session = session;
    this.#bytes = prepared.path === undefined ? prepared.bytes : undefined;
    this.runtime = prepared.options.runtime;
    this.path = prepared.path;
    this.sizeBytes = prepared.bytes.byteLength;
    this.options = Object.freeze(prepared.options);
    this.library = Object.freeze(prepared.library);
    this.inputs = Object.freeze(session.inputs().map(toSpec));
    this.outputs = Object.freeze(session.outputs().map(toSpec));
    this.timings = Object.freeze({ readNs: prepared.readNs, createNs: session.createNs() });
    const memory = session.memory();
    this.openMemory = Object.freeze({ load: toPhase(memory.load), creation: toPhase(memory.create) });
  }

  get closed(): boolean {
    return this.#session.isClosed();
  }

  /** The native session, for the measurement modules. @internal */
  nativeSession(): NativeSession {
    this.#assertOpen();
    return this.#session;
  }

  #assertOpen(): void {
    if (this.#session.isClosed()) throw new ClosedModelError(`the model${this.path ? ` ${this.path}` : ''} was closed; open it again to use it`, { path: this.path });
  }

  #where(): string {
    return this.path ?? `${this.runtime} model`;
  }

  /** Checks feeds against the inputs and returns them in input order. @internal */
  checkFeeds(feeds: Feeds): NativeFeed[] {
    return checkFeeds(this.inputs, feeds, this.#where(), this.path);
  }

  /** Runs the model once, off the JS thread. Feeds are copied before the call returns. */
  async run(feeds: Feeds): Promise<Outputs> {
    this.#assertOpen();
    const ordered = this.checkFeeds(feeds);
    try {
      return toOutputs(await this.#session.run(ordered));
    } catch (err) {
      throw withPath(err, this.path);
    }
  }

  /** Runs the model once on the calling thread, for scripts. */
  runSync(feeds: Feeds): Outputs {
    this.#assertOpen();
    const ordered = this.checkFeeds(feeds);
    try {
      return toOutputs(this.#session.runSync(ordered));
    } catch (err) {
      throw withPath(err, this.path);
    }
  }

  /**
   * The runtime library's memory now: its cumulative allocation counters (every session of the
   * same library together), live bytes and high-water mark, with process figures beside them.
   */
  memory(): MemorySnapshot {
    this.#assertOpen();
    const m = this.#session.memory();
    return {
      counted: m.counted,
      notCountedReason: m.counted ? null : m.countingError || 'the counters are not installed',
      runtime: this.runtime,
      libraryPath: this.library.libraryPath,
      counters: toCounters(m.counters),
      process: processMemory(),
      runtimeAllocatorStats: null,
    };
  }

  /** Sets the library's high-water mark to its current live bytes, for custom harnesses. */
  resetPeak(): void {
    this.#assertOpen();
    this.#session.resetPeak();
  }

  /** How a child process opens the same model with the same options. @internal */
  spec(): ModelSpec {
    const options: OpenOptions = { ...this.options, libraryPath: this.library.libraryPath };
    if (options.intraOpCpus?.length === 0) delete options.intraOpCpus;
    return this.path !== undefined ? { path: this.path, options } : { bytes: this.#bytes!, options };
  }

  /** Model, options and library, as every result records them. */
  describe(): ModelDescription {
    return {
      path: this.path ?? null,
      runtime: this.runtime,
      sizeBytes: this.sizeBytes,
      inputs: this.inputs,
      outputs: this.outputs,
      options: this.options,
      library: this.library,
    };
  }

  /**
   * Measures latency natively: a first run, a warm-up, then a steady state whose every
   * inference is timed with nothing but the runtime call between two clock reads, on a thread
   * the addon owns (pinned to `options.cpu` when given). The JS thread stays free.
   */
  benchmark(options: BenchmarkOptions = {}): Promise<LatencyResult> {
    return benchmark(this, options);
  }

  /**
   * Measures throughput: closed loop (N sessions back to back on N threads, per concurrency
   * level), open loop (Poisson arrivals at a rate, latency including queueing), or a search for
   * the highest rate whose p99 stays under a bound.
   */
  throughput<O extends ThroughputOptions>(options: O): Promise<ThroughputResultFor<O>> {
    return throughput(this, options);
  }

  /**
   * Runs the model continuously and judges drift, steps and leaks (see {@link soak}).
   */
  soak(options: SoakOptions): Promise<SoakResult> {
    return soak(this, options);
  }

  /** Releases the runtime session. Idempotent; runs already in flight finish first. */
  close(): void {
    this.#session.close();
  }
}

