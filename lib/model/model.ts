/**
 * openModel() and Model: a model opened in one runtime, described, run, its memory read, closed.
 * Measurements are functions that take a Model (measure/, check/); Model knows none of them.
 */
import { createHash } from 'node:crypto';
import { native, type NativeSession, type NativeTensorInfo } from '../native.js';
import { processMemory, toCounters, toPhase, type MemoryPhase, type MemorySnapshot } from '../system/memory.js';
import { describeRuntime, type RuntimeKind, type RuntimeLibraryInfo } from '../system/runtimes.js';
import type { Feeds, TensorSpec } from '../tensor/tensor.js';
import { attachHandle, sessionOf } from './access.js';
import { BoundRun, OwnBinding, bindSpecs } from './bound.js';
import { beforeRun, toOutputs, withPath, type Outputs } from './calls.js';
import { chooseRuntime } from './detect.js';
import { checkFeeds } from './feeds.js';
import { resolveOpenOptions, toNativeOptions, validateOpenOptions, type ModelSpec, type OpenOptions, type ResolvedOpenOptions } from './options.js';
import { loadSource, loadSourceSync, type LoadedSource, type ModelSource } from './source.js';
import { rangeError } from '../validate.js';

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

/** The model a result was measured on: every result carries one, the same shape everywhere. */
export interface ModelDescription {
  path: string | null;
  runtime: RuntimeKind;
  sizeBytes: number;
  /** sha256 of the model's bytes, hex: the same model whatever its file is called. */
  sha256: string;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
  options: Readonly<ResolvedOpenOptions>;
  library: Readonly<RuntimeLibraryInfo>;
}

interface Prepared extends LoadedSource {
  options: ResolvedOpenOptions;
  libraryPath: string | undefined;
  library: RuntimeLibraryInfo;
}

