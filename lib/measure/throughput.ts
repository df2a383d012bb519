/**
 * throughput(): several sessions at once, closed loop or open loop, and the search for the
 * highest arrival rate whose p99 stays under a bound.
 */
import { measurementFailure } from '../errors.js';
import { sessionOf } from '../model/access.js';
import type { Model, ModelDescription } from '../model/model.js';
import { native, type NativeFeed, type NativeSession } from '../native.js';
import { summarize, type LatencySummary } from '../stats/summary.js';
import { allowedCpus, environment, type Environment } from '../system/environment.js';
import { SeededRandom } from '../tensor/tensor.js';
import { msToNs } from '../units.js';
import { checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject, checkOneOf, rangeError, typeError } from '../validate.js';
import { inputDefaults, inputOptionKeys, measurementFeeds, validateInputOptions, type InputDescription, type InputOptions } from '../inputs/feed-sets.js';

interface CommonThroughputOptions extends InputOptions {
  /** Pin stream i to cpus[i % cpus.length]. @default not pinned */
  cpus?: number[];
  /** Inferences each stream runs before the measured period. */
  warmup?: { /** @default 10 */ iterations?: number };
}

/** N sessions on N threads, each running back to back, for each concurrency level. */
export interface ClosedLoopOptions extends CommonThroughputOptions {
  mode?: 'closed';
  /** Concurrency levels to measure: how many sessions run at once. @default [1, 2, …, CPUs this process may use] */
  concurrency?: number[];
  /** Measured period per level. @default 1000 */
  durationMs?: number;
}

/** Requests arriving as a Poisson process at a fixed rate; latency counts from the arrival, so queueing is included. */
export interface OpenLoopOptions extends CommonThroughputOptions {
  mode: 'open';
  ratePerSecond: number;
  /** Sessions serving the requests, one thread each. @default 1 */
  concurrency?: number;
  /** Length of the arrival schedule. @default 2000 */
  durationMs?: number;
  /** Seed of the arrival schedule. @default 1 */
  arrivalSeed?: number;
}

/** The highest arrival rate whose p99 latency (queueing included) stays under a bound. */
export interface RateSearchOptions extends CommonThroughputOptions {
  mode: 'search';
  p99BoundMs: number;
  /** Sessions serving the requests, one thread each. @default 1 */
  concurrency?: number;
  /** Length of each trial's arrival schedule. @default 1000 */
  trialDurationMs?: number;
  /** Trials after the capacity estimate. @default 8 */
  trials?: number;
  /** @default 1 */
  arrivalSeed?: number;
}

export type ThroughputOptions = ClosedLoopOptions | OpenLoopOptions | RateSearchOptions;

/** The defaults of {@link ThroughputOptions}, in one place. */
export const throughputDefaults = Object.freeze({
  warmupIterations: 10,
  closed: Object.freeze({ durationMs: 1000 }),
  open: Object.freeze({ concurrency: 1, durationMs: 2000, arrivalSeed: 1 }),
  search: Object.freeze({ concurrency: 1, trialDurationMs: 1000, trials: 8, arrivalSeed: 1 }),
  /** Samples each stream keeps (8 bytes each, allocated before the loop). */
  maxSamplesPerStream: 2_000_000,
  /** How long after the schedule's end a request may still start. */
  graceMs: 1000,
});

export interface StreamResult {
  inferences: number;
  /** Latency of this stream's inferences. */
  latency: LatencySummary;
  cpus: number[];
}

export interface ConcurrencyLevelResult {
  concurrency: number;
  inferencesPerSecond: number;
  wallNs: number;
  /** All streams' inferences together. */
  latency: LatencySummary;
  streams: StreamResult[];
}

export interface ClosedLoopResult {
  kind: 'throughput-closed';
  model: ModelDescription;
  inputs: InputDescription;
  levels: ConcurrencyLevelResult[];
  warnings: string[];
  environment: Environment;
}

