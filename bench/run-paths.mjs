#!/usr/bin/env node
// What one call costs from JavaScript, the way a Node service calls a model: `await model.run()`,
// `model.runSync()` and, for the .onnx files, onnxruntime-node's `await session.run()`, each timed
// with process.hrtime.bigint() around the call, over all 16 openWakeWord files. The three paths
// take turns in rounds; each row is the median over rounds of each path's p50 and p99.
//
//   node bench/run-paths.mjs [--calls 2000] [--rounds 10] [--models all|name,name] [--out run-paths]
//   taskset -c 1 node bench/run-paths.mjs --out run-paths-pinned      (the whole process on one CPU)
//   BENCH_SDK=build/bench/sdk-before node bench/run-paths.mjs ...      (an earlier build, snapshotted)
//
// tfjs-tflite-node's own runner is not measured: its native binding is not built here (the
// package's install script is not allowed to run, see package.json allowScripts), so it does not load.
import { lineLog, machineLine, median, openForJsPaths, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';

const usage = 'usage: [taskset -c 1] node bench/run-paths.mjs [--calls 2000] [--rounds 10] [--models all|name,name] [--out run-paths]';
const opts = parseArgs({ calls: 2000, rounds: 10, models: 'all', out: 'run-paths' }, usage);
const meta = provenance();
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

const rows = [];
for (const name of models) {
  for (const runtime of ['onnx', 'tflite']) {
    const { model, feeds, ortRun, close } = await openForJsPaths(name, runtime);
    const paths = {
      'model.run()': () => model.run(feeds),
      'model.runSync()': () => model.runSync(feeds),
    };
    if (ortRun) paths['onnxruntime-node session.run()'] = ortRun;
    const perRound = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
    // Fewer calls for the slow embedding model (≈1–5 ms a call).
    const calls = name === 'embedding_model' ? Math.max(200, Math.floor(opts.calls / 10)) : opts.calls;
    for (let r = 0; r < opts.rounds; r++) {
      const order = Object.keys(paths);
      if (r % 2) order.reverse();
      for (const k of order) perRound[k].push(await time(paths[k], calls));
    }
    const row = { model: `${name}.${runtime}`, calls };
    for (const [k, list] of Object.entries(perRound)) row[k] = { p50Ns: median(list.map((x) => x.p50Ns)), p99Ns: median(list.map((x) => x.p99Ns)) };
    rows.push(row);
    console.error(`${row.model}: ${Object.keys(paths).map((k) => `${k} ${us(row[k].p50Ns)}/${us(row[k].p99Ns)} µs`).join(', ')}`);
    await close();
  }
}

const cell = (x) => (x ? `${us(x.p50Ns)} / ${us(x.p99Ns)}` : '–');
const diff = (a, b) => `${((a - b) / 1000).toFixed(1)} µs`;
say(`| model | \`await model.run()\` p50 / p99 (µs) | \`runSync()\` | onnxruntime-node \`await session.run()\` | run() − runSync() at p50 | run() − session.run() at p50 / p99 |`);
say('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const run = r['model.run()'];
  const ortRun = r['onnxruntime-node session.run()'];
  const vsOrt = ortRun ? `${diff(run.p50Ns, ortRun.p50Ns)} / ${diff(run.p99Ns, ortRun.p99Ns)}` : '–';
  say(`| ${r.model} | ${cell(run)} | ${cell(r['model.runSync()'])} | ${cell(ortRun)} | ${diff(run.p50Ns, r['model.runSync()'].p50Ns)} | ${vsOrt} |`);
}
const quiet = provenanceLines(meta, say, `(affinity: CPUs ${meta.affinity.join(',')})`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
