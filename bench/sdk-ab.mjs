#!/usr/bin/env node
// Two builds of the SDK in one process: `await model.run()` and `model.runSync()` of each, on the
// same openWakeWord files, in interleaved blocks (bench/blocks.mjs). Separate processes of this VM
// differ by more than a change of a microsecond or two in what a call costs (bench/README.md,
// section 11), so a before/after of such a change is taken here, within blocks of one process: B − A
// at p50 is the median over blocks of the difference of the two builds' block medians, with its 95 %
// distribution-free interval. Each build is a snapshot directory (bench/snapshot-sdk.mjs) with its
// own addon; the two share the runtime libraries, and each model is opened once per build with one
// intra-op thread and no allocation counting, on the same input values.
//
//   node bench/snapshot-sdk.mjs && mv build/bench/sdk build/bench/sdk-a   (then the change, again for -b)
//   node bench/sdk-ab.mjs --a build/bench/sdk-a --b build/bench/sdk-b [--models all|name,name]
//                         [--runtimes onnx,tflite] [--blocks 60] [--per-block 100] [--seed 1] [--out sdk-ab]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { medianInterval, quantile, seededBlocks, sorted, timeCalls } from './blocks.mjs';
import { jsPathShapes, lineLog, machineLine, median, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';
import { modelPaths, root } from './paths.mjs';

const usage =
  'usage: node bench/sdk-ab.mjs --a <snapshot> --b <snapshot> [--models all|name,name] [--runtimes onnx,tflite] [--blocks 60] [--per-block 100] [--seed 1] [--calls model|bound] [--out sdk-ab]';
const opts = parseArgs({ a: '', b: '', models: 'all', runtimes: 'onnx,tflite', blocks: 60, perBlock: 100, seed: 1, calls: 'model', out: 'sdk-ab' }, usage);
if (opts.calls !== 'model' && opts.calls !== 'bound') {
  console.error(`--calls: model or bound, not ${opts.calls}\n${usage}`);
  process.exit(2);
}
if (!opts.a || !opts.b) {
  console.error(`--a and --b: two SDK snapshots\n${usage}`);
  process.exit(2);
}
const allModels = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
const models = opts.models === 'all' ? allModels : opts.models.split(',');
const runtimes = opts.runtimes.split(',');
for (const m of models) {
  if (!allModels.includes(m)) {
    console.error(`--models: unknown model ${m} (one of ${allModels.join(', ')})\n${usage}`);
    process.exit(2);
  }
}
for (const r of runtimes) {
  if (r !== 'onnx' && r !== 'tflite') {
    console.error(`--runtimes: onnx and/or tflite, not ${r}\n${usage}`);
    process.exit(2);
  }
}
const builds = { A: path.resolve(root, opts.a), B: path.resolve(root, opts.b) };
const sdks = {};
for (const [k, dir] of Object.entries(builds)) sdks[k] = await import(pathToFileURL(path.join(dir, 'dist', 'index.js')).href);
const { shuffle } = seededBlocks(opts.seed);
const meta = provenance();
console.error(machineLine(meta.environment));
const { lines, say } = lineLog();

const rows = [];
for (const name of models) {
  for (const runtime of runtimes) {
    const paths = {};
    const models = [];
    for (const k of Object.keys(sdks)) {
      const model = await sdks[k].openModel(modelPaths(name)[runtime], { intraOpThreads: 1, countAllocations: false });
      models.push(model);
      const input = model.inputs[0];
      const shape = input.shape.every((d) => d !== null) ? input.shape : jsPathShapes[name];
      const feeds = { [input.name]: { data: sdk.synthesizeTensor('float32', shape, 1).data, shape } };
      if (opts.calls === 'bound') {
        // --calls bound: the same two paths through model.bind(), the input written into the binding once.
        const bound = model.bind(input.shape.every((d) => d !== null) ? undefined : { [input.name]: shape });
        bound.inputs[input.name].set(feeds[input.name].data);
        paths[`${k} run()`] = () => bound.run();
        paths[`${k} runSync()`] = () => bound.runSync();
      } else {
        paths[`${k} run()`] = () => model.run(feeds);
        paths[`${k} runSync()`] = () => model.runSync(feeds);
      }
    }
    const keys = Object.keys(paths);
    const blocks = Object.fromEntries(keys.map((k) => [k, []]));
    const perBlock = name === 'embedding_model' ? Math.max(10, Math.floor(opts.perBlock / 10)) : opts.perBlock;
    for (const k of keys) for (let i = 0; i < 50; i++) await paths[k]();
    for (let b = 0; b < opts.blocks; b++) {
      for (const k of shuffle(keys)) {
        for (let i = 0; i < 5; i++) await paths[k]();
        blocks[k].push(await timeCalls(paths[k], perBlock));
      }
    }
    const blockMedians = (k) => blocks[k].map((s) => median([...s]));
    const versus = (x, y) => {
      const a = blockMedians(x);
      const b = blockMedians(y);
      return medianInterval(a.map((v, i) => v - b[i]));
    };
    const row = { model: `${name}.${runtime}`, calls: opts.blocks * perBlock };
    for (const k of keys) {
      const all = sorted(blocks[k].flatMap((s) => [...s]));
      row[k] = { p50Ns: quantile(all, 0.5), p99Ns: quantile(all, 0.99) };
    }
    row.runBminusA = versus('B run()', 'A run()');
    row.runSyncBminusA = versus('B runSync()', 'A runSync()');
    row.runMinusRunSyncA = versus('A run()', 'A runSync()');
    row.runMinusRunSyncB = versus('B run()', 'B runSync()');
    rows.push(row);
    console.error(`${row.model}: ${keys.map((k) => `${k} ${us(row[k].p50Ns)}`).join(', ')} µs at p50`);
    for (const model of models) await model.close();
  }
}

const span = (x) => `${(x.medianNs / 1000).toFixed(1)} (${(x.lowNs / 1000).toFixed(1)}…${(x.highNs / 1000).toFixed(1)})`;
/** A snapshot's source state, from the manifest bench/snapshot-sdk.mjs wrote. */
const described = (dir) => {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return dir;
  const { git, addonSha256 } = JSON.parse(readFileSync(file, 'utf8'));
  const commit = git?.commit ? `${git.commit.slice(0, 7)}${git.sdkSourceChanges ? ' + uncommitted changes' : ''}` : 'unknown commit';
  return `${path.relative(root, dir)} (${commit}, addon sha256 ${addonSha256.slice(0, 12)}…)`;
};
say(`A: ${described(builds.A)}; B: ${described(builds.B)}.${opts.calls === 'bound' ? ' run() and runSync() are a binding\'s (model.bind()), the input written into it once.' : ''}`);
say('p50 over all calls of a path, µs. Differences in µs at p50, with a 95 % interval: the median over blocks of the difference of block medians. "Allowed": 10 % of runSync()\'s p50 + 2 µs.');
say('');
say('| model | A `run()` | B `run()` | B − A | A `runSync()` | B `runSync()` | B − A | run() − runSync(), A | B | allowed (B) |');
say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  const allowed = (0.1 * r['B runSync()'].p50Ns + 2000) / 1000;
  say(
    `| ${r.model} | ${us(r['A run()'].p50Ns)} | ${us(r['B run()'].p50Ns)} | ${span(r.runBminusA)} | ${us(r['A runSync()'].p50Ns)} | ${us(r['B runSync()'].p50Ns)} | ${span(r.runSyncBminusA)} | ${span(r.runMinusRunSyncA)} | ${span(r.runMinusRunSyncB)} | ${allowed.toFixed(1)} |`,
  );
}
const quiet = provenanceLines(meta, say, `(affinity: CPUs ${meta.affinity.join(',')})`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, builds, rows, table: lines })}`);
process.exit(0);
