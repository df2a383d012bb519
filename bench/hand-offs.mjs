#!/usr/bin/env node
// What the hand-offs of `await model.run()` buy, measured within one process: for longer calls,
// the JS thread woken ahead of a call's expected end (pre-wake) and a worker that spins longer
// after a long call that the next one followed at once (long spin); for short calls, the JS thread
// taking back a call no worker has started 50 µs into its wait (take-back), and a call that
// typically takes at most 250 µs made alone run on the JS thread (run-here; "run-here to 50 µs"
// is the bound before 2026-12-02, "no run-here" none at all); and, for longer calls,
// the pool's alarm thread, which sends the pre-wake, sleeping on the JS thread's CPU (alarm
// follows), a worker stepping off the JS thread's CPU before it runs a call the JS thread will
// sleep through (step-off), a pre-woken JS thread waiting again, after a turn of the event loop,
// for a call that outlasted its first wait (re-wait), the pre-wake timed by the session's recent
// runs rather than its moving average (pre-wake by mean, when off), and by the second shortest of
// the last eight rather than the typical (pre-wake by typical, when off); and, for calls about the
// run-here bound, a session whose calls run on the JS thread keeping them there up to 1.5 times the
// bound, its moving average allowed twice its typical run (no stay-here, when off). Each is turned
// on and off by a test hook of the addon, so the four combinations of the first two (the others
// on), all on but one of the others, `runSync()` and (for .onnx) onnxruntime-node's `session.run()` take
// turns in short blocks, in a fresh random order in every block: this VM's speed drifts by more
// than the difference sought within seconds, and a block of 50 calls is short enough for
// neighbours to see the same machine.
//
//   node bench/hand-offs.mjs [--models embedding_model,melspectrogram] [--runtimes onnx,tflite]
//                            [--blocks 40] [--per-block 50] [--seed 1] [--js-cpus 0,1 [--settle-ms 20]]
//                            [--only "run-here to 50 µs;no take-back"] [--out hand-offs]
//
// --only: the run() paths to time, by their names after "run(), ", separated by ";" (with their
// baselines; runSync() and onnxruntime-node always): fewer paths, more blocks in the same time.
//
// --js-cpus A,B: the JS thread is moved between CPUs A and B from block to block (as in
// run-paths.mjs), and all paths take turns untimed for --settle-ms after each move.
//
// Per path: p50 / p99 of all its calls; the median over blocks of (block median − the same block's
// runSync() median), with its 95 % distribution-free interval; the same against its baseline (the
// run() with neither pre-wake nor long spin, or for the paths with one of the other hand-offs
// off, the run() with all of them), with the signed-rank p; p99 against the baseline and against
// onnxruntime-node with a 95 % interval from resampling whole blocks; the process's CPU time per
// call (every thread: the JS thread, the workers, the pool's alarm thread); the share of calls
// run on the JS thread, settled by a pre-woken JS thread (and of all, in a wait after its first),
// taken back, and run after a worker stepped off the JS thread's CPU; the full (major) garbage
// collections that started during the path's blocks.
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lineLog, machineLine, median, openForJsPaths, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';
import { medianInterval, parseJsCpus, pinJsThread, quantile, seededBlocks, sorted, timeCalls } from './blocks.mjs';
import { sdkDir } from './paths.mjs';

const usage =
  'usage: node bench/hand-offs.mjs [--models embedding_model,melspectrogram] [--runtimes onnx,tflite] [--blocks 40] [--per-block 50] [--seed 1] [--js-cpus 0,1 [--settle-ms 20]] [--only "name;name"] [--out hand-offs]';
const opts = parseArgs(
  { models: 'embedding_model,melspectrogram', runtimes: 'onnx,tflite', blocks: 40, perBlock: 50, seed: 1, jsCpus: 'none', settleMs: 20, only: 'all', out: 'hand-offs' },
  usage,
);
const { native } = await import(pathToFileURL(path.join(sdkDir, 'dist', 'native.js')).href);
if (!('takenBack' in native().runPathsForTest())) {
  console.error(`the SDK under test (${sdkDir}) has no pre-wake and take-back to turn off`);
  process.exit(2);
}
const meta = provenance();
const { cpus: jsCpus, error: jsCpusError } = parseJsCpus(opts.jsCpus, opts.blocks, meta.affinity);
if (jsCpusError) {
  console.error(`${jsCpusError}\n${usage}`);
  process.exit(2);
}
const { signedRank } = sdk;
console.error(machineLine(meta.environment));
const { lines, say } = lineLog();

