/**
 * Comparing a report with a baseline. A change needs both statistical significance and a
 * minimum effect size to count: two runs of one configuration always differ a little, and with
 * enough samples any difference is "significant".
 */
import { readFileSync } from 'node:fs';
import { OptionsError } from '../errors.js';
import type { AuditReport } from '../report/json.js';
import { bootstrapQuantileRatio } from '../stats/bootstrap.js';
import { mannWhitney } from '../stats/trend.js';
import { SeededRandom } from '../tensor.js';

export interface CompareOptions {
  /** Significance the Mann–Whitney test must reach. @default 0.01 */
  alpha?: number;
  /**
   * Smallest relative change that counts (0.10: 10 %). Two runs of one configuration on one
   * machine differ by a few percent at the median (frequency, cache and scheduler state), which
   * no within-run statistic sees; this floor keeps such drift from being called a regression.
   * @default 0.1
   */
  minEffect?: number;
  /** Seed of the bootstrap and of the subsample the test uses. @default 1 */
  seed?: number;
}

export type Verdict = 'regression' | 'improvement' | 'unchanged';

export interface MetricComparison {
  metric: string;
  unit: string;
  baseline: number | null;
  current: number | null;
  /** current / baseline. */
  ratio: number | null;
  /** 95 % bootstrap interval of the ratio (latency quantiles only). */
  ratioLow: number | null;
  ratioHigh: number | null;
  /** Mann–Whitney p-value (latency only). */
  p: number | null;
  verdict: Verdict;
  reason: string;
}

export interface Comparison {
  kind: 'comparison';
  baseline: { createdAt: string; model: string | null };
  current: { createdAt: string; model: string | null };
  options: Required<CompareOptions>;
  metrics: MetricComparison[];
  /** True when any metric regressed. */
  regression: boolean;
  /** Differences between the two environments that make the comparison doubtful. */
  warnings: string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function samplesOf(report: AuditReport): number[] | null {
  const r = report.steps.latency?.result as any;
  return Array.isArray(r?.samplesNs) && r.samplesNs.length > 0 ? (r.samplesNs as number[]) : null;
}

function thin(values: number[], size: number, seed: number): number[] {
  if (values.length <= size) return values;
  const random = new SeededRandom(seed);
  return Array.from({ length: size }, () => values[random.nextInt(0, values.length - 1)]!);
}

function latencyMetric(name: string, percentile: number, a: number[], b: number[], o: Required<CompareOptions>): MetricComparison {
  const interval = bootstrapQuantileRatio(a, b, percentile, { seed: o.seed });
  // Samples of one run are not independent (they drift together); a large n makes the test
  // over-confident, so it sees a subsample, and the effect size carries the decision.
  const test = mannWhitney(thin(a, 2000, o.seed), thin(b, 2000, o.seed + 1));
  const slower = interval.low > 1 && interval.ratio >= 1 + o.minEffect;
  const faster = interval.high < 1 && interval.ratio <= 1 - o.minEffect;
  const significant = test.p < o.alpha;
  const verdict: Verdict = significant && slower ? 'regression' : significant && faster ? 'improvement' : 'unchanged';
  const pct = ((interval.ratio - 1) * 100).toFixed(1);
  const reason =
    verdict === 'unchanged'
      ? `${pct} % (95 % CI ${((interval.low - 1) * 100).toFixed(1)} to ${((interval.high - 1) * 100).toFixed(1)} %), p = ${test.p.toExponential(2)}: ${!significant ? 'not significant' : `below the ${o.minEffect * 100} % minimum effect`}`
      : `${pct} % (95 % CI ${((interval.low - 1) * 100).toFixed(1)} to ${((interval.high - 1) * 100).toFixed(1)} %), p = ${test.p.toExponential(2)}`;
  const q = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.max(0, Math.ceil((percentile / 100) * xs.length) - 1)]!;
  return { metric: name, unit: 'ns', baseline: q(a), current: q(b), ratio: interval.ratio, ratioLow: interval.low, ratioHigh: interval.high, p: test.p, verdict, reason };
}

