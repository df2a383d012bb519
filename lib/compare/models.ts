/**
 * compareModels(): an A/B comparison of two models in one process, timed in interleaved rounds on
 * the same inputs, so that what the machine does between and during the runs hits both alike. The
 * verdict is judged on the per-round ratios (compare's rule, paired by round); this is how to
 * decide whether a candidate model is slower before swapping it in, which two reports from two
 * runs cannot tell as sharply.
 */
import { inputOptionKeys, measurementFeeds, validateInputOptions, type InputDescription, type InputOptions } from '../inputs/feed-sets.js';
import { sessionOf } from '../model/access.js';
import type { Model, ModelDescription } from '../model/model.js';
import { measuredOptions } from '../model/options.js';
import { checkRoundsReachAlpha, interleavedRounds } from '../measure/rounds.js';
import { judgePairedChange, type Change } from '../stats/change.js';
import { percentileOfSorted, sortedCopy } from '../stats/summary.js';
import { environment, type Environment } from '../system/environment.js';
import { checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject } from '../validate.js';
import type { Verdict } from './reports.js';

export interface CompareModelsOptions extends InputOptions {
  /** Rounds; each times both models once, in a new seeded order. @default 20 */
  rounds?: number;
  /** Timed steady state of one model in one round. @default 100 */
  roundMs?: number;
  /** Untimed inferences before each model's turn in a round. @default 20 */
  warmupIterations?: number;
  /** Pin the measuring thread. @default not pinned */
  cpu?: number;
  /** Significance the signed-rank test must reach. @default 0.01 */
  alpha?: number;
  /** Smallest relative change of the median that counts. @default 0.05 */
  minEffect?: number;
  /** The same for p99. @default 0.10 */
  minTailEffect?: number;
}

export const compareModelsDefaults = Object.freeze({ rounds: 20, roundMs: 100, warmupIterations: 20, alpha: 0.01, minEffect: 0.05, minTailEffect: 0.1, seed: 1 });

export interface PairedMetric {
  metric: 'latency p50' | 'latency p99';
  /** Median over rounds of each model's per-round quantile. */
  baselineNs: number;
  candidateNs: number;
  /** Per-round quantiles, in round order. */
  baselineRoundsNs: number[];
  candidateRoundsNs: number[];
  /** The median of the per-round ratios candidate / baseline, its interval and p. */
  change: Change;
  verdict: Verdict;
  reason: string;
}

export interface ModelComparison {
  kind: 'model-comparison';
  baseline: ModelDescription;
  candidate: ModelDescription;
  /** What both ran on (the same feed sets when their inputs agree). */
  inputs: { baseline: InputDescription; candidate: InputDescription; shared: boolean };
  rule: { rounds: number; roundMs: number; alpha: number; minEffect: number; minTailEffect: number };
  metrics: PairedMetric[];
  regression: boolean;
  statement: string;
  warnings: string[];
  environment: Environment;
}

const keys = [...inputOptionKeys, 'rounds', 'roundMs', 'warmupIterations', 'cpu', 'alpha', 'minEffect', 'minTailEffect'];

function sameInputs(a: Model, b: Model): boolean {
  return a.inputs.length === b.inputs.length && a.inputs.every((x, i) => {
    const y = b.inputs[i]!;
    return x.name === y.name && x.dtype === y.dtype && JSON.stringify(x.shape) === JSON.stringify(y.shape);
  });
}

function roundQuantiles(rounds: Float64Array[], percentile: number): number[] {
  return rounds.map((r) => percentileOfSorted(sortedCopy(r), percentile));
}

function median(values: readonly number[]): number {
  return percentileOfSorted(sortedCopy(values), 50);
}

/**
 * Times `baseline` and `candidate` in interleaved rounds on the same inputs and judges the
 * candidate's p50 and p99 against the baseline's. Takes about rounds × 2 × roundMs.
 */
