/**
 * Long runs: latency and memory per window, appended to a JSON-lines file as each window ends,
 * and verdicts on drift, steps and leaks computed with statistics.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { environment, type Environment } from '../environment.js';
import { OptionsError } from '../errors.js';
import { measurementFeeds, type InputOptions } from '../measure/inputs.js';
import { processMemory } from '../memory.js';
import type { Model, ModelDescription } from '../model.js';
import { runIsolated } from '../isolate/run.js';
import { native, type NativeFeed } from '../native.js';
import { summarize } from '../stats/summary.js';
import { findSteps, mannKendall, theilSen, type Step } from '../stats/trend.js';
import { checkBoolean, checkCpu, checkKnownKeys, checkNumber, checkObject, checkString } from '../validate.js';

export interface SoakOptions extends InputOptions {
  /** How long to run. */
  durationMs: number;
  /** Length of one window. @default 10000 */
  windowMs?: number;
  /** Pace requests at this fixed rate (a deployment's duty cycle); latency then counts from each scheduled start. @default back to back */
  ratePerSecond?: number;
  /** Pin the measuring thread. */
  cpu?: number;
  /** Append each window to this JSON-lines file as it ends (a header line first, a summary line last). */
  file?: string;
  /** Called after each window. */
  onWindow?: (window: SoakWindow, index: number) => void;
  /** Stops the soak after the current window. */
  signal?: AbortSignal;
  /** Growth below these rates is not called a leak. */
  leakThresholds?: { runtimeBytesPerHour?: number; rssBytesPerHour?: number };
  /** Smallest change of the median over the run, relative, that counts as drift. @default 0.02 */
  driftThreshold?: number;
  /** Run the soak in a child process: a crash or hang ends it as a finding, with every finished window kept. @default false */
  isolate?: boolean;
}

export interface SoakWindow {
  index: number;
  /** Since the soak started. */
  startMs: number;
  endMs: number;
  /** Inferences run in the window. */
  inferences: number;
  /** Cumulative inferences at the end of the window. */
  totalInferences: number;
  latency: { minNs: number; p50Ns: number; p90Ns: number; p99Ns: number; maxNs: number; meanNs: number };
  /** With pacing: the runtime call alone. */
  serviceP50Ns: number | null;
  /** Runtime library live bytes (allocator counters) at the end of the window; null when not counted. */
  runtimeLiveBytes: number | null;
  rssBytes: number;
  heapInUseBytes: number | null;
}

export interface TrendVerdict {
  /** Theil–Sen slope per hour, with its 95 % interval. */
  perHour: number;
  perHourLow: number;
  perHourHigh: number;
  /** Mann–Kendall two-sided p-value of "no monotonic trend". */
  p: number;
  significant: boolean;
}

export interface LeakVerdict extends TrendVerdict {
  series: 'runtimeLiveBytes' | 'rssBytes';
  /** Theil–Sen slope against cumulative inferences. */
  bytesPerInference: number;
  /** Growth from the first to the last window, by the fitted slope. */
  growthBytes: number;
  leak: boolean;
  /** The verdict in a sentence. */
  statement: string;
}

export interface SoakVerdicts {
  latencyTrend: TrendVerdict & {
    relativeChangePerHour: number;
    /** The fitted change of the median over the observed span, relative to the median. */
    relativeChangeOverRun: number;
    drifting: boolean;
    statement: string;
  };
  latencySteps: (Step & { atMs: number })[];
  runtimeMemory: LeakVerdict | null;
  /** Process RSS, for a cross-check: it also holds Node's own heap, which grows as a process warms up. */
  rss: LeakVerdict;
  /** The leak verdict: the runtime library's live bytes when they were counted, else RSS. */
  leak: boolean;
}

export interface SoakResult {
  kind: 'soak';
  model: ModelDescription;
  options: { durationMs: number; windowMs: number; ratePerSecond: number | null; cpu: number | null };
  windows: SoakWindow[];
  verdicts: SoakVerdicts;
  stoppedEarly: boolean;
  file: string | null;
  /** For an isolated soak that did not finish: how the child ended. */
  isolation: { status: 'crashed' | 'hung' | 'errored'; signal: string | null; reason: string; lastPhase: string } | null;
  environment: Environment;
}

