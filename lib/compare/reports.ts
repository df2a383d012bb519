/**
 * Comparing a report with a baseline. A change needs both statistical significance and a
 * minimum effect size to count: two runs of one configuration always differ a little, and with
 * enough samples any difference is "significant". Latency is judged on the quantiles of
 * contiguous blocks of each run, so that what varies along a run enters the test.
 */
import { readFileSync } from 'node:fs';
import { OptionsError } from '../errors.js';
import { measuredOptions } from '../model/options.js';
import { reportSchemaVersion, type AuditReport } from '../report/json.js';
import { judgeChange } from '../stats/change.js';
import { checkInteger, checkKnownKeys, checkNumber, checkObject } from '../validate.js';

export interface CompareOptions {
  /** Significance the Mann–Whitney test must reach. @default 0.01 */
  alpha?: number;
  /**
   * Smallest relative change of the median (and of throughput and memory) that counts. Two runs of
   * one configuration, each on a freshly opened model, differed by −12 % to +11 % at the median on
   * the development VM (frequency, memory layout, scheduler state): no within-run statistic sees that,
   * and this floor keeps it from being called a regression. @default 0.15
   */
  minEffect?: number;
  /** The same for p99, whose run-to-run spread is wider. @default 0.25 */
  minTailEffect?: number;
  /** Seed of the bootstrap and of the subsample the test uses. @default 1 */
  seed?: number;
}

/** 'inconclusive': a p99 change between two single runs that between-run noise alone can make (see compareReports). */
export type Verdict = 'regression' | 'improvement' | 'unchanged' | 'inconclusive';

export interface MetricComparison {
  metric: string;
  unit: string;
  /** What `baseline` and `current` are, and what the change is the ratio of. */
  statistic: string;
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
  baseline: { createdAt: string; model: string | null; sha256: string | null };
  current: { createdAt: string; model: string | null; sha256: string | null };
  /** Whether both reports are of the same model (by the sha256 of its bytes). */
  sameModel: boolean;
  options: Required<CompareOptions>;
  metrics: MetricComparison[];
  /** True when any metric regressed. */
  regression: boolean;
  /** Differences between the two environments that make the comparison doubtful. */
  warnings: string[];
  /**
   * When both reports have a profile step: per operator type, the profiled time per run in each
   * and the change, ranked by their share of the total change (which operators a change came from).
   */
  operators: OperatorChange[] | null;
}

export interface OperatorChange {
  opType: string;
  baselineNsPerRun: number;
  currentNsPerRun: number;
  changeNs: number;
  /** changeNs over the sum of all operator types' changes (signed). */
  shareOfChange: number;
}

/** Per operator type, the change of profiled time per run between two profiles, largest change first. */
export function operatorChanges(baseline: any, current: any): OperatorChange[] | null {
  if (!baseline?.opTypes || !current?.opTypes) return null;
  const perRun = (p: any): Map<string, number> => new Map(p.opTypes.map((t: any) => [t.opType, t.perRunNs ?? t.totalNs / Math.max(1, p.runs)]));
  const a = perRun(baseline);
  const b = perRun(current);
  const types = [...new Set([...a.keys(), ...b.keys()])];
  const rows = types.map((opType) => ({ opType, baselineNsPerRun: a.get(opType) ?? 0, currentNsPerRun: b.get(opType) ?? 0, changeNs: (b.get(opType) ?? 0) - (a.get(opType) ?? 0), shareOfChange: 0 }));
  const total = rows.reduce((sum, r) => sum + r.changeNs, 0);
  for (const r of rows) r.shareOfChange = total !== 0 ? r.changeNs / total : 0;
  return rows.sort((x, y) => Math.abs(y.changeNs) - Math.abs(x.changeNs) || x.opType.localeCompare(y.opType));
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function samplesOf(report: AuditReport): number[] | null {
  const r = report.steps.latency?.result as any;
  return Array.isArray(r?.samplesNs) && r.samplesNs.length > 0 ? (r.samplesNs as number[]) : null;
}

function quantile(values: readonly number[], percentile: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1))]!;
}

function median(values: readonly number[]): number {
  return quantile(values, 50);
}

/**
 * The quantile of each contiguous block of a run, in run order. Blocks carry what varies along a
 * run (a slow stretch of the machine, a burst of preemption) into the test, which per-sample
 * statistics hide: consecutive samples are not independent.
 */
