/**
 * Reading a history: the stored metric rows grouped into series (one model, runtime, machine kind,
 * open options and inputs, metric and input class), the steps in each series, and the check of
 * the latest run against the runs before it.
 *
 * The rules, whose false-alarm rate and power bench/history.mjs measures on real audits:
 * - change points: binary segmentation with the Mann–Whitney test (`findSteps`), each side at
 *   least `minSegment` runs, p < `alpha`, and the medians apart by at least the metric's noise
 *   floor, which is compare's (15 %, 25 % for p99): two single runs' medians differ by up to ±12 %
 *   on a shared machine, and a cloud VM's runs can land in a slow state for a whole run;
 * - the latest run (`checkLatest`): the last 5 runs together against the runs before them, a change
 *   that persists; a single run is not judged alone, since a cloud VM's runs now and then land in
 *   a slow state as slow as a 30–50 % regression. See checkLatest.
 */
import { findSteps, mannWhitney } from '../stats/trend.js';
import { metricRules, type MetricName } from './metrics.js';
import type { HistoryPoint } from './store.js';

export interface HistoryRule {
  /** Smallest relative change of a median, throughput or memory metric that counts (compare's `minEffect`). @default 0.15 */
  minEffect: number;
  /** The same for p99 (compare's `minTailEffect`). @default 0.25 */
  minTailEffect: number;
  /** Runs a step needs on each side. @default 5 */
  minSegment: number;
  /** Significance a step needs (Mann–Whitney, two-sided). @default 0.01 */
  alpha: number;
  /** Significance the last `recentRuns` runs need against the runs before them (Mann–Whitney, one-sided). @default 0.001 */
  recentAlpha: number;
  /** Most runs the latest is judged against. @default 30 */
  lookback: number;
  /**
   * Fewest earlier runs the latest can be judged against. A machine's runs can land in a slow state
   * for minutes (a cloud VM's neighbours): on the development VM the first such stretch came after
   * 11 fast runs, and every rule judged it a regression until the history had seen one. @default 20
   */
  minHistory: number;
  /** How many of the last runs the persistence test takes together. @default 5 */
  recentRuns: number;
}

export const historyRuleDefaults: Readonly<HistoryRule> = { minEffect: 0.15, minTailEffect: 0.25, minSegment: 5, alpha: 0.01, recentAlpha: 0.001, lookback: 30, minHistory: 20, recentRuns: 5 };

export interface SeriesPoint {
  runId: number;
  createdAt: string;
  gitCommit: string | null;
  gitBranch: string | null;
  modelSha256: string;
  runtimeVersion: string;
  value: number;
}

export interface ChangePoint {
  /** Index in the series of the first run after the step. */
  index: number;
  runId: number;
  createdAt: string;
  gitCommit: string | null;
  beforeMedian: number;
  afterMedian: number;
  /** (after − before) / before. */
  relativeChange: number;
  p: number;
  direction: 'regression' | 'improvement';
}

export type LatestVerdict = 'regression' | 'improvement' | 'unchanged' | 'not-enough-history';

export interface LatestCheck {
  /**
   * Regression or improvement when the last `recentRuns` runs are (see checkLatest), or when a
   * step not yet the baseline is. A single run is not judged alone: on the development VM 3 to 36
   * runs in 120 landed in a slow state for their whole length, as slow as a 30–50 % regression
   * (bench/README.md, section 13).
   */
  verdict: LatestVerdict;
  value: number;
  /** The latest run against the runs before it, for the table: not a verdict. */
  latestRun: {
    baselineRuns: number;
    baselineMedian: number | null;
    /** latest / baseline median. */
    ratio: number | null;
    /** Whether it is worse than every one of those runs by more than the floor: one to look at. */
    beyondWorst: boolean;
  };
  recentRuns: {
    runs: number;
    baselineRuns: number;
    /** median of the recent runs / median of the runs before them. */
    ratio: number | null;
    /** One-sided Mann–Whitney p-value, in the direction the medians moved. */
    p: number | null;
  };
  /** When the verdict is a change and a step in its direction was found: the commit it began at. */
  since: { gitCommit: string | null; createdAt: string; index: number } | null;
  reason: string;
}

