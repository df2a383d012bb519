/**
 * Reading a history: the stored metric rows grouped into series (one model, runtime, machine kind,
 * open options and inputs, metric and input class), the steps in each series, and the check of
 * the latest run against the runs before it.
 *
 * The rules, whose false-alarm rate and power bench/history.mjs measures on real audits:
 * - change points: binary segmentation with the Mann–Whitney test (`findSteps`), each side at
 *   least `minSegment` runs, p < `alpha`, and the medians apart by at least the metric's noise
 *   floor, which is compare's: a single run's median moves by up to ±12 % from one run to the next
 *   on a shared machine, its p99 further;
 * - the latest run: against the median of up to `lookback` runs before it (those since the last
 *   step, when there are at least `minHistory` of them, else those before the step), it is a
 *   regression when it is worse by more than the floor and by more than `spreadFactor` robust
 *   standard deviations (1.4826 × MAD) of those runs, and by more than the metric's smallest unit.
 */
import { findSteps } from '../stats/trend.js';
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
  /** Most runs the latest is judged against. @default 30 */
  lookback: number;
  /** Fewest earlier runs the latest can be judged against. @default 5 */
  minHistory: number;
  /** How many robust standard deviations of the earlier runs a change must also exceed. @default 4 */
  spreadFactor: number;
}

export const historyRuleDefaults: Readonly<HistoryRule> = { minEffect: 0.15, minTailEffect: 0.25, minSegment: 5, alpha: 0.01, lookback: 30, minHistory: 5, spreadFactor: 4 };

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

export interface LatestCheck {
  verdict: 'regression' | 'improvement' | 'unchanged' | 'not-enough-history';
  value: number;
  /** The median of the runs it was judged against, and their robust standard deviation. */
  baselineMedian: number | null;
  baselineSpread: number | null;
  /** How many runs, and the relative change that counted as one. */
  baselineRuns: number;
  thresholdRelative: number | null;
  /** latest / baseline median. */
  ratio: number | null;
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

/** 1.4826 × the median absolute deviation: the standard deviation of a normal sample, robust to outliers. */
function robustSpread(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
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

/** The latest value against the ones before it, given the steps found in the series. */
export function checkLatest(values: readonly number[], metric: MetricName, steps: readonly { index: number }[], rule: HistoryRule = historyRuleDefaults): LatestCheck {
  const value = values[values.length - 1]!;
  const earlier = values.slice(0, -1);
  const lastStep = [...steps].reverse().find((s) => s.index < values.length - 1);
  // Since the last step when it has enough runs; else the level before it, so that a regression
  // stays one until the new level has the runs to be judged on.
  let baseline = lastStep ? earlier.slice(lastStep.index) : earlier;
  if (baseline.length < rule.minHistory && lastStep) {
    const previous = [...steps].reverse().find((s) => s.index < lastStep.index);
    baseline = earlier.slice(previous?.index ?? 0, lastStep.index);
  }
  baseline = baseline.slice(-rule.lookback);
  if (baseline.length < rule.minHistory) {
    return { verdict: 'not-enough-history', value, baselineMedian: null, baselineSpread: null, baselineRuns: baseline.length, thresholdRelative: null, ratio: null, reason: `${baseline.length} earlier runs; ${rule.minHistory} needed` };
  }
  const m = median(baseline);
  const spread = robustSpread(baseline);
  const floor = floorOf(metric, rule);
  const threshold = m !== 0 ? Math.max(floor, (rule.spreadFactor * spread) / Math.abs(m)) : floor;
  const ratio = m !== 0 ? value / m : value === 0 ? 1 : Infinity;
  const change = ratio - 1;
  const big = Math.abs(change) > threshold && Math.abs(value - m) > (metricRules[metric]?.minAbsolute ?? 0);
  const verdict = big ? worseDirection(metric, change) : 'unchanged';
  const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
  const reason = `${pct(change)} against the median of ${baseline.length} earlier runs; ${big ? 'beyond' : 'within'} ±${(threshold * 100).toFixed(1)} % (the larger of the ${(floor * 100).toFixed(0)} % floor and ${rule.spreadFactor} robust SDs)`;
  return { verdict, value, baselineMedian: m, baselineSpread: spread, baselineRuns: baseline.length, thresholdRelative: threshold, ratio, reason };
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