export function blockQuantiles(samples: readonly number[], percentile: number, minBlockSize: number, maxBlocks = 20): number[] {
  const blocks = Math.min(maxBlocks, Math.floor(samples.length / minBlockSize));
  if (blocks < 1) return [];
  const size = Math.floor(samples.length / blocks);
  return Array.from({ length: blocks }, (_, b) => quantile(samples.slice(b * size, (b + 1) * size), percentile));
}

function latencyMetric(name: string, percentile: number, a: number[], b: number[], o: Required<CompareOptions>): MetricComparison {
  // A block must hold enough samples for its quantile: the p99 of 500 samples is their 5th largest.
  const minBlock = percentile >= 99 ? 500 : 50;
  const blocksA = blockQuantiles(a, percentile, minBlock);
  const blocksB = blockQuantiles(b, percentile, minBlock);
  if (blocksA.length < 5 || blocksB.length < 5) {
    const whole = { baseline: quantile(a, percentile), current: quantile(b, percentile) };
    return {
      metric: name,
      unit: 'ns',
      statistic: `p${percentile} of the whole run`,
      ...whole,
      ratio: whole.current / whole.baseline,
      ratioLow: null,
      ratioHigh: null,
      p: null,
      verdict: 'unchanged',
      reason: `too few samples to judge (${Math.min(blocksA.length, blocksB.length)} blocks of ${minBlock}; 5 needed)`,
    };
  }
  // The values shown are the statistic judged, so that the change column is their ratio.
  const base = {
    metric: name,
    unit: 'ns',
    statistic: `median of ${blocksA.length}/${blocksB.length} block p${percentile}s`,
    baseline: median(blocksA),
    current: median(blocksB),
  };
  const floor = percentile >= 99 ? o.minTailEffect : o.minEffect;
  const change = judgeChange(blocksA, blocksB, { alpha: o.alpha, minEffect: floor, seed: o.seed });
  let verdict: Verdict = change.verdict === 'slower' ? 'regression' : change.verdict === 'faster' ? 'improvement' : 'unchanged';
  const pct = (x: number): string => ((x - 1) * 100).toFixed(1);
  const figures = `${pct(change.ratio)} % (95 % CI ${pct(change.low)} to ${pct(change.high)} %, ${blocksA.length}/${blocksB.length} blocks), p = ${change.p.toExponential(2)}`;
  let reason = verdict !== 'unchanged' ? figures : `${figures}: ${change.reason}`;
  // Two single runs carry no measure of how much the tail moves from one run to the next, which
  // on a shared machine is as large as the floor itself: a tail change under twice the floor is
  // not called either way. compare-models, which interleaves the two, can judge it.
  if (percentile >= 99 && verdict !== 'unchanged' && Math.abs(change.ratio - 1) < 2 * floor) {
    verdict = 'inconclusive';
    reason = `${figures}: between two single runs a p99 change under ${Math.round(2 * floor * 100)} % can be the machine; judge it with compare-models (interleaved A/B)`;
  }
  return { ...base, ratio: change.ratio, ratioLow: change.low, ratioHigh: change.high, p: change.p, verdict, reason };
}

