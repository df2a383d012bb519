/**
 * model.benchmark(): latency measured natively, on a thread the addon owns, optionally pinned.
 */
import os from 'node:os';
import { environment, readCpuTimes, type Environment } from '../environment.js';
import { ModelAuditError, RuntimeFailureError } from '../errors.js';
import type { Model, ModelDescription } from '../model.js';
import { summarize, type LatencySummary } from '../stats/summary.js';
import { checkBoolean, checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject, rangeError } from '../validate.js';
import { perInference, processMemory, toPhase, type MemoryPhase, type PerInferenceMemory, type ProcessMemory } from '../memory.js';
import { measurementFeeds, type InputDescription, type InputOptions } from './inputs.js';
import { assessQuality, type MeasurementQuality } from './quality.js';

/** How the model is warmed up before the steady state. */
export interface WarmupOptions {
  /** Run at least this many inferences. @default 10 */
  iterations?: number;
  /** And for at least this long. @default 0 */
  durationMs?: number;
  /** Then go on until the medians of the last three batches of 20 agree within `tolerance`. @default false */
  untilStable?: boolean;
  /** Relative spread allowed between the last three batch medians. @default 0.02 */
  tolerance?: number;
  /** Give up on stability after this many inferences. @default 100000 */
  maxIterations?: number;
  /** Give up on stability after this long. @default 30000 */
  maxDurationMs?: number;
}

/** Options of {@link Model.benchmark}. */
export interface BenchmarkOptions extends InputOptions {
  warmup?: WarmupOptions;
  /** Steady-state inferences. With `durationMs` too, whichever ends first. @default none (1000 ms of steady state) */
  iterations?: number;
  /** Steady-state duration. @default 1000 when `iterations` is not given */
  durationMs?: number;
  /** Upper bound on the samples kept (8 bytes each, allocated before the loop). @default 1000000 */
  maxSamples?: number;
  /** Pin the measuring thread to this CPU (0-based, one this process may use). @default not pinned */
  cpu?: number;
  memory?: BenchmarkMemoryOptions;
}

/** How the runtime library's allocations are counted around a benchmark (when the model counts them). */
export interface BenchmarkMemoryOptions {
  /**
   * Count allocations while the steady state is timed. Counting costs each allocation a few
   * atomic additions, which the timed samples would then include. @default false
   */
  countSteadyState?: boolean;
  /** Untimed, counted inferences after the warm-up that give the per-inference figures. @default 100 */
  iterations?: number;
}

/** What the runtime library allocated in each phase of a benchmark. */
export interface BenchmarkMemory {
  counted: boolean;
  notCountedReason: string | null;
  load: MemoryPhase | null;
  creation: MemoryPhase | null;
  firstRun: MemoryPhase | null;
  warmup: MemoryPhase | null;
  /** The steady state: the counted pass, or the timed loop itself with `countSteadyState`. */
  steadyState: MemoryPhase | null;
  steadyStateIterations: number;
  /** Where the steady-state figures come from. */
  steadyStateSource: 'memory-pass' | 'timed-loop' | null;
  perInference: PerInferenceMemory | null;
  process: { before: ProcessMemory; after: ProcessMemory };
  /** ONNX Runtime's own allocator statistics: not part of the C API version model-audit uses (21). */
  runtimeAllocatorStats: null;
}

export interface LatencyPhases {
  /** Reading the model file. */
  readNs: number;
  /** Creating the session or interpreter. */
  createNs: number;
  /** The first inference of this benchmark. */
  firstRunNs: number;
  /** Whether that was the session's first inference ever (cold) or the session had run before. */
  firstRunColdSession: boolean;
  warmup: { iterations: number; durationNs: number; stable: boolean | null };
  steadyState: { iterations: number; durationNs: number };
}

export interface LatencyResult {
  kind: 'latency';
  model: ModelDescription;
  inputs: InputDescription;
  phases: LatencyPhases;
  /** Every steady-state inference, in nanoseconds, in the order they ran. */
  samplesNs: Float64Array;
  summary: LatencySummary & { inferencesPerSecond: number };
  quality: MeasurementQuality;
  memory: BenchmarkMemory;
  environment: Environment;
}

const warmupKeys = ['iterations', 'durationMs', 'untilStable', 'tolerance', 'maxIterations', 'maxDurationMs'] as const;
const benchmarkKeys = ['feeds', 'seed', 'shapes', 'warmup', 'iterations', 'durationMs', 'maxSamples', 'cpu', 'memory'] as const;

function validate(options: unknown): BenchmarkOptions {
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, benchmarkKeys);
  const w = checkObject('options.warmup', o.warmup);
  if (w) checkKnownKeys('options.warmup', w, warmupKeys);
  const warmup: WarmupOptions = {
    iterations: checkInteger('options.warmup.iterations', w?.iterations, 0),
    durationMs: checkNumber('options.warmup.durationMs', w?.durationMs, 0),
    untilStable: checkBoolean('options.warmup.untilStable', w?.untilStable),
    tolerance: checkNumber('options.warmup.tolerance', w?.tolerance, 0, 1),
    maxIterations: checkInteger('options.warmup.maxIterations', w?.maxIterations, 1),
    maxDurationMs: checkNumber('options.warmup.maxDurationMs', w?.maxDurationMs, 0),
  };
  const result: BenchmarkOptions = {
    warmup,
    iterations: checkInteger('options.iterations', o.iterations, 1),
    durationMs: checkNumber('options.durationMs', o.durationMs, 0),
    maxSamples: checkInteger('options.maxSamples', o.maxSamples, 1, 100_000_000),
    cpu: checkCpu('options.cpu', o.cpu),
  };
  if (result.durationMs === 0) throw rangeError('options.durationMs', 'a number above 0', 0);
  const m = checkObject('options.memory', o.memory);
  if (m) {
    checkKnownKeys('options.memory', m, ['countSteadyState', 'iterations']);
    result.memory = {
      countSteadyState: checkBoolean('options.memory.countSteadyState', m.countSteadyState),
      iterations: checkInteger('options.memory.iterations', m.iterations, 0),
    };
  }
  if (o.feeds !== undefined) result.feeds = o.feeds as BenchmarkOptions['feeds'];
  if (o.seed !== undefined) result.seed = checkInteger('options.seed', o.seed, 0);
  if (o.shapes !== undefined) result.shapes = checkObject('options.shapes', o.shapes) as BenchmarkOptions['shapes'];
  return result;
}

