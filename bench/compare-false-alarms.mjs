#!/usr/bin/env node
// How often `model-audit compare` calls a regression when nothing changed (false alarms), and how
// often it sees a real slowdown (detection). Each trial runs two audits back to back, each on a
// freshly opened model, writes both reports to JSON files, reads them back and calls
// compareReports(baseline, current) with its defaults (recorded from the comparison itself), as
// `model-audit compare baseline.json current.json` does. In a null trial both audits have the same
// configuration; in a delay trial the current model spins an extra D ns inside every timed
// inference (a test hook of the addon), i.e. a runtime that got slower by D ns.
//
//   node bench/compare-false-alarms.mjs [--trials 100] [--delay-trials 20] [--delays 1000,2000,4000]
//                                       [--iterations 5000 | --duration-ms 2000] [--warmup 200] [--cpu 1]
//                                       [--model hey_jarvis_v0.1] [--seed 7] [--out compare-false-alarms]

// The delay hook is refused unless this is set; set it before the SDK is loaded.
process.env.MODEL_AUDIT_TEST_HOOKS = '1';
const { codeLine, machineLine, measureQuietly, median, parseArgs, provenance, quietCheck, sdk, writeResult } = await import('./common.mjs');
const { modelPaths } = await import('./paths.mjs');
const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
const os = await import('node:os');
const path = await import('node:path');

const usage =
  'usage: node bench/compare-false-alarms.mjs [--trials 100] [--delay-trials 20] [--delays 1000,2000,4000] [--iterations 5000 | --duration-ms 2000] [--warmup 200] [--cpu 1] [--model hey_jarvis_v0.1] [--seed 7] [--out compare-false-alarms]';
const opts = parseArgs(
  { trials: 100, delayTrials: 20, delays: '1000,2000,4000', iterations: 5000, durationMs: 0, warmup: 200, cpu: 1, model: 'hey_jarvis_v0.1', seed: 7, out: 'compare-false-alarms' },
  usage,
);
const delays = opts.delays.split(',').filter(Boolean).map(Number);
const meta = provenance();
const { audit, compareReports, injectFaults, openModel, readReport } = sdk;
const modelPath = modelPaths(opts.model).onnx;
// --duration-ms (when above 0) times the latency step by duration instead of a count, as the
// audit's default latency step does (durationMs: 2000).
const length = opts.durationMs > 0 ? { durationMs: opts.durationMs } : { iterations: opts.iterations };
const config = { steps: { latency: { ...length, cpu: opts.cpu, warmup: { iterations: opts.warmup } } } };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'model-audit-compare-'));

/** One audit on a freshly opened model, written to a JSON file as `model-audit run` does. */
async function auditToFile(file, delayNs) {
  const model = await openModel(modelPath, { intraOpThreads: 1 });
  try {
    if (delayNs > 0) injectFaults(model, { delayNsPerRun: delayNs });
    const report = await audit(model, config);
    writeFileSync(file, JSON.stringify(report));
    return report.steps.latency?.status ?? 'missing';
  } finally {
    model.close();
  }
}

// The schedule: every kind of trial spread over the whole run in a seeded order, so that slow
// drift of the machine touches each kind alike.
const kinds = [...Array(opts.trials).fill(0), ...delays.flatMap((d) => Array(opts.delayTrials).fill(d))];
let state = opts.seed >>> 0 || 1;
const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
for (let i = kinds.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
}