export interface OpenLoopResult {
  kind: 'throughput-open';
  model: ModelDescription;
  inputs: InputDescription;
  /** Sessions that served the requests. */
  concurrency: number;
  offeredRatePerSecond: number;
  /** Completed requests per second of wall time. */
  achievedRatePerSecond: number;
  requests: number;
  completed: number;
  /** Requests not started by the end of the schedule plus a grace period. */
  abandoned: number;
  /** Arrival to completion, queueing included. */
  latency: LatencySummary;
  /** The runtime call alone. */
  service: LatencySummary;
  /** Per request, in arrival order; -1 for abandoned ones. */
  latencyNs: Float64Array;
  serviceNs: Float64Array;
  warnings: string[];
  environment: Environment;
}

export interface RateSearchTrial {
  ratePerSecond: number;
  p99Ns: number;
  abandoned: number;
  passed: boolean;
}

export interface RateSearchResult {
  kind: 'throughput-search';
  model: ModelDescription;
  inputs: InputDescription;
  /** Sessions that served the requests. */
  concurrency: number;
  p99BoundNs: number;
  /** Closed-loop capacity of the workers, the search's upper end. */
  capacityPerSecond: number;
  /** The highest rate that passed, or null when even the lowest tried failed. */
  maxRatePerSecond: number | null;
  trials: RateSearchTrial[];
  warnings: string[];
  environment: Environment;
}

export type ThroughputResultFor<O> = O extends { mode: 'open' }
  ? OpenLoopResult
  : O extends { mode: 'search' }
    ? RateSearchResult
    : ClosedLoopResult;

const commonKeys = [...inputOptionKeys, 'cpus', 'warmup', 'mode'];

interface ResolvedCommon {
  inputs: InputOptions;
  cpus: number[] | null;
  warmupIterations: number;
}

function resolveCommon(o: Record<string, unknown>, where: string, keys: string[]): ResolvedCommon {
  checkKnownKeys(where, o, [...commonKeys, ...keys]);
  let cpus: number[] | null = null;
  if (o.cpus !== undefined) {
    if (!Array.isArray(o.cpus) || o.cpus.length === 0) throw typeError(`${where}.cpus`, 'a non-empty array of CPU indices', o.cpus);
    cpus = o.cpus.map((cpu, i) => checkCpu(`${where}.cpus[${i}]`, cpu)!);
  }
  const warmup = checkObject(`${where}.warmup`, o.warmup) ?? {};
  checkKnownKeys(`${where}.warmup`, warmup, ['iterations']);
  return {
    inputs: validateInputOptions(o, where),
    cpus,
    warmupIterations: checkInteger(`${where}.warmup.iterations`, warmup.iterations, 0) ?? throughputDefaults.warmupIterations,
  };
}

/** Sessions for the streams: the model's own first, then copies opened from the same bytes. */
class SessionPool {
  readonly sessions: NativeSession[];
  private readonly extra: NativeSession[] = [];

  constructor(model: Model) {
    this.sessions = [sessionOf(model)];
  }

  async take(count: number): Promise<NativeSession[]> {
    while (this.sessions.length < count) {
      const copy = await this.sessions[0]!.clone();
      this.extra.push(copy);
      this.sessions.push(copy);
    }
    return this.sessions.slice(0, count);
  }

  close(): void {
    for (const s of this.extra) s.close();
  }
}

function cpusFor(cpus: number[] | null, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (cpus === null ? -1 : cpus[i % cpus.length]!));
}

function failure(model: Model, err: Error, what: string, partial: unknown): Error {
  return measurementFailure(err, `${model.path ?? `${model.runtime} model`}: ${what} failed`, partial);
}

