/**
 * soak(): runs the model continuously, window by window, appends each window to a JSON-lines file
 * as it ends, and judges drift, steps and leaks. In this process, or isolated in a child.
 */
import { OptionsError, measurementFailure } from '../../errors.js';
import { runIsolated, taskRef } from '../../isolate/run.js';
import { sessionOf, specOf } from '../../model/access.js';
import type { Model, ModelDescription } from '../../model/model.js';
import { native, type NativeFeed } from '../../native.js';
import { summarize } from '../../stats/summary.js';
import { environment, type Environment } from '../../system/environment.js';
import { processMemory } from '../../system/memory.js';
import { msToNs } from '../../units.js';
import { checkBoolean, checkCpu, checkKnownKeys, checkNumber, checkObject, checkString } from '../../validate.js';
import { inputDefaults, inputOptionKeys, measurementFeeds, validateInputOptions, type InputOptions } from '../../inputs/feed-sets.js';
import { appendSoakSummary, appendSoakWindow, writeSoakHeader } from './file.js';
import { soakVerdicts, verdictDefaults, type LeakThresholds, type SoakVerdicts } from './verdicts.js';
import type { SoakWindow } from './window.js';

export interface SoakOptions extends InputOptions {
  /** How long to run. */
  durationMs: number;
  /** Length of one window. @default 10000 */
  windowMs?: number;
  /** Pace requests at this fixed rate (a deployment's duty cycle); latency then counts from each scheduled start. @default back to back */
  ratePerSecond?: number;
  /** Pin the measuring thread. @default not pinned */
  cpu?: number;
  /** Append each window to this JSON-lines file as it ends (a header line first, a summary line last). @default no file */
  file?: string;
  /** Called after each window. */
  onWindow?: (window: SoakWindow, index: number) => void;
  /** Stops the soak after the current window. */
  signal?: AbortSignal;
  /** Growth below these rates is not called a leak. */
  leakThresholds?: LeakThresholds;
  /** Smallest change of the median over the run, relative, that counts as drift: on a shared machine a minute of clean running moved it by up to 11 %. @default 0.15 */
  driftThreshold?: number;
  /** Run the soak in a child process: a crash or hang ends it as a finding, with every finished window kept. @default false */
  isolate?: boolean;
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

export const soakDefaults = Object.freeze({
  windowMs: 10_000,
  isolate: false,
  /** Latency samples one window keeps (8 bytes each); a window ends early when they fill. */
  maxSamplesPerWindow: 2_000_000,
  ...verdictDefaults,
});

interface ResolvedSoakOptions {
  inputs: InputOptions;
  durationMs: number;
  windowMs: number;
  ratePerSecond: number | null;
  cpu: number | null;
  file: string | null;
  leakThresholds: LeakThresholds;
  driftThreshold: number;
  isolate: boolean;
}

const soakKeys = [...inputOptionKeys, 'durationMs', 'windowMs', 'ratePerSecond', 'cpu', 'file', 'onWindow', 'signal', 'leakThresholds', 'driftThreshold', 'isolate'];

export function resolveSoakOptions(options: unknown, where = 'options'): ResolvedSoakOptions {
  const o = checkObject(where, options) ?? {};
  checkKnownKeys(where, o, soakKeys);
  const durationMs = checkNumber(`${where}.durationMs`, o.durationMs, 1);
  if (durationMs === undefined) throw new OptionsError(`Expected a number above 0 for ${where}.durationMs but received undefined`, { option: `${where}.durationMs`, kind: 'type' });
  const windowMs = checkNumber(`${where}.windowMs`, o.windowMs, 1) ?? soakDefaults.windowMs;
  if (windowMs > durationMs) throw new OptionsError(`Expected ${where}.windowMs (${windowMs}) at most ${where}.durationMs (${durationMs})`, { option: `${where}.windowMs` });
  if (o.onWindow !== undefined && typeof o.onWindow !== 'function') throw new OptionsError(`Expected a function for ${where}.onWindow`, { option: `${where}.onWindow`, kind: 'type' });
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw new OptionsError(`Expected an AbortSignal for ${where}.signal`, { option: `${where}.signal`, kind: 'type' });
  }
  const thresholds = checkObject(`${where}.leakThresholds`, o.leakThresholds) ?? {};
  checkKnownKeys(`${where}.leakThresholds`, thresholds, ['runtimeBytesPerHour', 'rssBytesPerHour', 'runtimeMinGrowthBytes', 'rssMinGrowthBytes']);
  const leakThresholds: Required<LeakThresholds> = {
    runtimeBytesPerHour: checkNumber(`${where}.leakThresholds.runtimeBytesPerHour`, thresholds.runtimeBytesPerHour, 0) ?? soakDefaults.runtimeBytesPerHour,
    rssBytesPerHour: checkNumber(`${where}.leakThresholds.rssBytesPerHour`, thresholds.rssBytesPerHour, 0) ?? soakDefaults.rssBytesPerHour,
    runtimeMinGrowthBytes: checkNumber(`${where}.leakThresholds.runtimeMinGrowthBytes`, thresholds.runtimeMinGrowthBytes, 0) ?? soakDefaults.runtimeMinGrowthBytes,
    rssMinGrowthBytes: checkNumber(`${where}.leakThresholds.rssMinGrowthBytes`, thresholds.rssMinGrowthBytes, 0) ?? soakDefaults.rssMinGrowthBytes,
  };
  return {
    inputs: validateInputOptions(o, where),
    durationMs,
    windowMs,
    ratePerSecond: checkNumber(`${where}.ratePerSecond`, o.ratePerSecond, Number.MIN_VALUE) ?? null,
    cpu: checkCpu(`${where}.cpu`, o.cpu) ?? null,
    file: checkString(`${where}.file`, o.file) ?? null,
    leakThresholds,
    driftThreshold: checkNumber(`${where}.driftThreshold`, o.driftThreshold, 0) ?? soakDefaults.driftThreshold,
    isolate: checkBoolean(`${where}.isolate`, o.isolate) ?? soakDefaults.isolate,
  };
}

