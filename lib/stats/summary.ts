/**
 * Latency statistics computed from every sample, exactly. Percentiles use the nearest-rank
 * definition, so each one is a latency that was actually observed.
 */

/** A distribution-free 95 % confidence interval for a quantile, from order statistics. */
export interface QuantileInterval {
  lowNs: number;
  highNs: number;
  /** Coverage actually reached with the two ranks chosen (at least 0.95 unless `clipped`). */
  coverage: number;
  /** True when there were too few samples to reach 95 % inside the data (the bound is min or max). */
  clipped: boolean;
}

export interface LatencySummary {
  count: number;
  minNs: number;
  meanNs: number;
  /** Sample standard deviation (n − 1). */
  stddevNs: number;
  p50Ns: number;
  p90Ns: number;
  p95Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  p50IntervalNs: QuantileInterval;
  p99IntervalNs: QuantileInterval;
}

/** Sorted copy of the samples (ascending). */
export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  const sorted = Float64Array.from(samples);
  sorted.sort();
  return sorted;
}

/** Nearest-rank percentile of ascending samples: the smallest value with at least p % at or below it. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1]!;
}

/**
 * 1-based ranks [l, u] such that P(X(l) ≤ ξq ≤ X(u)) ≥ level for the q-quantile ξq, from the exact
 * binomial distribution of the number of samples below ξq.
 */
export function quantileIntervalRanks(n: number, q: number, level = 0.95): { low: number; high: number; coverage: number; clipped: boolean } {
  if (n <= 0) return { low: 0, high: 0, coverage: 0, clipped: true };
  const tail = (1 - level) / 2;
  // cdf[k] = P(B ≤ k), B ~ Binomial(n, q), accumulated in log space so large n does not underflow.
  const logRatio = Math.log(q) - Math.log1p(-q);
  let logPmf = n * Math.log1p(-q);
  const cdf = new Float64Array(n + 1);
  let acc = 0;
  for (let k = 0; k <= n; k++) {
    acc += Math.exp(logPmf);
    cdf[k] = Math.min(1, acc);
    logPmf += Math.log((n - k) / (k + 1)) + logRatio;
  }
  // X(l) ≤ ξ exactly when B ≥ l, and ξ ≤ X(u) when B ≤ u − 1:
  // P(X(l) ≤ ξ ≤ X(u)) = P(l ≤ B ≤ u − 1) = cdf[u − 1] − cdf[l − 1].
  let low = 1;
  for (let l = 1; l <= n; l++) {
    if (cdf[l - 1]! <= tail) low = l;
    else break;
  }
  let high = n;
  for (let u = 1; u <= n; u++) {
    if (cdf[u - 1]! >= 1 - tail) {
      high = u;
      break;
    }
  }
  const coverage = cdf[high - 1]! - cdf[low - 1]!;
  return { low, high, coverage: Math.max(0, Math.min(1, coverage)), clipped: coverage < level - 1e-12 };
}

function intervalOfSorted(sorted: Float64Array, q: number): QuantileInterval {
  const { low, high, coverage, clipped } = quantileIntervalRanks(sorted.length, q);
  if (sorted.length === 0) return { lowNs: NaN, highNs: NaN, coverage: 0, clipped: true };
  return { lowNs: sorted[low - 1]!, highNs: sorted[high - 1]!, coverage, clipped };
}

/** Summary of latency samples in nanoseconds. */
export function summarize(samplesNs: ArrayLike<number>): LatencySummary {
  const sorted = sortedCopy(samplesNs);
  const n = sorted.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = n > 0 ? sum / n : NaN;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (sorted[i]! - mean) ** 2;
  return {
    count: n,
    minNs: n > 0 ? sorted[0]! : NaN,
    meanNs: mean,
    stddevNs: n > 1 ? Math.sqrt(squares / (n - 1)) : 0,
    p50Ns: percentileOfSorted(sorted, 50),
    p90Ns: percentileOfSorted(sorted, 90),
    p95Ns: percentileOfSorted(sorted, 95),
    p99Ns: percentileOfSorted(sorted, 99),
    p999Ns: percentileOfSorted(sorted, 99.9),
    maxNs: n > 0 ? sorted[n - 1]! : NaN,
    p50IntervalNs: intervalOfSorted(sorted, 0.5),
    p99IntervalNs: intervalOfSorted(sorted, 0.99),
  };
}

/** Per group: how many samples, their median and p99 (nearest rank). `groups[i]` is sample i's group, 0 … count − 1. */
export function groupQuantiles(samplesNs: ArrayLike<number>, groups: ArrayLike<number>, count: number): { group: number; count: number; p50Ns: number; p99Ns: number }[] {
  const buckets: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < samplesNs.length; i++) buckets[groups[i]!]?.push(samplesNs[i]!);
  return buckets.map((values, group) => {
    const sorted = sortedCopy(values);
    return { group, count: sorted.length, p50Ns: percentileOfSorted(sorted, 50), p99Ns: percentileOfSorted(sorted, 99) };
  });
}

/**
 * The mean of the samples left after dropping the lowest and highest `fraction` of them. Unlike
 * the median it moves smoothly with the share of slow inferences in a two-speed (bimodal) run,
 * and unlike the mean it ignores the few inferences a preemption stretched.
 */
export function trimmedMean(samples: ArrayLike<number>, fraction = 0.1): number {
  const sorted = sortedCopy(samples);
  const n = sorted.length;
  if (n === 0) return NaN;
  const cut = Math.floor(n * fraction);
  let sum = 0;
  for (let i = cut; i < n - cut; i++) sum += sorted[i]!;
  return sum / (n - 2 * cut);
}
