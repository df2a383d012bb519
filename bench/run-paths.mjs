#!/usr/bin/env node
// What one call costs from JavaScript, the way a Node service calls a model: `await model.run()`,
// `model.runSync()` and, for the .onnx files, onnxruntime-node's `await session.run()`, each timed
// with process.hrtime.bigint() around the call, over all 16 openWakeWord files. The three paths
// take turns in rounds; each row is the median over rounds of each path's p50 and p99.
//
//   node bench/run-paths.mjs [--calls 2000] [--rounds 10] [--models all|name,name] [--out run-paths]
//   taskset -c 1 node bench/run-paths.mjs --out run-paths-pinned      (the whole process on one CPU)
//   BENCH_SDK=build/bench/sdk-before node bench/run-paths.mjs ...      (an earlier build, snapshotted)
//   node bench/run-paths.mjs --hand-offs both --models embedding_model  (run() with the hand-offs of
//       long calls as they were before, too, in the same process: see below)
//
// --hand-offs both adds a fourth path, `await model.run()` with the pre-wake of long calls and the
// longer spin of workers after them turned off (a test hook of the addon), taking turns with the
// others. This VM's speed drifts between processes minutes apart by more than those two save, so
// they are compared within one process.
//
// tfjs-tflite-node's own runner is not measured: its native binding is not built here (the
// package's install script is not allowed to run, see package.json allowScripts), so it does not load.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { lineLog, machineLine, median, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';
import { modelPaths, sdkDir } from './paths.mjs';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const usage = 'usage: [taskset -c 1] node bench/run-paths.mjs [--calls 2000] [--rounds 10] [--models all|name,name] [--hand-offs new|both] [--out run-paths]';
const opts = parseArgs({ calls: 2000, rounds: 10, models: 'all', handOffs: 'new', out: 'run-paths' }, usage);
if (!['new', 'both'].includes(opts.handOffs)) {
  console.error(`--hand-offs: new or both, got ${opts.handOffs}\n${usage}`);
  process.exit(2);
}
const { native } = await import(pathToFileURL(path.join(sdkDir, 'dist', 'native.js')).href);
if (opts.handOffs === 'both' && !('prewoken' in native().runPathsForTest())) {
  console.error(`--hand-offs both: the SDK under test (${sdkDir}) cannot turn its hand-offs off`);
  process.exit(2);
}
const tuning = (on) => (opts.handOffs === 'both' ? native().runPathsForTest({ prewake: on, longSpin: on }) : native().runPathsForTest());
const meta = provenance();
const { openModel, summarize, synthesizeTensor } = sdk;
console.error(machineLine(meta.environment));
const allModels = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
const models = opts.models === 'all' ? allModels : opts.models.split(',');
for (const m of models) {
  if (!allModels.includes(m)) {
    console.error(`--models: unknown model ${m} (one of ${allModels.join(', ')})\n${usage}`);
    process.exit(2);
  }
}
const concrete = { melspectrogram: [1, 1280], embedding_model: [1, 76, 32, 1] };
const { lines, say } = lineLog();

async function time(fn, calls) {
  for (let i = 0; i < Math.min(200, calls); i++) await fn();
  const samples = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  const s = summarize(samples);
  return { p50Ns: s.p50Ns, p99Ns: s.p99Ns };
}

const before = 'model.run(), hand-offs before';
const rows = [];
for (const name of models) {
  for (const runtime of ['onnx', 'tflite']) {
    const file = modelPaths(name)[runtime];
    const model = await openModel(file, { intraOpThreads: 1, countAllocations: false });
    const input = model.inputs[0];
    const shape = input.shape.every((d) => d !== null) ? input.shape : concrete[name];
    const data = synthesizeTensor('float32', shape, 1).data;
    const feeds = { [input.name]: { data, shape } };
    const paths = {
      'model.run()': () => model.run(feeds),
      'model.runSync()': () => model.runSync(feeds),
    };
    if (opts.handOffs === 'both') paths[before] = () => model.run(feeds);
    let session = null;
    if (runtime === 'onnx') {
      session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
      const tensor = new ort.Tensor('float32', data, shape);
      paths['onnxruntime-node session.run()'] = () => session.run({ [input.name]: tensor });
    }
    const prewoken = { settled: 0, calls: 0 };
    const perRound = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
    // Fewer calls for the slow embedding model (≈1–5 ms a call).
    const calls = name === 'embedding_model' ? Math.max(200, Math.floor(opts.calls / 10)) : opts.calls;
    for (let r = 0; r < opts.rounds; r++) {
      const order = Object.keys(paths);
      if (r % 2) order.reverse();
      for (const k of order) {
        const was = tuning(k !== before);
        perRound[k].push(await time(paths[k], calls));
        if (k !== 'model.run()') continue;
        prewoken.settled += tuning(true).prewoken - was.prewoken;
        prewoken.calls += calls + Math.min(200, calls);
      }
    }
    // The share of run() calls settled by a JS thread woken ahead of their end (warm-up included).
    const row = { model: `${name}.${runtime}`, calls, prewokenShare: prewoken.settled / prewoken.calls };
    for (const [k, list] of Object.entries(perRound)) row[k] = { p50Ns: median(list.map((x) => x.p50Ns)), p99Ns: median(list.map((x) => x.p99Ns)) };
    if (opts.handOffs === 'both') {
      // Paired within each round: what the new hand-offs save, as the median over rounds.
      const saved = (q) => median(perRound[before].map((x, i) => x[q] - perRound['model.run()'][i][q]));
      row.savedByHandOffs = { p50Ns: saved('p50Ns'), p99Ns: saved('p99Ns') };
    }
    rows.push(row);
    console.error(`${row.model}: ${Object.keys(paths).map((k) => `${k} ${us(row[k].p50Ns)}/${us(row[k].p99Ns)} µs`).join(', ')}`);
    model.close();
    await session?.release();
  }
}

const cell = (x) => (x ? `${us(x.p50Ns)} / ${us(x.p99Ns)}` : '–');
const diff = (a, b) => `${((a - b) / 1000).toFixed(1)} µs`;
const both = opts.handOffs === 'both';
say(`| model | \`await model.run()\` p50 / p99 (µs) | ${both ? 'the same, hand-offs before | saved, p50 / p99 (µs) | ' : ''}pre-woken | \`runSync()\` | onnxruntime-node \`await session.run()\` | run() − runSync() at p50 | run() − session.run() at p50 / p99 |`);
say(`| --- | ---: | ${both ? '---: | ---: | ' : ''}---: | ---: | ---: | ---: | ---: |`);
for (const r of rows) {
  const run = r['model.run()'];
  const ortRun = r['onnxruntime-node session.run()'];
  const vsOrt = ortRun ? `${diff(run.p50Ns, ortRun.p50Ns)} / ${diff(run.p99Ns, ortRun.p99Ns)}` : '–';
  const old = both ? `${cell(r[before])} | ${us(r.savedByHandOffs.p50Ns)} / ${us(r.savedByHandOffs.p99Ns)} | ` : '';
  say(`| ${r.model} | ${cell(run)} | ${old}${(r.prewokenShare * 100).toFixed(0)} % | ${cell(r['model.runSync()'])} | ${cell(ortRun)} | ${diff(run.p50Ns, r['model.runSync()'].p50Ns)} | ${vsOrt} |`);
}
const quiet = provenanceLines(meta, say, `(affinity: CPUs ${meta.affinity.join(',')})`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