function prepare(loaded: LoadedSource, rawOptions: unknown): Prepared {
  const options = validateOpenOptions(rawOptions);
  const runtime = chooseRuntime(loaded.bytes, loaded.path, options.runtime);
  if (runtime === 'tflite' && options.intraOpCpus !== undefined) {
    throw rangeError('options.intraOpCpus', 'no value for a TFLite model (ONNX Runtime only)', options.intraOpCpus);
  }
  const library = describeRuntime(runtime, options.libraryPath);
  return { ...loaded, options: resolveOpenOptions(options, runtime), libraryPath: options.libraryPath, library };
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

/**
 * Another native session of a model, with the runtime's profiler writing to `<profilePrefix>_*.json`
 * (ONNX Runtime): for profile(), which must never time the model it profiles. Not public.
 */
export async function openProfiledSession(spec: ModelSpec, profilePrefix: string): Promise<NativeSession> {
  const prepared = prepare(await loadSource('path' in spec ? spec.path : spec.bytes), spec.options);
  return native().openSession(prepared.options.runtime, prepared.library.libraryPath, prepared.bytes, { ...toNativeOptions(prepared.options), profilePrefix });
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

/** A model opened in one runtime. Close it when done; a closed model refuses every call. */
export class Model {
  /** The runtime running this model. */
  readonly runtime: RuntimeKind;
  /** The file the model came from, when it came from one. */
  readonly path: string | undefined;
  /** Size of the model in bytes. */
  readonly sizeBytes: number;
  /** sha256 of the model's bytes, hex. */
  readonly sha256: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The options in force, defaults filled in. */
  readonly options: Readonly<ResolvedOpenOptions>;
  /** The runtime library this model runs on. */
  readonly library: Readonly<RuntimeLibraryInfo>;
  readonly timings: Readonly<OpenTimings>;
  /** What the runtime library allocated to open this model (null phases when not counted). */
  readonly openMemory: Readonly<OpenMemory>;
  readonly #session: NativeSession;
  readonly #own: OwnBinding;
  /** Where errors say this model is: its file, or its runtime (a field: a private getter is a runtime call on every run()). */
  readonly #where: string;

  /** @internal use openModel() */
  constructor(session: NativeSession, prepared: Prepared) {
    this.#session = session;
    this.#own = new OwnBinding(session, prepared.path);
    this.runtime = prepared.options.runtime;
    this.path = prepared.path;
    this.#where = prepared.path ?? `${this.runtime} model`;
    this.sizeBytes = prepared.bytes.byteLength;
    this.sha256 = createHash('sha256').update(prepared.bytes).digest('hex');
    this.options = Object.freeze(prepared.options);
    this.library = Object.freeze(prepared.library);
    this.inputs = Object.freeze(session.inputs().map(toSpec));
    this.outputs = Object.freeze(session.outputs().map(toSpec));
    this.timings = Object.freeze({ readNs: prepared.readNs, createNs: session.createNs() });
    const memory = session.memory();
    this.openMemory = Object.freeze({ load: toPhase(memory.load), creation: toPhase(memory.create) });
    attachHandle(this, {
      session,
      path: prepared.path,
      bytes: prepared.path === undefined ? prepared.bytes : undefined,
      options: { ...prepared.options, libraryPath: prepared.library.libraryPath },
    });
  }

  get closed(): boolean {
    return this.#session.isClosed();
  }

  /**
   * Runs the model once, off the JS thread, except a run that typically takes at most 250 µs made
   * alone, which the JS thread would otherwise wait for (README, `Model`, "Threading"). Feeds are
   * copied before the call returns. A call made while no other is in flight goes through the
   * model's own binding when it can (OwnBinding); what it returns is the same either way.
   */
  run(feeds: Feeds): Promise<Outputs> {
    // Not an async function: the outputs are made in the one reaction to the addon's promise, and
    // the caller's await follows it directly, not through the promises of two async functions
    // awaiting one another (one microtask less). What throws is still a rejection.
    let session: NativeSession;
    let ordered: ReturnType<typeof checkFeeds>;
    try {
      session = sessionOf(this);
      ordered = checkFeeds(this.inputs, feeds, this.#where, this.path);
    } catch (err) {
      return Promise.reject(err);
    }
    try {
      beforeRun();
      return this.#own.take(ordered) ? this.#own.run() : session.run(ordered).then(toOutputs, this.#failed);
    } catch (err) {
      return Promise.reject(withPath(err, this.path));
    }
  }

  /** A plain run()'s rejection, with the file added (a field: made once, not per call). */
  readonly #failed = (err: unknown): never => {
    throw withPath(err, this.path);
  };

  /**
   * Binds the model to inputs and outputs that live across calls: for a loop that runs it many
   * times on one shape. Write each call's input into the binding's `inputs` and call its run() or
   * runSync(); no feeds are read and no output objects made per call. `shapes` gives the shape of
   * each input with dynamic dimensions (static ones may be given too).
   *
   * @throws FeedError (an unknown input, a dynamic input without a shape, a shape that does not fit), OptionsError
   */
  bind(shapes?: Record<string, readonly number[]>): BoundRun {
    const session = sessionOf(this);
    const specs = bindSpecs(this.inputs, shapes, this.#where, this.path);
    try {
      return new BoundRun(session.bind(specs), this.inputs, specs, this.path);
    } catch (err) {
      throw withPath(err, this.path);
    }
  }

  /** Runs the model once on the calling thread, for scripts. */
  runSync(feeds: Feeds): Outputs {
    const session = sessionOf(this);
    const ordered = checkFeeds(this.inputs, feeds, this.#where, this.path);
    try {
      return this.#own.take(ordered) ? this.#own.runSync() : toOutputs(session.runSync(ordered));
    } catch (err) {
      throw withPath(err, this.path);
    }
  }

  /**
   * The runtime library's memory now: its cumulative allocation counters (every session of the
   * same library together), live bytes and high-water mark, with process figures beside them.
   */
  memory(): MemorySnapshot {
    const m = sessionOf(this).memory();
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
    sessionOf(this).resetPeak();
  }

  /** Model, options and library, as every result records them. */
  describe(): ModelDescription {
    return {
      path: this.path ?? null,
      runtime: this.runtime,
      sizeBytes: this.sizeBytes,
      sha256: this.sha256,
      inputs: this.inputs,
      outputs: this.outputs,
      options: this.options,
      library: this.library,
    };
  }

  /** Releases the runtime session. Idempotent; runs already in flight finish first. */
  close(): void {
    this.#session.close();
  }
}
