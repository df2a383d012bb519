#!/usr/bin/env node
// What the two hand-offs of longer `await model.run()` calls buy, measured within one process: the
// JS thread woken ahead of a call's expected end (pre-wake), and a worker that spins longer after
// a long call that the next one followed at once (long spin). Each is turned on and off by a test
// hook of the addon, so the four combinations, `runSync()` and (for .onnx) onnxruntime-node's
// `session.run()` take turns in short blocks, in a fresh random order in every block: this VM's
// speed drifts by more than the difference sought within seconds, and a block of 50 calls is short
// enough for neighbours to see the same machine.
//
//   node bench/hand-offs.mjs [--models embedding_model,melspectrogram] [--runtimes onnx,tflite]
//                            [--blocks 40] [--per-block 50] [--seed 1] [--out hand-offs]
//
// Per path: p50 / p99 of all its calls; the median over blocks of (block median − the same block's
// runSync() median), with its 95 % distribution-free interval; the same against the run() with
// neither hand-off, with the signed-rank p; p99 against neither hand-off and against onnxruntime-
// node with a 95 % interval from resampling whole blocks; the process's CPU time per call (every
// thread: the JS thread, the workers, the pool's alarm thread); the share of calls settled by a
// pre-woken JS thread; the full (major) garbage collections that started during the path's blocks.
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lineLog, machineLine, median, openForJsPaths, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';
import { sdkDir } from './paths.mjs';

const usage =
  'usage: node bench/hand-offs.mjs [--models embedding_model,melspectrogram] [--runtimes onnx,tflite] [--blocks 40] [--per-block 50] [--seed 1] [--out hand-offs]';
const opts = parseArgs({ models: 'embedding_model,melspectrogram', runtimes: 'onnx,tflite', blocks: 40, perBlock: 50, seed: 1, out: 'hand-offs' }, usage);
const { native } = await import(pathToFileURL(path.join(sdkDir, 'dist', 'native.js')).href);
if (!('prewoken' in native().runPathsForTest())) {
  console.error(`the SDK under test (${sdkDir}) has no pre-wake to turn off`);
  process.exit(2);
}
const meta = provenance();
const { SeededRandom, signedRank, quantileIntervalRanks } = sdk;
console.error(machineLine(meta.environment));
const { lines, say } = lineLog();

// Seeded, for the block order and the resampling.
const random = new SeededRandom(opts.seed);
const shuffle = (list) => {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
};
// Garbage collections, by start time, to be counted against the block they fell in.
const gcs = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ at: e.startTime, major: e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR });
}).observe({ entryTypes: ['gc'] });
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const sorted = (list) => Float64Array.from(list).sort();

/** Median of paired differences and its 95 % distribution-free interval (order statistics). */
function medianInterval(diffs) {
  const s = sorted(diffs);
  const { low, high } = quantileIntervalRanks(s.length, 0.5);
  return { medianNs: median([...s]), lowNs: s[low - 1], highNs: s[high - 1] };
}

/** p99 of a minus p99 of b, both pooled over blocks, with a 95 % interval from resampling blocks. */
function p99Difference(blocksA, blocksB, resamples = 1000) {
  const pooled = (blocks, pick) => sorted(pick.flatMap((i) => [...blocks[i]]));
  const all = blocksA.map((_, i) => i);
  const point = quantile(pooled(blocksA, all), 0.99) - quantile(pooled(blocksB, all), 0.99);
  const boot = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const pick = all.map(() => random.nextInt(0, all.length - 1));
    boot[r] = quantile(pooled(blocksA, pick), 0.99) - quantile(pooled(blocksB, pick), 0.99);
  }
  boot.sort();
  return { diffNs: point, lowNs: boot[Math.floor(resamples * 0.025)], highNs: boot[Math.ceil(resamples * 0.975) - 1] };
}

