/**
 * Whether one set of per-block (or per-round) figures is slower or faster than another: the rule
 * compare, the sensitivity step and interleaved A/B runs share. A change needs both a significant
 * Mann–Whitney test and a 95 % bootstrap interval of the ratio of medians on one side of 1, with
 * the ratio at least `minEffect` away from 1: with enough samples any difference is significant,
 * and machines differ by a few per cent from one minute to the next.
 */
import { SeededRandom } from '../tensor/tensor.js';
import { mannWhitney, normalCdf } from './trend.js';

export interface ChangeOptions {
  /** Significance the Mann–Whitney test must reach. */
  alpha: number;
  /** Smallest relative change of the median that counts. */
  minEffect: number;
  /** Seed of the bootstrap. @default 1 */
  seed?: number;
}

export interface Change {
  /** median(candidate) / median(baseline); paired: the median of the per-round ratios. */
  ratio: number;
  /** 95 % bootstrap interval of the ratio. */
  low: number;
  high: number;
  /** Two-sided p-value: Mann–Whitney (judgeChange) or Wilcoxon signed-rank on the per-round log ratios (judgePairedChange). */
  p: number;
  verdict: 'slower' | 'faster' | 'unchanged';
  /** Why, in words, when unchanged: not significant, or below the minimum effect. */
  reason: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** Bootstrap of median(b) / median(a), 95 % percentile interval. */
export function ratioInterval(a: readonly number[], b: readonly number[], seed = 1, resamples = 1000): { ratio: number; low: number; high: number } {
  const random = new SeededRandom(seed);
  const ratio = median(b) / median(a);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const ra = a.map(() => a[random.nextInt(0, a.length - 1)]!);
    const rb = b.map(() => b[random.nextInt(0, b.length - 1)]!);
    ratios[r] = median(rb) / median(ra);
  }
  ratios.sort();
  return { ratio, low: ratios[Math.floor(resamples * 0.025)]!, high: ratios[Math.ceil(resamples * 0.975) - 1]! };
}

/** Judges `candidate` against `baseline` (per-block or per-round figures of each). */
export function judgeChange(baseline: readonly number[], candidate: readonly number[], options: ChangeOptions): Change {
  const interval = ratioInterval(baseline, candidate, options.seed ?? 1);
  const test = mannWhitney(baseline, candidate);
  return verdictOf(interval.ratio, interval.low, interval.high, test.p, options);
}

/**
 * Exact two-sided p-value of the Wilcoxon signed-rank test that the differences `d` centre on 0
 * (zeros dropped, ties given mid-ranks; exact over the 2^n sign assignments by dynamic programming
 * on doubled rank sums up to n = 60, the normal approximation with a tie correction beyond).
 */
export function signedRank(d: readonly number[]): { p: number; n: number } {
  const nz = d.filter((x) => x !== 0);
  const n = nz.length;
  if (n === 0) return { p: 1, n: 0 };
  const order = nz.map((x, i) => ({ a: Math.abs(x), i })).sort((x, y) => x.a - y.a);
  const ranks2 = new Array<number>(n); // doubled ranks: integers even with ties
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && order[j + 1]!.a === order[i]!.a) j++;
    for (let k = i; k <= j; k++) ranks2[order[k]!.i] = i + j + 2;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const wPlus2 = nz.reduce((s, x, i) => (x > 0 ? s + ranks2[i]! : s), 0);
  const total2 = n * (n + 1);
  const extreme = Math.min(wPlus2, total2 - wPlus2);
  if (n <= 60) {
    // counts[s]: sign assignments whose doubled positive-rank sum is s.
    let counts = new Float64Array(total2 + 1);
    counts[0] = 1;
    for (const r of ranks2) {
      const next = new Float64Array(total2 + 1);
      for (let s = 0; s <= total2; s++) {
        const c = counts[s]!;
        if (c === 0) continue;
        next[s] = next[s]! + c;
        if (s + r <= total2) next[s + r] = next[s + r]! + c;
      }
      counts = next;
    }
    let tail = 0;
    for (let s = 0; s <= extreme; s++) tail += counts[s]!;
    return { p: Math.min(1, (2 * tail) / 2 ** n), n };
  }
  const mean = total2 / 4;
  const variance = (n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48;
  const z = (extreme / 2 - mean + 0.5) / Math.sqrt(variance);
  return { p: Math.min(1, 2 * normalCdf(z)), n };
}

/**
 * Judges `candidate` against `baseline` measured in the same interleaved rounds: round i of each
 * ran within moments of the other, so what the machine did in that round hits both, and the
 * per-round ratios are what is judged. A change needs a significant signed-rank test on the log
 * ratios and a 95 % bootstrap interval (over rounds) of the median ratio on one side of 1, with
 * the median ratio at least `minEffect` away from 1. With n rounds, the smallest two-sided p is
 * 2 / 2^n: 8 rounds are the fewest that can reach p < 0.01.
 */
export function judgePairedChange(baseline: readonly number[], candidate: readonly number[], options: ChangeOptions): Change {
  if (baseline.length !== candidate.length) throw new Error(`paired rounds: ${baseline.length} vs ${candidate.length}`);
  const ratios = candidate.map((c, i) => c / baseline[i]!);
  const random = new SeededRandom(options.seed ?? 1);
  const resamples = 1000;
  const boot = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) boot[r] = median(ratios.map(() => ratios[random.nextInt(0, ratios.length - 1)]!));
  boot.sort();
  const ratio = median(ratios);
  const low = boot[Math.floor(resamples * 0.025)]!;
  const high = boot[Math.ceil(resamples * 0.975) - 1]!;
  const test = signedRank(ratios.map((x) => Math.log(x)));
  return verdictOf(ratio, low, high, test.p, options);
}

function verdictOf(ratio: number, low: number, high: number, p: number, options: ChangeOptions): Change {
  const significant = p < options.alpha;
  const slower = low > 1 && ratio >= 1 + options.minEffect;
  const faster = high < 1 && ratio <= 1 - options.minEffect;
  const verdict = significant && slower ? 'slower' : significant && faster ? 'faster' : 'unchanged';
  const reason =
    verdict !== 'unchanged'
      ? ''
      : !significant
        ? `not significant (p = ${p.toExponential(2)} ≥ ${options.alpha})`
        : `below the ${Math.round(options.minEffect * 100)} % minimum effect`;
  return { ratio, low, high, p, verdict, reason };
}