async function runWindow(model: Model, feeds: NativeFeed[][], inputs: InputOptions, windowMs: number, rate: number | null, cpu: number | null, maxSamples: number) {
  const session = sessionOf(model);
  if (rate === null) {
    const raw = await session.benchmark(feeds, {
      warmupIterations: 0,
      warmupDurationNs: 0,
      warmupUntilStable: false,
      warmupBatchSize: 1,
      warmupTolerance: 0,
      warmupMaxIterations: 1,
      warmupMaxDurationNs: 0,
      iterations: 0,
      durationNs: msToNs(windowMs),
      maxSamples,
      cpu: cpu ?? -1,
      countSteadyState: true,
      memoryIterations: 0,
      measureHarness: false,
      shuffle: inputs.order === 'shuffle',
      shuffleSeed: inputs.seed ?? inputDefaults.seed,
    });
    if (raw.error) throw raw.error;
    // The window's first call is timed apart by the loop; it is an inference all the same.
    return { latencyNs: raw.samplesNs, serviceNs: null, inferences: raw.samplesNs.length + 1 };
  }
  const gapNs = 1e9 / rate;
  const count = Math.max(1, Math.floor(msToNs(windowMs) / gapNs));
  const arrivalsNs = Float64Array.from({ length: count }, (_, i) => Math.round(i * gapNs));
  const raw = await native().throughputOpen([session], feeds, { arrivalsNs, graceNs: msToNs(windowMs), warmupIterations: 0, cpus: [cpu ?? -1] });
  if (raw.error) throw raw.error;
  return { latencyNs: raw.latencyNs.filter((v) => v >= 0), serviceNs: raw.serviceNs.filter((v) => v >= 0), inferences: raw.completed };
}

function settingsOf(o: ResolvedSoakOptions): SoakResult['options'] {
  return { durationMs: o.durationMs, windowMs: o.windowMs, ratePerSecond: o.ratePerSecond, cpu: o.cpu };
}

/**
 * Runs the model continuously for `durationMs`, window by window, and judges latency drift,
 * latency steps and memory growth. Allocation counting stays on during a soak (a leak inside a
 * run must be seen), so absolute latencies include the counters' cost; the trends do not care.
 */
