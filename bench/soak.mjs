#!/usr/bin/env node
// A long run of one openWakeWord model through soak(model): windows of back-to-back inferences
// on one pinned CPU, each recording latency, the runtime library's live bytes (allocation
// counters), RSS and glibc's in-use heap, appended to a JSON-lines file as it ends. Then the
// soak's own verdicts, and a second check that reads the file back: the runtime's live bytes in
// the first window against the last.
//
//   node bench/soak.mjs [--duration-ms 600000] [--window-ms 10000] [--cpu 1] [--runtime onnx]
//                       [--model hey_jarvis_v0.1] [--out soak]
// The windows go to bench/results/<out>.jsonl, the summary to bench/results/<out>.json.
import path from 'node:path';
import { codeLine, machineLine, median, parseArgs, provenance, quietCheck, sdk, writeResult } from './common.mjs';
import { modelPaths, resultsDir, root } from './paths.mjs';

const usage = 'usage: node bench/soak.mjs [--duration-ms 600000] [--window-ms 10000] [--cpu 1] [--runtime onnx] [--model hey_jarvis_v0.1] [--out soak]';
const opts = parseArgs({ durationMs: 600000, windowMs: 10000, cpu: 1, runtime: 'onnx', model: 'hey_jarvis_v0.1', out: 'soak' }, usage);
const meta = provenance();
const { openModel, readSoakFile, soak, soakVerdicts } = sdk;
const jsonl = path.join(resultsDir, `${opts.out}.jsonl`);

console.error(machineLine(meta.environment));
const model = await openModel(modelPaths(opts.model)[opts.runtime], { intraOpThreads: 1 });
const before = model.memory();
const result = await soak(model, {
  durationMs: opts.durationMs,
  windowMs: opts.windowMs,
  cpu: opts.cpu,
  file: jsonl,
  onWindow: (w) =>
    console.error(
      `window ${String(w.index + 1).padStart(3)}: ${w.inferences} inferences, p50 ${(w.latency.p50Ns / 1000).toFixed(2)} µs, p99 ${(w.latency.p99Ns / 1000).toFixed(2)} µs, ` +
        `runtime live ${w.runtimeLiveBytes} B, RSS ${(w.rssBytes / 1048576).toFixed(1)} MiB, heap in use ${w.heapInUseBytes === null ? '?' : (w.heapInUseBytes / 1048576).toFixed(2) + ' MiB'}`,
    ),
});
const after = model.memory();
model.close();

// The second check: only the file, read back.
const back = readSoakFile(jsonl);
const first = back.windows[0];
const last = back.windows.at(-1);
const reVerdicts = soakVerdicts(back.windows);
const check = {
  windowsInFile: back.windows.length,
  firstWindow: { index: first.index, endMs: first.endMs, runtimeLiveBytes: first.runtimeLiveBytes, rssBytes: first.rssBytes, heapInUseBytes: first.heapInUseBytes },
  lastWindow: { index: last.index, endMs: last.endMs, runtimeLiveBytes: last.runtimeLiveBytes, rssBytes: last.rssBytes, heapInUseBytes: last.heapInUseBytes },
  runtimeLiveBytesDiff: last.runtimeLiveBytes - first.runtimeLiveBytes,
  distinctRuntimeLiveBytes: [...new Set(back.windows.map((w) => w.runtimeLiveBytes))],
  rssDiff: last.rssBytes - first.rssBytes,
  heapInUseDiff: first.heapInUseBytes === null ? null : last.heapInUseBytes - first.heapInUseBytes,
  inferencesBetween: last.totalInferences - first.totalInferences,
  verdictsAgree: JSON.stringify(reVerdicts) === JSON.stringify(result.verdicts),
};

const w = result.windows;
const edge = Math.min(6, Math.floor(w.length / 2)); // the first and last minute with 10 s windows
const startSet = w.slice(0, edge);
const endSet = w.slice(-edge);
const latencyEnds = {
  firstWindow: { p50Ns: w[0].latency.p50Ns, p99Ns: w[0].latency.p99Ns },
  lastWindow: { p50Ns: w.at(-1).latency.p50Ns, p99Ns: w.at(-1).latency.p99Ns },
  firstWindows: { count: edge, p50Ns: median(startSet.map((x) => x.latency.p50Ns)), p99Ns: median(startSet.map((x) => x.latency.p99Ns)) },
  lastWindows: { count: edge, p50Ns: median(endSet.map((x) => x.latency.p50Ns)), p99Ns: median(endSet.map((x) => x.latency.p99Ns)) },
  allWindowsP50: { min: Math.min(...w.map((x) => x.latency.p50Ns)), median: median(w.map((x) => x.latency.p50Ns)), max: Math.max(...w.map((x) => x.latency.p50Ns)) },
  allWindowsP99: { min: Math.min(...w.map((x) => x.latency.p99Ns)), median: median(w.map((x) => x.latency.p99Ns)), max: Math.max(...w.map((x) => x.latency.p99Ns)) },
};
const rssSeries = w.map((x) => x.rssBytes);

const quiet = quietCheck(meta);
const file = writeResult(opts.out, {
  ...meta,
  otherWork: quiet,
  options: opts,
  jsonl: path.relative(root, jsonl),
  soakOptions: result.options,
  stoppedEarly: result.stoppedEarly,
  windows: w.length,
  inferences: w.at(-1).totalInferences,
  latencyEnds,
  verdicts: result.verdicts,
  fileCheck: check,
  memoryBeforeSoak: before.counters,
  memoryAfterSoak: after.counters,
  rssSeriesBytes: rssSeries,
});

