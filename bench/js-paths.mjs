#!/usr/bin/env node
// The same ONNX model timed four ways in one process run, side by side:
//   1. the C++ reference loop (bench/reference/ort_loop.cc, child process): clock around api->Run only
//   2. model-audit's benchmark(model): native loop on the addon's own thread
//   3. onnxruntime-node with a process.hrtime.bigint() loop around `await session.run(feeds)`
//   4. onnxruntime-node under benchmark.js (deferred, async)
// plus one diagnostic row that splits path 3: the same hrtime loop around onnxruntime-node's native
// binding called synchronously (its internal dist/binding module: no setImmediate, no promise).
// Meant to run with the whole process on one CPU:
//   taskset -c 1 node bench/js-paths.mjs [--cpu 1] [--iterations 10000] [--warmup 200] [--rounds 5]
//                                        [--bench-max-time 1.5] [--model hey_jarvis_v0.1] [--out js-paths] [--open-options JSON]
import { createRequire } from 'node:module';
import { benchInput, codeLine, fnv1a64, machineLine, measureQuietly, median, openOptionsFrom, parseArgs, pct, provenance, quietCheck, runReference, runSdk, sdk, us, writeResult } from './common.mjs';

const { summarize } = sdk;
import { modelPaths } from './paths.mjs';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const Benchmark = require('benchmark');
// Internal to onnxruntime-node (not its public API); used only for the diagnostic row.
const ortBinding = require('onnxruntime-node/dist/binding');

const usage =
  'usage: [taskset -c 1] node bench/js-paths.mjs [--cpu 1] [--iterations 10000] [--warmup 200] [--rounds 5] [--bench-max-time 1.5] [--model hey_jarvis_v0.1] [--out js-paths] [--open-options JSON]';
const opts = parseArgs({ cpu: 1, iterations: 10000, warmup: 200, rounds: 5, benchMaxTime: 1.5, model: 'hey_jarvis_v0.1', out: 'js-paths', openOptions: '' }, usage);
const meta = provenance();
const modelPath = modelPaths(opts.model).onnx;
const input = benchInput(16 * 96);
const run = { cpu: opts.cpu, iterations: opts.iterations, warmup: opts.warmup, openOptions: openOptionsFrom(opts.openOptions) };

const sessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
const session = await ort.InferenceSession.create(modelPath, sessionOptions);
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 16, 96]) };
ortBinding.initOrt();
const rawSession = new ortBinding.binding.InferenceSession();
rawSession.loadModel(modelPath, sessionOptions);
const fetches = { [session.outputNames[0]]: null };

function hrtimeSamples(call) {
  const samples = new Float64Array(opts.iterations);
  for (let i = 0; i < opts.iterations; i++) {
    const t0 = process.hrtime.bigint();
    call();
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
  }
  return samples;
}

function bindingLoop() {
  for (let i = 0; i < opts.warmup; i++) rawSession.run(feeds, fetches, {});
  const s = summarize(hrtimeSamples(() => rawSession.run(feeds, fetches, {})));
  return { p50Ns: s.p50Ns, p99Ns: s.p99Ns, meanNs: s.meanNs, minNs: s.minNs, count: s.count };
}

async function hrtimeLoop() {
  for (let i = 0; i < opts.warmup; i++) await session.run(feeds);
  const samples = new Float64Array(opts.iterations);
  for (let i = 0; i < opts.iterations; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
  }
  const s = summarize(samples);
  const out = await session.run(feeds);
  return { p50Ns: s.p50Ns, p99Ns: s.p99Ns, meanNs: s.meanNs, minNs: s.minNs, count: s.count, output: Array.from(out[session.outputNames[0]].data) };
}

function benchmarkJs() {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark('onnxruntime-node session.run', {
      defer: true,
      maxTime: opts.benchMaxTime,
      fn(deferred) {
        session.run(feeds).then(
          () => deferred.resolve(),
          (e) => reject(e),
        );
      },
      onError: (event) => reject(event.target.error),
      onComplete() {
        const st = this.stats;
        // stats.sample holds one value per cycle: that cycle's time divided by its run count, in
        // seconds. Percentiles of it are percentiles of per-cycle means, not of single runs.
        const cycleMeansNs = st.sample.map((sec) => sec * 1e9);
        const s = summarize(cycleMeansNs);
        resolve({
          meanNs: st.mean * 1e9,
          p50Ns: s.p50Ns,
          p99Ns: s.p99Ns,
          cycles: cycleMeansNs.length,
          runsPerCycle: this.count,
          rmePercent: st.rme,
          hz: this.hz,
          note: 'p50/p99 are of per-cycle means (stats.sample), not of single runs',
        });
      },
    });
    bench.run({ async: true });
  });
}

