/**
 * What a soak's windows say: latency drift and steps, memory growth and leaks, each judged with
 * statistics and stated in a sentence.
 *
 * A leak is growth that goes on. The first third of the windows is the warm-up: what grows there
 * and stops (arenas, caches, lazily created threads) is reported as warm-up growth, never judged.
 * The rest is split into halves; growth is a leak when (1) the later part has a significant
 * monotonic trend (Mann–Kendall p < 0.01) whose Theil–Sen interval excludes zero, (2) both halves
 * grow, each by at least a quarter of the whole (a single step that stops grows one half only),
 * and (3) the growth is material: at least `minGrowthBytes` over the later part and at least the
 * per-hour threshold. Drift is judged the same way on the median latency: a trend over the run,
 * present in each half on its own, of at least the drift threshold over the run. Fewer than
 * `minWindows` windows are too few to tell: the verdict is inconclusive.
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

/** 'leak' and 'no leak' are verdicts; 'inconclusive' means the run was too short to judge. */
export type LeakCall = 'leak' | 'no leak' | 'inconclusive';

export interface LeakVerdict extends TrendVerdict {
  series: 'runtimeLiveBytes' | 'rssBytes';
  call: LeakCall;
  /** Growth over the first third of the windows (the warm-up), from its first window to its last. */
  warmUpGrowthBytes: number;
  /** Growth over the later two thirds, between the medians of their first and last quarters. */
  laterGrowthBytes: number;
  /** Growth of each half of the later part (a leak grows in both). */
  halfGrowthBytes: [number, number];
  /** Theil–Sen slope of the later part against cumulative inferences. */
  bytesPerInference: number;
  /** Duration of the later part the verdict judged. */
  judgedMs: number;
  /** Same as call === 'leak'. */
  leak: boolean;
  /** The verdict in a sentence. */
  statement: string;
}

export interface DriftVerdict extends TrendVerdict {
  call: 'drifting' | 'steady' | 'inconclusive';
  relativeChangePerHour: number;
  /** The fitted change of the median over the observed span, relative to the median. */
  relativeChangeOverRun: number;
  /** Fitted relative change of the median within each half of the run. */
  halves: [number, number];
  drifting: boolean;
  statement: string;
}

export interface SoakVerdicts {
  latencyTrend: DriftVerdict;
  latencySteps: (Step & { atMs: number })[];
  runtimeMemory: LeakVerdict | null;
  /** Process RSS, for a cross-check: it also holds Node's own heap, which grows as a process warms up. */
  rss: LeakVerdict;
  /** The leak verdict: the runtime library's live bytes when they were counted, else RSS. */
  leak: boolean;
  /** The call behind `leak` ('inconclusive' when the run was too short). */
  leakCall: LeakCall;
}

/** Growth below these is not called a leak. */
export interface LeakThresholds {
  /** @default 65536 (64 KiB/h) */
  runtimeBytesPerHour?: number;
  /** @default 16777216 (16 MiB/h) */
  rssBytesPerHour?: number;
  /** Least growth of the runtime's live bytes over the judged part. @default 4096 */
  runtimeMinGrowthBytes?: number;
  /** Least growth of RSS over the judged part. @default 4194304 (4 MiB) */
  rssMinGrowthBytes?: number;
}

export const verdictDefaults = Object.freeze({
  runtimeBytesPerHour: 64 * 1024,
  rssBytesPerHour: 16 * 1048576,
  runtimeMinGrowthBytes: 4096,
  rssMinGrowthBytes: 4 * 1048576,
  driftThreshold: 0.15,
  /** Windows a verdict needs: four in the warm-up third, four in each half of the rest. */
  minWindows: 12,
});

const hour = msPerHour;
const fmtBytes = formatBytes;

function median(values: readonly number[]): number {
  return summarize(values).p50Ns;
}

function trend(xMs: number[], y: number[]): TrendVerdict {
  const fit = theilSen(xMs, y);
  const mk = mannKendall(y);
  return { perHour: fit.slope * hour, perHourLow: fit.low * hour, perHourHigh: fit.high * hour, p: mk.p, significant: mk.p < 0.01 };
}