async function closedLoop(model: Model, o: Record<string, unknown>, where: string): Promise<ClosedLoopResult> {
  const common = resolveCommon(o, where, ['concurrency', 'durationMs']);
  const { cpus, warmupIterations } = common;
  const durationMs = checkNumber(`${where}.durationMs`, o.durationMs, 1) ?? throughputDefaults.closed.durationMs;
  let concurrency: number[];
  if (o.concurrency === undefined) {
    concurrency = Array.from({ length: cpus?.length ?? allowedCpus().length }, (_, i) => i + 1);
  } else {
    if (!Array.isArray(o.concurrency) || o.concurrency.length === 0) throw typeError(`${where}.concurrency`, 'a non-empty array of integers', o.concurrency);
    concurrency = o.concurrency.map((c, i) => checkInteger(`${where}.concurrency[${i}]`, c, 1, 1024)!);
  }
  const { feedSets: feeds, description } = measurementFeeds(model, common.inputs, where);
  const pool = new SessionPool(model);
  const levels: ConcurrencyLevelResult[] = [];
  const warnings: string[] = [];
  const result = (): ClosedLoopResult => ({
    kind: 'throughput-closed',
    model: model.describe(),
    inputs: description,
    levels,
    warnings,
    environment: environment([model.library]),
  });
  try {
    for (const level of concurrency) {
      const sessions = await pool.take(level);
      const raw = await nativeClosed(sessions, feeds, durationMs, warmupIterations, cpusFor(cpus, level), common.inputs);
      const failed = raw.streams.find((s) => s.error !== null);
      const streams = raw.streams.map((s) => ({ inferences: s.samplesNs.length, latency: summarize(s.samplesNs), cpus: s.cpus }));
      const all = new Float64Array(raw.streams.reduce((n, s) => n + s.samplesNs.length, 0));
      let offset = 0;
      for (const s of raw.streams) {
        all.set(s.samplesNs, offset);
        offset += s.samplesNs.length;
      }
      for (const s of raw.streams) if (s.pinError) warnings.push(`concurrency ${level}: ${s.pinError}`);
      levels.push({ concurrency: level, inferencesPerSecond: raw.wallNs > 0 ? (all.length * 1e9) / raw.wallNs : 0, wallNs: raw.wallNs, latency: summarize(all), streams });
      if (failed?.error) throw failure(model, failed.error, `throughput at concurrency ${level}`, result());
    }
  } finally {
    pool.close();
  }
  const cpuCount = allowedCpus().length;
  // 0 threads is the runtime's default: ONNX Runtime then runs one thread per physical core.
  const threadsPerStream = model.options.intraOpThreads > 0 ? model.options.intraOpThreads : model.runtime === 'onnx' ? environment().cpu.physicalCores : 1;
  if (concurrency.some((c) => c * threadsPerStream > cpuCount)) {
    warnings.push(
      `Some levels run more threads than the ${cpuCount} CPUs this process may use (${threadsPerStream} per stream${model.options.intraOpThreads === 0 ? ", the runtime's default" : ''}): streams share CPUs${model.runtime === 'onnx' && model.options.allowSpinning ? ', and spinning ONNX Runtime workers take CPU from the other streams' : ''}. Open the model with intraOpThreads: 1 to measure scaling across streams.`,
    );
  }
  return result();
}

function nativeClosed(sessions: NativeSession[], feeds: NativeFeed[][], durationMs: number, warmupIterations: number, cpus: number[], inputs: InputOptions) {
  return native().throughputClosed(sessions, feeds, {
    durationNs: msToNs(durationMs),
    warmupIterations,
    maxSamples: throughputDefaults.maxSamplesPerStream,
    cpus,
    shuffle: inputs.order === 'shuffle',
    shuffleSeed: inputs.seed ?? inputDefaults.seed,
  });
}

/** Poisson arrivals: exponential gaps with mean 1/rate, from a seed. */
export function poissonArrivalsNs(ratePerSecond: number, durationNs: number, seed: number): Float64Array {
  const random = new SeededRandom(seed);
  const times: number[] = [];
  let t = 0;
  const meanGapNs = 1e9 / ratePerSecond;
  while (true) {
    t += -Math.log(1 - random.nextFloat()) * meanGapNs;
    if (t >= durationNs) break;
    times.push(Math.round(t));
  }
  return Float64Array.from(times);
}

