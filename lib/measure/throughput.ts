/**
 * model.throughput(): several sessions at once, closed loop or open loop, and the search for the
 * highest arrival rate whose p99 stays under a bound.
 */
import { allowedCpus, environment, type Environment } from '../environment.js';
import { ModelAuditError, RuntimeFailureError } from '../errors.js';
import type { Model, ModelDescription } from '../model.js';
import { native, type NativeFeed, type NativeSession } from '../native.js';
import { summarize, type LatencySummary } from '../stats/summary.js';
import { SeededRandom } from '../tensor.js';
import { checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject, checkOneOf, rangeError, typeError } from '../validate.js';
import { measurementFeeds, type InputDescription, type InputOptions } from './inputs.js';

interface CommonThroughputOptions extends InputOptions {
  /** Pin stream/worker i to cpus[i % cpus.length]. @default not pinned */
  cpus?: number[];
  /** Inferences each stream runs before the measured period. @default 10 */
  warmupIterations?: number;
}

/** N sessions on N threads, each running back to back, for each concurrency level. */
export interface ClosedLoopOptions extends CommonThroughputOptions {
  mode?: 'closed';
  /** Concurrency levels to measure. @default [1, 2, …, CPUs this process may use] */
  concurrency?: number[];
  /** Measured period per level. @default 1000 */
  durationMs?: number;
}

/** Requests arriving as a Poisson process at a fixed rate; latency counts from the arrival, so queueing is included. */
export interface OpenLoopOptions extends CommonThroughputOptions {
  mode: 'open';
  ratePerSecond: number;
  /** Sessions serving the requests, one per thread. @default 1 */
  workers?: number;
  /** Length of the arrival schedule. @default 2000 */
  durationMs?: number;
  /** Seed of the arrival schedule. @default 1 */
  arrivalSeed?: number;
}

/** The highest arrival rate whose p99 latency (queueing included) stays under a bound. */
export interface RateSearchOptions extends CommonThroughputOptions {
  mode: 'search';
  p99BoundMs: number;
  /** @default 1 */
  workers?: number;
  /** Length of each trial's arrival schedule. @default 1000 */
  trialDurationMs?: number;
  /** Trials after the capacity estimate. @default 8 */
  trials?: number;
  /** @default 1 */
  arrivalSeed?: number;
}

export type ThroughputOptions = ClosedLoopOptions | OpenLoopOptions | RateSearchOptions;

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
  workers: number;
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
  workers: number;
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

const commonKeys = ['feeds', 'seed', 'shapes', 'cpus', 'warmupIterations', 'mode'];

function checkCpus(value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw typeError('options.cpus', 'a non-empty array of CPU indices', value);
  return value.map((cpu, i) => checkCpu(`options.cpus[${i}]`, cpu)!);
}

function inputOptions(o: Record<string, unknown>): InputOptions {
  const out: InputOptions = {};
  if (o.feeds !== undefined) out.feeds = o.feeds as InputOptions['feeds'];
  if (o.seed !== undefined) out.seed = checkInteger('options.seed', o.seed, 0);
  if (o.shapes !== undefined) out.shapes = checkObject('options.shapes', o.shapes) as InputOptions['shapes'];
  return out;
}

const toNs = (ms: number): number => Math.round(ms * 1e6);

/** Sessions for the streams: the model's own first, then copies opened from the same bytes. */
class SessionPool {
  readonly sessions: NativeSession[];
  private readonly extra: NativeSession[] = [];

