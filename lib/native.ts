/**
 * Loads the addon and types its whole surface. The only module that touches it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeLibraryError, nativeErrorClasses } from './errors.js';

export type NativeRuntimeKind = 'onnx' | 'tflite';
export type NativeDType = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export interface NativeTensorInfo {
  name: string;
  dtype: NativeDType | 'unsupported';
  runtimeType: string;
  /** -1 marks a dynamic dimension. */
  shape: number[];
  dimNames: string[];
}

export interface NativeFeed {
  dtype: NativeDType;
  shape: number[];
  data: ArrayBufferView;
}

export interface NativeOutput {
  name: string;
  dtype: NativeDType;
  shape: number[];
  buffer: ArrayBuffer;
}

/** An input of a binding: its dtype and the shape it is bound to. */
export interface NativeBindSpec {
  dtype: NativeDType;
  shape: number[];
}

/** A session's binding (bound_run.h): one call at a time; a closed session refuses its calls. */
export interface NativeBoundRun {
  /** ArrayBuffers over the inputs' memory, in model input order. */
  inputs(): ArrayBuffer[];
  /** As NativeSession.run (the caller queues the wait for short calls); null when the outputs kept their shapes and were written into the buffers the last non-null result gave. */
  run(): Promise<NativeOutput[] | null>;
  runSync(): NativeOutput[] | null;
}

/** Every field is required: the addon has no defaults of its own (model/options.ts has them). */
export interface NativeSessionOptions {
  intraOpThreads: number;
  interOpThreads: number;
  graphOptimizationLevel: number;
  xnnpack: boolean;
  cpuMemArena: boolean;
  memPattern: boolean;
  allowSpinning: boolean;
  intraOpAffinity: string;
  countAllocations: boolean;
  denormalAsZero: boolean;
  /** ONNX Runtime: profile every run into <prefix>_<time>.json; '' for none. */
  profilePrefix: string;
  /** run(): a call made alone runs on the JS thread up to this typical run time; 0 never. */
  jsThreadRunMaxNs: number;
}

export interface NativeSession {
  /** Ends the runtime's profiling (a session opened with profilePrefix) and returns the trace file it wrote. */
  endProfiling(): string;
  inputs(): NativeTensorInfo[];
  outputs(): NativeTensorInfo[];
  /**
   * The caller must have queued settleShortCalls() for this turn (beforeRun in model/calls.ts): a short
   * call waits for it, which decides where it runs. Once 1 ms has passed since the event loop last
   * turned, a call that finishes at once is kept for settleHeldCalls() instead of settled.
   */
  run(feeds: NativeFeed[]): Promise<NativeOutput[]>;
  runSync(feeds: NativeFeed[]): NativeOutput[];
  /** Inputs (in model input order, each checked against the model) in memory kept across calls. */
  bind(specs: NativeBindSpec[]): NativeBoundRun;
  close(): void;
  isClosed(): boolean;
  /** Nanoseconds the runtime took to create the session or interpreter. */
  createNs(): number;
  /** The latency loop over the feed sets (each in model input order). */
  benchmark(feedSets: NativeFeed[][], options: NativeLoopOptions): Promise<NativeLatencySamples>;
  /** Opens the same model again with the same options, as a separate session. */
  clone(): Promise<NativeSession>;
  memory(): NativeSessionMemory;
  resetPeak(): void;
  /** Test hook (MODEL_AUDIT_TEST_HOOKS=1 only): leak this many bytes through the runtime library's counted malloc on every benchmarked run. */
  /** Test hook: `insideRuntime` has the runtime's own allocator leak (ONNX Runtime), else the counting wrapper. */
  setTestLeak(bytesPerRun: number, insideRuntime?: boolean): void;
  /** Test hook (MODEL_AUDIT_TEST_HOOKS=1 only): spin this many nanoseconds after every benchmarked run, inside the timed region. */
  setTestDelay(delayNs: number): void;
  /** For the tests: the session's typical and moving-average run() times, and whether its last call was kept for the JS thread. */
  runTimesForTest(): { typicalNs: number; expectedNs: number; keptForJsThread: boolean };
  /** Turns off (and on) the checks of inputs the runtime would die on, for the abnormal-input step. */
  setInputGuard(on: boolean): void;
  /** Test hook: after `runs` more runs every run fails; a negative count turns it off. */
  setTestFailAfter(runs: number): void;
}

/** The latency loop's settings, every one given (measure/benchmark.ts resolves them). */
export interface NativeLoopOptions {
  warmupIterations: number;
  warmupDurationNs: number;
  warmupUntilStable: boolean;
  warmupBatchSize: number;
  warmupTolerance: number;
  warmupMaxIterations: number;
  warmupMaxDurationNs: number;
  /** 0: no iteration limit. */
  iterations: number;
  /** 0: no time limit. */
  durationNs: number;
  maxSamples: number;
  /** -1: not pinned. */
  cpu: number;
  countSteadyState: boolean;
  memoryIterations: number;
  measureHarness: boolean;
  /** Take the feed sets in a seeded new order each cycle instead of in order. */
  shuffle: boolean;
  shuffleSeed: number;
}