function runOpen(sessions: NativeSession[], feeds: NativeFeed[][], arrivalsNs: Float64Array, warmupIterations: number, cpus: number[]) {
  return native().throughputOpen(sessions, feeds, { arrivalsNs, graceNs: msToNs(throughputDefaults.graceMs), warmupIterations, cpus });
}

function served(values: Float64Array): Float64Array {
  return values.filter((v) => v >= 0);
}

async function openLoop(model: Model, o: Record<string, unknown>, where: string): Promise<OpenLoopResult> {
  const common = resolveCommon(o, where, ['ratePerSecond', 'concurrency', 'durationMs', 'arrivalSeed']);
  const { cpus, warmupIterations } = common;
  const d = throughputDefaults.open;
  const rate = checkNumber(`${where}.ratePerSecond`, o.ratePerSecond, Number.MIN_VALUE);
  if (rate === undefined) throw typeError(`${where}.ratePerSecond`, 'a number above 0', o.ratePerSecond);
  const workers = checkInteger(`${where}.concurrency`, o.concurrency, 1, 1024) ?? d.concurrency;
  const durationMs = checkNumber(`${where}.durationMs`, o.durationMs, 1) ?? d.durationMs;
  const arrivalSeed = checkInteger(`${where}.arrivalSeed`, o.arrivalSeed, 0) ?? d.arrivalSeed;
  const { feedSets: feeds, description } = measurementFeeds(model, common.inputs, where);
  const arrivals = poissonArrivalsNs(rate, msToNs(durationMs), arrivalSeed);
  if (arrivals.length === 0) throw rangeError(`${where}.ratePerSecond`, `a rate that schedules at least one request in ${durationMs} ms`, rate);
  const pool = new SessionPool(model);
  try {
    const sessions = await pool.take(workers);
    const raw = await runOpen(sessions, feeds, arrivals, warmupIterations, cpusFor(cpus, workers));
    const latencyServed = served(raw.latencyNs);
    const result: OpenLoopResult = {
      kind: 'throughput-open',
      model: model.describe(),
      inputs: description,
      concurrency: workers,
      offeredRatePerSecond: rate,
      achievedRatePerSecond: raw.wallNs > 0 ? (raw.completed * 1e9) / raw.wallNs : 0,
      requests: arrivals.length,
      completed: raw.completed,
      abandoned: arrivals.length - raw.completed,
      latency: summarize(latencyServed),
      service: summarize(served(raw.serviceNs)),
      latencyNs: raw.latencyNs,
      serviceNs: raw.serviceNs,
      warnings: raw.pinErrors.filter((e) => e !== ''),
      environment: environment([model.library]),
    };
    if (result.abandoned > 0) {
      result.warnings.push(`${result.abandoned} of ${result.requests} requests were never served: the offered rate exceeds what ${workers} worker(s) can serve.`);
    }
    if (raw.error) throw failure(model, raw.error, 'open-loop throughput', result);
    return result;
  } finally {
    pool.close();
  }
}

