#!/usr/bin/env node
// The soak's leak and drift verdicts and compare-models, measured: how often they call a clean run
// a leak, drift or regression (false alarms), and what they catch (power).
//
//   node bench/verdicts.mjs --part clean        60-s soaks (2-s windows) of the 16 openWakeWord files, the verdicts on the
//                                                whole run and on its first 30 s; ONNX Runtime's arena off, 30 s, as well;
//                                                --long-ms 300000 adds 5-min soaks of hey_jarvis on both runtimes
//   node bench/verdicts.mjs --part leak-clean    more clean soaks for the leak verdict alone (--trials of --duration-ms)
//   node bench/verdicts.mjs --part leak          the leak hook: bytes per inference back to back, and bytes per second
//                                                (paced at 10 inferences/s), --trials 60-s soaks each
//   node bench/verdicts.mjs --part leak-rate     the slowest leak called: a 24-byte chunk per inference at --rates inferences/s
//   node bench/verdicts.mjs --part drift         the delay hook raised window by window (a slowdown growing through the run),
//                                                and switched on once half-way (a step), --trials 60-s soaks each
//   node bench/verdicts.mjs --part ab            compare-models: A/A (two sessions of one model) and A/B with +10 % and
//                                                +20 % of the p50 spun into the candidate, --trials each
//
// Options: [--cpu 1] [--duration-ms 60000] [--window-ms 2000] [--long-ms 0] [--trials 4] [--out verdicts-<part>]

// The hooks are refused unless this is set; set it before the SDK is loaded.
process.env.MODEL_AUDIT_TEST_HOOKS = '1';
const { lineLog, machineLine, median, parseArgs, provenance, provenanceLines, rateWithInterval, sdk, us, writeResult } = await import('./common.mjs');
const { modelPaths } = await import('./paths.mjs');

const usage = 'usage: node bench/verdicts.mjs --part clean|leak-clean|leak|leak-rate|drift|ab [--cpu 1] [--duration-ms 60000] [--window-ms 2000] [--long-ms 0] [--trials 4] [--rates 2,4,6,8] [--out NAME]';
const opts = parseArgs({ part: '', cpu: 1, durationMs: 60000, windowMs: 2000, longMs: 0, trials: 4, rates: '2,4,6,8', out: '' }, usage);
const { benchmark, compareModels, injectFaults, openModel, soak, soakVerdicts } = sdk;
const meta = provenance();
console.error(machineLine(meta.environment));
const models = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
const { lines, say } = lineLog();
const result = { part: opts.part, options: opts, ...meta };
const rate = rateWithInterval;

/** One soak of a freshly opened model; `configure(model)` may inject faults, `onWindow` change them. */
async function oneSoak(name, runtime, { durationMs = opts.durationMs, windowMs = opts.windowMs, open = {}, configure, onWindow, ratePerSecond } = {}) {
  const model = await openModel(modelPaths(name)[runtime], { intraOpThreads: 1, ...open });
  try {
    configure?.(model);
    const r = await soak(model, { durationMs, windowMs, cpu: opts.cpu, ...(ratePerSecond ? { ratePerSecond } : {}), onWindow: (w, i) => onWindow?.(model, w, i) });
    return r;
  } finally {
    injectFaults(model, { leakBytesPerRun: 0, delayNsPerRun: 0 });
    model.close();
  }
}

function verdictRow(label, windows) {
  const v = soakVerdicts(windows);
  const m = v.runtimeMemory ?? v.rss;
  return { label, windows: windows.length, leakCall: v.leakCall, drift: v.latencyTrend.call, warmUpGrowthBytes: m.warmUpGrowthBytes, laterGrowthBytes: m.laterGrowthBytes, overRun: v.latencyTrend.relativeChangeOverRun, statement: m.statement };
}

