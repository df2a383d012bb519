/**
 * benchmark(): latency measured natively, on a thread the addon owns, optionally pinned.
 */
import os from 'node:os';
import { measurementFailure } from '../errors.js';
import { sessionOf } from '../model/access.js';
import type { Model, ModelDescription } from '../model/model.js';
import type { NativeLoopOptions } from '../native.js';
import { groupQuantiles, summarize, type LatencySummary } from '../stats/summary.js';
import { environment, readCpuTimes, type Environment } from '../system/environment.js';
import { perInference, processMemory, toPhase, type MemoryPhase, type PerInferenceMemory, type ProcessMemory } from '../system/memory.js';
import { msToNs } from '../units.js';
import { checkBoolean, checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject, rangeError } from '../validate.js';
import { inputDefaults, inputOptionKeys, measurementFeeds, validateInputOptions, type InputDescription, type InputOptions } from '../inputs/feed-sets.js';
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

/** Options of {@link benchmark}. */
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

/** Benchmark options with every default filled in. */
export interface ResolvedBenchmarkOptions {
  inputs: InputOptions;
  warmup: Required<WarmupOptions>;
  /** null: no iteration limit. */
  iterations: number | null;
  /** null: no time limit. */
  durationMs: number | null;
  maxSamples: number;
  cpu: number | null;
  memory: Required<BenchmarkMemoryOptions>;
}

/** The defaults of {@link BenchmarkOptions}, in one place. */
export const benchmarkDefaults = Object.freeze({
  warmup: Object.freeze({ iterations: 10, durationMs: 0, untilStable: false, tolerance: 0.02, maxIterations: 100_000, maxDurationMs: 30_000 }),
  /** The steady state's length when neither iterations nor durationMs is given. */
  durationMs: 1000,
  maxSamples: 1_000_000,
  memory: Object.freeze({ countSteadyState: false, iterations: 100 }),
  /** Median batches the stability check compares. */
  warmupBatchSize: 20,
});

const warmupKeys = Object.keys(benchmarkDefaults.warmup);
const benchmarkKeys = [...inputOptionKeys, 'warmup', 'iterations', 'durationMs', 'maxSamples', 'cpu', 'memory'];

/** Checks benchmark options (unknown keys refused) and fills in every default. */
export function resolveBenchmarkOptions(options: unknown, where = 'options'): ResolvedBenchmarkOptions {
  const o = checkObject(where, options) ?? {};
  checkKnownKeys(where, o, benchmarkKeys);
  const w = checkObject(`${where}.warmup`, o.warmup) ?? {};
  checkKnownKeys(`${where}.warmup`, w, warmupKeys);
  const d = benchmarkDefaults;
  const iterations = checkInteger(`${where}.iterations`, o.iterations, 1) ?? null;
  let durationMs = checkNumber(`${where}.durationMs`, o.durationMs, 0) ?? null;
  if (durationMs === 0) throw rangeError(`${where}.durationMs`, 'a number above 0', 0);
  if (iterations === null && durationMs === null) durationMs = d.durationMs;
  const m = checkObject(`${where}.memory`, o.memory) ?? {};
  checkKnownKeys(`${where}.memory`, m, Object.keys(d.memory));
  return {
    inputs: validateInputOptions(o, where),
    warmup: {
      iterations: checkInteger(`${where}.warmup.iterations`, w.iterations, 0) ?? d.warmup.iterations,
      durationMs: checkNumber(`${where}.warmup.durationMs`, w.durationMs, 0) ?? d.warmup.durationMs,
      untilStable: checkBoolean(`${where}.warmup.untilStable`, w.untilStable) ?? d.warmup.untilStable,
      tolerance: checkNumber(`${where}.warmup.tolerance`, w.tolerance, 0, 1) ?? d.warmup.tolerance,
      maxIterations: checkInteger(`${where}.warmup.maxIterations`, w.maxIterations, 1) ?? d.warmup.maxIterations,
      maxDurationMs: checkNumber(`${where}.warmup.maxDurationMs`, w.maxDurationMs, 0) ?? d.warmup.maxDurationMs,
    },
    iterations,
    durationMs,
    maxSamples: checkInteger(`${where}.maxSamples`, o.maxSamples, 1, 100_000_000) ?? d.maxSamples,
    cpu: checkCpu(`${where}.cpu`, o.cpu) ?? null,
    memory: {
      countSteadyState: checkBoolean(`${where}.memory.countSteadyState`, m.countSteadyState) ?? d.memory.countSteadyState,
      iterations: checkInteger(`${where}.memory.iterations`, m.iterations, 0) ?? d.memory.iterations,
    },
  };
}

