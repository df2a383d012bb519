#!/usr/bin/env node
// How much hey_jarvis_v0.1's latency depends on the input values, through the SDK (whose fidelity
// bench/fidelity.mjs establishes). Same model, CPU, N; only the values of the [1, 16, 96] input change.
//   node bench/input-values.mjs [--cpu 1] [--iterations 5000] [--rounds 3] [--out input-values]
import { codeLine, machineLine, measureQuietly, median, parseArgs, provenance, quietCheck, sdk, us, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const opts = parseArgs({ cpu: 1, iterations: 5000, warmup: 200, rounds: 3, out: 'input-values' }, 'usage: node bench/input-values.mjs [--cpu 1] [--iterations 5000] [--rounds 3] [--out input-values]');
const meta = provenance();
const { benchmark, openModel, synthesizeTensor } = sdk;
const n = 16 * 96;
const fill = (f) => Float32Array.from({ length: n }, (_, i) => f(i));
const inputs = {
  'sin(i·0.37) (the bench input)': fill((i) => Math.sin(i * 0.37)),
  'sin(i·1.3)': fill((i) => Math.sin(i * 1.3)),
  '0.1·sin(i·0.37)': fill((i) => 0.1 * Math.sin(i * 0.37)),
  'zeros': fill(() => 0),
  'SDK seeded, seed 1 (benchmark() default)': synthesizeTensor('float32', [1, 16, 96], 1).data,
  'SDK seeded, seed 2': synthesizeTensor('float32', [1, 16, 96], 2).data,
};

const results = {};
for (const runtime of ['onnx', 'tflite']) {
  const model = await openModel(modelPaths('hey_jarvis_v0.1')[runtime], { intraOpThreads: 1 });
  const feedsOf = (x) => ({ [model.inputs[0].name]: x });
  results[runtime] = {};
  for (const [label, x] of Object.entries(inputs)) results[runtime][label] = { p50: [], output: Array.from(Object.values(await model.run(feedsOf(x)))[0].data) };
  for (let r = 0; r < opts.rounds; r++) {
    for (const [label, x] of Object.entries(inputs)) {
      const { value } = await measureQuietly(() => benchmark(model, { iterations: opts.iterations, cpu: opts.cpu, warmup: { iterations: opts.warmup }, feeds: feedsOf(x) }));
      results[runtime][label].p50.push(value.summary.p50Ns);
    }
  }
  model.close();
}

const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, options: opts, results });
console.log(`Machine: ${machineLine(meta.environment)}`);
console.log(`Command: node ${meta.command}  (hey_jarvis_v0.1, SDK benchmark(model), N = ${opts.iterations}, CPU ${opts.cpu}, median of ${opts.rounds} rounds)\n`);
console.log('| input values | ONNX Runtime p50 | ONNX Runtime output | TFLite p50 | TFLite output |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const label of Object.keys(inputs)) {
  const o = results.onnx[label];
  const t = results.tflite[label];
  console.log(`| ${label} | ${us(median(o.p50))} µs | ${o.output[0].toFixed(4)} | ${us(median(t.p50))} µs | ${t.output[0].toFixed(4)} |`);
}
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}`);