async function clean() {
  const rows = [];
  const configs = [];
  for (const name of models) for (const runtime of ['onnx', 'tflite']) configs.push({ name, runtime, durationMs: opts.durationMs, open: {} });
  for (const name of models) configs.push({ name, runtime: 'onnx', durationMs: 30_000, open: { cpuMemArena: false }, tag: 'arena off' });
  if (opts.longMs > 0) for (const runtime of ['onnx', 'tflite']) configs.push({ name: 'hey_jarvis_v0.1', runtime, durationMs: opts.longMs, open: {}, tag: 'long' });
  for (const c of configs) {
    const r = await oneSoak(c.name, c.runtime, { durationMs: c.durationMs, open: c.open });
    const label = `${c.name}.${c.runtime}${c.tag ? ` (${c.tag})` : ''}`;
    const whole = verdictRow(`${label}, ${c.durationMs / 1000} s`, r.windows);
    rows.push({ ...whole, durationS: c.durationMs / 1000 });
    if (c.durationMs > 30_000) {
      const prefix = verdictRow(`${label}, first 30 s`, r.windows.filter((w) => w.endMs <= 30_000 + 500));
      rows.push({ ...prefix, durationS: 30 });
    }
    console.error(`${label}: ${whole.leakCall}, ${whole.drift}; warm-up ${whole.warmUpGrowthBytes} B, later ${whole.laterGrowthBytes} B, latency ${(whole.overRun * 100).toFixed(2)} % over the run`);
  }
  result.clean = rows;
  say('| soak length | runs | called a leak | called drifting | inconclusive | warm-up growth of the runtime\'s live bytes: median, max | later growth: max |');
  say('| --- | ---: | --- | --- | ---: | --- | --- |');
  for (const d of [...new Set(rows.map((r) => r.durationS))].sort((a, b) => a - b)) {
    const set = rows.filter((r) => r.durationS === d);
    const leaks = set.filter((r) => r.leakCall === 'leak').length;
    const drifts = set.filter((r) => r.drift === 'drifting').length;
    say(`| ${d} s | ${set.length} | ${rate(leaks, set.length)} | ${rate(drifts, set.length)} | ${set.filter((r) => r.leakCall === 'inconclusive').length} | ${median(set.map((r) => r.warmUpGrowthBytes))} B, ${Math.max(...set.map((r) => r.warmUpGrowthBytes))} B | ${Math.max(...set.map((r) => r.laterGrowthBytes))} B |`);
  }
  const all = rows.length;
  say('');
  say(`All: ${rate(rows.filter((r) => r.leakCall === 'leak').length, all)} leak calls, ${rate(rows.filter((r) => r.drift === 'drifting').length, all)} drift calls.`);
  for (const r of rows.filter((x) => x.leakCall === 'leak' || x.drift === 'drifting')) say(`- ${r.label}: ${r.leakCall}, ${r.drift}: ${r.statement}`);
}

/** More clean soaks for the leak verdict's false-alarm rate: `--trials` runs of `--duration-ms` over the 16 files in turn. */
async function leakClean() {
  const rows = [];
  for (let t = 0; t < opts.trials; t++) {
    const name = models[t % models.length];
    const runtime = Math.floor(t / models.length) % 2 ? 'tflite' : 'onnx';
    const r = await oneSoak(name, runtime);
    rows.push(verdictRow(`${name}.${runtime} #${t}`, r.windows));
    console.error(`${name}.${runtime} #${t}: ${rows.at(-1).leakCall}`);
  }
  result.leakClean = rows;
  say(`| clean soaks (${opts.durationMs / 1000} s, ${opts.windowMs / 1000}-s windows, CPU ${opts.cpu}) | called a leak | inconclusive | later growth: max |`);
  say('| --- | --- | ---: | --- |');
  say(`| ${rows.length} | ${rate(rows.filter((r) => r.leakCall === 'leak').length, rows.length)} | ${rows.filter((r) => r.leakCall === 'inconclusive').length} | ${Math.max(...rows.map((r) => r.laterGrowthBytes))} B |`);
}

