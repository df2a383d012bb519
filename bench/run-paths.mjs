#!/usr/bin/env node
// What one call costs from JavaScript, the way a Node service calls a model: `await model.run()`,
// `model.runSync()` and, for the .onnx files, onnxruntime-node's `await session.run()`, each timed
// with process.hrtime.bigint() around the call, over all 16 openWakeWord files; with Model.bind(),
// the bound call's `await bound.run()` and `bound.runSync()` too (the input written into the
// binding's array before each), and for the .tflite files tfjs-tflite-node's own runner.
//
// --design rounds (the default, as every figure before 2026-12-02 was taken): the paths take turns
// in rounds of --calls calls each; a row is the median over rounds of each path's p50 and p99. The
// paths of a round are seconds apart, and this VM's speed moves by more than the differences within
// that. --design blocks: the paths take turns in blocks of --per-block calls (after 5 unmeasured), in
// a fresh random order in every block, --blocks blocks; a row has each path's p50 and p99 over all
// its calls, and the differences are judged within blocks: at p50 the median over blocks of the
// difference of block medians, with its 95 % distribution-free interval, and at p99 the difference
// of the pooled p99s with a 95 % interval from resampling whole blocks (bench/blocks.mjs).
// --js-cpus A,B (blocks only): the JS thread is moved between CPUs A and B from block to block
// (taskset on its thread id, after the warm-up; the workers stay where the scheduler puts them),
// and the p50 differences are taken over pairs of blocks, one on each CPU. This VM's two vCPUs run
// at different speeds for seconds at a time, and `run()` runs the model on the worker's CPU while
// `runSync()` and onnxruntime-node run it on the JS thread's, so an unbalanced difference carries
// the difference between the CPUs. After each move the paths take turns, untimed, for
// --settle-ms (20): the JS thread lands on the CPU the worker was spinning on, and for some
// milliseconds after, until the kernel parts them, `run()`'s calls are slow in streaks (one-off
// script on hey_jarvis_v0.1.onnx: p99 483 µs with no settling, 133 µs with 20 ms, against 167 and
// 116 µs for onnxruntime-node). A move is the bench's doing, not the user's.
// --pause-ms N (blocks only): every timed call comes N ms after the last, on a timer, with the event
// loop asleep in between, as a service calls a model once per frame of audio (openWakeWord's frames
// are 80 ms): the JS thread wakes from the timer, the worker from its sleep, the CPUs from idle,
// with cold caches. Back to back (0, the default), the worker is spinning and everything is warm.
// --js-thread-run-max-ms N: the models are opened with jsThreadRunMaxMs N (run() of a call made
// alone on the JS thread when the model typically takes at most N ms; 0.25 by default).
//
//   node bench/run-paths.mjs [--design rounds|blocks] [--calls 2000] [--rounds 10] [--blocks 40]
//                            [--per-block 50] [--seed 1] [--js-cpus 0,1 [--settle-ms 20]] [--pause-ms 0]
//                            [--js-thread-run-max-ms 0.25] [--models all|name,name] [--out run-paths]
//   taskset -c 1 node bench/run-paths.mjs --out run-paths-pinned      (the whole process on one CPU)
//   BENCH_SDK=build/bench/sdk-before node bench/run-paths.mjs ...      (an earlier build, snapshotted)
//
// For the .tflite files, tfjs-tflite-node's own runner beside them where it takes the file: the
// package ships its binding's source but no build, so this script compiles it first
// (bench/build-tflite-node.mjs, into build/bench/; says why when it cannot).
import { medianInterval, parseJsCpus, pinJsThread, quantile, seededBlocks, sorted, timeCalls } from './blocks.mjs';
import { buildTfliteNode, tfliteNodeVersion } from './build-tflite-node.mjs';
import { lineLog, machineLine, median, openForJsPaths, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';

const usage =
  'usage: [taskset -c 1] node bench/run-paths.mjs [--design rounds|blocks] [--calls 2000] [--rounds 10] [--blocks 40] [--per-block 50] [--seed 1] [--js-cpus 0,1 [--settle-ms 20]] [--pause-ms 0] [--js-thread-run-max-ms 0.25] [--models all|name,name] [--out run-paths]';
const opts = parseArgs(
  { design: 'rounds', calls: 2000, rounds: 10, blocks: 40, perBlock: 50, seed: 1, jsCpus: 'none', settleMs: 20, pauseMs: 0, jsThreadRunMaxMs: 0.25, models: 'all', out: 'run-paths' },
  usage,
);
if (opts.design !== 'rounds' && opts.design !== 'blocks') {
  console.error(`--design: rounds or blocks, not ${opts.design}\n${usage}`);
  process.exit(2);
}
const { shuffle, p99Difference } = seededBlocks(opts.seed);
const meta = provenance();
const { cpus: jsCpus, error: jsCpusError } = parseJsCpus(opts.jsCpus, opts.blocks, meta.affinity);
if (jsCpusError || (jsCpus && opts.design !== 'blocks')) {
  console.error(`${jsCpusError ?? '--js-cpus: with --design blocks'}\n${usage}`);
  process.exit(2);
}
if (opts.pauseMs < 0 || (opts.pauseMs > 0 && opts.design !== 'blocks')) {
  console.error(`--pause-ms: 0 or more, with --design blocks\n${usage}`);
  process.exit(2);
}
const { summarize } = sdk;
console.error(machineLine(meta.environment));
const allModels = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
const models = opts.models === 'all' ? allModels : opts.models.split(',');
for (const m of models) {
  if (!allModels.includes(m)) {
    console.error(`--models: unknown model ${m} (one of ${allModels.join(', ')})\n${usage}`);
    process.exit(2);
  }
}
const { lines, say } = lineLog();
let tfliteNode = null;
try {
  buildTfliteNode({ quiet: true });
  tfliteNode = tfliteNodeVersion();
} catch (err) {
  console.error(`tfjs-tflite-node's runner left out: ${err.message.split('\n')[0]}`);
}
const ORT = 'onnxruntime-node session.run()';
const TFLITE_NODE = 'tfjs-tflite-node infer()';
/** Rows' keys for the runtime's own Node package: its path, and run()'s differences from it. */
const packagePath = (row) => row[ORT] ?? row[TFLITE_NODE];
const packageDiff = (row) => row.runVsOrt ?? row.runVsTfliteNode;
const BOUND = 'bound run()';
const BOUND_SYNC = 'bound runSync()';
const missing = [];

async function time(fn, calls) {
  for (let i = 0; i < Math.min(200, calls); i++) await fn();
  const s = summarize(await timeCalls(fn, calls));
  return { p50Ns: s.p50Ns, p99Ns: s.p99Ns };
}

/** The paths in interleaved blocks: each path's samples, block by block. */
async function timeBlocks(paths) {
  const keys = Object.keys(paths);
  const blocks = Object.fromEntries(keys.map((k) => [k, []]));
  for (const k of keys) for (let i = 0; i < 50; i++) await paths[k](); // warm-up, and the session's expected time
  for (let b = 0; b < opts.blocks; b++) {
    if (jsCpus) {
      pinJsThread(jsCpus[b % 2], meta.affinity);
      const until = performance.now() + opts.settleMs;
      while (performance.now() < until) for (const k of keys) await paths[k]();
    }
    for (const k of shuffle(keys)) {
      for (let i = 0; i < 5; i++) await paths[k](); // the last path's state (a spinning worker) is not inherited
      blocks[k].push(await timeCalls(paths[k], opts.perBlock, opts.pauseMs));
    }
  }
  if (jsCpus) pinJsThread(null, meta.affinity);
  return blocks;
}

/** A row of the blocks design: pooled p50 / p99 per path, and run()'s paired differences. */
function blocksRow(blocks) {
  const row = {};
  for (const [k, list] of Object.entries(blocks)) {
    const all = sorted(list.flatMap((s) => [...s]));
    row[k] = { p50Ns: quantile(all, 0.5), p99Ns: quantile(all, 0.99) };
  }
  const blockMedians = (k) => blocks[k].map((s) => median([...s]));
  const versus = (k, from = 'model.run()') => {
    const run = blockMedians(from);
    const other = blockMedians(k);
    const diffs = run.map((m, i) => m - other[i]);
    // With the JS thread moved from CPU to CPU, a pair of blocks (one on each) is the unit.
    const units = jsCpus ? diffs.filter((_, i) => i % 2 === 0).map((d, j) => (d + diffs[2 * j + 1]) / 2) : diffs;
    return { p50: medianInterval(units), p99: p99Difference(blocks[from], blocks[k]) };
  };
  row.runVsRunSync = versus('model.runSync()');
  if (blocks[ORT]) row.runVsOrt = versus(ORT);
  if (blocks[TFLITE_NODE]) row.runVsTfliteNode = versus(TFLITE_NODE);
  if (blocks[BOUND]) {
    row.boundVsBoundSync = versus(BOUND_SYNC, BOUND);
    row.boundVsRun = versus('model.run()', BOUND);
    if (blocks[ORT]) row.boundVsOrt = versus(ORT, BOUND);
    if (blocks[TFLITE_NODE]) row.boundVsTfliteNode = versus(TFLITE_NODE, BOUND);
  }
  return row;
}

const rows = [];
for (const name of models) {
  for (const runtime of ['onnx', 'tflite']) {
    // Given only when moved, so that an SDK from before the option (BENCH_SDK) still opens the models.
    const opened = await openForJsPaths(name, runtime, opts.jsThreadRunMaxMs === 0.25 ? {} : { jsThreadRunMaxMs: opts.jsThreadRunMaxMs }, { tfliteNode: tfliteNode !== null });
    const { model, feeds, ortRun, tfliteNodeRun, tfliteNodeMissing, boundRun, boundRunSync, close } = opened;
    const paths = {
      'model.run()': () => model.run(feeds),
      'model.runSync()': () => model.runSync(feeds),
    };
    if (ortRun) paths[ORT] = ortRun;
    if (tfliteNodeRun) paths[TFLITE_NODE] = tfliteNodeRun;
    if (boundRun) {
      paths[BOUND] = boundRun;
      paths[BOUND_SYNC] = boundRunSync;
    }
    if (tfliteNodeMissing) missing.push(`${name}.${runtime}: ${tfliteNodeMissing}`);
    let row;
    if (opts.design === 'blocks') {
      row = { model: `${name}.${runtime}`, calls: opts.blocks * opts.perBlock, ...blocksRow(await timeBlocks(paths)) };
    } else {
      const perRound = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
      // Fewer calls for the slow embedding model (≈1–5 ms a call).
      const calls = name === 'embedding_model' ? Math.max(200, Math.floor(opts.calls / 10)) : opts.calls;
      for (let r = 0; r < opts.rounds; r++) {
        const order = Object.keys(paths);
        if (r % 2) order.reverse();
        for (const k of order) perRound[k].push(await time(paths[k], calls));
      }
      row = { model: `${name}.${runtime}`, calls };
      for (const [k, list] of Object.entries(perRound)) row[k] = { p50Ns: median(list.map((x) => x.p50Ns)), p99Ns: median(list.map((x) => x.p99Ns)) };
    }
    rows.push(row);
    console.error(`${row.model}: ${Object.keys(paths).map((k) => `${k} ${us(row[k].p50Ns)}/${us(row[k].p99Ns)} µs`).join(', ')}`);
    await close();
  }
}

const cell = (x) => (x ? `${us(x.p50Ns)} / ${us(x.p99Ns)}` : '–');
const diff = (a, b) => `${((a - b) / 1000).toFixed(1)} µs`;
const span = (x) => `${((x.medianNs ?? x.diffNs) / 1000).toFixed(1)} (${(x.lowNs / 1000).toFixed(1)}…${(x.highNs / 1000).toFixed(1)})`;
if (opts.design === 'blocks') {
  if (opts.pauseMs > 0) say(`Every timed call ${opts.pauseMs} ms after the last, on a timer (the event loop asleep in between).`);
  if (opts.jsThreadRunMaxMs !== 0.25) say(`The models opened with jsThreadRunMaxMs ${opts.jsThreadRunMaxMs}.`);
  say('p50 / p99 over all calls of a path, µs. Differences in µs with a 95 % interval: at p50 the median over blocks of the difference of block medians; at p99 the difference of pooled p99s, the interval from resampling blocks. "Allowed": 10 % of runSync()\'s p50 + 2 µs.');
  say('');
  say('| model | `await model.run()` | `runSync()` | the package: onnxruntime-node `await session.run()`, tfjs-tflite-node `infer()` | run() − runSync() at p50 | allowed | run() − the package at p50 | at p99 |');
  say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const sync = r['model.runSync()'];
    const allowed = (0.1 * sync.p50Ns + 2000) / 1000;
    const other = packageDiff(r);
    say(`| ${r.model} | ${cell(r['model.run()'])} | ${cell(sync)} | ${cell(packagePath(r))} | ${span(r.runVsRunSync.p50)} | ${allowed.toFixed(1)} | ${other ? span(other.p50) : '–'} | ${other ? span(other.p99) : '–'} |`);
  }
  if (rows.some((r) => r[BOUND])) {
    say('');
    say('Model.bind(): `await bound.run()` and `bound.runSync()`, the input written into the binding\'s array before each call. "Allowed": 10 % of `bound.runSync()`\'s p50 + 2 µs.');
    say('');
    say('| model | `await bound.run()` | `bound.runSync()` | bound run() − bound runSync() at p50 | allowed | bound run() − the package at p50 | at p99 | bound run() − run() at p50 |');
    say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows.filter((x) => x[BOUND])) {
      const allowed = (0.1 * r[BOUND_SYNC].p50Ns + 2000) / 1000;
      const other = r.boundVsOrt ?? r.boundVsTfliteNode;
      say(`| ${r.model} | ${cell(r[BOUND])} | ${cell(r[BOUND_SYNC])} | ${span(r.boundVsBoundSync.p50)} | ${allowed.toFixed(1)} | ${other ? span(other.p50) : '–'} | ${other ? span(other.p99) : '–'} | ${span(r.boundVsRun.p50)} |`);
    }
  }
} else {
  say(`| model | \`await model.run()\` p50 / p99 (µs) | \`runSync()\` | the package: onnxruntime-node \`await session.run()\`, tfjs-tflite-node \`infer()\` | run() − runSync() at p50 | run() − the package at p50 / p99 |`);
  say('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const run = r['model.run()'];
    const other = packagePath(r);
    const vsOther = other ? `${diff(run.p50Ns, other.p50Ns)} / ${diff(run.p99Ns, other.p99Ns)}` : '–';
    say(`| ${r.model} | ${cell(run)} | ${cell(r['model.runSync()'])} | ${cell(other)} | ${diff(run.p50Ns, r['model.runSync()'].p50Ns)} | ${vsOther} |`);
  }
}
if (rows.some((r) => r.model.endsWith('.tflite'))) {
  say('');
  say(tfliteNode ? `tfjs-tflite-node ${tfliteNode}'s runner (its binding compiled by bench/build-tflite-node.mjs), one thread.` : "tfjs-tflite-node's runner: not built here (see above).");
  for (const m of missing) say(`- ${m}`);
}
const quiet = provenanceLines(meta, say, `(affinity: CPUs ${meta.affinity.join(',')})`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