console.error(machineLine(meta.environment));
const trials = [];
// The options compare actually used, as its result states them (not a description written here).
let compareOptions = null;
for (const [i, delayNs] of kinds.entries()) {
  const a = path.join(tmp, `trial-${i}-baseline.json`);
  const b = path.join(tmp, `trial-${i}-current.json`);
  const kept = await measureQuietly(async () => {
    const status = [await auditToFile(a, 0), await auditToFile(b, delayNs)];
    return { status };
  });
  if (kept.value.status.some((s) => s !== 'completed')) throw new Error(`trial ${i}: latency step ${kept.value.status.join(', ')}`);
  const comparison = compareReports(readReport(a), readReport(b));
  compareOptions ??= comparison.options;
  const metric = (name) => comparison.metrics.find((m) => m.metric === name);
  const p50 = metric('latency p50');
  const p99 = metric('latency p99');
  const trial = {
    index: i,
    delayNs,
    regression: comparison.regression,
    regressed: comparison.metrics.filter((m) => m.verdict === 'regression').map((m) => m.metric),
    improved: comparison.metrics.filter((m) => m.verdict === 'improvement').map((m) => m.metric),
    p50: { baseline: p50.baseline, current: p50.current, ratio: p50.ratio, low: p50.ratioLow, high: p50.ratioHigh, p: p50.p, verdict: p50.verdict },
    p99: { baseline: p99.baseline, current: p99.current, ratio: p99.ratio, low: p99.ratioLow, high: p99.ratioHigh, p: p99.p, verdict: p99.verdict },
    others: comparison.metrics.filter((m) => !m.metric.startsWith('latency')).map((m) => ({ metric: m.metric, baseline: m.baseline, current: m.current, verdict: m.verdict })),
    warnings: comparison.warnings,
    otherWork: kept.other,
    quiet: kept.quiet,
    setAside: kept.setAside.length,
  };
  trials.push(trial);
  console.error(
    `trial ${i + 1}/${kinds.length} delay ${delayNs} ns: p50 ${(p50.baseline / 1000).toFixed(2)} → ${(p50.current / 1000).toFixed(2)} µs (×${p50.ratio.toFixed(3)} [${p50.ratioLow.toFixed(3)}, ${p50.ratioHigh.toFixed(3)}]), ` +
      `p99 ×${p99.ratio.toFixed(3)}: ${comparison.regression ? `REGRESSION (${trial.regressed.join(', ')})` : 'no regression'}${kept.setAside.length ? ` (${kept.setAside.length} set aside)` : ''}`,
  );
}
rmSync(tmp, { recursive: true, force: true });

// Binomial intervals for a proportion x/n.
function logChoose(n, k) {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}
function binomCdf(k, n, p) {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let s = 0;
  for (let i = 0; i <= k; i++) s += Math.exp(logChoose(n, i) + i * Math.log(p) + (n - i) * Math.log1p(-p));
  return Math.min(1, s);
}
function bisect(f, target, increasing) {
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if ((f(mid) < target) === increasing) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
/** Exact (Clopper–Pearson) two-sided 95 % interval. */
function clopperPearson(x, n, alpha = 0.05) {
  const low = x === 0 ? 0 : bisect((p) => 1 - binomCdf(x - 1, n, p), alpha / 2, true);
  const high = x === n ? 1 : bisect((p) => binomCdf(x, n, p), alpha / 2, false);
  return { low, high };
}
/** Wilson score 95 % interval. */
function wilson(x, n, z = 1.959964) {
  const p = x / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return { low: Math.max(0, c - h), high: Math.min(1, c + h) };
}
const quantile = (values, q) => {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};
const spread = (values) => ({ min: Math.min(...values), p5: quantile(values, 0.05), median: median(values), p95: quantile(values, 0.95), max: Math.max(...values) });

const summary = {};
for (const d of [0, ...delays]) {
  const t = trials.filter((x) => x.delayNs === d);
  const flagged = t.filter((x) => x.regression).length;
  const ratios = t.map((x) => x.p50.ratio);
  summary[d] = {
    trials: t.length,
    flagged,
    rate: flagged / t.length,
    clopperPearson: clopperPearson(flagged, t.length),
    wilson: wilson(flagged, t.length),
    byMetric: Object.fromEntries(['latency p50', 'latency p99', 'throughput', 'runtime high-water of a run', 'allocations per inference'].map((m) => [m, t.filter((x) => x.regressed.includes(m)).length])),
    improvementsCalled: t.filter((x) => x.improved.length > 0).length,
    p50Ratio: spread(ratios),
    p99Ratio: spread(t.map((x) => x.p99.ratio)),
    baselineP50Ns: median(t.map((x) => x.p50.baseline)),
    currentP50Ns: median(t.map((x) => x.p50.current)),
    // Within-run statistics alone: the p50 interval excludes 1 and Mann–Whitney p < alpha.
    withinRunSignificant: t.filter((x) => (x.p50.low > 1 || x.p50.high < 1) && x.p50.p < 0.01).length,
    setAside: t.reduce((n, x) => n + x.setAside, 0),
    keptDisturbed: t.filter((x) => !x.quiet).length,
  };
}

const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, options: opts, config, compareOptions, summary, trials });