const variants = [
  ['run(), neither', { prewake: false, longSpin: false }],
  ['run(), pre-wake', { prewake: true, longSpin: false }],
  ['run(), long spin', { prewake: false, longSpin: true }],
  ['run(), both', { prewake: true, longSpin: true }],
];
const rows = [];
for (const name of opts.models.split(',')) {
  for (const runtime of opts.runtimes.split(',')) {
    const { model, feeds, ortRun, close } = await openForJsPaths(name, runtime);
    const paths = {};
    for (const [label, tuning] of variants) paths[label] = { tuning, call: () => model.run(feeds) };
    paths['runSync()'] = { tuning: null, call: () => model.runSync(feeds) };
    if (ortRun) paths['onnxruntime-node session.run()'] = { tuning: null, call: ortRun };
    const keys = Object.keys(paths);
    const blocks = Object.fromEntries(keys.map((k) => [k, []]));
    const cpuNs = Object.fromEntries(keys.map((k) => [k, 0]));
    const prewoken = Object.fromEntries(keys.map((k) => [k, 0]));
    const spans = Object.fromEntries(keys.map((k) => [k, []]));
    for (const k of keys) for (let i = 0; i < 50; i++) await paths[k].call(); // warm-up, and the session's expected time
    for (let b = 0; b < opts.blocks; b++) {
      for (const k of shuffle(keys)) {
        const { tuning, call } = paths[k];
        native().runPathsForTest(tuning ?? { prewake: true, longSpin: true });
        for (let i = 0; i < 5; i++) await call(); // the last path's state (a spinning worker, a pre-wake) is not inherited
        const before = native().runPathsForTest().prewoken;
        const cpu0 = process.cpuUsage();
        const startedMs = performance.now();
        const samples = new Float64Array(opts.perBlock);
        for (let i = 0; i < opts.perBlock; i++) {
          const t0 = process.hrtime.bigint();
          await call();
          samples[i] = Number(process.hrtime.bigint() - t0);
        }
        const cpu = process.cpuUsage(cpu0);
        spans[k].push([startedMs, performance.now()]);
        cpuNs[k] += (cpu.user + cpu.system) * 1000;
        prewoken[k] += native().runPathsForTest().prewoken - before;
        blocks[k].push(samples);
      }
    }
    native().runPathsForTest({ prewake: true, longSpin: true });
    await new Promise((resolve) => setImmediate(resolve)); // the observer's last entries
    const majorGcs = (k) => gcs.filter((g) => g.major && spans[k].some(([a, b]) => g.at >= a && g.at < b)).length;
    const calls = opts.blocks * opts.perBlock;
    const blockMedian = (k) => blocks[k].map((s) => median([...s]));
    const row = { model: `${name}.${runtime}`, calls, paths: {} };
    const neither = blockMedian('run(), neither');
    const sync = blockMedian('runSync()');
    const ortKey = 'onnxruntime-node session.run()';
    for (const k of keys) {
      const all = sorted(blocks[k].flatMap((s) => [...s]));
      const mine = blockMedian(k);
      const vsNeither = mine.map((m, i) => m - neither[i]);
      row.paths[k] = {
        p50Ns: quantile(all, 0.5),
        p99Ns: quantile(all, 0.99),
        overRunSyncP50: medianInterval(mine.map((m, i) => m - sync[i])),
        vsNeitherP50: { ...medianInterval(vsNeither), p: signedRank(vsNeither).p },
        vsNeitherP99: p99Difference(blocks[k], blocks['run(), neither']),
        vsOrtP99: ortRun ? p99Difference(blocks[k], blocks[ortKey]) : null,
        cpuPerCallNs: cpuNs[k] / calls,
        prewokenShare: prewoken[k] / calls,
        majorGcs: majorGcs(k),
      };
    }
    rows.push(row);
    console.error(`${row.model}: ${keys.map((k) => `${k} ${us(row.paths[k].p50Ns)}/${us(row.paths[k].p99Ns)}`).join(', ')} µs`);
    await close();
  }
}

const span = (x) => `${us(x.medianNs ?? x.diffNs)} (${us(x.lowNs)}…${us(x.highNs)})`;
say('p50 / p99: all calls of the path; "over runSync()" and "vs neither": median over blocks of the difference of block medians, 95 % interval; p99 differences with a 95 % interval from resampling blocks; µs.');
say('');
say('| model | path | p50 / p99 | over runSync() at p50 | vs neither at p50 (p) | vs neither at p99 | vs onnxruntime-node at p99 | CPU per call | pre-woken | full GCs |');
say('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  for (const [k, x] of Object.entries(r.paths)) {
    const vsNeither = k === 'run(), neither' ? '–' : `${span(x.vsNeitherP50)} (p ${x.vsNeitherP50.p.toPrecision(2)})`;
    const vsNeither99 = k === 'run(), neither' ? '–' : span(x.vsNeitherP99);
    say(`| ${r.model} | ${k} | ${us(x.p50Ns)} / ${us(x.p99Ns)} | ${span(x.overRunSyncP50)} | ${vsNeither} | ${vsNeither99} | ${x.vsOrtP99 ? span(x.vsOrtP99) : '–'} | ${us(x.cpuPerCallNs)} | ${(x.prewokenShare * 100).toFixed(0)} % | ${x.majorGcs} |`);
  }
}
const quiet = provenanceLines(meta, say, `(affinity: CPUs ${meta.affinity.join(',')})`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