/** What the addon's latency loop is told: every field, in its units. */
export function toLoopOptions(o: ResolvedBenchmarkOptions): NativeLoopOptions {
  const shuffle = o.inputs.order === 'shuffle';
  return {
    warmupIterations: o.warmup.iterations,
    warmupDurationNs: msToNs(o.warmup.durationMs),
    warmupUntilStable: o.warmup.untilStable,
    warmupBatchSize: benchmarkDefaults.warmupBatchSize,
    warmupTolerance: o.warmup.tolerance,
    warmupMaxIterations: o.warmup.maxIterations,
    warmupMaxDurationNs: msToNs(o.warmup.maxDurationMs),
    iterations: o.iterations ?? 0,
    durationNs: o.durationMs === null ? 0 : msToNs(o.durationMs),
    maxSamples: o.maxSamples,
    cpu: o.cpu ?? -1,
    countSteadyState: o.memory.countSteadyState,
    memoryIterations: o.memory.iterations,
    measureHarness: true,
    shuffle,
    shuffleSeed: o.inputs.seed ?? inputDefaults.seed,
  };
}

/** Latency per feed set and the slowest sets, when there are several. */
export function setLatencies(samplesNs: Float64Array, sets: Uint32Array, count: number): Pick<LatencyResult, 'sampleSets' | 'perSet' | 'slowestSets'> {
  if (count <= 1) return { sampleSets: null, perSet: null, slowestSets: null };
  const perSet = groupQuantiles(samplesNs, sets, count).map((g) => ({ set: g.group, count: g.count, p50Ns: g.p50Ns, p99Ns: g.p99Ns }));
  const slowestSets = perSet
    .filter((s) => s.count > 0)
    .sort((a, b) => b.p50Ns - a.p50Ns || a.set - b.set)
    .slice(0, 5)
    .map((s) => s.set);
  return { sampleSets: sets, perSet, slowestSets };
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

/** Latency of the inferences that ran one feed set. */
export interface SetLatency {
  set: number;
  count: number;
  p50Ns: number;
  p99Ns: number;
}

export interface LatencyResult {
  kind: 'latency';
  model: ModelDescription;
  inputs: InputDescription;
  phases: LatencyPhases;
  /** Every steady-state inference, in nanoseconds, in the order they ran. */
  samplesNs: Float64Array;
  /** With several feed sets: the set each sample ran (null with one set). */
  sampleSets: Uint32Array | null;
  /** With several feed sets: latency per set, in set order (null with one set). */
  perSet: SetLatency[] | null;
  /** With several feed sets: the slowest sets by median, slowest first (at most 5). */
  slowestSets: number[] | null;
  summary: LatencySummary & { inferencesPerSecond: number };
  quality: MeasurementQuality;
  memory: BenchmarkMemory;
  environment: Environment;
}

/**
 * Measures latency natively: a first run, a warm-up, then a steady state whose every inference is
 * timed with nothing but the runtime call between two clock reads, on a thread the addon owns
 * (pinned to `options.cpu` when given). The JS thread stays free.
 */
export async function benchmark(model: Model, rawOptions: BenchmarkOptions = {}): Promise<LatencyResult> {
  const session = sessionOf(model);
  const options = resolveBenchmarkOptions(rawOptions);
  const { feedSets, description } = measurementFeeds(model, options.inputs, 'options');
  const loadAverage = os.loadavg();
  const processBefore = processMemory();
  const opened = session.memory();
  const notCountedReason = opened.counted ? null : opened.countingError || 'the counters are not installed';
  const cpuTimesBefore = readCpuTimes();
  const raw = await session.benchmark(feedSets, toLoopOptions(options));
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
      warmup: { iterations: raw.warmupIterations, durationNs: raw.warmupNs, stable: options.warmup.untilStable ? raw.warmupStable : null },
      steadyState: { iterations: raw.samplesNs.length, durationNs: raw.steadyWallNs },
    },
    samplesNs: raw.samplesNs,
    ...setLatencies(raw.samplesNs, raw.sets, feedSets.length),
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
      requestedCpu: options.cpu ?? undefined,
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
  if (result.environment.cpu.emulated) {
    result.quality.warnings.push(`This ran under user-mode emulation (${result.environment.cpu.emulated}): the timings are the emulator's, not the CPU's speed.`);
  }
  if (options.warmup.untilStable && raw.warmupStable === false) {
    result.quality.warnings.push(
      `The warm-up stopped at its limit (${raw.warmupIterations} runs) before three batches agreed within ${options.warmup.tolerance * 100} %: the steady state may still hold warm-up effects.`,
    );
  }
  if (raw.error) throw measurementFailure(raw.error, `${model.path ?? model.runtime + ' model'}: benchmark failed during ${raw.failedPhase}`, result);
  return result;
}
