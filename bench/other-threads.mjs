#!/usr/bin/env node
// Where the allocation counters' otherThreadAllocations come from: soaks of hey_jarvis_v0.1 on both
// runtimes with one and two intra-op threads, and ONNX Runtime's parallel executor (interOpThreads 2),
// each counting the runtime's allocations made on threads other than the one model-audit called from.
//
//   node bench/other-threads.mjs [--duration-ms 20000] [--cpu 1] [--out other-threads]
import { lineLog, machineLine, parseArgs, provenance, provenanceLines, sdk, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const usage = 'usage: node bench/other-threads.mjs [--duration-ms 20000] [--cpu 1] [--out other-threads]';
const opts = parseArgs({ durationMs: 20000, cpu: 1, out: 'other-threads' }, usage);
const { openModel, soak } = sdk;
const meta = provenance();
console.error(machineLine(meta.environment));
const { lines, say } = lineLog();
const configs = [
  ['onnx', { intraOpThreads: 1 }],
  ['onnx', { intraOpThreads: 2 }],
  ['onnx', { intraOpThreads: 1, interOpThreads: 2 }],
  ['tflite', { intraOpThreads: 1 }],
  ['tflite', { intraOpThreads: 2 }],
];
const rows = [];
say(`| file | open options | inferences in ${opts.durationMs / 1000} s | runtime allocations | of which on other threads | per inference |`);
say('| --- | --- | ---: | ---: | ---: | ---: |');
for (const [runtime, open] of configs) {
  const model = await openModel(modelPaths('hey_jarvis_v0.1')[runtime], open);
  const before = model.memory().counters;
  const r = await soak(model, { durationMs: opts.durationMs, windowMs: 2000, cpu: opts.cpu });
  const after = model.memory().counters;
  model.close();
  const inferences = r.windows.at(-1).totalInferences;
  const row = { runtime, open, inferences, allocations: after.allocations - before.allocations, otherThread: after.otherThreadAllocations - before.otherThreadAllocations };
  rows.push(row);
  say(`| hey_jarvis_v0.1.${runtime} | \`${JSON.stringify(open)}\` | ${inferences.toLocaleString('en-US')} | ${row.allocations.toLocaleString('en-US')} | ${row.otherThread.toLocaleString('en-US')} | ${(row.otherThread / inferences).toPrecision(3)} |`);
}
provenanceLines(meta, say);
console.error(`\nwrote ${writeResult(opts.out, { options: opts, ...meta, rows, lines })}`);
