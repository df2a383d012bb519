#!/usr/bin/env node
// What the SDK's timing harness costs on this machine: harnessInfo() (clock resolution, cost of one
// CLOCK_MONOTONIC_RAW read, median sample of the timed loop around a call that does nothing),
// taken several times on the calling thread, then the same figures as benchmark(model) measures
// them on its own pinned thread. Exits non-zero if the harness overhead is 100 ns or more.
//
//   node bench/harness.mjs [--repeats 7] [--cpu 1] [--out harness]
import { codeLine, machineLine, median, parseArgs, provenance, quietCheck, sdk, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const usage = 'usage: node bench/harness.mjs [--repeats 7] [--cpu 1] [--out harness]';
const opts = parseArgs({ repeats: 7, cpu: 1, out: 'harness', limit: 100 }, usage);
const meta = provenance();
const { benchmark, harnessInfo, openModel } = sdk;

const calls = [];
for (let i = 0; i < opts.repeats; i++) calls.push(harnessInfo());
const keys = ['clockResolutionNs', 'clockReadCostNs', 'clockSmallestStepNs', 'harnessOverheadNs'];
const med = Object.fromEntries(keys.map((k) => [k, median(calls.map((c) => c[k]))]));
const range = Object.fromEntries(keys.map((k) => [k, [Math.min(...calls.map((c) => c[k])), Math.max(...calls.map((c) => c[k]))]]));

// The same figures from inside a benchmark: measured on the addon's measuring thread, pinned.
const pinned = {};
for (const runtime of ['onnx', 'tflite']) {
  const model = await openModel(modelPaths('hey_jarvis_v0.1')[runtime], { intraOpThreads: 1 });
  const r = await benchmark(model, { iterations: 1000, cpu: opts.cpu });
  model.close();
  pinned[runtime] = { clock: r.quality.clock, harnessOverheadNs: r.quality.harnessOverheadNs, pinnedCpu: r.quality.pinnedCpu };
}

const ok = med.harnessOverheadNs < opts.limit && Object.values(pinned).every((p) => p.harnessOverheadNs < opts.limit);
const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, options: opts, calls, median: med, range, pinned, ok });

const f = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
console.log(`Machine: ${machineLine(meta.environment)}`);
console.log(`Command: node ${meta.command}  (process affinity CPUs ${meta.affinity.join(',')})\n`);
console.log(`| figure | harnessInfo(), JS thread: median of ${opts.repeats} calls [min–max] | inside benchmark(model), addon thread pinned to CPU ${opts.cpu} (ONNX / TFLite model) |`);
console.log('| --- | ---: | ---: |');
console.log(`| clock | CLOCK_MONOTONIC_RAW | ${pinned.onnx.clock.source} |`);
const inside = { clockResolutionNs: 'resolutionNs', clockReadCostNs: 'readCostNs', clockSmallestStepNs: 'smallestStepNs' };
const label = {
  clockResolutionNs: 'clock resolution (clock_getres)',
  clockReadCostNs: 'cost of one clock read',
  clockSmallestStepNs: 'smallest step seen between two reads',
  harnessOverheadNs: 'harness overhead per sample (timed empty call, median)',
};
for (const k of keys) {
  const p = (rt) => (k === 'harnessOverheadNs' ? pinned[rt].harnessOverheadNs : pinned[rt].clock[inside[k]]);
  console.log(`| ${label[k]} | ${f(med[k])} ns [${f(range[k][0])}–${f(range[k][1])}] | ${f(p('onnx'))} ns / ${f(p('tflite'))} ns |`);
}
console.log(`\nharness overhead under ${opts.limit} ns: ${ok ? 'yes' : 'NO'}`);
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}`);
process.exitCode = ok ? 0 : 1;