/** Median of the first and of the last quarter (at least one window each) of `values`. */
function ends(values: readonly number[]): [number, number] {
  const q = Math.max(1, Math.floor(values.length / 4));
  return [median(values.slice(0, q)), median(values.slice(-q))];
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function leakVerdict(series: LeakVerdict['series'], windows: SoakWindow[], values: number[], perHourThreshold: number, minGrowth: number): LeakVerdict {
  const what = series === 'runtimeLiveBytes' ? "The runtime's live bytes" : 'RSS';
  const n = windows.length;
  const spanMs = n > 0 ? windows.at(-1)!.endMs - windows[0]!.startMs : 0;
  if (n < verdictDefaults.minWindows) {
    const windowMs = n > 0 ? spanMs / n : 0;
    const need = windowMs > 0 ? `run at least ${seconds(verdictDefaults.minWindows * windowMs)} with these ${seconds(windowMs)} windows, or use shorter windows` : `run at least ${verdictDefaults.minWindows} windows`;
    return {
      ...trend(windows.map((w) => w.endMs), values),
      series,
      call: 'inconclusive',
      warmUpGrowthBytes: 0,
      laterGrowthBytes: 0,
      halfGrowthBytes: [0, 0],
      bytesPerInference: 0,
      judgedMs: 0,
      leak: false,
      statement: `${what}: inconclusive. ${n} windows are too few to tell a leak from warm-up (${need}).`,
    };
  }
  const warm = Math.floor(n / 3);
  const laterWindows = windows.slice(warm);
  const later = values.slice(warm);
  const t = trend(laterWindows.map((w) => w.endMs), later);
  const perInference = theilSen(laterWindows.map((w) => w.totalInferences), later).slope;
  const warmUpGrowth = values[warm - 1]! - values[0]!;
  const [start, end] = ends(later);
  const laterGrowth = end - start;
  const half = Math.floor(later.length / 2);
  // The halves meet at the level between the end of the first and the start of the second.
  const mid = median([ends(later.slice(0, half))[1], ends(later.slice(half))[0]]);
  const halves: [number, number] = [mid - start, end - mid];
  const judgedMs = laterWindows.at(-1)!.endMs - laterWindows[0]!.startMs;
  const rateOk = t.perHour >= perHourThreshold;
  const material = laterGrowth >= minGrowth;
  const sustained = halves[0] > 0 && halves[1] > 0 && Math.min(...halves) >= 0.25 * laterGrowth;
  const trending = t.significant && t.perHourLow > 0;
  const leak = trending && sustained && material && rateOk;
  const warmText = warmUpGrowth !== 0 ? `${warmUpGrowth > 0 ? 'grew' : 'fell'} by ${fmtBytes(Math.abs(warmUpGrowth))} in the first ${seconds(laterWindows[0]!.startMs)} (warm-up), then ` : '';
  let statement: string;
  if (leak) {
    statement =
      `${what} keep growing: ${fmtBytes(laterGrowth)} over the last ${seconds(judgedMs)} (${fmtBytes(halves[0])} and ${fmtBytes(halves[1])} in its two halves), ` +
      `${fmtBytes(t.perHour)}/h (95 % CI ${fmtBytes(t.perHourLow)} to ${fmtBytes(t.perHourHigh)}/h), ${fmtBytes(perInference)} per inference; Mann–Kendall p = ${t.p.toExponential(2)}: a leak.`;
  } else {
    const why = !material
      ? `${fmtBytes(Math.max(0, laterGrowth))} over the last ${seconds(judgedMs)}, under the ${fmtBytes(minGrowth)} a leak must reach`
      : !sustained
        ? `${fmtBytes(laterGrowth)} over the last ${seconds(judgedMs)}, but not in both halves (${fmtBytes(halves[0])}, ${fmtBytes(halves[1])}): a step that stopped`
        : !trending
          ? `${fmtBytes(laterGrowth)} over the last ${seconds(judgedMs)} without a significant upward trend (p = ${t.p.toFixed(3)})`
          : `${fmtBytes(t.perHour)}/h, under the ${fmtBytes(perHourThreshold)}/h threshold`;
    statement = `${what} ${warmText}${warmText ? 'showed' : 'show'} no leak: ${why}. A leak would keep growing in both halves of the later part, by at least ${fmtBytes(minGrowth)} and ${fmtBytes(perHourThreshold)}/h.`;
  }
  return { ...t, series, call: leak ? 'leak' : 'no leak', warmUpGrowthBytes: warmUpGrowth, laterGrowthBytes: laterGrowth, halfGrowthBytes: halves, bytesPerInference: perInference, judgedMs, leak, statement };
}

function driftVerdict(windows: SoakWindow[], threshold: number): DriftVerdict {
  const times = windows.map((w) => w.endMs);
  const p50 = windows.map((w) => w.latency.p50Ns);
  const t = trend(times, p50);
  const base = windows.length ? median(p50) : 0;
  const relative = base > 0 ? t.perHour / base : 0;
  const spanHours = windows.length > 1 ? (windows.at(-1)!.endMs - windows[0]!.endMs) / hour : 0;
  const overRun = relative * spanHours;
  if (windows.length < verdictDefaults.minWindows) {
    return { ...t, call: 'inconclusive', relativeChangePerHour: relative, relativeChangeOverRun: overRun, halves: [0, 0], drifting: false, statement: `Median latency: inconclusive. ${windows.length} windows are too few to tell drift (run at least ${verdictDefaults.minWindows} windows).` };
  }
  // Drift goes on through the run: each half must trend the same way on its own (a step that
  // happens once and holds leaves one half flat, and is reported among the steps instead).
  const h = Math.floor(windows.length / 2);
  const halfTrend = (from: number, to: number): { change: number; p: number } => {
    const ht = trend(times.slice(from, to), p50.slice(from, to));
    const span = (times[to - 1]! - times[from]!) / hour;
    return { change: base > 0 ? (ht.perHour * span) / base : 0, p: ht.p };
  };
  const first = halfTrend(0, h);
  const second = halfTrend(h, windows.length);
  const halves: [number, number] = [first.change, second.change];
  const sameWay = (first.change > 0 && second.change > 0 && t.perHourLow > 0) || (first.change < 0 && second.change < 0 && t.perHourHigh < 0);
  const drifting = t.significant && Math.abs(overRun) >= threshold && sameWay && first.p < 0.05 && second.p < 0.05;
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  const statement = drifting
    ? `Median latency drifts: ${pct(overRun)} over the run (${pct(relative)} per hour; ${pct(halves[0])} in the first half, ${pct(halves[1])} in the second; Mann–Kendall p = ${t.p.toExponential(2)}).`
    : `Median latency: no drift (${pct(overRun)} over the run; ${pct(halves[0])} in the first half, ${pct(halves[1])} in the second; p = ${t.p.toFixed(3)}). Drift needs p < 0.01 over the run, both halves trending the same way (p < 0.05 each), and ${(threshold * 100).toFixed(0)} % over the run.`;
  return { ...t, call: drifting ? 'drifting' : 'steady', relativeChangePerHour: relative, relativeChangeOverRun: overRun, halves, drifting, statement };
}

/** Verdicts from windows (also usable on a file read back with readSoakFile). */
export function soakVerdicts(windows: SoakWindow[], thresholds: LeakThresholds = {}, driftThreshold: number = verdictDefaults.driftThreshold): SoakVerdicts {
  const p50 = windows.map((w) => w.latency.p50Ns);
  const steps = findSteps(p50).map((s) => ({ ...s, atMs: windows[s.at]?.startMs ?? 0 }));
  const live = windows.map((w) => w.runtimeLiveBytes);
  const runtimeMemory = live.every((v): v is number => v !== null)
    ? leakVerdict('runtimeLiveBytes', windows, live, thresholds.runtimeBytesPerHour ?? verdictDefaults.runtimeBytesPerHour, thresholds.runtimeMinGrowthBytes ?? verdictDefaults.runtimeMinGrowthBytes)
    : null;
  const rss = leakVerdict('rssBytes', windows, windows.map((w) => w.rssBytes), thresholds.rssBytesPerHour ?? verdictDefaults.rssBytesPerHour, thresholds.rssMinGrowthBytes ?? verdictDefaults.rssMinGrowthBytes);
  const judged = runtimeMemory ?? rss;
  return { latencyTrend: driftVerdict(windows, driftThreshold), latencySteps: steps, runtimeMemory, rss, leak: judged.leak, leakCall: judged.call };
}