export interface Series {
  /** model · runtime · machine · options · metric · input class. */
  key: string;
  modelName: string;
  runtime: string;
  machineId: string;
  machineLabel: string | null;
  cpuModel: string;
  seriesKey: string;
  metric: MetricName;
  inputClass: string;
  unit: string;
  points: SeriesPoint[];
  changePoints: ChangePoint[];
  latest: LatestCheck;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function floorOf(metric: MetricName, rule: HistoryRule): number {
  return metricRules[metric]?.floor === 'tail' ? rule.minTailEffect : rule.minEffect;
}

function worseDirection(metric: MetricName, change: number): 'regression' | 'improvement' {
  const higherIsWorse = (metricRules[metric]?.worse ?? 'higher') === 'higher';
  return change > 0 === higherIsWorse ? 'regression' : 'improvement';
}

/** The steps of one series under the rule. */
export function changePoints(values: readonly number[], metric: MetricName, rule: HistoryRule = historyRuleDefaults): Omit<ChangePoint, 'runId' | 'createdAt' | 'gitCommit'>[] {
  const minAbsolute = metricRules[metric]?.minAbsolute ?? 0;
  return findSteps(values, { minSegment: rule.minSegment, alpha: rule.alpha, minRelativeChange: floorOf(metric, rule) })
    .filter((s) => Math.abs(s.afterMedian - s.beforeMedian) > minAbsolute)
    .map((s) => ({ index: s.at, beforeMedian: s.beforeMedian, afterMedian: s.afterMedian, relativeChange: s.relativeChange, p: s.p, direction: worseDirection(metric, s.relativeChange) }));
}

/**
 * The runs a judgement of `prefix`'s end compares with: those since the last step in it when
 * there are `minHistory` of them, else the level before that step (so that a regression stays one
 * until the new level has runs enough), at most `lookback` of the latest.
 */
function baselineOf(prefix: readonly number[], steps: readonly { index: number }[], rule: HistoryRule): number[] {
  const inside = steps.filter((s) => s.index < prefix.length).map((s) => s.index);
  const last = inside[inside.length - 1];
  let baseline = last === undefined ? [...prefix] : prefix.slice(last);
  if (baseline.length < rule.minHistory && last !== undefined) baseline = prefix.slice(inside[inside.length - 2] ?? 0, last);
  return baseline.slice(-rule.lookback);
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;

/**
 * The latest run of a series, given the steps found in it: the last `recentRuns` runs against up to
 * `lookback` runs before them (see baselineOf) are a regression (or an improvement) when a
 * one-sided Mann–Whitney test gives p < `recentAlpha` and every one of them is worse (better) than
 * those runs' median by more than the floor and the metric's smallest unit (a machine that spends
 * a few minutes in a slow state mixes fast runs into such a stretch; a regression of the model
 * does not); or, except for p99, when a step with p < `recentAlpha` and `minHistory` runs before it
 * was found in the last `minHistory` runs.
 */
export function checkLatest(values: readonly number[], metric: MetricName, steps: readonly (Pick<ChangePoint, 'index' | 'direction'> & Partial<Pick<ChangePoint, 'gitCommit' | 'createdAt' | 'relativeChange' | 'p'>>)[], rule: HistoryRule = historyRuleDefaults): LatestCheck {
  const value = values[values.length - 1]!;
  const floor = floorOf(metric, rule);
  const higherIsWorse = (metricRules[metric]?.worse ?? 'higher') === 'higher';
  const minAbsolute = metricRules[metric]?.minAbsolute ?? 0;

  const before = baselineOf(values.slice(0, -1), steps, rule);
  const m0 = before.length ? median(before) : null;
  const worst = before.length ? (higherIsWorse ? Math.max(...before) : Math.min(...before)) : null;
  const latestRun: LatestCheck['latestRun'] = {
    baselineRuns: before.length,
    baselineMedian: m0,
    ratio: m0 === null ? null : m0 !== 0 ? value / m0 : value === 0 ? 1 : Infinity,
    beyondWorst: worst !== null && before.length >= rule.minHistory && (higherIsWorse ? value > worst * (1 + floor) : value < worst / (1 + floor)) && Math.abs(value - worst) > minAbsolute,
  };

  const k = rule.recentRuns;
  const base = values.length > k ? baselineOf(values.slice(0, -k), steps, rule) : [];
  if (base.length < rule.minHistory) {
    return {
      verdict: 'not-enough-history',
      value,
      latestRun,
      recentRuns: { runs: Math.min(k, values.length), baselineRuns: base.length, ratio: null, p: null },
      since: null,
      reason: `${base.length} runs before the last ${k}; ${rule.minHistory} needed`,
    };
  }
  const recent = values.slice(-k);
  const m = median(base);
  const up = median(recent) >= m;
  const ratio = m !== 0 ? median(recent) / m : median(recent) === m ? 1 : Infinity;
  const test = mannWhitney(base, recent);
  // One-sided, in the direction the medians moved (z < 0: the recent runs rank higher).
  const p = up === (test.z <= 0) ? test.p / 2 : 1 - test.p / 2;
  const beyond = (v: number): boolean => (up ? v > m * (1 + floor) : v < m / (1 + floor)) && Math.abs(v - m) > minAbsolute;
  const everyOne = recent.every(beyond);
  let verdict: LatestVerdict = p < rule.recentAlpha && everyOne ? worseDirection(metric, up ? 1 : -1) : 'unchanged';
  // A step the series took recently (p < recentAlpha), with a full history before it, whose new
  // level is not yet the baseline: the change the step detector sees over ten runs or so, before
  // each of five runs is beyond the floor. Not for the tail: a machine's p99 rises for ten runs at
  // a time by 30-60 % (bench/README.md, section 13), which a step cannot tell from a regression.
  const open = metricRules[metric]?.floor === 'tail' ? undefined : [...steps].reverse().find((st) => st.index >= rule.minHistory && values.length - st.index < rule.minHistory && (st.p ?? 0) < rule.recentAlpha);
  const byStep = verdict === 'unchanged' && open !== undefined;
  if (byStep) verdict = open.direction;
  const step = verdict === 'unchanged' ? undefined : [...steps].reverse().find((st) => st.direction === verdict && st.index >= values.length - k - rule.minHistory);
  const since = step ? { gitCommit: step.gitCommit ?? null, createdAt: step.createdAt ?? '', index: step.index } : null;
  const figures = `the last ${k} runs ${Number.isFinite(ratio) ? pct(ratio - 1) : `at ${median(recent)}, up from 0,`} against the median of the ${base.length} before them, p = ${p.toPrecision(2)}`;
  const stepWords = (st: (typeof steps)[number]): string => `${st.gitCommit?.slice(0, 10) ?? st.createdAt ?? `run ${st.index}`}, ${values.length - st.index} runs ago`;
  const why = byStep
    ? `the series stepped ${open.relativeChange !== undefined ? `${pct(open.relativeChange)} ` : ''}at ${stepWords(open)} (Mann–Whitney p < ${rule.recentAlpha}, beyond the ${(floor * 100).toFixed(0)} % floor); ${figures}`
    : verdict !== 'unchanged'
    ? `${figures}, every one of them beyond the ${(floor * 100).toFixed(0)} % floor${since ? `; the step began at ${since.gitCommit?.slice(0, 10) ?? since.createdAt}` : ''}`
    : `${figures} (${p >= rule.recentAlpha ? `p not under ${rule.recentAlpha}` : `not every one of them beyond the ${(floor * 100).toFixed(0)} % floor`})`;
  const note = latestRun.beyondWorst && verdict === 'unchanged' ? `; the latest run alone is worse than every one of the ${before.length} before it by the floor: look again after the next runs` : '';
  return { verdict, value, latestRun, recentRuns: { runs: k, baselineRuns: base.length, ratio, p }, since, reason: why + note };
}

/** The metric rows grouped into series, each with its steps and the check of its latest run. */
export function analyseHistory(points: readonly HistoryPoint[], options: Partial<HistoryRule> = {}): Series[] {
  const rule: HistoryRule = { ...historyRuleDefaults, ...options };
  const groups = new Map<string, HistoryPoint[]>();
  for (const p of points) {
    const key = [p.modelName, p.runtime, p.machineId, p.seriesKey, p.metric, p.inputClass].join(' · ');
    const list = groups.get(key);
    if (list) list.push(p);
    else groups.set(key, [p]);
  }
  const series: Series[] = [];
  for (const [key, list] of groups) {
    list.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id);
    const first = list[0]!;
    const values = list.map((p) => p.value);
    const steps = changePoints(values, first.metric, rule).map((s) => ({ ...s, runId: list[s.index]!.id, createdAt: list[s.index]!.createdAt, gitCommit: list[s.index]!.gitCommit }));
    series.push({
      key,
      modelName: first.modelName,
      runtime: first.runtime,
      machineId: first.machineId,
      machineLabel: list[list.length - 1]!.machineLabel,
      cpuModel: first.cpuModel,
      seriesKey: first.seriesKey,
      metric: first.metric,
      inputClass: first.inputClass,
      unit: first.unit,
      points: list.map((p) => ({ runId: p.id, createdAt: p.createdAt, gitCommit: p.gitCommit, gitBranch: p.gitBranch, modelSha256: p.modelSha256, runtimeVersion: p.runtimeVersion, value: p.value })),
      changePoints: steps,
      latest: checkLatest(values, first.metric, steps, rule),
    });
  }
  return series.sort((a, b) => a.key.localeCompare(b.key));
}
