#!/usr/bin/env node
// One call path in a loop and nothing else, for a profiler to sample: after 3,000 calls of warm-up,
// --calls awaited calls of one path on one openWakeWord file, opened as bench/run-paths.mjs opens
// it (one intra-op thread, no allocation counting), and the mean time a call took. Two processes,
// one per path, sampled alike, show what one path runs that the other does not
// (bench/README.md, section 11, "What every call paid besides the model"):
//
//   perf record -F 4999 -o run.data node --perf-basic-prof bench/call-loop.mjs --path run
//   perf record -F 4999 -o runSync.data node --perf-basic-prof bench/call-loop.mjs --path runSync
//   perf report -i run.data --no-children --sort dso,sym -n
//
//   node bench/call-loop.mjs [--model hey_rhasspy_v0.1] [--runtime onnx|tflite]
//                            [--path run|runSync|bound-run|bound-runSync|package] [--calls 100000]
import { openForJsPaths, parseArgs } from './common.mjs';

const usage =
  'usage: node bench/call-loop.mjs [--model hey_rhasspy_v0.1] [--runtime onnx|tflite] [--path run|runSync|bound-run|bound-runSync|package] [--calls 100000]';
const opts = parseArgs({ model: 'hey_rhasspy_v0.1', runtime: 'onnx', path: 'run', calls: 100000 }, usage);
const opened = await openForJsPaths(opts.model, opts.runtime, {}, { tfliteNode: opts.path === 'package' && opts.runtime === 'tflite' });
const { model, feeds } = opened;
const paths = {
  run: () => model.run(feeds),
  runSync: () => model.runSync(feeds),
  'bound-run': opened.boundRun,
  'bound-runSync': opened.boundRunSync,
  package: opened.ortRun ?? opened.tfliteNodeRun,
};
const call = paths[opts.path];
if (!call) {
  console.error(`--path: ${opts.path} is not a path this SDK and file have (${Object.keys(paths).filter((k) => paths[k]).join(', ')})\n${usage}`);
  process.exit(2);
}
for (let i = 0; i < 3000; i++) await call();
const t0 = process.hrtime.bigint();
for (let i = 0; i < opts.calls; i++) await call();
const meanUs = Number(process.hrtime.bigint() - t0) / 1000 / opts.calls;
console.log(`${opts.model}.${opts.runtime} ${opts.path}: ${opts.calls} calls, ${meanUs.toFixed(2)} µs a call (mean)`);
await opened.close();
process.exit(0);