const paths = {
  reference: () => runReference('onnx', modelPath, run),
  sdk: () => runSdk(modelPath, input, run),
  hrtime: hrtimeLoop,
  benchmarkjs: benchmarkJs,
  binding: bindingLoop,
};
const order = Object.keys(paths);

console.error(machineLine(meta.environment));
console.error(`process affinity: CPUs ${meta.affinity.join(',')}`);
const rounds = [];
for (let r = 0; r < opts.rounds; r++) {
  const rotated = order.slice(r % order.length).concat(order.slice(0, r % order.length));
  const round = { order: rotated };
  for (const p of rotated) {
    // A measurement during which other processes used the CPUs is set aside and taken again.
    const kept = await measureQuietly(paths[p]);
    round[p] = { ...kept.value, otherWork: kept.other, quiet: kept.quiet, setAside: kept.setAside.length };
    if (kept.setAside.length) console.error(`round ${r + 1} ${p}: ${kept.setAside.length} attempt(s) set aside, other processes were busy`);
    console.error(`round ${r + 1}/${opts.rounds} ${p.padEnd(11)} p50 ${us(round[p].p50Ns)} µs  p99 ${us(round[p].p99Ns)} µs  mean ${us(round[p].meanNs)} µs`);
  }
  if (round.reference.inputFnv1a64 !== fnv1a64(input)) throw new Error('the reference ran on other input bytes');
  rounds.push(round);
}
await session.release();
rawSession.dispose();

const summary = {};
for (const p of order) {
  summary[p] = {
    p50Ns: median(rounds.map((x) => x[p].p50Ns)),
    p99Ns: median(rounds.map((x) => x[p].p99Ns)),
    meanNs: median(rounds.map((x) => x[p].meanNs)),
  };
}
const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, options: opts, summary, rounds });

const ref = summary.reference.p50Ns;
const rows = [
  ['C++ reference (`ort_loop`, child process)', 'clock_gettime around `api->Run`', 'reference', `${opts.iterations} runs`],
  ['model-audit `benchmark(model)`', 'native loop around the runtime call, addon thread', 'sdk', `${opts.iterations} runs`],
  ['onnxruntime-node + `process.hrtime.bigint()` loop', '`await session.run(feeds)`', 'hrtime', `${opts.iterations} runs`],
  ['onnxruntime-node + benchmark.js (deferred)', '`session.run(feeds).then(resolve)`', 'benchmarkjs', `${median(rounds.map((x) => x.benchmarkjs.cycles))} cycles × ~${median(rounds.map((x) => x.benchmarkjs.runsPerCycle))} runs`],
  ['(diagnostic) onnxruntime-node native binding, synchronous', '`binding.run(feeds, fetches, {})`, hrtime loop', 'binding', `${opts.iterations} runs`],
];
console.log(`\nMachine: ${machineLine(meta.environment)}`);
console.log(`Command: ${meta.affinity.length === 1 ? `taskset -c ${meta.affinity[0]} ` : ''}node ${meta.command}  (process affinity CPUs ${meta.affinity.join(',')}; native loops pinned to CPU ${opts.cpu}; ${opts.rounds} rounds, medians shown)\n`);
console.log('| path | what is timed | p50 | p99 | mean | p50 vs C++ | samples per round |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | --- |');
for (const [label, what, key, samples] of rows) {
  const s = summary[key];
  const mark = key === 'benchmarkjs' ? '*' : '';
  console.log(`| ${label} | ${what} | ${us(s.p50Ns)} µs${mark} | ${us(s.p99Ns)} µs${mark} | ${us(s.meanNs)} µs | ${pct(s.p50Ns / ref - 1)} | ${samples} |`);
}
console.log('\n* benchmark.js keeps one mean per cycle (stats.sample); its p50/p99 are percentiles of those per-cycle means, not of single runs.');
const setAside = rounds.reduce((n, x) => n + order.reduce((m, p) => m + x[p].setAside, 0), 0);
const disturbed = rounds.reduce((n, x) => n + order.filter((p) => !x[p].quiet).length, 0);
console.log(`measurements set aside because other processes were busy and taken again: ${setAside}${disturbed ? ` (still disturbed after 3 retries and kept: ${disturbed})` : ''}`);
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}`);