// Seeded, for the block order and the resampling.
const { shuffle, p99Difference } = seededBlocks(opts.seed);
// Garbage collections, by start time, to be counted against the block they fell in.
const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: e.startTime, major: e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR });
}).observe({ entryTypes: ['gc'] });

const variants = [
  ['run(), neither', { prewake: false, longSpin: false }],
  ['run(), pre-wake', { prewake: true, longSpin: false }],
  ['run(), long spin', { prewake: false, longSpin: true }],
  ['run(), both', { prewake: true, longSpin: true }],
  ['run(), no take-back', { prewake: true, longSpin: true, takeBack: false }],
  ['run(), alarm free', { prewake: true, longSpin: true, alarmFollows: false }],
  ['run(), no step-off', { prewake: true, longSpin: true, stepOff: false }],
  ['run(), no run-here', { prewake: true, longSpin: true, runHere: false }],
  ['run(), no re-wait', { prewake: true, longSpin: true, rewait: false }],
  ['run(), pre-wake by mean', { prewake: true, longSpin: true, prewakeTypical: false }],
  ['run(), run-here to 50 µs', { prewake: true, longSpin: true, runHereMaxNs: 50_000 }],
  ['run(), pre-wake by typical', { prewake: true, longSpin: true, prewakeEarly: false }],
  ['run(), no stay-here', { prewake: true, longSpin: true, stayHere: false }],
];
const againstAll = new Set(['run(), no take-back', 'run(), alarm free', 'run(), no step-off', 'run(), no run-here', 'run(), no re-wait', 'run(), pre-wake by mean', 'run(), run-here to 50 µs', 'run(), pre-wake by typical', 'run(), no stay-here']);
const baselineOf = (k) => (againstAll.has(k) ? 'run(), both' : 'run(), neither');
let timed = variants;
if (opts.only !== 'all') {
  const wanted = opts.only.split(';').map((n) => `run(), ${n.trim()}`);
  const unknown = wanted.filter((k) => !variants.some(([label]) => label === k));
  if (unknown.length > 0) {
    console.error(`--only: no path ${unknown.join(', ')} (one of ${variants.map(([label]) => label.slice(6)).join('; ')})\n${usage}`);
    process.exit(2);
  }
  const keep = new Set(wanted);
  for (const k of [...keep]) for (let b = k; b !== 'run(), neither'; b = baselineOf(b)) keep.add(baselineOf(b));
  timed = variants.filter(([label]) => keep.has(label));
}
const rows = [];
for (const name of opts.models.split(',')) {
  for (const runtime of opts.runtimes.split(',')) {
    const { model, feeds, ortRun, close } = await openForJsPaths(name, runtime);
    const paths = {};
    for (const [label, tuning] of timed) paths[label] = { tuning, call: () => model.run(feeds) };
    paths['runSync()'] = { tuning: null, call: () => model.runSync(feeds) };
    if (ortRun) paths['onnxruntime-node session.run()'] = { tuning: null, call: ortRun };
    const keys = Object.keys(paths);
    const blocks = Object.fromEntries(keys.map((k) => [k, []]));
    const cpuNs = Object.fromEntries(keys.map((k) => [k, 0]));
    const prewoken = Object.fromEntries(keys.map((k) => [k, 0]));
    const rewaited = Object.fromEntries(keys.map((k) => [k, 0]));
    const takenBack = Object.fromEntries(keys.map((k) => [k, 0]));
    const steppedOff = Object.fromEntries(keys.map((k) => [k, 0]));
    const ranHere = Object.fromEntries(keys.map((k) => [k, 0]));
    const spans = Object.fromEntries(keys.map((k) => [k, []]));
    for (const k of keys) for (let i = 0; i < 50; i++) await paths[k].call(); // warm-up, and the session's expected time
    for (let b = 0; b < opts.blocks; b++) {
      if (jsCpus) {
        pinJsThread(jsCpus[b % 2], meta.affinity);
        const until = performance.now() + opts.settleMs;
        while (performance.now() < until) {
          for (const k of keys) {
            native().runPathsForTest(paths[k].tuning ?? { prewake: true, longSpin: true });
            await paths[k].call();
          }
        }
      }
      for (const k of shuffle(keys)) {
        const { tuning, call } = paths[k];
        native().runPathsForTest(tuning ?? { prewake: true, longSpin: true });
        for (let i = 0; i < 5; i++) await call(); // the last path's state (a spinning worker, a pre-wake) is not inherited
        const before = native().runPathsForTest();
        const cpu0 = process.cpuUsage();
        const startedMs = performance.now();
        const samples = await timeCalls(call, opts.perBlock);
        const cpu = process.cpuUsage(cpu0);
        spans[k].push([startedMs, performance.now()]);
        cpuNs[k] += (cpu.user + cpu.system) * 1000;
        const after = native().runPathsForTest();
        prewoken[k] += after.prewoken - before.prewoken;
        rewaited[k] += (after.rewaited ?? 0) - (before.rewaited ?? 0);
        takenBack[k] += after.takenBack - before.takenBack;
        steppedOff[k] += (after.steppedOff ?? 0) - (before.steppedOff ?? 0);
        ranHere[k] += after.ranHere - before.ranHere;
        blocks[k].push(samples);
      }
    }
    if (jsCpus) pinJsThread(null, meta.affinity);
    native().runPathsForTest({ prewake: true, longSpin: true });
    await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
    const majorGcs = (k) => gcs.filter((g) => g.major && spans[k].some(([a, b]) => g.at >= a && g.at < b)).length;
    const calls = opts.blocks * opts.perBlock;
    const blockMedian = (k) => blocks[k].map((s) => median([...s]));
    const row = { model: `${name}.${runtime}`, calls, paths: {} };
    const sync = blockMedian('runSync()');
    const ortKey = 'onnxruntime-node session.run()';
    for (const k of keys) {
      const all = sorted(blocks[k].flatMap((s) => [...s]));
      const mine = blockMedian(k);
      const base = blockMedian(baselineOf(k));
      const vsBaseline = mine.map((m, i) => m - base[i]);
      row.paths[k] = {
        p50Ns: quantile(all, 0.5),
        p99Ns: quantile(all, 0.99),
        overRunSyncP50: medianInterval(mine.map((m, i) => m - sync[i])),
        baseline: baselineOf(k),
        vsBaselineP50: { ...medianInterval(vsBaseline), p: signedRank(vsBaseline).p },
        vsBaselineP99: p99Difference(blocks[k], blocks[baselineOf(k)]),
        vsOrtP99: ortRun ? p99Difference(blocks[k], blocks[ortKey]) : null,
        cpuPerCallNs: cpuNs[k] / calls,
        prewokenShare: prewoken[k] / calls,
        rewaitedShare: rewaited[k] / calls,
        takenBackShare: takenBack[k] / calls,
        steppedOffShare: steppedOff[k] / calls,
        ranHereShare: ranHere[k] / calls,
        majorGcs: majorGcs(k),
      };
    }
    rows.push(row);
    console.error(`${row.model}: ${keys.map((k) => `${k} ${us(row.paths[k].p50Ns)}/${us(row.paths[k].p99Ns)}`).join(', ')} µs`);
    await close();
  }
}

