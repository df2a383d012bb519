// Trend statistics against known values and simple references.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../dist/tensor/index.js';
import { findSteps, mannKendall, mannWhitney, normalCdf, theilSen } from '../dist/stats/index.js';

describe('trend statistics', () => {
  it('normal CDF matches known values', () => {
    assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7);
    assert.ok(Math.abs(normalCdf(1.959963984540054) - 0.975) < 1e-6);
    assert.ok(Math.abs(normalCdf(-1) - 0.15865525393) < 1e-6);
  });

  it('Theil–Sen finds an exact line and ignores outliers a least-squares fit would follow', () => {
    const x = Array.from({ length: 30 }, (_, i) => i);
    const y = x.map((v) => 3 * v + 7);
    assert.equal(theilSen(x, y).slope, 3);
    assert.equal(theilSen(x, y).intercept, 7);
    y[5] = 1000;
    y[20] = -1000;
    const fit = theilSen(x, y);
    assert.equal(fit.slope, 3);
    assert.ok(fit.low <= 3 && fit.high >= 3);
  });

  it('Mann–Kendall: S by the definition, a trend is significant, noise is not', () => {
    const y = [1, 3, 2, 4];
    // pairs: (1,3)+ (1,2)+ (1,4)+ (3,2)- (3,4)+ (2,4)+ → S = 4
    assert.equal(mannKendall(y).s, 4);
    const random = new SeededRandom(5);
    const noise = Array.from({ length: 100 }, () => random.nextFloat());
    assert.ok(mannKendall(noise).p > 0.01);
    const trend = noise.map((v, i) => v + i * 0.02);
    assert.ok(mannKendall(trend).p < 1e-6);
  });

  it('Mann–Whitney U by counting pairs, and its p-value', () => {
    const a = [1, 2, 3, 4];
    const b = [3, 5, 6, 7, 8];
    // U counts pairs (a_i > b_j) + half the ties: only 4 > 3, and 3 = 3 counts one half.
    assert.equal(mannWhitney(a, b).u, 1.5);
    assert.ok(mannWhitney(a, b).p < 0.05);
    assert.ok(mannWhitney([1, 2, 3], [1, 2, 3]).p > 0.9);
  });

  it('finds a step and only a step', () => {
    const random = new SeededRandom(11);
    const series = Array.from({ length: 60 }, (_, i) => (i < 40 ? 100 : 130) + random.nextFloat() * 5);
    const steps = findSteps(series);
    assert.equal(steps.length, 1);
    assert.equal(steps[0].at, 40);
    assert.ok(steps[0].relativeChange > 0.25 && steps[0].relativeChange < 0.35);
    const flat = Array.from({ length: 60 }, () => 100 + random.nextFloat() * 5);
    assert.deepEqual(findSteps(flat), []);
  });

  it('places a step where it is, not nearer the middle of the series', () => {
    // The soak test's shape: 12 windows, then a delay that makes every run slower. The strongest
    // Mann–Whitney split of this series is at 13: its z grows with the balance of the two sides.
    const soakLike = [...Array.from({ length: 12 }, (_, i) => 23 + (i % 3)), ...Array.from({ length: 28 }, (_, i) => 224 + (i % 4))];
    assert.deepEqual(
      findSteps(soakLike).map((s) => s.at),
      [12],
    );
    assert.deepEqual(
      findSteps(soakLike, { locate: 'strongest' }).map((s) => s.at),
      [13],
    );
    // A history's: a commit 6 runs into 30 made the model 20 % slower, runs ±5 % apart (placed at
    // 8 by the strongest split, which would blame the commit two runs later).
    const random = new SeededRandom(30);
    const history = Array.from({ length: 30 }, (_, i) => (i < 6 ? 100 : 120) * (1 + (random.nextFloat() - 0.5) * 0.1));
    assert.deepEqual(
      findSteps(history).map((s) => s.at),
      [6],
    );
    assert.deepEqual(
      findSteps(history, { locate: 'strongest' }).map((s) => s.at),
      [8],
    );
  });
});
