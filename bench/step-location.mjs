#!/usr/bin/env node
// Where findSteps places a step, with the two locators (`locate: 'fit' | 'strongest'`), on seeded
// series shaped like the ones it judges: a soak's 40 window medians, a history's 30 runs (5 % of
// them outliers). Each trial puts a step of the given size at a random place (at least minSegment
// from either end); the same series goes to both locators. Per shape: steps found, placed exactly,
// the mean and largest distance from the true place, steps found besides it; and, on as many
// series without a step, the steps found (false alarms). Whether a step is found depends little on
// the locator (the fit is used only where the step is as significant and as large there, and the
// sides searched next differ); where it is placed is the point.
//
//   node bench/step-location.mjs [--trials 2000] [--seed 1] [--out step-location]
const { lineLog, parseArgs, provenance, provenanceLines, sdk, writeResult } = await import('./common.mjs');

const usage = 'usage: node bench/step-location.mjs [--trials 2000] [--seed 1] [--out step-location]';
const opts = parseArgs({ trials: 2000, seed: 1, out: 'step-location' }, usage);
const { findSteps, historyRuleDefaults, SeededRandom } = sdk;
const minSegment = 5;
// A soak's rule is findSteps' defaults; a history's p50 rule is historyRuleDefaults' (changePoints).
const history = { alpha: historyRuleDefaults.alpha, minRelativeChange: historyRuleDefaults.minEffect };
const random = new SeededRandom(opts.seed);
const normal = () => {
  const u = Math.max(1e-12, random.nextFloat());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
};
const shapes = [
  { name: 'soak: 40 windows, +100 %, 5 % noise', n: 40, effect: 1.0, noise: 0.05, outliers: 0, rule: {} },
  { name: 'soak: 40 windows, +20 %, 5 % noise', n: 40, effect: 0.2, noise: 0.05, outliers: 0, rule: {} },
  { name: 'history: 30 runs, +20 %, 5 % noise, 5 % outliers', n: 30, effect: 0.2, noise: 0.05, outliers: 0.05, rule: history },
  { name: 'history: 30 runs, +50 %, 10 % noise, 5 % outliers', n: 30, effect: 0.5, noise: 0.1, outliers: 0.05, rule: history },
];
const series = ({ n, effect, noise, outliers }, at) =>
  Array.from({ length: n }, (_, i) => 100 * (i < at ? 1 : 1 + effect) * (1 + noise * (random.nextFloat() < outliers ? 5 * Math.abs(normal()) : normal())));

const meta = provenance();
const { lines, say } = lineLog();
const result = { options: opts, ...meta, shapes: [] };
say(`${opts.trials} series per shape, seed ${opts.seed}; at least ${minSegment} points a side; soaks: p < 0.001, a change of 5 % or more (findSteps' defaults); histories: p < ${history.alpha}, ${history.minRelativeChange * 100} % or more (the history rule for p50).`);
say('');
say('| series | locator | found | placed exactly | mean / largest distance (points) | other steps | steps in as many series without one |');
say('| --- | --- | ---: | ---: | --- | ---: | ---: |');
for (const shape of shapes) {
  const tally = { fit: { found: 0, exact: 0, distances: [], other: 0, flat: 0 }, strongest: { found: 0, exact: 0, distances: [], other: 0, flat: 0 } };
  for (let t = 0; t < opts.trials; t++) {
    const at = minSegment + Math.floor(random.nextFloat() * (shape.n - 2 * minSegment + 1));
    const values = series(shape, at);
    const flat = series({ ...shape, effect: 0 }, 0);
    for (const locate of ['fit', 'strongest']) {
      const r = tally[locate];
      r.flat += findSteps(flat, { minSegment, ...shape.rule, locate }).length;
      const steps = findSteps(values, { minSegment, ...shape.rule, locate });
      if (steps.length === 0) continue;
      const near = steps.reduce((a, b) => (Math.abs(b.at - at) < Math.abs(a.at - at) ? b : a));
      r.found++;
      r.distances.push(Math.abs(near.at - at));
      if (near.at === at) r.exact++;
      r.other += steps.length - 1;
    }
  }
  for (const locate of ['fit', 'strongest']) {
    const r = tally[locate];
    const mean = r.distances.reduce((a, b) => a + b, 0) / Math.max(1, r.distances.length);
    const largest = r.distances.length ? Math.max(...r.distances) : 0;
    result.shapes.push({ shape: shape.name, locate, trials: opts.trials, found: r.found, exact: r.exact, meanDistance: mean, largestDistance: largest, otherSteps: r.other, stepsWithoutStep: r.flat });
    say(`| ${shape.name} | ${locate} | ${r.found} | ${r.exact} (${((100 * r.exact) / Math.max(1, r.found)).toFixed(1)} %) | ${mean.toFixed(2)} / ${largest} | ${r.other} | ${r.flat} |`);
  }
}
provenanceLines(meta, say);
result.lines = lines;
console.error(`\nwrote ${writeResult(opts.out, result)}`);