async function leak() {
  const rows = [];
  // Per inference, back to back (tens of thousands of inferences a second).
  for (const bytes of [1, 4096]) {
    let calls = 0;
    const growth = [];
    for (let t = 0; t < opts.trials; t++) {
      const r = await oneSoak('hey_jarvis_v0.1', 'onnx', { configure: (m) => injectFaults(m, { leakBytesPerRun: bytes }) });
      if (r.verdicts.leakCall === 'leak') calls++;
      growth.push(r.verdicts.runtimeMemory.bytesPerInference);
    }
    rows.push({ kind: 'per inference', what: `${bytes} B per inference`, trials: opts.trials, calls, bytesPerInferenceMeasured: median(growth) });
    console.error(`${bytes} B/inference: ${calls}/${opts.trials}`);
  }
  // Per second: 10 inferences a second, each leaking `bytes` (a leak that grows with time, not work).
  for (const bytes of [4, 8, 16, 32]) {
    let calls = 0;
    for (let t = 0; t < opts.trials; t++) {
      const r = await oneSoak('hey_jarvis_v0.1', 'onnx', { ratePerSecond: 10, configure: (m) => injectFaults(m, { leakBytesPerRun: bytes }) });
      if (r.verdicts.leakCall === 'leak') calls++;
    }
    rows.push({ kind: 'per second', what: `10 inferences/s × a ${bytes}-byte leak (counted at the allocator's chunk size: 24 B up to 16 B asked, 40 B for 32)`, trials: opts.trials, calls });
    console.error(`${bytes} B × 10/s: ${calls}/${opts.trials}`);
  }
  result.leak = rows;
  say(`| injected leak (${opts.durationMs / 1000}-s soaks, ${opts.windowMs / 1000}-s windows) | trials | called a leak |`);
  say('| --- | ---: | --- |');
  for (const r of rows) say(`| ${r.what} | ${r.trials} | ${rate(r.calls, r.trials)} |`);
}

/**
 * The slowest leak the verdict calls: a 4-byte leak per inference (counted as the allocator's
 * 24-byte chunk) at `--rates` inferences per second, so bytes per second = 24 × rate; the
 * growth each soak actually saw is recorded beside the call.
 */
async function leakRate() {
  const rows = [];
  for (const perSecond of opts.rates.split(',').map(Number)) {
    let calls = 0;
    const seen = [];
    for (let t = 0; t < opts.trials; t++) {
      const r = await oneSoak('hey_jarvis_v0.1', 'onnx', { ratePerSecond: perSecond, configure: (m) => injectFaults(m, { leakBytesPerRun: 4 }) });
      const v = r.verdicts.runtimeMemory;
      if (r.verdicts.leakCall === 'leak') calls++;
      seen.push((v.laterGrowthBytes / Math.max(1, v.judgedMs)) * 1000);
    }
    rows.push({ perSecond, trials: opts.trials, calls, bytesPerSecondSeen: median(seen) });
    console.error(`${perSecond}/s: ${calls}/${opts.trials}, ${median(seen).toFixed(0)} B/s seen`);
  }
  result.leakRate = rows;
  say(`| leak (4-byte hook, counted as 24 B) | growth the soak saw | trials (${opts.durationMs / 1000}-s soaks) | called a leak |`);
  say('| --- | ---: | ---: | --- |');
  for (const r of rows) say(`| ${r.perSecond} inferences/s × 24 B = ${24 * r.perSecond} B/s | ${r.bytesPerSecondSeen.toFixed(0)} B/s | ${r.trials} | ${rate(r.calls, r.trials)} |`);
}