async function rateSearch(model: Model, o: Record<string, unknown>, where: string): Promise<RateSearchResult> {
  const common = resolveCommon(o, where, ['p99BoundMs', 'concurrency', 'trialDurationMs', 'trials', 'arrivalSeed']);
  const { cpus, warmupIterations } = common;
  const d = throughputDefaults.search;
  const bound = checkNumber(`${where}.p99BoundMs`, o.p99BoundMs, Number.MIN_VALUE);
  if (bound === undefined) throw typeError(`${where}.p99BoundMs`, 'a number above 0', o.p99BoundMs);
  const workers = checkInteger(`${where}.concurrency`, o.concurrency, 1, 1024) ?? d.concurrency;
  const trialDurationMs = checkNumber(`${where}.trialDurationMs`, o.trialDurationMs, 1) ?? d.trialDurationMs;
  const trialCount = checkInteger(`${where}.trials`, o.trials, 1, 100) ?? d.trials;
  const arrivalSeed = checkInteger(`${where}.arrivalSeed`, o.arrivalSeed, 0) ?? d.arrivalSeed;
  const { feedSets: feeds, description } = measurementFeeds(model, common.inputs, where);
  const boundNs = msToNs(bound);
  const pool = new SessionPool(model);
  const trials: RateSearchTrial[] = [];
  const warnings: string[] = [];
  try {
    const sessions = await pool.take(workers);
    const capacityRaw = await nativeClosed(sessions, feeds, Math.max(100, trialDurationMs / 2), warmupIterations, cpusFor(cpus, workers), common.inputs);
    const failedCapacity = capacityRaw.streams.find((s) => s.error !== null);
    if (failedCapacity?.error) throw failure(model, failedCapacity.error, 'capacity estimate', undefined);
    const capacity = (capacityRaw.streams.reduce((n, s) => n + s.samplesNs.length, 0) * 1e9) / capacityRaw.wallNs;
    const trial = async (rate: number): Promise<RateSearchTrial> => {
      const arrivals = poissonArrivalsNs(rate, msToNs(trialDurationMs), arrivalSeed + trials.length);
      if (arrivals.length === 0) return { ratePerSecond: rate, p99Ns: 0, abandoned: 0, passed: true };
      const raw = await runOpen(sessions, feeds, arrivals, 0, cpusFor(cpus, workers));
      if (raw.error) throw failure(model, raw.error, 'rate search', undefined);
      const abandoned = arrivals.length - raw.completed;
      const p99Ns = summarize(served(raw.latencyNs)).p99Ns;
      const t = { ratePerSecond: rate, p99Ns, abandoned, passed: abandoned === 0 && p99Ns <= boundNs };
      trials.push(t);
      return t;
    };
    // Bisection on the rate between a low rate and the closed-loop capacity.
    let low = capacity * 0.05;
    let high = capacity;
    let best: number | null = null;
    const first = await trial(low);
    if (first.passed) {
      best = low;
      for (let i = 1; i < trialCount; i++) {
        const mid = (low + high) / 2;
        if ((await trial(mid)).passed) {
          best = mid;
          low = mid;
        } else {
          high = mid;
        }
      }
    } else {
      warnings.push(`Even ${low.toFixed(1)} requests/s (5 % of capacity) misses the p99 bound: one inference alone may take longer than ${bound} ms.`);
    }
    return {
      kind: 'throughput-search',
      model: model.describe(),
      inputs: description,
      concurrency: workers,
      p99BoundNs: boundNs,
      capacityPerSecond: capacity,
      maxRatePerSecond: best,
      trials,
      warnings,
      environment: environment([model.library]),
    };
  } finally {
    pool.close();
  }
}

/**
 * Measures throughput: closed loop (N sessions back to back on N threads, per concurrency level),
 * open loop (Poisson arrivals at a rate, latency including queueing), or a search for the highest
 * rate whose p99 stays under a bound.
 */
export async function throughput<O extends ThroughputOptions>(model: Model, options: O, where = 'options'): Promise<ThroughputResultFor<O>> {
  sessionOf(model);
  const o = checkObject(where, options) ?? {};
  const mode = checkOneOf(`${where}.mode`, o.mode, ['closed', 'open', 'search'] as const) ?? 'closed';
  if (mode === 'open') return (await openLoop(model, o, where)) as ThroughputResultFor<O>;
  if (mode === 'search') return (await rateSearch(model, o, where)) as ThroughputResultFor<O>;
  return (await closedLoop(model, o, where)) as ThroughputResultFor<O>;
}