const us = (ns) => `${(ns / 1000).toFixed(2)} µs`;
const bytes = (b) => (b === null ? '—' : Math.abs(b) >= 1048576 ? `${(b / 1048576).toFixed(2)} MiB` : Math.abs(b) >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${Math.round(b)} B`);
const v = result.verdicts;
const hours = (x) => `${(x / 1000).toFixed(2)} µs/h`;
console.log(`Machine: ${machineLine(meta.environment)}`);
console.log(
  `Command: node ${meta.command}  (${opts.model}.${opts.runtime}, intraOpThreads 1, soak(model, { durationMs: ${opts.durationMs}, windowMs: ${opts.windowMs}, cpu: ${opts.cpu}, file: '${path.relative(root, jsonl)}' }), back to back, allocation counting on)\n`,
);
console.log('| figure | value |');
console.log('| --- | --- |');
console.log(`| windows | ${w.length} (${(w.at(-1).endMs / 1000).toFixed(1)} s${result.stoppedEarly ? ', stopped early' : ''}) |`);
console.log(`| inferences | ${w.at(-1).totalInferences.toLocaleString('en-US')} (${Math.round(median(w.map((x) => x.inferences))).toLocaleString('en-US')} per window, median) |`);
console.log(`| latency p50, first window → last window | ${us(latencyEnds.firstWindow.p50Ns)} → ${us(latencyEnds.lastWindow.p50Ns)} |`);
console.log(`| latency p99, first window → last window | ${us(latencyEnds.firstWindow.p99Ns)} → ${us(latencyEnds.lastWindow.p99Ns)} |`);
console.log(`| latency p50, median of the first ${edge} windows → of the last ${edge} | ${us(latencyEnds.firstWindows.p50Ns)} → ${us(latencyEnds.lastWindows.p50Ns)} |`);
console.log(`| latency p99, median of the first ${edge} windows → of the last ${edge} | ${us(latencyEnds.firstWindows.p99Ns)} → ${us(latencyEnds.lastWindows.p99Ns)} |`);
console.log(`| window p50s: min / median / max | ${us(latencyEnds.allWindowsP50.min)} / ${us(latencyEnds.allWindowsP50.median)} / ${us(latencyEnds.allWindowsP50.max)} |`);
console.log(`| window p99s: min / median / max | ${us(latencyEnds.allWindowsP99.min)} / ${us(latencyEnds.allWindowsP99.median)} / ${us(latencyEnds.allWindowsP99.max)} |`);
console.log(`| latency trend | ${v.latencyTrend.statement} Slope ${hours(v.latencyTrend.perHour)} (95 % CI ${hours(v.latencyTrend.perHourLow)} to ${hours(v.latencyTrend.perHourHigh)}), Mann–Kendall p = ${v.latencyTrend.p.toPrecision(3)}; drifting: ${v.latencyTrend.drifting} |`);
console.log(
  `| latency steps | ${v.latencySteps.length === 0 ? 'none' : v.latencySteps.map((s) => `at ${(s.atMs / 1000).toFixed(0)} s (window ${s.at + 1}): ${us(s.beforeMedian)} → ${us(s.afterMedian)} (${(s.relativeChange * 100).toFixed(1)} %, p = ${s.p.toExponential(1)})`).join('; ')} |`,
);
if (v.runtimeMemory) {
  const r = v.runtimeMemory;
  console.log(`| runtime memory verdict | ${r.statement} Growth ${bytes(r.perHour)}/h (95 % CI ${bytes(r.perHourLow)} to ${bytes(r.perHourHigh)}/h), ${r.bytesPerInference.toPrecision(3)} B per inference, Mann–Kendall p = ${r.p.toPrecision(3)}; leak: ${r.leak} |`);
} else {
  console.log('| runtime memory verdict | not counted |');
}
console.log(`| RSS verdict | ${v.rss.statement} Growth ${bytes(v.rss.perHour)}/h (95 % CI ${bytes(v.rss.perHourLow)} to ${bytes(v.rss.perHourHigh)}/h), ${v.rss.bytesPerInference.toPrecision(3)} B per inference, Mann–Kendall p = ${v.rss.p.toPrecision(3)}; leak: ${v.rss.leak} |`);
console.log(`| RSS, first window → last window (min / max over windows) | ${bytes(rssSeries[0])} → ${bytes(rssSeries.at(-1))} (${bytes(Math.min(...rssSeries))} / ${bytes(Math.max(...rssSeries))}) |`);
console.log(`| glibc heap in use, first window → last window | ${bytes(first.heapInUseBytes)} → ${bytes(last.heapInUseBytes)} |`);
console.log(`| leak verdict (\`verdicts.leak\`) | ${v.leak} |`);
console.log(`\nSecond check, from ${path.relative(root, jsonl)} alone (readSoakFile): ${check.windowsInFile} windows; runtime live bytes in window ${first.index + 1}: ${first.runtimeLiveBytes} B, in window ${last.index + 1}: ${last.runtimeLiveBytes} B, difference ${check.runtimeLiveBytesDiff} B over ${check.inferencesBetween.toLocaleString('en-US')} inferences; distinct values over all windows: ${check.distinctRuntimeLiveBytes.length} (${check.distinctRuntimeLiveBytes.slice(0, 5).join(', ')}${check.distinctRuntimeLiveBytes.length > 5 ? ', …' : ''}). soakVerdicts() on the file gives the same verdicts: ${check.verdictsAgree}.`);
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}, windows: ${path.relative(root, jsonl)}`);
