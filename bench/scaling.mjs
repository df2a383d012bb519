#!/usr/bin/env node
// Closed-loop throughput against what the machine does: throughput() at 1…N streams, stream i
// pinned to CPU i, against N plain C++ loop processes (bench/reference) run side by side, loop i
// pinned to CPU i, on the same model bytes and input. A C++ loop's rate is 1e9 / its mean time
// per Run (its clock is around the call alone, so this slightly favours the loops).
//
//   node bench/scaling.mjs [--duration-ms 2000] [--rounds 3] [--models hey_jarvis_v0.1,alexa_v0.1,timer_v0.1] [--out scaling]
import { lineLog, machineLine, median, parseArgs, provenance, provenanceLines, runReference, sdk, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const usage = 'usage: node bench/scaling.mjs [--duration-ms 2000] [--rounds 3] [--models hey_jarvis_v0.1,alexa_v0.1,timer_v0.1] [--out scaling]';
const opts = parseArgs({ durationMs: 2000, rounds: 3, models: 'hey_jarvis_v0.1,alexa_v0.1,timer_v0.1', out: 'scaling' }, usage);
const meta = provenance();
const { allowedCpus, openModel, throughput } = sdk;
console.error(machineLine(meta.environment));
const cpus = allowedCpus();
const { lines, say } = lineLog();

const rows = [];
for (const name of opts.models.split(',')) {
  for (const runtime of ['onnx', 'tflite']) {
    const file = modelPaths(name)[runtime];
    const model = await openModel(file, { intraOpThreads: 1 });
    // The reference loops fill their input with sin(i · 0.37); so does the SDK here.
    const input = model.inputs[0];
    const shape = input.shape;
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.fround(Math.sin(i * 0.37)));
    const feeds = { [input.name]: { data, shape } };
    for (let level = 1; level <= cpus.length; level++) {
      const sdkRates = [];
      const loopRates = [];
      for (let r = 0; r < opts.rounds; r++) {
        const t = await throughput(model, { feeds, concurrency: [level], cpus: cpus.slice(0, level), durationMs: opts.durationMs, warmup: { iterations: 200 } });
        sdkRates.push(t.levels[0].inferencesPerSecond);
        // Iterations for about the same duration, from the SDK's own rate per stream.
        const iterations = Math.max(1000, Math.round((t.levels[0].inferencesPerSecond / level) * (opts.durationMs / 1000)));
        const loops = await Promise.all(cpus.slice(0, level).map((cpu) => runReference(runtime, file, { cpu, iterations, warmup: 200 })));
        loopRates.push(loops.reduce((sum, l) => sum + 1e9 / l.meanNs, 0));
      }
      const row = { model: `${name}.${runtime}`, streams: level, sdkPerSecond: median(sdkRates), loopsPerSecond: median(loopRates) };
      row.ratio = row.sdkPerSecond / row.loopsPerSecond;
      rows.push(row);
      console.error(`${row.model} ×${level}: SDK ${row.sdkPerSecond.toFixed(0)}/s, C++ loops ${row.loopsPerSecond.toFixed(0)}/s, ratio ${row.ratio.toFixed(3)}`);
    }
    model.close();
  }
}

say(`| model | streams (CPUs) | throughput() | as many plain C++ loops side by side | SDK / C++ (median of ${opts.rounds} rounds) |`);
say('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) say(`| ${r.model} | ${r.streams} (${cpus.slice(0, r.streams).join(',')}) | ${r.sdkPerSecond.toFixed(0)}/s | ${r.loopsPerSecond.toFixed(0)}/s | ${r.ratio.toFixed(3)} |`);
const quiet = provenanceLines(meta, say);
console.error(`raw results: ${writeResult(opts.out, { ...meta, options: opts, otherWork: quiet, rows, table: lines })}`);