async function drift() {
  const model0 = await openModel(modelPaths('hey_jarvis_v0.1').onnx, { intraOpThreads: 1 });
  const p50 = (await benchmark(model0, { durationMs: 1000, cpu: opts.cpu })).summary.p50Ns;
  model0.close();
  const windows = Math.round(opts.durationMs / opts.windowMs);
  const rows = [];
  // A slowdown that grows window by window to `total` of the p50 by the end of the run.
  for (const total of [0.05, 0.1, 0.2]) {
    let calls = 0;
    let steps = 0;
    const overRuns = [];
    for (let t = 0; t < opts.trials; t++) {
      const r = await oneSoak('hey_jarvis_v0.1', 'onnx', { onWindow: (m, w, i) => injectFaults(m, { delayNsPerRun: Math.round((p50 * total * (i + 1)) / windows) }) });
      if (r.verdicts.latencyTrend.drifting) calls++;
      steps += r.verdicts.latencySteps.length;
      overRuns.push(r.verdicts.latencyTrend.relativeChangeOverRun);
    }
    rows.push({ what: `growing to +${total * 100} % of the p50 over the run`, trials: opts.trials, drifting: calls, steps, overRuns });
    console.error(`ramp ${total}: ${calls}/${opts.trials}`);
  }
  // A step of +20 % half-way: found as a step, not called drift.
  let drifting = 0;
  let found = 0;
  const stepOverRuns = [];
  for (let t = 0; t < opts.trials; t++) {
    let at = null;
    const r = await oneSoak('hey_jarvis_v0.1', 'onnx', {
      onWindow: (m, w, i) => {
        if (i === Math.floor(windows / 2) - 1) {
          injectFaults(m, { delayNsPerRun: Math.round(p50 * 0.2) });
          at = w.endMs;
        }
      },
    });
    if (r.verdicts.latencyTrend.drifting) drifting++;
    stepOverRuns.push(r.verdicts.latencyTrend.relativeChangeOverRun);
    if (r.verdicts.latencySteps.some((s) => Math.abs(s.atMs - at) <= 2 * opts.windowMs)) found++;
  }
  rows.push({ what: 'a +20 % step half-way', trials: opts.trials, drifting, stepFound: found, overRuns: stepOverRuns });
  result.drift = { p50Ns: p50, rows };
  say(`| injected slowdown (hey_jarvis_v0.1.onnx, p50 ${us(p50)} µs; ${opts.durationMs / 1000}-s soaks, ${opts.windowMs / 1000}-s windows) | trials | called drifting | steps found |`);
  say('| --- | ---: | --- | --- |');
  for (const r of rows) say(`| ${r.what} | ${r.trials} | ${rate(r.drifting, r.trials)} | ${r.stepFound !== undefined ? `${r.stepFound}/${r.trials} at the switch` : `${r.steps} in all`} |`);
}

async function ab() {
  const rows = [];
  const path = modelPaths('hey_jarvis_v0.1').onnx;
  const probe = await openModel(path, { intraOpThreads: 1 });
  const p50 = (await benchmark(probe, { durationMs: 1000, cpu: opts.cpu })).summary.p50Ns;
  probe.close();
  for (const extra of [0, 0.1, 0.2]) {
    let regressions = 0;
    const ratios = [];
    for (let t = 0; t < opts.trials; t++) {
      const a = await openModel(path, { intraOpThreads: 1 });
      const b = await openModel(path, { intraOpThreads: 1 });
      if (extra > 0) injectFaults(b, { delayNsPerRun: Math.round(p50 * extra) });
      const c = await compareModels(a, b, { cpu: opts.cpu, seed: 1 + t });
      a.close();
      b.close();
      if (c.regression) regressions++;
      ratios.push(c.metrics[0].change.ratio);
    }
    rows.push({ what: extra === 0 ? 'A/A: two sessions of one model' : `+${extra * 100} % of the p50 in the candidate`, trials: opts.trials, regressions, ratioMedian: median(ratios), ratioMin: Math.min(...ratios), ratioMax: Math.max(...ratios) });
    console.error(`extra ${extra}: ${regressions}/${opts.trials}`);
  }
  result.ab = { p50Ns: p50, rows };
  say(`| compare-models (hey_jarvis_v0.1.onnx, p50 ${us(p50)} µs; defaults: 20 rounds of 100 ms, 5 % / 10 % floors) | trials | called a regression | p50 ratio: median (min–max) |`);
  say('| --- | ---: | --- | --- |');
  for (const r of rows) say(`| ${r.what} | ${r.trials} | ${rate(r.regressions, r.trials)} | ${r.ratioMedian.toFixed(3)} (${r.ratioMin.toFixed(3)}–${r.ratioMax.toFixed(3)}) |`);
}

const parts = { clean, 'leak-clean': leakClean, leak, 'leak-rate': leakRate, drift, ab };
if (!parts[opts.part]) {
  console.error(usage);
  process.exit(2);
}
await parts[opts.part]();
const quiet = provenanceLines(meta, say);
result.otherWork = quiet;
result.table = lines;
console.error(`raw results: ${writeResult(opts.out || `verdicts-${opts.part}`, result)}`);