function effectMetric(metric: string, unit: string, baseline: number | null, current: number | null, higherIsWorse: boolean, minEffect: number, minAbsolute = 0): MetricComparison {
  if (baseline === null || current === null) {
    return { metric, unit, baseline, current, ratio: null, ratioLow: null, ratioHigh: null, p: null, verdict: 'unchanged', reason: 'not in both reports' };
  }
  const ratio = baseline !== 0 ? current / baseline : current === 0 ? 1 : Infinity;
  const change = Math.abs(current - baseline);
  const worse = higherIsWorse ? current > baseline : current < baseline;
  const big = Math.abs(ratio - 1) >= minEffect && change > minAbsolute;
  const verdict: Verdict = big ? (worse ? 'regression' : 'improvement') : 'unchanged';
  return {
    metric,
    unit,
    baseline,
    current,
    ratio,
    ratioLow: null,
    ratioHigh: null,
    p: null,
    verdict,
    reason: `${((ratio - 1) * 100).toFixed(1)} %${big ? '' : ` (below the ${minEffect * 100} % minimum effect)`}`,
  };
}

export function compareReports(baseline: AuditReport, current: AuditReport, options: CompareOptions = {}): Comparison {
  const o: Required<CompareOptions> = { alpha: options.alpha ?? 0.01, minEffect: options.minEffect ?? 0.1, seed: options.seed ?? 1 };
  const metrics: MetricComparison[] = [];
  const a = samplesOf(baseline);
  const b = samplesOf(current);
  if (a && b) {
    metrics.push(latencyMetric('latency p50', 50, a, b, o));
    metrics.push(latencyMetric('latency p99', 99, a, b, o));
  }
  const best = (r: AuditReport): number | null => {
    const levels = (r.steps.throughput?.result as any)?.levels;
    return Array.isArray(levels) && levels.length ? Math.max(...levels.map((l: any) => l.inferencesPerSecond)) : null;
  };
  metrics.push(effectMetric('throughput', 'inferences/s', best(baseline), best(current), false, o.minEffect));
  const mem = (r: AuditReport, key: 'peakRunBytes' | 'allocations'): number | null => {
    const m = r.steps.memory?.result as any;
    if (!m?.counted) return null;
    return key === 'peakRunBytes' ? m.peakRunBytes : (m.perInference?.allocations ?? null);
  };
  metrics.push(effectMetric('runtime high-water of a run', 'bytes', mem(baseline, 'peakRunBytes'), mem(current, 'peakRunBytes'), true, o.minEffect, 1024));
  metrics.push(effectMetric('allocations per inference', 'allocations', mem(baseline, 'allocations'), mem(current, 'allocations'), true, o.minEffect, 0.5));
  const warnings: string[] = [];
  const ea = baseline.environment;
  const eb = current.environment;
  if (ea.cpu.model !== eb.cpu.model) warnings.push(`different CPUs: ${ea.cpu.model} vs ${eb.cpu.model}`);
  const rv = (e: AuditReport['environment']): string => e.runtimes.map((r) => `${r.runtime} ${r.version}`).join(', ');
  if (rv(ea) !== rv(eb)) warnings.push(`different runtimes: ${rv(ea)} vs ${rv(eb)}`);
  if (JSON.stringify(baseline.model.options) !== JSON.stringify(current.model.options)) warnings.push('the model was opened with different options');
  return {
    kind: 'comparison',
    baseline: { createdAt: baseline.createdAt, model: baseline.model.path },
    current: { createdAt: current.createdAt, model: current.model.path },
    options: o,
    metrics,
    regression: metrics.some((m) => m.verdict === 'regression'),
    warnings,
  };
}

export function readReport(path: string): AuditReport {
  let report: AuditReport;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as AuditReport;
  } catch (err) {
    throw new OptionsError(`cannot read the report ${path}: ${(err as Error).message}`, { option: 'report' });
  }
  if (report?.schemaVersion !== 1 || typeof report.steps !== 'object') {
    throw new OptionsError(`${path} is not a model-audit report (schemaVersion 1)`, { option: 'report' });
  }
  return report;
}