const hour = 3_600_000;
const fmtBytes = (b: number): string => (Math.abs(b) >= 1048576 ? `${(b / 1048576).toFixed(2)} MiB` : Math.abs(b) >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b.toFixed(0)} B`);

function trend(xMs: number[], y: number[]): TrendVerdict {
  const fit = theilSen(xMs, y);
  const mk = mannKendall(y);
  return { perHour: fit.slope * hour, perHourLow: fit.low * hour, perHourHigh: fit.high * hour, p: mk.p, significant: mk.p < 0.01 };
}

function leakVerdict(series: LeakVerdict['series'], windows: SoakWindow[], values: number[], thresholdPerHour: number): LeakVerdict {
  const t = trend(windows.map((w) => w.endMs), values);
  const perInference = theilSen(windows.map((w) => w.totalInferences), values).slope;
  const spanMs = windows.length > 1 ? windows.at(-1)!.endMs - windows[0]!.endMs : 0;
  const growth = (t.perHour * spanMs) / hour;
  const leak = t.significant && t.perHourLow > 0 && t.perHour >= thresholdPerHour;
  const what = series === 'runtimeLiveBytes' ? 'Runtime live bytes' : 'RSS';
  const statement = leak
    ? `${what} grow by ${fmtBytes(t.perHour)}/h (95 % CI ${fmtBytes(t.perHourLow)} to ${fmtBytes(t.perHourHigh)}/h, ${fmtBytes(perInference)} per inference; Mann–Kendall p = ${t.p.toExponential(2)}): a leak.`
    : `${what}: no leak (slope ${fmtBytes(t.perHour)}/h, 95 % CI ${fmtBytes(t.perHourLow)} to ${fmtBytes(t.perHourHigh)}/h, p = ${t.p.toFixed(3)}; ${
        !t.significant ? 'no significant trend' : t.perHourLow <= 0 ? 'the interval includes no growth' : `below the ${fmtBytes(thresholdPerHour)}/h threshold`
      }).`;
  return { ...t, series, bytesPerInference: perInference, growthBytes: growth, leak, statement };
}

/** Verdicts from windows (also usable on a file read back with readSoakFile). */
export function soakVerdicts(windows: SoakWindow[], thresholds: SoakOptions['leakThresholds'] = {}, driftThreshold = 0.02): SoakVerdicts {
  const times = windows.map((w) => w.endMs);
  const p50 = windows.map((w) => w.latency.p50Ns);
  const latency = trend(times, p50);
  const base = summarize(p50).p50Ns;
  const relative = base > 0 ? latency.perHour / base : 0;
  const spanHours = windows.length > 1 ? (windows.at(-1)!.endMs - windows[0]!.endMs) / hour : 0;
  const overRun = relative * spanHours;
  // A significant slope extrapolated to an hour can be a fraction of a percent over the run
  // itself: drift must also be material over the span actually observed.
  const drifting = latency.significant && Math.abs(overRun) >= driftThreshold && (latency.perHourLow > 0 || latency.perHourHigh < 0);
  const steps = findSteps(p50).map((s) => ({ ...s, atMs: windows[s.at]?.startMs ?? 0 }));
  const live = windows.map((w) => w.runtimeLiveBytes);
  const runtimeMemory = live.every((v): v is number => v !== null)
    ? leakVerdict('runtimeLiveBytes', windows, live, thresholds.runtimeBytesPerHour ?? 64 * 1024)
    : null;
  const rss = leakVerdict('rssBytes', windows, windows.map((w) => w.rssBytes), thresholds.rssBytesPerHour ?? 16 * 1048576);
  return {
    latencyTrend: {
      ...latency,
      relativeChangePerHour: relative,
      relativeChangeOverRun: overRun,
      drifting,
      statement: drifting
        ? `Median latency drifts: ${(overRun * 100).toFixed(1)} % over the run (${(relative * 100).toFixed(1)} % per hour, Mann–Kendall p = ${latency.p.toExponential(2)}).`
        : `Median latency: no drift (${(overRun * 100).toFixed(2)} % over the run, ${(relative * 100).toFixed(1)} % per hour, p = ${latency.p.toFixed(3)}; drift needs p < 0.01 and ${driftThreshold * 100} % over the run).`,
    },
    latencySteps: steps,
    runtimeMemory,
    rss,
    leak: runtimeMemory ? runtimeMemory.leak : rss.leak,
  };
}

/** Reads a soak file back: every complete window line (a soak killed mid-write keeps the rest). */
export function readSoakFile(path: string): { header: unknown; windows: SoakWindow[]; summary: unknown } {
  let header: unknown = null;
  let summary: unknown = null;
  const windows: SoakWindow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: { kind?: string };
    try {
      record = JSON.parse(line) as { kind?: string };
    } catch {
      continue; // a line cut by a kill
    }
    if (record.kind === 'soak-header') header = record;
    else if (record.kind === 'window') windows.push((record as unknown as { window: SoakWindow }).window);
    else if (record.kind === 'soak-summary') summary = record;
  }
  return { header, windows, summary };
}

function validate(o: Record<string, unknown>): { durationMs: number; windowMs: number; ratePerSecond: number | undefined; cpu: number | undefined; file: string | undefined } {
  checkKnownKeys('options', o, ['durationMs', 'windowMs', 'ratePerSecond', 'cpu', 'file', 'onWindow', 'signal', 'leakThresholds', 'driftThreshold', 'feeds', 'seed', 'shapes', 'isolate']);
  checkNumber('options.driftThreshold', o.driftThreshold, 0);
  checkBoolean('options.isolate', o.isolate);
  const durationMs = checkNumber('options.durationMs', o.durationMs, 1);
  if (durationMs === undefined) throw new OptionsError('Expected a number above 0 for options.durationMs but received undefined', { option: 'options.durationMs', kind: 'type' });
  const windowMs = checkNumber('options.windowMs', o.windowMs, 1) ?? 10_000;
  if (windowMs > durationMs) throw new OptionsError(`Expected options.windowMs (${windowMs}) at most options.durationMs (${durationMs})`, { option: 'options.windowMs' });
  if (o.onWindow !== undefined && typeof o.onWindow !== 'function') throw new OptionsError('Expected a function for options.onWindow', { option: 'options.onWindow', kind: 'type' });
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new OptionsError('Expected an AbortSignal for options.signal', { option: 'options.signal', kind: 'type' });
  }
  return {
    durationMs,
    windowMs,
    ratePerSecond: checkNumber('options.ratePerSecond', o.ratePerSecond, Number.MIN_VALUE),
    cpu: checkCpu('options.cpu', o.cpu),
    file: checkString('options.file', o.file),
  };
}

async function runWindow(model: Model, feeds: NativeFeed[], windowMs: number, rate: number | undefined, cpu: number | undefined) {
  const session = model.nativeSession();
  if (rate === undefined) {
    const raw = await session.benchmark(feeds, {
      durationNs: Math.round(windowMs * 1e6),
      warmupIterations: 0,
      memoryIterations: 0,
      countSteadyState: true,
      measureHarness: false,
      cpu: cpu ?? -1,
    });
    if (raw.error) throw raw.error;
    // The window's first call is timed apart by the loop; it is an inference all the same.
    return { latencyNs: raw.samplesNs, serviceNs: null, inferences: raw.samplesNs.length + 1 };
  }
  const gapNs = 1e9 / rate;
  const count = Math.max(1, Math.floor((windowMs * 1e6) / gapNs));
  const arrivalsNs = Float64Array.from({ length: count }, (_, i) => Math.round(i * gapNs));
  const options: { arrivalsNs: Float64Array; graceNs: number; warmupIterations: number; cpus?: number[] } = { arrivalsNs, graceNs: Math.round(windowMs * 1e6), warmupIterations: 0 };
  if (cpu !== undefined) options.cpus = [cpu];
  const raw = await native().throughputOpen([session], feeds, options);
  if (raw.error) throw raw.error;
  return { latencyNs: raw.latencyNs.filter((v) => v >= 0), serviceNs: raw.serviceNs.filter((v) => v >= 0), inferences: raw.completed };
}

/**
 * Runs the model continuously for `durationMs`, window by window, and judges latency drift,
 * latency steps and memory growth. Allocation counting stays on during a soak (a leak inside a
 * run must be seen), so absolute latencies include the counters' cost; the trends do not care.
 */
export async function soak(model: Model, rawOptions: SoakOptions): Promise<SoakResult> {
  const o = checkObject('options', rawOptions) ?? {};
  const { durationMs, windowMs, ratePerSecond, cpu, file } = validate(o);
  if (rawOptions.isolate) return soakIsolated(model, rawOptions, windowMs);
  const { feeds } = measurementFeeds(model, rawOptions, 'options');
  const description = model.describe();
  const env = environment([model.library]);
  const settings = { durationMs, windowMs, ratePerSecond: ratePerSecond ?? null, cpu: cpu ?? null };
  if (file) writeFileSync(file, JSON.stringify({ kind: 'soak-header', model: description, options: settings, environment: env }) + '\n');
  const windows: SoakWindow[] = [];
  const start = performance.now();
  let total = 0;
  let stoppedEarly = false;
  while (performance.now() - start < durationMs) {
    if (rawOptions.signal?.aborted) {
      stoppedEarly = true;
      break;
    }
    const windowStart = performance.now() - start;
    const length = Math.min(windowMs, durationMs - windowStart);
    if (length < windowMs / 2 && windows.length > 0) break;
    const raw = await runWindow(model, feeds, length, ratePerSecond, cpu);
    const memory = model.memory();
    const proc = processMemory();
    const s = summarize(raw.latencyNs);
    total += raw.inferences;
    const window: SoakWindow = {
      index: windows.length,
      startMs: windowStart,
      endMs: performance.now() - start,
      inferences: raw.inferences,
      totalInferences: total,
      latency: { minNs: s.minNs, p50Ns: s.p50Ns, p90Ns: s.p90Ns, p99Ns: s.p99Ns, maxNs: s.maxNs, meanNs: s.meanNs },
      serviceP50Ns: raw.serviceNs ? summarize(raw.serviceNs).p50Ns : null,
      runtimeLiveBytes: memory.counted ? memory.counters.liveBytes : null,
      rssBytes: proc.rssBytes,
      heapInUseBytes: proc.heapInUseBytes,
    };
    windows.push(window);
    if (file) appendFileSync(file, JSON.stringify({ kind: 'window', window }) + '\n');
    rawOptions.onWindow?.(window, window.index);
  }
  const verdicts = soakVerdicts(windows, rawOptions.leakThresholds, rawOptions.driftThreshold);
  if (file) appendFileSync(file, JSON.stringify({ kind: 'soak-summary', verdicts, stoppedEarly }) + '\n');
  return { kind: 'soak', model: description, options: settings, windows, verdicts, stoppedEarly, file: file ?? null, isolation: null, environment: env };
}

async function soakIsolated(model: Model, options: SoakOptions, windowMs: number): Promise<SoakResult> {
  const { onWindow, signal, isolate: _isolate, ...cloneable } = options;
  if (signal) throw new OptionsError('options.signal cannot reach an isolated soak; stop it with a shorter durationMs', { option: 'options.signal' });
  const windows: SoakWindow[] = [];
  const run = await runIsolated<SoakResult>('soak', [cloneable], {
    model: model.spec(),
    restart: false,
    // The child reports every window; silence for three windows (plus start-up) means it hangs.
    timeoutMs: windowMs * 3 + 30_000,
    onProgress: (payload) => {
      const w = payload as SoakWindow;
      windows.push(w);
      onWindow?.(w, w.index);
    },
  });
  const outcome = run.items[0]!;
  if (outcome.status === 'completed') return { ...outcome.result, isolation: null };
  const verdicts = soakVerdicts(windows, options.leakThresholds, options.driftThreshold);
  return {
    kind: 'soak',
    model: model.describe(),
    options: { durationMs: options.durationMs, windowMs, ratePerSecond: options.ratePerSecond ?? null, cpu: options.cpu ?? null },
    windows,
    verdicts,
    stoppedEarly: true,
    file: options.file ?? null,
    isolation: {
      status: outcome.status,
      signal: outcome.status === 'crashed' ? outcome.signal : null,
      reason: outcome.status === 'errored' ? outcome.error.message : outcome.status === 'hung' ? `no window within ${outcome.timeoutMs} ms` : `the child died (${outcome.status === 'crashed' ? (outcome.signal ?? `exit ${outcome.exitCode}`) : ''})`,
      lastPhase: outcome.lastPhase,
    },
    environment: environment([model.library]),
  };
}
