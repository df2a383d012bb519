// Statistics against naive reference implementations, and the interval's coverage by simulation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../dist/tensor/index.js';
import { judgeAgainstFastest, judgePairedChange, percentileOfSorted, quantileIntervalRanks, signedRank, sortedCopy, summarize } from '../dist/stats/index.js';

/** The textbook nearest-rank percentile: the smallest sample x with count(v ≤ x) ≥ p % of n. */
function naivePercentile(samples, p) {
  const candidates = [...samples].sort((a, b) => a - b);
  for (const x of candidates) {
    if (samples.filter((v) => v <= x).length >= (p / 100) * samples.length) return x;
  }
  return NaN;
}

function randomSamples(seed, n) {
  const random = new SeededRandom(seed);
  return Array.from({ length: n }, () => Math.round(1000 + random.nextFloat() ** 3 * 50000));
}

describe('percentiles', () => {
  it('match the naive nearest-rank definition', () => {
    for (const n of [1, 2, 7, 100, 1001]) {
      const samples = randomSamples(n, n);
      const sorted = sortedCopy(samples);
      for (const p of [0.1, 1, 50, 90, 95, 99, 99.9, 100]) {
        assert.equal(percentileOfSorted(sorted, p), naivePercentile(samples, p), `n=${n} p=${p}`);
      }
    }
  });

  it('summary: mean, sample stddev, min, max against the direct formulas', () => {
    const samples = randomSamples(3, 5000);
    const s = summarize(Float64Array.from(samples));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1));
    assert.equal(s.count, 5000);
    assert.ok(Math.abs(s.meanNs - mean) < 1e-6);
    assert.ok(Math.abs(s.stddevNs - sd) < 1e-6);
    assert.equal(s.minNs, Math.min(...samples));
    assert.equal(s.maxNs, Math.max(...samples));
    const ordered = [s.minNs, s.p50Ns, s.p90Ns, s.p95Ns, s.p99Ns, s.p999Ns, s.maxNs];
    assert.deepEqual(ordered, [...ordered].sort((a, b) => a - b));
    assert.ok(s.p50IntervalNs.lowNs <= s.p50Ns && s.p50Ns <= s.p50IntervalNs.highNs);
    assert.ok(s.p99IntervalNs.lowNs <= s.p99Ns && s.p99Ns <= s.p99IntervalNs.highNs);
  });

  it('an empty sample set gives NaN, not a throw', () => {
    const s = summarize(new Float64Array(0));
    assert.equal(s.count, 0);
    assert.ok(Number.isNaN(s.p50Ns));
  });
});

describe('order-statistic intervals', () => {
  it('give the textbook ranks for the median', () => {
    // n = 10: (x(2), x(9)) with coverage 97.85 %; n = 100: (x(40), x(61)), 96.48 %.
    const ten = quantileIntervalRanks(10, 0.5);
    assert.deepEqual([ten.low, ten.high], [2, 9]);
    assert.ok(Math.abs(ten.coverage - 0.978515625) < 1e-9);
    const hundred = quantileIntervalRanks(100, 0.5);
    assert.deepEqual([hundred.low, hundred.high], [40, 61]);
    assert.ok(Math.abs(hundred.coverage - 0.9648) < 1e-3);
  });

  it('say when there are too few samples for p99', () => {
    assert.equal(quantileIntervalRanks(50, 0.99).clipped, true);
    assert.equal(quantileIntervalRanks(2000, 0.99).clipped, false);
  });

  it('stay exact for a million samples (no underflow)', () => {
    const r = quantileIntervalRanks(1_000_000, 0.99);
    assert.ok(r.low < 990_000 && r.high > 990_000 && r.coverage >= 0.95 && r.coverage < 0.96);
  });

  it('cover the true quantile at least 95 % of the time (simulation)', () => {
    const random = new SeededRandom(2024);
    for (const [q, n] of [
      [0.5, 60],
      [0.99, 1500],
    ]) {
      let covered = 0;
      const trials = 400;
      for (let t = 0; t < trials; t++) {
        // Uniform(0,1): the true q-quantile is q.
        const s = summarize(Float64Array.from({ length: n }, () => random.nextFloat()));
        const interval = q === 0.5 ? s.p50IntervalNs : s.p99IntervalNs;
        if (interval.lowNs <= q && q <= interval.highNs) covered++;
      }
      assert.ok(covered / trials >= 0.92, `q=${q}: covered ${covered}/${trials}`);
    }
  });
});