export interface NativeClosedLoopOptions {
  durationNs: number;
  warmupIterations: number;
  maxSamples: number;
  shuffle: boolean;
  /** Stream i shuffles with shuffleSeed + i. */
  shuffleSeed: number;
  /** Per stream; -1 or absent: not pinned. */
  cpus: number[];
}

export interface NativeOpenLoopOptions {
  arrivalsNs: Float64Array;
  graceNs: number;
  warmupIterations: number;
  cpus: number[];
}

export interface NativeLatencySamples {
  samplesNs: Float64Array;
  /** The feed set each sample ran. */
  sets: Uint32Array;
  firstRunNs: number;
  coldSession: boolean;
  warmupIterations: number;
  warmupNs: number;
  warmupStable: boolean;
  steadyWallNs: number;
  hitSampleLimit: boolean;
  cpus: number[];
  cpuChanges: number;
  /** -1 when the kernel does not expose the counter. */
  migrations: number;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
  harnessOverheadNs: number;
  clockResolutionNs: number;
  clockReadCostNs: number;
  clockSmallestStepNs: number;
  pinnedCpu: number;
  pinError: string;
  error: Error | null;
  failedPhase: string;
  memory: {
    counted: boolean;
    firstRun: NativePhaseMemory;
    warmup: NativePhaseMemory;
    steadyStateCounted: boolean;
    steadyState: NativePhaseMemory;
    memoryPass: NativePhaseMemory;
    memoryPassIterations: number;
  };
}

export interface NativeClosedLoopSamples {
  wallNs: number;
  streams: { samplesNs: Float64Array; cpus: number[]; pinError: string; error: Error | null }[];
}

export interface NativeOpenLoopSamples {
  /** -1 for requests never served. */
  latencyNs: Float64Array;
  serviceNs: Float64Array;
  completed: number;
  wallNs: number;
  pinErrors: string[];
  error: Error | null;
}

export interface NativeRuntimeInfo {
  name: string;
  version: string;
  apiVersion: string;
  libraryPath: string;
  /** Whether the library's allocations are being counted now. */
  counted: boolean;
  /** Totals since counting first began for this library (null: never counted). */
  counters: NativeAllocSnapshot | null;
}

/** A runtime library's cumulative allocation counters, as the addon returns them. */
export interface NativeAllocSnapshot {
  allocations: number;
  frees: number;
  allocatedBytes: number;
  freedBytes: number;
  liveBytes: number;
  peakLiveBytes: number;
  mmapCalls: number;
  munmapCalls: number;
  mappedBytes: number;
  unmappedBytes: number;
  peakMappedLiveBytes: number;
  otherThreadAllocations: number;
}

export interface NativePhaseMemory {
  measured: boolean;
  start: NativeAllocSnapshot;
  end: NativeAllocSnapshot;
}

export interface NativeSessionMemory {
  counted: boolean;
  countingError: string;
  counters: NativeAllocSnapshot;
  load: NativePhaseMemory;
  create: NativePhaseMemory;
}

export interface NativeHeapInfo {
  arenaBytes: number;
  inUseBytes: number;
  mmappedBytes: number;
  freeBytes: number;
}

export interface NativeHarnessInfo {
  resolutionNs: number;
  readCostNs: number;
  smallestStepNs: number;
  harnessOverheadNs: number;
}