function effectMetric(metric: string, unit: string, statistic: string, baseline: number | null, current: number | null, higherIsWorse: boolean, minEffect: number, minAbsolute = 0): MetricComparison {
  if (baseline === null || current === null) {
    return { metric, unit, statistic, baseline, current, ratio: null, ratioLow: null, ratioHigh: null, p: null, verdict: 'unchanged', reason: 'not in both reports' };
  }
  const ratio = baseline !== 0 ? current / baseline : current === 0 ? 1 : Infinity;
  const change = Math.abs(current - baseline);
  const worse = higherIsWorse ? current > baseline : current < baseline;
  const big = Math.abs(ratio - 1) >= minEffect && change > minAbsolute;
  const verdict: Verdict = big ? (worse ? 'regression' : 'improvement') : 'unchanged';
  return {
    metric,
    unit,
    statistic,
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
  const given = checkObject('options', options) ?? {};
  checkKnownKeys('options', given, ['alpha', 'minEffect', 'minTailEffect', 'seed']);
  checkNumber('options.alpha', given.alpha, 0, 1);
  checkNumber('options.minEffect', given.minEffect, 0);
  checkNumber('options.minTailEffect', given.minTailEffect, 0);
  checkInteger('options.seed', given.seed, 0);
  const o: Required<CompareOptions> = {
    alpha: options.alpha ?? 0.01,
    minEffect: options.minEffect ?? 0.15,
    minTailEffect: options.minTailEffect ?? 0.25,
    seed: options.seed ?? 1,
  };
  const metrics: MetricComparison[] = [];
  const a = samplesOf(baseline);
  const b = samplesOf(current);
  const warnings: string[] = [];
  if (a && b) {
    metrics.push(latencyMetric('latency p50', 50, a, b, o));
    metrics.push(latencyMetric('latency p99', 99, a, b, o));
    const steadyMs = (r: AuditReport): number => ((r.steps.latency?.result as any)?.phases?.steadyState?.durationNs ?? 0) / 1e6;
    const shortest = Math.min(steadyMs(baseline), steadyMs(current));
    if (shortest < 1000) {
      warnings.push(`a latency run lasted only ${shortest.toFixed(0)} ms: a slow stretch of the machine can cover a whole run; compare runs of a second or more`);
    }
  }
  const best = (r: AuditReport): number | null => {
    const levels = (r.steps.throughput?.result as any)?.levels;
    return Array.isArray(levels) && levels.length ? Math.max(...levels.map((l: any) => l.inferencesPerSecond)) : null;
  };
  metrics.push(effectMetric('throughput', 'inferences/s', 'best closed-loop level', best(baseline), best(current), false, o.minEffect));
  const mem = (r: AuditReport, key: 'peakRunBytes' | 'allocations'): number | null => {
    const m = r.steps.memory?.result as any;
    if (!m?.counted) return null;
    return key === 'peakRunBytes' ? m.peakRunBytes : (m.perInference?.allocations ?? null);
  };
  metrics.push(effectMetric('runtime high-water of a run', 'bytes', 'memory step', mem(baseline, 'peakRunBytes'), mem(current, 'peakRunBytes'), true, o.minEffect, 1024));
  metrics.push(effectMetric('allocations per inference', 'allocations', 'memory step', mem(baseline, 'allocations'), mem(current, 'allocations'), true, o.minEffect, 0.5));
  const sameModel = baseline.model.sha256 !== undefined && current.model.sha256 !== undefined
    ? baseline.model.sha256 === current.model.sha256
    : baseline.model.sizeBytes === current.model.sizeBytes && baseline.model.path?.split('/').pop() === current.model.path?.split('/').pop();
  if (!sameModel) {
    const name = (r: AuditReport): string => `${r.model.path?.split('/').pop() ?? `${r.model.runtime} model`} (${r.model.sha256?.slice(0, 12) ?? `${r.model.sizeBytes} bytes`})`;
    warnings.unshift(`the two reports are of different models: ${name(baseline)} vs ${name(current)}; a change may be the model's, not a regression of the same model`);
  }
  const ea = baseline.environment;
  const eb = current.environment;
  if (ea.cpu.model !== eb.cpu.model) warnings.push(`different CPUs: ${ea.cpu.model} vs ${eb.cpu.model}`);
  const rv = (e: AuditReport['environment']): string => e.runtimes.map((r) => `${r.runtime} ${r.version}`).join(', ');
  if (rv(ea) !== rv(eb)) warnings.push(`different runtimes: ${rv(ea)} vs ${rv(eb)}`);
  if (JSON.stringify(measuredOptions(baseline.model.options)) !== JSON.stringify(measuredOptions(current.model.options))) warnings.push('the model was opened with different options');
  for (const m of metrics.filter((x) => x.verdict === 'inconclusive')) warnings.push(`${m.metric}: inconclusive (${m.reason})`);
  return {
    kind: 'comparison',
    baseline: { createdAt: baseline.createdAt, model: baseline.model.path, sha256: baseline.model.sha256 ?? null },
    current: { createdAt: current.createdAt, model: current.model.path, sha256: current.model.sha256 ?? null },
    sameModel,
    options: o,
    metrics,
    regression: metrics.some((m) => m.verdict === 'regression'),
    warnings,
    operators: operatorChanges(baseline.steps.profile?.result, current.steps.profile?.result),
  };
}

export function readReport(path: string): AuditReport {
  let report: AuditReport;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as AuditReport;
  } catch (err) {
    throw new OptionsError(`cannot read the report ${path}: ${(err as Error).message}`, { option: 'report' });
  }
  if (typeof report !== 'object' || report === null || typeof report.steps !== 'object' || report.tool?.name !== 'model-audit') {
    throw new OptionsError(`${path} is not a model-audit report (no "tool": "model-audit" and "steps")`, { option: 'report' });
  }
  const version = report.schemaVersion as number;
  if (version !== 1 && version !== reportSchemaVersion) {
    throw new OptionsError(`${path} is a model-audit report of schema version ${version}; this model-audit reads versions 1 to ${reportSchemaVersion}`, { option: 'report' });
  }
  return report;
}