export async function soak(model: Model, options: SoakOptions): Promise<SoakResult> {
  sessionOf(model);
  const o = resolveSoakOptions(options);
  if (o.isolate) return soakIsolated(model, options, o);
  const { feedSets: feeds } = measurementFeeds(model, o.inputs, 'options');
  const description = model.describe();
  const env = environment([model.library]);
  const settings = settingsOf(o);
  if (o.file) writeSoakHeader(o.file, { model: description, options: settings, environment: env });
  const windows: SoakWindow[] = [];
  const start = performance.now();
  let total = 0;
  let stoppedEarly = false;
  while (performance.now() - start < o.durationMs) {
    if (options.signal?.aborted) {
      stoppedEarly = true;
      break;
    }
    const windowStart = performance.now() - start;
    const length = Math.min(o.windowMs, o.durationMs - windowStart);
    if (length < o.windowMs / 2 && windows.length > 0) break;
    // The sample buffer is allocated and touched before each window's loop: size it from the last
    // window (with room for the model getting 4× faster) rather than for the slowest case.
    const previous = windows.at(-1)?.inferences;
    const maxSamples = previous === undefined ? soakDefaults.maxSamplesPerWindow : Math.min(soakDefaults.maxSamplesPerWindow, previous * 4 + 1000);
    let raw: Awaited<ReturnType<typeof runWindow>>;
    try {
      raw = await runWindow(model, feeds, o.inputs, length, o.ratePerSecond, o.cpu, maxSamples);
    } catch (err) {
      // The windows already measured are the caller's: on the error, and closed in the file.
      const verdicts = soakVerdicts(windows, o.leakThresholds, o.driftThreshold);
      if (o.file) appendSoakSummary(o.file, { verdicts, stoppedEarly: true });
      const partial: SoakResult = { kind: 'soak', model: description, options: settings, windows, verdicts, stoppedEarly: true, file: o.file, isolation: null, environment: env };
      throw measurementFailure(err as Error, `${model.path ?? `${model.runtime} model`}: soak failed in window ${windows.length}`, partial);
    }
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
    if (o.file) appendSoakWindow(o.file, window);
    options.onWindow?.(window, window.index);
  }
  const verdicts = soakVerdicts(windows, o.leakThresholds, o.driftThreshold);
  if (o.file) appendSoakSummary(o.file, { verdicts, stoppedEarly });
  return { kind: 'soak', model: description, options: settings, windows, verdicts, stoppedEarly, file: o.file, isolation: null, environment: env };
}

async function soakIsolated(model: Model, options: SoakOptions, o: ResolvedSoakOptions): Promise<SoakResult> {
  const { onWindow, signal, isolate: _isolate, ...cloneable } = options;
  if (signal) throw new OptionsError('options.signal cannot reach an isolated soak; stop it with a shorter durationMs', { option: 'options.signal' });
  const windows: SoakWindow[] = [];
  const run = await runIsolated<SoakResult>(taskRef(new URL('./task.js', import.meta.url), 'soakTask'), [cloneable], {
    model: specOf(model),
    restart: false,
    // The child reports every window; silence for three windows (plus start-up) means it hangs.
    timeoutMs: o.windowMs * 3 + 30_000,
    onProgress: (payload) => {
      const w = payload as SoakWindow;
      windows.push(w);
      onWindow?.(w, w.index);
    },
  });
  const outcome = run.items[0]!;
  if (outcome.status === 'completed') return { ...outcome.result, isolation: null };
  return {
    kind: 'soak',
    model: model.describe(),
    options: settingsOf(o),
    windows,
    verdicts: soakVerdicts(windows, o.leakThresholds, o.driftThreshold),
    stoppedEarly: true,
    file: o.file,
    isolation: {
      status: outcome.status,
      signal: outcome.status === 'crashed' ? outcome.signal : null,
      reason:
        outcome.status === 'errored'
          ? outcome.error.message
          : outcome.status === 'hung'
            ? `no window within ${outcome.timeoutMs} ms`
            : `the child died (${outcome.signal ?? `exit ${outcome.exitCode}`})`,
      lastPhase: outcome.lastPhase,
    },
    environment: environment([model.library]),
  };
}