export interface NativeAddon {
  setErrorClasses(classes: typeof nativeErrorClasses): void;
  openSession(kind: NativeRuntimeKind, libraryPath: string, bytes: Uint8Array, options: NativeSessionOptions): Promise<NativeSession>;
  openSessionSync(kind: NativeRuntimeKind, libraryPath: string, bytes: Uint8Array, options: NativeSessionOptions): NativeSession;
  runtimeInfo(kind: NativeRuntimeKind, libraryPath: string): NativeRuntimeInfo;
  harnessInfo(): NativeHarnessInfo;
  /** Pins every thread of this process to `cpus`; returns "" or why not. */
  pinProcess(cpus: number[]): string;
  /** Sets RLIMIT_AS to the current address-space size plus `extraBytes`. */
  limitAddressSpace(extraBytes: number): { baseBytes: number; limitBytes: number; error: string };
  /** Test hook (MODEL_AUDIT_TEST_HOOKS=1 only): ends the process with SIGSEGV or SIGABRT. */
  crashForTest(kind: 'segv' | 'abort'): void;
  /** glibc's mallinfo2, or null where it is not available. */
  heapInfo(): NativeHeapInfo | null;
  throughputClosed(sessions: NativeSession[], feedSets: NativeFeed[][], options: NativeClosedLoopOptions): Promise<NativeClosedLoopSamples>;
  /** Request i runs feed set i mod feedSets.length. */
  throughputOpen(sessions: NativeSession[], feedSets: NativeFeed[][], options: NativeOpenLoopOptions): Promise<NativeOpenLoopSamples>;
  /**
   * The JS thread's bounded wait (at most 250 µs) for the short run() calls submitted since the
   * last one, after running a short call made alone in this turn itself; settles those that
   * finished, or, once 1 ms has passed since the event loop last turned, keeps them for
   * settleHeldCalls(), to be called from an immediate. Returns how many calls are kept (0: none).
   */
  settleShortCalls(): number;
  /**
   * Test hook: how this environment's pool calls were settled so far. With tuning, turns the
   * hand-offs on and off (take-back, the alarm thread following the JS thread's CPU, a worker
   * stepping off that CPU, a short call made alone run on the JS thread, a pre-woken JS thread
   * waiting again for a call that outlasted its wait, and the pre-wake timed by the session's
   * recent runs rather than its moving average, and by the second shortest of the last eight
   * rather than the typical run, and a session whose calls ran on the JS thread keeping them there
   * up to 1.5 times its bound, its moving average allowed twice its typical run (stayHere): on
   * unless false), slows a worker's wake-up from
   * sleep by workerWakeDelayNs and has a worker hold each call for workerHoldNs after its run (0
   * unless given), and moves the bound on the typical run time up to which a call made alone runs
   * on the JS thread to runHereMaxNs for every session (each session's jsThreadRunMaxNs unless
   * given).
   */
  runPathsForTest(tuning?: {
    prewake: boolean;
    longSpin: boolean;
    takeBack?: boolean;
    alarmFollows?: boolean;
    stepOff?: boolean;
    runHere?: boolean;
    rewait?: boolean;
    prewakeTypical?: boolean;
    prewakeEarly?: boolean;
    stayHere?: boolean;
    workerWakeDelayNs?: number;
    workerHoldNs?: number;
    runHereMaxNs?: number;
  }): {
    ranHere: number;
    waited: number;
    takenBack: number;
    prewoken: number;
    rewaited: number;
    posted: number;
    held: number;
    steppedOff: number;
  };
  /** Settles the calls kept by run() and settleShortCalls(); returns how many. */
  settleHeldCalls(): number;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the addon was loaded from, for diagnostics. */
export let addonPath = '';

/** Candidate addon files in the order they are tried: an explicit path, a prebuild, the local build (first when it is newer). */
function addonCandidates(): string[] {
  const explicit = process.env.MODEL_AUDIT_ADDON;
  if (explicit) return [explicit];
  const candidates: string[] = [];
  const prebuildDir = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
  if (existsSync(prebuildDir)) {
    const files = readdirSync(prebuildDir).filter((f) => f.endsWith('.node'));
    // Node-API prebuilds run on every Node version; prefer them over version-specific ones.
    files.sort((a, b) => Number(b.includes('napi')) - Number(a.includes('napi')) || a.localeCompare(b));
    candidates.push(...files.map((f) => join(prebuildDir, f)));
  }
  // A local build newer than the prebuilds (a checkout where both were made) is the code being
  // worked on: it goes first, so that a stale prebuild never shadows it.
  const local = join(packageRoot, 'build', 'Release', 'model_audit.node');
  const newer = existsSync(local) && candidates.every((c) => statSync(c).mtimeMs < statSync(local).mtimeMs);
  return newer ? [local, ...candidates] : [...candidates, local];
}

function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const candidate of addonCandidates()) {
    if (!existsSync(candidate)) {
      failures.push(`${candidate} (not found)`);
      continue;
    }
    try {
      const addon = require(candidate) as NativeAddon;
      addon.setErrorClasses(nativeErrorClasses);
      addonPath = candidate;
      return addon;
    } catch (err) {
      failures.push(`${candidate} (${(err as Error).message})`);
    }
  }
  throw new RuntimeLibraryError(
    `model-audit: no usable native addon for ${process.platform}-${process.arch}; tried ${failures.join('; ')}. ` +
      `Run "npm run build:native" in ${packageRoot}.`,
  );
}

let cached: NativeAddon | undefined;

/** The addon, loaded on first use. */
export function native(): NativeAddon {
  if (cached === undefined) {
    // Before any runtime library loads: ONNX Runtime's telemetry off unless the user chose. Only
    // here: process.env is read through a getenv() and string conversions, and native() is called
    // on every run().
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    cached = loadAddon();
  }
  return cached;
}