export async function compareModels(baseline: Model, candidate: Model, options: CompareModelsOptions = {}): Promise<ModelComparison> {
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, keys);
  const d = compareModelsDefaults;
  const rule = {
    rounds: checkInteger('options.rounds', o.rounds, 8, 10_000) ?? d.rounds,
    roundMs: checkNumber('options.roundMs', o.roundMs, 1) ?? d.roundMs,
    alpha: checkNumber('options.alpha', o.alpha, 0, 1) ?? d.alpha,
    minEffect: checkNumber('options.minEffect', o.minEffect, 0) ?? d.minEffect,
    minTailEffect: checkNumber('options.minTailEffect', o.minTailEffect, 0) ?? d.minTailEffect,
  };
  checkRoundsReachAlpha(rule.rounds, rule.alpha, 'options.rounds');
  const warmupIterations = checkInteger('options.warmupIterations', o.warmupIterations, 0) ?? d.warmupIterations;
  const cpu = checkCpu('options.cpu', o.cpu) ?? null;
  const inputOptions = validateInputOptions(o, 'options');
  const a = measurementFeeds(baseline, inputOptions, 'options');
  const shared = sameInputs(baseline, candidate);
  const b = shared ? a : measurementFeeds(candidate, inputOptions, 'options');
  const warnings: string[] = [];
  if (!shared) warnings.push('the two models take different inputs: each ran on its own, drawn from the same options and seed');
  if (baseline.runtime !== candidate.runtime) warnings.push(`different runtimes: ${baseline.runtime} and ${candidate.runtime}`);
  if (JSON.stringify(measuredOptions(baseline.options)) !== JSON.stringify(measuredOptions(candidate.options))) warnings.push('the models were opened with different options');
  const run = await interleavedRounds(
    [
      { key: 'baseline', session: sessionOf(baseline), feedSets: a.feedSets },
      { key: 'candidate', session: sessionOf(candidate), feedSets: b.feedSets },
    ],
    { rounds: rule.rounds, roundMs: rule.roundMs, warmupIterations, cpu },
    inputOptions.seed ?? d.seed,
  );
  const metrics: PairedMetric[] = ([['latency p50', 50, rule.minEffect], ['latency p99', 99, rule.minTailEffect]] as const).map(([metric, percentile, floor]) => {
    const base = roundQuantiles(run.perRound('baseline'), percentile);
    const cand = roundQuantiles(run.perRound('candidate'), percentile);
    const change = judgePairedChange(base, cand, { alpha: rule.alpha, minEffect: floor, seed: d.seed });
    const verdict: Verdict = change.verdict === 'slower' ? 'regression' : change.verdict === 'faster' ? 'improvement' : 'unchanged';
    const pct = (x: number): string => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)} %`;
    const figures = `${pct(change.ratio)} (95 % CI ${pct(change.low)} to ${pct(change.high)}, ${rule.rounds} paired rounds), p = ${change.p.toExponential(2)}`;
    return { metric, baselineNs: median(base), candidateNs: median(cand), baselineRoundsNs: base, candidateRoundsNs: cand, change, verdict, reason: verdict === 'unchanged' ? `${figures}: ${change.reason}` : figures };
  });
  const regression = metrics.some((m) => m.verdict === 'regression');
  const worse = metrics.filter((m) => m.verdict === 'regression');
  const statement = regression
    ? `The candidate is slower: ${worse.map((m) => `${m.metric} ${m.reason}`).join('; ')}.`
    : `No regression: ${metrics.map((m) => `${m.metric} ${m.verdict} (${m.reason})`).join('; ')}.`;
  return {
    kind: 'model-comparison',
    baseline: baseline.describe(),
    candidate: candidate.describe(),
    inputs: { baseline: a.description, candidate: b.description, shared },
    rule,
    metrics,
    regression,
    statement,
    warnings,
    environment: environment([baseline.library, ...(candidate.library.libraryPath === baseline.library.libraryPath ? [] : [candidate.library])]),
  };
}
