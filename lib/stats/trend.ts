/**
 * Trend statistics for long runs: Theil–Sen slope with Sen's confidence interval, the
 * Mann–Kendall test, Mann–Whitney U, and step detection by binary segmentation.
 */

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf; |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Sizes of groups of equal values (ties) in `values`. */
function tieGroups(values: readonly number[]): number[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.values()].filter((c) => c > 1);
}

export interface MannKendall {
  /** S = Σ sign(y_j − y_i) over i < j. */
  s: number;
  variance: number;
  z: number;
  /** Two-sided p-value of "no monotonic trend". */
  p: number;
}

export function mannKendall(y: readonly number[]): MannKendall {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) s += Math.sign(y[j]! - y[i]!);
  }
  const ties = tieGroups(y).reduce((acc, t) => acc + t * (t - 1) * (2 * t + 5), 0);
  const variance = (n * (n - 1) * (2 * n + 5) - ties) / 18;
  const z = variance > 0 ? (s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0) : 0;
  return { s, variance, z, p: variance > 0 ? 2 * (1 - normalCdf(Math.abs(z))) : 1 };
}

export interface TheilSen {
  /** Median of the pairwise slopes, in y units per x unit. */
  slope: number;
  /** 95 % confidence interval of the slope (Sen's method). */
  low: number;
  high: number;
  intercept: number;
}

export function theilSen(x: readonly number[], y: readonly number[], level = 0.95): TheilSen {
  const n = x.length;
  const slopes: number[] = [];
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = x[j]! - x[i]!;
      if (dx !== 0) slopes.push((y[j]! - y[i]!) / dx);
    }
  }
  if (slopes.length === 0) return { slope: 0, low: 0, high: 0, intercept: n > 0 ? y[0]! : 0 };
  slopes.sort((a, b) => a - b);
  const m = slopes.length;
  const median = m % 2 ? slopes[(m - 1) / 2]! : (slopes[m / 2 - 1]! + slopes[m / 2]!) / 2;
  const zq = level === 0.95 ? 1.959963984540054 : 2.5758293035489;
  const variance = mannKendall(y).variance;
  const c = zq * Math.sqrt(variance);
  const lowRank = Math.max(1, Math.floor((m - c) / 2));
  const highRank = Math.min(m, Math.ceil((m + c) / 2) + 1);
  const residuals = y.map((v, i) => v - median * x[i]!).sort((a, b) => a - b);
  const intercept = residuals[Math.floor(residuals.length / 2)]!;
  return { slope: median, low: slopes[lowRank - 1]!, high: slopes[highRank - 1]!, intercept };
}

export interface MannWhitney {
  u: number;
  z: number;
  /** Two-sided p-value of "the two samples come from one distribution". */
  p: number;
}

/** Mann–Whitney U with the normal approximation and tie correction. */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitney {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { u: 0, z: 0, p: 1 };
  const all = [...a.map((v) => ({ v, g: 0 })), ...b.map((v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  const ranks = new Float64Array(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  let rankSumA = 0;
  all.forEach((item, i) => {
    if (item.g === 0) rankSumA += ranks[i]!;
  });
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const z = variance > 0 ? (u - mean) / Math.sqrt(variance) : 0;
  return { u, z, p: variance > 0 ? 2 * (1 - normalCdf(Math.abs(z))) : 1 };
}

export interface Step {
  /** Index of the first value after the step. */
  at: number;
  beforeMedian: number;
  afterMedian: number;
  /** (after − before) / before. */
  relativeChange: number;
  p: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export interface StepOptions {
  /** Smallest segment on either side of a step. @default 5 */
  minSegment?: number;
  /** Significance a step needs (Mann–Whitney, two-sided). @default 0.001 */
  alpha?: number;
  /** Smallest relative change of the median that counts. @default 0.05 */
  minRelativeChange?: number;
  /**
   * Where a step found is placed: `fit`, the split whose two medians fit the segment best (absolute
   * deviations); `strongest`, the split with the strongest Mann–Whitney difference, which leans
   * towards the middle of the segment (bench/README.md section 13). @default 'fit'
   */
  locate?: 'fit' | 'strongest';
}

/** Sum of absolute deviations from the median: the cost of one level for a segment. */
function absoluteDeviation(values: readonly number[]): number {
  const m = median(values);
  let sum = 0;
  for (const v of values) sum += Math.abs(v - m);
  return sum;
}

/**
 * Steps in a series (throttling, a noisy neighbour arriving, a commit that made a model slower).
 * Whether a segment has a step: the split with the strongest Mann–Whitney difference, kept when
 * significant and large enough. Where it is: the split whose two levels (each side's median) fit
 * the segment best, by absolute deviations. The strongest difference alone leans towards the middle
 * of the segment (its z grows with the balance of the two sides): a clean step 12 windows into 40
 * was placed one to three windows late, and would blame a later commit in a history. Each side is
 * then searched again.
 */
export function findSteps(values: readonly number[], options: StepOptions = {}): Step[] {
  const minSegment = options.minSegment ?? 5;
  const alpha = options.alpha ?? 0.001;
  const minChange = options.minRelativeChange ?? 0.05;
  const byFit = (options.locate ?? 'fit') === 'fit';
  const steps: Step[] = [];
  const search = (start: number, end: number, depth: number): void => {
    if (end - start < 2 * minSegment || depth > 8) return;
    let best: { at: number; test: MannWhitney } | null = null;
    let fit: { at: number; cost: number } | null = null;
    for (let at = start + minSegment; at <= end - minSegment; at++) {
      const before = values.slice(start, at);
      const after = values.slice(at, end);
      const test = mannWhitney(before, after);
      if (!best || Math.abs(test.z) > Math.abs(best.test.z)) best = { at, test };
      if (!byFit) continue;
      const cost = absoluteDeviation(before) + absoluteDeviation(after);
      if (!fit || cost < fit.cost) fit = { at, cost };
    }
    if (!best || best.test.p >= alpha) return;
    const changeAt = (at: number): { before: number; after: number; change: number } => {
      const before = median(values.slice(start, at));
      const after = median(values.slice(at, end));
      return { before, after, change: before !== 0 ? (after - before) / before : 0 };
    };
    let levels = changeAt(best.at);
    if (fit && fit.at !== best.at) {
      // Placed by the fit where the step is as clear there (else where the test found it).
      const test = mannWhitney(values.slice(start, fit.at), values.slice(fit.at, end));
      const atFit = changeAt(fit.at);
      if (test.p < alpha && Math.abs(atFit.change) >= minChange) {
        best = { at: fit.at, test };
        levels = atFit;
      }
    }
    const { before, after, change } = levels;
    if (Math.abs(change) < minChange) return;
    steps.push({ at: best.at, beforeMedian: before, afterMedian: after, relativeChange: change, p: best.test.p });
    search(start, best.at, depth + 1);
    search(best.at, end, depth + 1);
  };
  search(0, values.length, 0);
  return steps.sort((a, b) => a.at - b.at);
}
