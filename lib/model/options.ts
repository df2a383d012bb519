/**
 * The options a model is opened with: checked once, defaults filled in once, and turned into what
 * the addon reads (every field given; it has no defaults of its own).
 */
import type { NativeSessionOptions } from '../native.js';
import type { RuntimeKind } from '../system/runtimes.js';
import { checkBoolean, checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject, checkOneOf, checkString, rangeError, typeError } from '../validate.js';

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
   * `intraOpThreads − 1` entries (the thread calling Run is the remaining one). @default [] (not pinned)
   */
  intraOpCpus?: number[];
  /** Count the runtime library's allocations (see {@link Model.memory}). @default true */
  countAllocations?: boolean;
  /**
   * ONNX Runtime: flush denormal floats to zero (`session.set_denormal_as_zero`), in the session's
   * own threads and in the thread that calls Run. Denormals can make a model many times slower;
   * flushing changes results for values below about 1e-38. TFLite's C API has no such switch.
   * @default false
   */
  denormalAsZero?: boolean;
  /**
   * `run()`: a call made alone (nothing else outstanding, no other in its turn of the event loop)
   * runs on the JS thread when the model's typical run takes at most this many milliseconds (the
   * fifth shortest of its last eight) and its moving average within this, 0.25 or twice the
   * typical run, whichever is longest; longer ones go to a worker thread, and the JS thread stays
   * free meanwhile. Once a model's calls run there, they stay while its typical run is within 1.5
   * times this. Raise it for a
   * model of a millisecond or so called once per frame, where the event loop can spare that time:
   * the call then skips the hand-off to a worker whose CPU is idle (120–330 µs on the development
   * VM, bench/README.md). 0: never (a short call is still run there when the process has one
   * CPU, or when no worker has started it 50 µs into the JS thread's wait). Up to 100. README,
   * `Model`, "Threading". @default 0.25
   */
  jsThreadRunMaxMs?: number;
  /** Path of the runtime library to load instead of the packaged one (also: MODEL_AUDIT_ORT_LIBRARY, MODEL_AUDIT_TFLITE_LIBRARY). @default the packaged library */
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
  denormalAsZero: boolean;
  jsThreadRunMaxMs: number;
}

/** The defaults of {@link OpenOptions}, in one place. */
export const openOptionDefaults: Readonly<Omit<ResolvedOpenOptions, 'runtime'>> = Object.freeze({
  intraOpThreads: 0,
  interOpThreads: 0,
  graphOptimizationLevel: 'all',
  xnnpack: false,
  cpuMemArena: true,
  memPattern: true,
  allowSpinning: true,
  intraOpCpus: [],
  countAllocations: true,
  denormalAsZero: false,
  jsThreadRunMaxMs: 0.25,
});

/** The longest jsThreadRunMaxMs: a run that holds the event loop for 100 ms is no longer a trade. */
const maxJsThreadRunMs = 100;

const openOptionKeys = ['runtime', 'libraryPath', ...Object.keys(openOptionDefaults)] as const;

/** Checks open options; `where` is the option path errors name (`options`, `config.open`). */
export function validateOpenOptions(options: unknown, where = 'options'): OpenOptions {
  const o = checkObject(where, options) ?? {};
  checkKnownKeys(where, o, openOptionKeys);
  const runtime = checkOneOf(`${where}.runtime`, o.runtime, ['onnx', 'tflite'] as const);
  const intraOpThreads = checkInteger(`${where}.intraOpThreads`, o.intraOpThreads, 0, 1024);
  const result: OpenOptions = {
    runtime,
    intraOpThreads,
    interOpThreads: checkInteger(`${where}.interOpThreads`, o.interOpThreads, 0, 1024),
    graphOptimizationLevel: checkOneOf(`${where}.graphOptimizationLevel`, o.graphOptimizationLevel, ['disabled', 'basic', 'extended', 'all'] as const),
    xnnpack: checkBoolean(`${where}.xnnpack`, o.xnnpack),
    cpuMemArena: checkBoolean(`${where}.cpuMemArena`, o.cpuMemArena),
    memPattern: checkBoolean(`${where}.memPattern`, o.memPattern),
    allowSpinning: checkBoolean(`${where}.allowSpinning`, o.allowSpinning),
    countAllocations: checkBoolean(`${where}.countAllocations`, o.countAllocations),
    denormalAsZero: checkBoolean(`${where}.denormalAsZero`, o.denormalAsZero),
    jsThreadRunMaxMs: checkNumber(`${where}.jsThreadRunMaxMs`, o.jsThreadRunMaxMs, 0, maxJsThreadRunMs),
    libraryPath: checkString(`${where}.libraryPath`, o.libraryPath),
  };
  if (o.intraOpCpus !== undefined) {
    if (!Array.isArray(o.intraOpCpus)) throw typeError(`${where}.intraOpCpus`, 'an array of CPU indices', o.intraOpCpus);
    const cpus = o.intraOpCpus.map((cpu, i) => checkCpu(`${where}.intraOpCpus[${i}]`, cpu)!);
    if (runtime === 'tflite') throw rangeError(`${where}.intraOpCpus`, 'no value for a TFLite model (ONNX Runtime only)', o.intraOpCpus);
    if (intraOpThreads === undefined || cpus.length !== intraOpThreads - 1) {
      throw rangeError(`${where}.intraOpCpus`, `intraOpThreads − 1 = ${(intraOpThreads ?? 0) - 1} CPUs (one per worker thread)`, o.intraOpCpus);
    }
    result.intraOpCpus = cpus;
  }
  for (const key of Object.keys(result) as (keyof OpenOptions)[]) if (result[key] === undefined) delete result[key];
  return result;
}

/**
 * The options that can change what an audit measures or a run computes: all but jsThreadRunMaxMs,
 * which only decides which thread `run()` uses. Reports are compared, and histories keyed, by
 * these, so a report from before that option existed still matches.
 */
export function measuredOptions(options: Readonly<ResolvedOpenOptions>): Omit<ResolvedOpenOptions, 'jsThreadRunMaxMs'> {
  const { jsThreadRunMaxMs: _thread, ...measured } = options;
  return measured;
}

/** Fills in every default. */
export function resolveOpenOptions(options: OpenOptions, runtime: RuntimeKind): ResolvedOpenOptions {
  const { libraryPath: _libraryPath, runtime: _runtime, ...given } = options;
  return { ...openOptionDefaults, ...given, runtime, intraOpCpus: [...(given.intraOpCpus ?? openOptionDefaults.intraOpCpus)] };
}

export function toNativeOptions(options: ResolvedOpenOptions): NativeSessionOptions {
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
    denormalAsZero: options.denormalAsZero,
    profilePrefix: '',
    jsThreadRunMaxNs: Math.round(options.jsThreadRunMaxMs * 1e6),
  };
}

/** How another process opens the same model with the same options: its file, or its bytes. */
export type ModelSpec = { path: string; options: OpenOptions } | { bytes: Uint8Array; options: OpenOptions };