const span = (x) => `${us(x.medianNs ?? x.diffNs)} (${us(x.lowNs)}…${us(x.highNs)})`;
say(`p50 / p99: all calls of the path; "over runSync()" and "vs baseline": median over blocks of the difference of block medians, 95 % interval; p99 differences with a 95 % interval from resampling blocks; µs. Baseline: "run(), neither" (no pre-wake, no long spin), and for ${[...againstAll].map((k) => `"${k}"`).join(', ')} the run() with every hand-off ("run(), both").`);
say('');
say('| model | path | p50 / p99 | over runSync() at p50 | vs baseline at p50 (p) | vs baseline at p99 | vs onnxruntime-node at p99 | CPU per call | run here | pre-woken | re-waited | taken back | stepped off | full GCs |');
say('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  for (const [k, x] of Object.entries(r.paths)) {
    const vsBaseline = k === 'run(), neither' ? '–' : `${span(x.vsBaselineP50)} (p ${x.vsBaselineP50.p.toPrecision(2)})`;
    const vsBaseline99 = k === 'run(), neither' ? '–' : span(x.vsBaselineP99);
    say(`| ${r.model} | ${k} | ${us(x.p50Ns)} / ${us(x.p99Ns)} | ${span(x.overRunSyncP50)} | ${vsBaseline} | ${vsBaseline99} | ${x.vsOrtP99 ? span(x.vsOrtP99) : '–'} | ${us(x.cpuPerCallNs)} | ${(x.ranHereShare * 100).toFixed(0)} % | ${(x.prewokenShare * 100).toFixed(0)} % | ${((x.rewaitedShare ?? 0) * 100).toFixed(1)} % | ${(x.takenBackShare * 100).toFixed(1)} % | ${(x.steppedOffShare * 100).toFixed(1)} % | ${x.majorGcs} |`);
  }
}
const quiet = provenanceLines(meta, say, `(affinity: CPUs ${meta.affinity.join(',')})`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