  constructor(model: Model) {
    this.sessions = [model.nativeSession()];
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

function cpusFor(cpus: number[] | undefined, count: number): number[] | undefined {
  return cpus === undefined ? undefined : Array.from({ length: count }, (_, i) => cpus[i % cpus.length]!);
}

function failure(model: Model, err: Error, what: string, partial: unknown): Error {
  const typed = err instanceof ModelAuditError ? err : new RuntimeFailureError(err.message);
  typed.message = `${model.path ?? `${model.runtime} model`}: ${what} failed: ${typed.message}`;
  typed.partial = partial;
  return typed;
}

async function closedLoop(model: Model, o: Record<string, unknown>): Promise<ClosedLoopResult> {
  checkKnownKeys('options', o, [...commonKeys, 'concurrency', 'durationMs']);
  const cpus = checkCpus(o.cpus);
  const warmupIterations = checkInteger('options.warmupIterations', o.warmupIterations, 0) ?? 10;
  const durationMs = checkNumber('options.durationMs', o.durationMs, 1) ?? 1000;
  let concurrency: number[];
  if (o.concurrency === undefined) {
    concurrency = Array.from({ length: cpus?.length ?? allowedCpus().length }, (_, i) => i + 1);
  } else {
    if (!Array.isArray(o.concurrency) || o.concurrency.length === 0) throw typeError('options.concurrency', 'a non-empty array of integers', o.concurrency);
    concurrency = o.concurrency.map((c, i) => checkInteger(`options.concurrency[${i}]`, c, 1, 1024)!);
  }
  const { feeds, description } = measurementFeeds(model, inputOptions(o), 'options');
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
      const raw = await nativeClosed(sessions, feeds, durationMs, warmupIterations, cpusFor(cpus, level));
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

function nativeClosed(sessions: NativeSession[], feeds: NativeFeed[], durationMs: number, warmupIterations: number, cpus: number[] | undefined) {
  const options: { durationNs: number; warmupIterations: number; maxSamples: number; cpus?: number[] } = {
    durationNs: toNs(durationMs),
    warmupIterations,
    maxSamples: 2_000_000,
  };
  if (cpus) options.cpus = cpus;
  return native().throughputClosed(sessions, feeds, options);
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

function runOpen(sessions: NativeSession[], feeds: NativeFeed[], arrivalsNs: Float64Array, warmupIterations: number, cpus: number[] | undefined) {
  const options: { arrivalsNs: Float64Array; graceNs: number; warmupIterations: number; cpus?: number[] } = {
    arrivalsNs,
    graceNs: 1_000_000_000,
    warmupIterations,
  };
  if (cpus) options.cpus = cpus;
  return native().throughputOpen(sessions, feeds, options);
}

function served(values: Float64Array): Float64Array {
  return values.filter((v) => v >= 0);
}

async function openLoop(model: Model, o: Record<string, unknown>): Promise<OpenLoopResult> {
  checkKnownKeys('options', o, [...commonKeys, 'ratePerSecond', 'workers', 'durationMs', 'arrivalSeed']);
  const rate = checkNumber('options.ratePerSecond', o.ratePerSecond, Number.MIN_VALUE);
  if (rate === undefined) throw typeError('options.ratePerSecond', 'a number above 0', o.ratePerSecond);
  const workers = checkInteger('options.workers', o.workers, 1, 1024) ?? 1;
  const durationMs = checkNumber('options.durationMs', o.durationMs, 1) ?? 2000;
  const arrivalSeed = checkInteger('options.arrivalSeed', o.arrivalSeed, 0) ?? 1;
  const cpus = checkCpus(o.cpus);
  const warmupIterations = checkInteger('options.warmupIterations', o.warmupIterations, 0) ?? 10;
  const { feeds, description } = measurementFeeds(model, inputOptions(o), 'options');
  const arrivals = poissonArrivalsNs(rate, toNs(durationMs), arrivalSeed);
  if (arrivals.length === 0) throw rangeError('options.ratePerSecond', `a rate that schedules at least one request in ${durationMs} ms`, rate);
  const pool = new SessionPool(model);
  try {
    const sessions = await pool.take(workers);
    const raw = await runOpen(sessions, feeds, arrivals, warmupIterations, cpusFor(cpus, workers));
    const latencyServed = served(raw.latencyNs);
    const result: OpenLoopResult = {
      kind: 'throughput-open',
      model: model.describe(),
      inputs: description,
      workers,
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

async function rateSearch(model: Model, o: Record<string, unknown>): Promise<RateSearchResult> {
  checkKnownKeys('options', o, [...commonKeys, 'p99BoundMs', 'workers', 'trialDurationMs', 'trials', 'arrivalSeed']);
  const bound = checkNumber('options.p99BoundMs', o.p99BoundMs, Number.MIN_VALUE);
  if (bound === undefined) throw typeError('options.p99BoundMs', 'a number above 0', o.p99BoundMs);
  const workers = checkInteger('options.workers', o.workers, 1, 1024) ?? 1;
  const trialDurationMs = checkNumber('options.trialDurationMs', o.trialDurationMs, 1) ?? 1000;
  const trialCount = checkInteger('options.trials', o.trials, 1, 100) ?? 8;
  const arrivalSeed = checkInteger('options.arrivalSeed', o.arrivalSeed, 0) ?? 1;
  const cpus = checkCpus(o.cpus);
  const warmupIterations = checkInteger('options.warmupIterations', o.warmupIterations, 0) ?? 10;
  const { feeds, description } = measurementFeeds(model, inputOptions(o), 'options');
  const boundNs = toNs(bound);
  const pool = new SessionPool(model);
  const trials: RateSearchTrial[] = [];
  const warnings: string[] = [];
  try {
    const sessions = await pool.take(workers);
    const capacityRaw = await nativeClosed(sessions, feeds, Math.max(100, trialDurationMs / 2), warmupIterations, cpusFor(cpus, workers));
    const failedCapacity = capacityRaw.streams.find((s) => s.error !== null);
    if (failedCapacity?.error) throw failure(model, failedCapacity.error, 'capacity estimate', undefined);
    const capacity = (capacityRaw.streams.reduce((n, s) => n + s.samplesNs.length, 0) * 1e9) / capacityRaw.wallNs;
    const trial = async (rate: number): Promise<RateSearchTrial> => {
      const arrivals = poissonArrivalsNs(rate, toNs(trialDurationMs), arrivalSeed + trials.length);
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
      workers,
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

export async function throughput<O extends ThroughputOptions>(model: Model, options: O): Promise<ThroughputResultFor<O>> {
  const o = checkObject('options', options) ?? {};
  const mode = checkOneOf('options.mode', o.mode, ['closed', 'open', 'search'] as const) ?? 'closed';
  model.nativeSession();
  if (mode === 'open') return (await openLoop(model, o)) as ThroughputResultFor<O>;
  if (mode === 'search') return (await rateSearch(model, o)) as ThroughputResultFor<O>;
  return (await closedLoop(model, o)) as ThroughputResultFor<O>;
}
