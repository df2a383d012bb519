/**
 * What a soak's windows say: latency drift and steps, memory growth and leaks, each judged with
 * statistics and stated in a sentence.
 */
import { summarize } from '../../stats/summary.js';
import { findSteps, mannKendall, theilSen, type Step } from '../../stats/trend.js';
import { formatBytes, msPerHour } from '../../units.js';
import type { SoakWindow } from './window.js';

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

const hour = msPerHour;
const fmtBytes = formatBytes;

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
/** Growth below these rates is not called a leak. */
export interface LeakThresholds {
  /** @default 65536 (64 KiB/h) */
  runtimeBytesPerHour?: number;
  /** @default 16777216 (16 MiB/h) */
  rssBytesPerHour?: number;
}

export const verdictDefaults = Object.freeze({ runtimeBytesPerHour: 64 * 1024, rssBytesPerHour: 16 * 1048576, driftThreshold: 0.02 });

export function soakVerdicts(windows: SoakWindow[], thresholds: LeakThresholds = {}, driftThreshold: number = verdictDefaults.driftThreshold): SoakVerdicts {
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
    ? leakVerdict('runtimeLiveBytes', windows, live, thresholds.runtimeBytesPerHour ?? verdictDefaults.runtimeBytesPerHour)
    : null;
  const rss = leakVerdict('rssBytes', windows, windows.map((w) => w.rssBytes), thresholds.rssBytesPerHour ?? verdictDefaults.rssBytesPerHour);
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