const pc = (x) => `${(x * 100).toFixed(1)} %`;
const r3 = (x) => x.toFixed(3);
const base = summary[0];
console.log(`Machine: ${machineLine(meta.environment)}`);
console.log(
  `Command: node ${meta.command}  (${opts.model}.onnx, intraOpThreads 1; each audit: steps.latency { ${opts.durationMs > 0 ? `durationMs: ${opts.durationMs}` : `iterations: ${opts.iterations}`}, cpu: ${opts.cpu}, warmup: { iterations: ${opts.warmup} } } on a fresh model; compareReports with ${JSON.stringify(compareOptions)})\n`,
);
console.log('| trials | injected delay | flagged as regression | rate | 95 % interval (Clopper–Pearson) | Wilson | p50 baseline → current (median) | p50 ratio: min / median / max |');
console.log('| --- | ---: | ---: | ---: | --- | --- | --- | --- |');
for (const d of [0, ...delays]) {
  const s = summary[d];
  const what = d === 0 ? 'same configuration (false alarms)' : `+${d} ns per inference (≈ +${pc(d / base.baselineP50Ns)} of the p50)`;
  console.log(
    `| ${what} | ${d} ns | ${s.flagged}/${s.trials} | ${pc(s.rate)} | ${pc(s.clopperPearson.low)} – ${pc(s.clopperPearson.high)} | ${pc(s.wilson.low)} – ${pc(s.wilson.high)} | ${(s.baselineP50Ns / 1000).toFixed(2)} → ${(s.currentP50Ns / 1000).toFixed(2)} µs | ${r3(s.p50Ratio.min)} / ${r3(s.p50Ratio.median)} / ${r3(s.p50Ratio.max)} |`,
  );
}
console.log('\nSame-configuration pairs (current / baseline):\n');
console.log('| ratio | min | 5th pct | median | 95th pct | max |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [label, s] of [['p50', base.p50Ratio], ['p99', base.p99Ratio]]) console.log(`| ${label} | ${r3(s.min)} | ${r3(s.p5)} | ${r3(s.median)} | ${r3(s.p95)} | ${r3(s.max)} |`);
console.log('\nWhich metric was flagged (trials):\n');
console.log(`| injected delay | ${Object.keys(base.byMetric).join(' | ')} | an improvement called |`);
console.log(`| ---: | ${Object.keys(base.byMetric).map(() => '---:').join(' | ')} | ---: |`);
for (const d of [0, ...delays]) console.log(`| ${d} ns | ${Object.values(summary[d].byMetric).join(' | ')} | ${summary[d].improvementsCalled} |`);
console.log(`\nSame-configuration pairs whose p50 differed by the within-run statistics alone (p50 ratio interval excludes 1 and Mann–Whitney p < 0.01): ${base.withinRunSignificant}/${base.trials}.`);
console.log(`Trials set aside (other processes busy; kept though disturbed): ${Object.values(summary).reduce((n, s) => n + s.setAside, 0)} (${Object.values(summary).reduce((n, s) => n + s.keptDisturbed, 0)})`);
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}`);
