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
  /** p-value: two-sided Mann–Whitney (judgeChange), Wilcoxon signed-rank on the per-round log ratios (judgePairedChange), or the shuffled-rounds test of judgeAgainstFastest. */
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

/** Doubled mid-ranks of |x| (integers even with ties) and the tie term t³ − t summed over ties. */
function doubledRanks(values: readonly number[]): { ranks2: number[]; tieTerm: number } {
  const n = values.length;
  const order = values.map((x, i) => ({ a: Math.abs(x), i })).sort((x, y) => x.a - y.a);
  const ranks2 = new Array<number>(n);
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && order[j + 1]!.a === order[i]!.a) j++;
    for (let k = i; k <= j; k++) ranks2[order[k]!.i] = i + j + 2;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  return { ranks2, tieTerm };
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
  const { ranks2, tieTerm } = doubledRanks(nz);
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
  const { ratio, low, high } = medianRatioInterval(ratios, options.seed ?? 1);
  const test = signedRank(ratios.map((x) => Math.log(x)));
  return verdictOf(ratio, low, high, test.p, options);
}

/** The median of per-round ratios and its 95 % bootstrap interval over rounds. */
function medianRatioInterval(ratios: readonly number[], seed: number, resamples = 1000): { ratio: number; low: number; high: number } {
  const random = new SeededRandom(seed);
  const boot = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) boot[r] = median(ratios.map(() => ratios[random.nextInt(0, ratios.length - 1)]!));
  boot.sort();
  return { ratio: median(ratios), low: boot[Math.floor(resamples * 0.025)]!, high: boot[Math.ceil(resamples * 0.975) - 1]! };
}

export interface FastestJudgement {
  /** Index of the fastest group: the least geometric mean of its per-round figures. */
  fastest: number;
  /** Each group against the fastest (null for the fastest itself); `p` is adjusted for the choice of the fastest and for the number of groups. */
  changes: (Change | null)[];
}

/**
 * Judges k groups measured in the same interleaved rounds, each round running every group once in
 * a random order, against the fastest of them: is any group slower? Picking the fastest from the
 * same rounds and then testing the k − 1 others against it, each at `alpha`, calls some group
 * slower far more often than `alpha` when the rounds are noisy. Here the p-values are those of a
 * randomisation test that redoes the choice: with no group truly different, which group ran in which
 * slot of a round was decided by the random order alone, so the groups' labels are shuffled within
 * every round (`permutations` times, seeded), the fastest is picked again, and the largest
 * signed-rank sum of a group's log ratios against it is recorded. A group's p is the share of
 * shuffles whose largest sum reaches its own (two groups: the signed-rank test's p). Step-down:
 * once the slowest group is called slower it leaves the set and the next is judged among the
 * groups that remain, so one very slow group does not mask a moderately slow one.
 * A group is slower when its p < `alpha`, the 95 % bootstrap interval of its median per-round
 * ratio lies above 1 and that ratio is at least 1 + `minEffect`. `rounds[g][r]` is group g's figure
 * in round r.
 */
export function judgeAgainstFastest(rounds: readonly (readonly number[])[], options: ChangeOptions & { permutations?: number }): FastestJudgement {
  const k = rounds.length;
  const n = rounds[0]?.length ?? 0;
  if (k < 2 || n === 0 || rounds.some((g) => g.length !== n)) throw new Error(`judgeAgainstFastest: ${k} groups of ${rounds.map((g) => g.length).join('/')} rounds`);
  const permutations = options.permutations ?? 5000;
  const logs = rounds.map((g) => g.map((x) => Math.log(x)));
  const fastest = fastestOf(logs);
  const statistic = logs.map((g, c) => (c === fastest ? 0 : positiveRankSum(g.map((x, r) => x - logs[fastest]![r]!))));
  const logRatio = logs.map((g) => median(g.map((x, r) => x - logs[fastest]![r]!)));
  const p = new Array<number>(k).fill(1);
  const random = new SeededRandom(options.seed ?? 1);
  const live = [...Array(k).keys()];
  const changes: (Change | null)[] = new Array<Change | null>(k).fill(null);
  let floor = 0;
  while (live.length >= 2) {
    const maxima = shuffledMaxima(logs, live, permutations, random);
    const candidates = live.filter((c) => c !== fastest);
    const exceed = (t: number): number => {
      let count = 0;
      for (const m of maxima) if (m >= t) count++; // integers: doubled rank sums
      return (1 + count) / (1 + permutations);
    };
    for (const c of candidates) p[c] = Math.max(floor, exceed(statistic[c]!));
    const top = candidates.reduce((a, b) => (statistic[b]! > statistic[a]! || (statistic[b] === statistic[a] && logRatio[b]! > logRatio[a]!) ? b : a));
    floor = p[top]!;
    // Its p is final: later steps only raise the others'.
    changes[top] = paired(rounds[fastest]!, rounds[top]!, p[top]!, options);
    if (changes[top].verdict !== 'slower') break;
    live.splice(live.indexOf(top), 1);
  }
  for (let c = 0; c < k; c++) if (c !== fastest && changes[c] === null) changes[c] = paired(rounds[fastest]!, rounds[c]!, p[c]!, options);
  return { fastest, changes };
}

function paired(baseline: readonly number[], candidate: readonly number[], p: number, options: ChangeOptions): Change {
  const { ratio, low, high } = medianRatioInterval(candidate.map((c, i) => c / baseline[i]!), options.seed ?? 1);
  return verdictOf(ratio, low, high, p, options);
}

/** The group with the least sum of log figures (the least geometric mean). */
function fastestOf(logs: readonly (readonly number[])[]): number {
  const sums = logs.map((g) => g.reduce((s, x) => s + x, 0));
  return sums.indexOf(Math.min(...sums));
}

/** Wilcoxon's W+ doubled, over the non-zero differences as signedRank ranks them. */
function positiveRankSum(d: readonly number[]): number {
  const nz = d.filter((x) => x !== 0);
  const { ranks2 } = doubledRanks(nz);
  return nz.reduce((s, x, i) => (x > 0 ? s + ranks2[i]! : s), 0);
}

/** The largest signed-rank sum against the fastest, over `count` shuffles of the live groups' labels within each round. */
function shuffledMaxima(logs: readonly (readonly number[])[], live: readonly number[], count: number, random: SeededRandom): Float64Array {
  const m = live.length;
  const n = logs[0]!.length;
  const shuffled = Array.from({ length: m }, () => new Array<number>(n));
  const column = new Array<number>(m);
  const diffs = new Array<number>(n);
  const maxima = new Float64Array(count);
  for (let b = 0; b < count; b++) {
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < m; j++) column[j] = logs[live[j]!]![r]!;
      for (let j = m - 1; j > 0; j--) {
        const i = random.nextInt(0, j);
        [column[i], column[j]] = [column[j]!, column[i]!];
      }
      for (let j = 0; j < m; j++) shuffled[j]![r] = column[j]!;
    }
    const f = fastestOf(shuffled);
    let max = -Infinity;
    for (let j = 0; j < m; j++) {
      if (j === f) continue;
      for (let r = 0; r < n; r++) diffs[r] = shuffled[j]![r]! - shuffled[f]![r]!;
      max = Math.max(max, positiveRankSum(diffs));
    }
    maxima[b] = max;
  }
  return maxima;
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