const ms = (value: number | undefined): number | undefined => (value === undefined ? undefined : Math.round(value * 1e6));

export async function benchmark(model: Model, rawOptions: BenchmarkOptions = {}): Promise<LatencyResult> {
  const options = validate(rawOptions);
  const session = model.nativeSession();
  const { feeds, description } = measurementFeeds(model, options, 'options');
  const durationMs = options.iterations === undefined && options.durationMs === undefined ? 1000 : options.durationMs;
  const loadAverage = os.loadavg();
  const processBefore = processMemory();
  const opened = session.memory();
  const notCountedReason = opened.counted ? null : opened.countingError || 'the counters are not installed';
  const cpuTimesBefore = readCpuTimes();
  const raw = await session.benchmark(feeds, {
    warmupIterations: options.warmup?.iterations ?? 10,
    warmupDurationNs: ms(options.warmup?.durationMs) ?? 0,
    warmupUntilStable: options.warmup?.untilStable ?? false,
    warmupTolerance: options.warmup?.tolerance ?? 0.02,
    warmupMaxIterations: options.warmup?.maxIterations ?? 100_000,
    warmupMaxDurationNs: ms(options.warmup?.maxDurationMs) ?? 30_000_000_000,
    iterations: options.iterations ?? 0,
    durationNs: ms(durationMs) ?? 0,
    maxSamples: options.maxSamples ?? 1_000_000,
    cpu: options.cpu ?? -1,
    countSteadyState: options.memory?.countSteadyState ?? false,
    memoryIterations: options.memory?.iterations ?? 100,
  });
  const cpuTimesAfter = readCpuTimes();
  const m = raw.memory;
  const timedCounted = m.steadyStateCounted;
  const steadyState = timedCounted ? toPhase(m.steadyState) : toPhase(m.memoryPass);
  const steadyStateIterations = timedCounted ? raw.samplesNs.length : m.memoryPassIterations;
  const memory: BenchmarkMemory = {
    counted: m.counted,
    notCountedReason,
    load: model.openMemory.load,
    creation: model.openMemory.creation,
    firstRun: toPhase(m.firstRun),
    warmup: toPhase(m.warmup),
    steadyState,
    steadyStateIterations,
    steadyStateSource: steadyState === null ? null : timedCounted ? 'timed-loop' : 'memory-pass',
    perInference: perInference(steadyState, steadyStateIterations),
    process: { before: processBefore, after: processMemory() },
    runtimeAllocatorStats: null,
  };
  const summary = summarize(raw.samplesNs);
  const result: LatencyResult = {
    kind: 'latency',
    model: model.describe(),
    inputs: description,
    phases: {
      readNs: model.timings.readNs,
      createNs: model.timings.createNs,
      firstRunNs: raw.firstRunNs,
      firstRunColdSession: raw.coldSession,
      warmup: { iterations: raw.warmupIterations, durationNs: raw.warmupNs, stable: options.warmup?.untilStable ? raw.warmupStable : null },
      steadyState: { iterations: raw.samplesNs.length, durationNs: raw.steadyWallNs },
    },
    samplesNs: raw.samplesNs,
    summary: { ...summary, inferencesPerSecond: raw.steadyWallNs > 0 ? (raw.samplesNs.length * 1e9) / raw.steadyWallNs : 0 },
    quality: assessQuality({
      model,
      clock: {
        source: 'CLOCK_MONOTONIC_RAW',
        resolutionNs: raw.clockResolutionNs,
        readCostNs: raw.clockReadCostNs,
        smallestStepNs: raw.clockSmallestStepNs,
      },
      harnessOverheadNs: raw.harnessOverheadNs,
      pinnedCpu: raw.pinnedCpu >= 0 ? raw.pinnedCpu : null,
      requestedCpu: options.cpu,
      pinError: raw.pinError,
      cpusUsed: raw.cpus,
      cpuChanges: raw.cpuChanges,
      migrations: raw.migrations,
      voluntaryContextSwitches: raw.voluntaryContextSwitches,
      involuntaryContextSwitches: raw.involuntaryContextSwitches,
      loadAverage,
      cpuTimesBefore,
      cpuTimesAfter,
      summary,
      hitSampleLimit: raw.hitSampleLimit,
      countedWhileTimed: timedCounted ? (memory.perInference?.allocations ?? 0) : null,
    }),
    memory,
    environment: environment([model.library]),
  };
  if (raw.error) {
    const err = raw.error instanceof ModelAuditError ? raw.error : new RuntimeFailureError(String(raw.error.message));
    err.message = `${model.path ?? model.runtime + ' model'}: benchmark failed during ${raw.failedPhase}: ${err.message}`;
    err.partial = result;
    throw err;
  }
  return result;
}
