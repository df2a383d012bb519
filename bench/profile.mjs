#!/usr/bin/env node
// What the profilers cost and what their per-node times account for, on every openWakeWord file of
// both runtimes (ONNX Runtime's own profiler; for TFLite the addon's kernel-timing delegate):
// profile(model) with its defaults (10 warm-up and 100 profiled runs, then as many unprofiled), the
// measuring thread on one CPU.
//
//   node bench/profile.mjs [--cpu 1] [--runs 100] [--rounds 3] [--out profile]
import { lineLog, machineLine, median, parseArgs, provenance, provenanceLines, sdk, us, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const usage = 'usage: node bench/profile.mjs [--cpu 1] [--runs 100] [--rounds 3] [--out profile]';
const opts = parseArgs({ cpu: 1, runs: 100, rounds: 3, out: 'profile' }, usage);
const meta = provenance();
const { openModel, profile } = sdk;
console.error(machineLine(meta.environment));
const models = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
const shapes = { melspectrogram: [1, 1280], embedding_model: [1, 76, 32, 1] };
const { lines, say } = lineLog();
const rows = [];
const files = [...models.map((name) => [name, 'onnx']), ...models.map((name) => [name, 'tflite'])];
for (const [name, format] of files) {
  const model = await openModel(modelPaths(name)[format], { intraOpThreads: 1 });
  const list = [];
  for (let r = 0; r < opts.rounds; r++) list.push(await profile(model, { runs: opts.runs, cpu: opts.cpu, ...(shapes[name] ? { shapes: { [model.inputs[0].name]: shapes[name] } } : {}) }));
  model.close();
  const row = {
    model: `${name}.${format}`,
    nodes: list[0].nodes.length,
    opTypes: list[0].opTypes.length,
    unprofiledP50Ns: median(list.map((p) => p.unprofiledP50Ns)),
    profiledRunP50Ns: median(list.map((p) => p.profiledRunP50Ns)),
    overheadRatio: median(list.map((p) => p.overheadRatio)),
    nodeSumRatio: median(list.map((p) => p.nodeSumRatio)),
    top: list[0].opTypes.slice(0, 3).map((t) => `${t.opType} ${(t.share * 100).toFixed(0)} %`).join(', '),
  };
  rows.push(row);
  console.error(`${row.model}: overhead ${row.overheadRatio.toFixed(2)}×, nodes account for ${(row.nodeSumRatio * 100).toFixed(0)} %`);
}
say(`| model | nodes | op types | unprofiled p50 | profiled run p50 | profiler overhead | nodes' share of the profiled run | top operator types |`);
say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) say(`| ${r.model} | ${r.nodes} | ${r.opTypes} | ${us(r.unprofiledP50Ns)} µs | ${us(r.profiledRunP50Ns)} µs | ${r.overheadRatio.toFixed(2)}× | ${(r.nodeSumRatio * 100).toFixed(0)} % | ${r.top} |`);
const quiet = provenanceLines(meta, say, `(medians of ${opts.rounds} profiles of ${opts.runs} runs each)`);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
