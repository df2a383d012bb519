#!/usr/bin/env node
// The history rules measured on real audits: how often they call a step or a regression in a
// stable series (false alarms), and how soon they catch a real slowdown (power).
//
//   node bench/history.mjs --part collect --runs 120 --db build/bench/history.db
//       --runs audits of hey_jarvis_v0.1.onnx (latency 1 s pinned to --cpu, throughput, memory), each
//       in a fresh process that opens the model anew, recorded in the SQLite store; with --delay-frac F
//       the delay hook spins F × the stable series' median p50 into every run (a real slowdown of the
//       runtime call, seen by every step), recorded under the branch "delay-F"
//   node bench/history.mjs --part analyse --db build/bench/history.db
//       false alarms: every run of the stable series judged as the latest against those before it,
//       and the steps found in the whole series; power: the last 40 stable runs followed by chunks
//       of 10 delayed runs, judged as each arrives, and where the step is placed
//
// Options: [--cpu 1] [--latency-ms 1000] [--delay-frac 0] [--out history]

process.env.MODEL_AUDIT_TEST_HOOKS = '1';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
const { lineLog, machineLine, parseArgs, provenance, provenanceLines, rateWithInterval, sdk, writeResult } = await import('./common.mjs');
const { modelPaths } = await import('./paths.mjs');

const usage = 'usage: node bench/history.mjs --part collect|analyse|one --db FILE [--runs 120] [--cpu 1] [--latency-ms 1000] [--delay-frac 0] [--delay-ns 0] [--index 0] [--out history]';
const opts = parseArgs({ part: '', db: 'build/bench/history.db', runs: 120, cpu: 1, latencyMs: 1000, delayFrac: 0, delayNs: 0, index: 0, out: '' }, usage);
const { analyseHistory, changePoints, checkLatest, historyRuleDefaults, injectFaults, openModel, openStore, audit } = sdk;
const modelFile = modelPaths('hey_jarvis_v0.1').onnx;
const stableBranch = 'stable';

/** One audit in this process: open, inject the delay, audit, record. */
async function one() {
  const model = await openModel(modelFile, { intraOpThreads: 1 });
  try {
    if (opts.delayNs > 0) injectFaults(model, { delayNsPerRun: opts.delayNs });
    const report = await audit(model, { steps: { latency: { durationMs: opts.latencyMs, cpu: opts.cpu }, throughput: {}, memory: {} } });
    const store = await openStore(`sqlite:${opts.db}`);
    try {
      const branch = opts.delayFrac > 0 ? `delay-${opts.delayFrac}` : stableBranch;
      await store.record(report, { gitCommit: `${branch}-${String(opts.index).padStart(4, '0')}`, gitBranch: branch, ciProvider: null, ciRunId: null, machineLabel: 'bench' });
    } finally {
      await store.close();
    }
  } finally {
    model.close();
  }
}

async function stableMedianP50() {
  const store = await openStore(`sqlite:${opts.db}`);
  try {
    const p = (await store.points({ branch: stableBranch, metric: 'latency.p50Ns' })).map((x) => x.value).sort((a, b) => a - b);
    if (p.length === 0) throw new Error('collect the stable series first (no --delay-frac)');
    return p[p.length >> 1];
  } finally {
    await store.close();
  }
}