describe('signed-rank test and the paired rule', () => {
  it('gives the exact two-sided p-values of small samples', () => {
    // All n differences positive: only one of the 2^n sign patterns is as extreme on each side.
    assert.equal(signedRank([1, 2, 3, 4, 5, 6, 7, 8]).p, 2 / 256);
    assert.equal(signedRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).p, 2 / 1024);
    // n = 3, only the smallest difference positive: W+ = 1, and P(W+ <= 1) = 2/8 on one side.
    assert.equal(signedRank([0.1, -2, -3]).p, 0.5);
    // Zeros are dropped; nothing left is no evidence at all.
    assert.deepEqual(signedRank([0, 0, 0]), { p: 1, n: 0 });
    assert.equal(signedRank([0, 1, 2, 3, 4, 5, 6, 7, 8]).n, 8);
  });

  it('keeps ties exact and switches to the normal approximation past 60 differences', () => {
    assert.equal(signedRank([1, 1, 1, 1, 1, 1, 1, 1]).p, 2 / 256);
    const balanced = Array.from({ length: 80 }, (_, i) => (i % 2 ? 1 : -1) * (i + 1));
    assert.ok(signedRank(balanced).p > 0.5, String(signedRank(balanced).p));
    const shifted = Array.from({ length: 80 }, (_, i) => i + 1);
    assert.ok(signedRank(shifted).p < 1e-10, String(signedRank(shifted).p));
  });

  it('judges paired rounds on their ratios: a machine that changes speed between rounds changes both sides', () => {
    // The baseline drifts from 10 to 20 across rounds; the candidate is always 15 % slower.
    const baseline = Array.from({ length: 12 }, (_, i) => 10 + i);
    const candidate = baseline.map((x) => x * 1.15);
    const c = judgePairedChange(baseline, candidate, { alpha: 0.01, minEffect: 0.1 });
    assert.equal(c.verdict, 'slower');
    assert.ok(Math.abs(c.ratio - 1.15) < 1e-12);
    // The same rounds, 5 % slower: significant, but under the minimum effect.
    const small = judgePairedChange(baseline, baseline.map((x) => x * 1.05), { alpha: 0.01, minEffect: 0.1 });
    assert.equal(small.verdict, 'unchanged');
    assert.match(small.reason, /minimum effect/);
    assert.throws(() => judgePairedChange([1, 2], [1], { alpha: 0.01, minEffect: 0.1 }), /paired rounds/);
  });

  /** k groups × n rounds of lognormal noise around 1000, group g shifted by exp(shifts[g]); seeded. */
  function roundsOf(seed, shifts, n, sd) {
    const random = new SeededRandom(seed);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
    return shifts.map((s) => Array.from({ length: n }, () => 1000 * Math.exp(s + sd * gauss())));
  }
  const rule = { alpha: 0.01, minEffect: 0.1, permutations: 1000 };

  it('judges groups against the fastest with the choice of the fastest accounted for', () => {
    // 100 sets of 6 identical groups, 20 noisy rounds (20 % per round, seeded). Testing the five
    // others against the fastest, each on its own signed-rank test, calls some group slower in 5 of
    // them; shuffling the labels within rounds keeps the rate at alpha.
    let naive = 0;
    let shuffled = 0;
    for (let seed = 1; seed <= 100; seed++) {
      const rounds = roundsOf(seed, [0, 0, 0, 0, 0, 0], 20, 0.2);
      const j = judgeAgainstFastest(rounds, { ...rule, permutations: 400, seed });
      if (j.changes.some((c) => c?.verdict === 'slower')) shuffled++;
      if (rounds.some((g, i) => i !== j.fastest && judgePairedChange(rounds[j.fastest], g, rule).verdict === 'slower')) naive++;
    }
    assert.ok(naive >= 3, `the per-pair rule called ${naive} of 100 null sets sensitive`);
    assert.ok(shuffled <= 1, `${shuffled} of 100 null sets called sensitive`);
  });

  it('finds a moderately slower group beside a much slower one, and names the fastest', () => {
    const rounds = roundsOf(7, [0.2, 0, 0, 1.0, 0], 20, 0.03);
    rounds[4] = rounds[4].map((x) => x * 0.97);
    const j = judgeAgainstFastest(rounds, { ...rule, seed: 7 });
    assert.equal(j.fastest, 4);
    assert.equal(j.changes[4], null);
    assert.deepEqual(j.changes.map((c) => c?.verdict ?? 'fastest'), ['slower', 'unchanged', 'unchanged', 'slower', 'fastest']);
    assert.match(j.changes[1].reason, /minimum effect|not significant/);
    assert.ok(Math.abs(j.changes[3].ratio - Math.exp(1.0) / 0.97) < 0.1 * Math.exp(1.0));
    // Two groups that always differ by 30 %, 8 rounds: the smallest p the rounds allow (2 / 2^8).
    const two = judgeAgainstFastest([[1, 2, 3, 4, 5, 6, 7, 8], [1.3, 2.6, 3.9, 5.2, 6.5, 7.8, 9.1, 10.4]], { alpha: 0.01, minEffect: 0.1, seed: 1 });
    assert.equal(two.fastest, 0);
    assert.equal(two.changes[1].verdict, 'slower');
    assert.ok(Math.abs(two.changes[1].p - 2 / 256) < 0.003, String(two.changes[1].p));
    assert.throws(() => judgeAgainstFastest([[1, 2]], rule), /1 groups/);
    assert.throws(() => judgeAgainstFastest([[1, 2], [1]], rule), /judgeAgainstFastest/);
  });
});