async function collect() {
  const delayNs = opts.delayFrac > 0 ? Math.round(opts.delayFrac * (await stableMedianP50())) : 0;
  const script = fileURLToPath(import.meta.url);
  const started = Date.now();
  for (let i = 0; i < opts.runs; i++) {
    const r = spawnSync(process.execPath, [script, '--part', 'one', '--db', opts.db, '--cpu', String(opts.cpu), '--latency-ms', String(opts.latencyMs), '--delay-frac', String(opts.delayFrac), '--delay-ns', String(delayNs), '--index', String(i)], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`audit ${i} exited with ${r.status ?? r.signal}`);
    if (i % 10 === 9) console.error(`${i + 1}/${opts.runs} audits, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  console.error(`recorded ${opts.runs} audits${delayNs ? ` with ${delayNs} ns spun into every run` : ''} in ${opts.db}`);
}

const rate = rateWithInterval;

async function analyse() {
  const meta = provenance();
  console.error(machineLine(meta.environment));
  const { lines, say } = lineLog();
  const store = await openStore(`sqlite:${opts.db}`);
  const points = await store.points({ limit: 100000 });
  await store.close();
  const byBranch = (b) => analyseHistory(points.filter((p) => p.gitBranch === b));
  const stable = byBranch(stableBranch);
  const rule = historyRuleDefaults;
  const result = { options: opts, rule, ...meta, falseAlarms: [], power: [] };
  say(`Stable series: ${stable[0]?.points.length ?? 0} audits of hey_jarvis_v0.1.onnx, each a fresh process.`);
  say('');
  say(`| metric | runs | spread of the runs (robust SD / median) | latest-run check: false alarms (95 % CI) | single runs worse than every earlier one by the floor (noted, not judged) | steps found in the whole series |`);
  say('| --- | --- | --- | --- | --- | --- |');
  for (const s of stable) {
    const values = s.points.map((p) => p.value);
    let judged = 0;
    let alarms = 0;
    let alone = 0;
    for (let end = rule.minHistory + 1; end <= values.length; end++) {
      const prefix = values.slice(0, end);
      const c = checkLatest(prefix, s.metric, changePoints(prefix, s.metric, rule), rule);
      if (c.verdict === 'not-enough-history') continue;
      judged++;
      if (c.verdict === 'regression') alarms++;
      if (c.latestRun.beyondWorst) alone++;
    }
    const sorted = [...values].sort((a, b) => a - b);
    const med = sorted[sorted.length >> 1];
    const mad = [...values.map((v) => Math.abs(v - med))].sort((a, b) => a - b)[values.length >> 1];
    const spread = med ? (1.4826 * mad) / med : 0;
    result.falseAlarms.push({ metric: s.metric, runs: values.length, judged, alarms, alone, steps: s.changePoints.length, relativeSpread: spread });
    say(`| ${s.metric} | ${values.length} | ${(spread * 100).toFixed(1)} % | ${rate(alarms, judged)} | ${alone} of ${judged} | ${s.changePoints.length}${s.changePoints.length ? ` (${s.changePoints.map((c) => `${(c.relativeChange * 100).toFixed(1)} % at run ${c.index}`).join(', ')})` : ''} |`);
  }
  const total = result.falseAlarms.reduce((a, f) => ({ judged: a.judged + f.judged, alarms: a.alarms + f.alarms }), { judged: 0, alarms: 0 });
  say('');
  say(`All metrics together: ${rate(total.alarms, total.judged)} of latest-run checks called a regression (the checks of one series overlap: each prefix is judged).`);
  const delayed = [...new Set(points.map((p) => p.gitBranch).filter((b) => b?.startsWith('delay-')))].sort();
  const head = 40;
  const chunk = 10;
  if (delayed.length) {
    say('');
    say(`Power: the last ${head} stable runs, then ${chunk} delayed runs (the delay hook spinning a fraction of the stable p50 into every run), judged run by run as each arrives; each trial a new chunk of ${chunk} delayed runs.`);
    say('');
    say('| delay | metric | change of the median | latest-run check: a regression at the 1st delayed run | by the 3rd | by the 5th | by the 10th | step placed within ±1 run, 10 delayed runs | step found with all delayed runs |');
    say('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  }
  for (const branch of delayed) {
    const after = byBranch(branch);
    for (const metric of ['latency.p50Ns', 'latency.p99Ns', 'throughput.inferencesPerSecond']) {
      const base = stable.find((s) => s.metric === metric);
      const hit = after.find((s) => s.metric === metric);
      if (!base || !hit) continue;
      const before = base.points.slice(-head).map((p) => p.value);
      const tail = hit.points.map((p) => p.value);
      const trials = Math.floor(tail.length / chunk);
      const by = [0, 0, 0, 0]; // by the 1st, 3rd, 5th, 10th
      for (let t = 0; t < trials; t++) {
        const seq = tail.slice(t * chunk, (t + 1) * chunk);
        const firstCall = seq.findIndex((_, k) => {
          const series = [...before, ...seq.slice(0, k + 1)];
          return checkLatest(series, metric, changePoints(series, metric, rule), rule).verdict === 'regression';
        });
        if (firstCall === 0) by[0]++;
        if (firstCall >= 0 && firstCall <= 2) by[1]++;
        if (firstCall >= 0 && firstCall <= 4) by[2]++;
        if (firstCall >= 0) by[3]++;
      }
      const whole = [...before, ...tail];
      const steps = changePoints(whole, metric, rule);
      // The step detector with ten delayed runs after the change: found, and at the right run?
      const tens = Math.floor(tail.length / 10);
      let placed = 0;
      for (let t = 0; t < tens; t++) {
        const found = changePoints([...before, ...tail.slice(t * 10, (t + 1) * 10)], metric, rule);
        if (found.some((st) => st.direction === 'regression' && Math.abs(st.index - head) <= 1)) placed++;
      }
      const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
      const change = med(tail) / med(before) - 1;
      result.power.push({ branch, metric, delayedRuns: tail.length, change, trials, by, steps, stepWithTen: { placed, trials: tens } });
      say(`| ${branch.slice(6)} × p50 | ${metric} | ${(change * 100).toFixed(1)} % | ${rate(by[0], trials)} | ${rate(by[1], trials)} | ${rate(by[2], trials)} | ${rate(by[3], trials)} | ${rate(placed, tens)} | ${steps.map((s) => `${s.direction} ${(s.relativeChange * 100).toFixed(0)} % at ${s.index}${s.index === head ? ' (exact)' : ''}`).join(', ') || 'none'} |`);
    }
  }
  provenanceLines(meta, say, `(store ${opts.db})`);
  result.lines = lines;
  console.error(`\nwrote ${writeResult(opts.out || 'history', result)}`);
}

if (opts.part === 'one') await one();
else if (opts.part === 'collect') await collect();
else if (opts.part === 'analyse') await analyse();
else {
  console.error(usage);
  process.exit(2);
}
