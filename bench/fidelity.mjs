#!/usr/bin/env node
// Does benchmark(model) report the model's latency? Alternates, in one run, the SDK and a plain
// C++ loop (bench/reference/*.cc, a child process) on the same model, input, CPU and N, for
// ONNX Runtime and TFLite, and compares the medians over rounds.
//
//   node bench/fidelity.mjs [--cpu 1] [--iterations 5000] [--warmup 200] [--rounds 20]
//                           [--model hey_jarvis_v0.1] [--out fidelity] [--open-options JSON]
//                           [--variant-open-options JSON]
//
// --open-options adds openModel options to the SDK path (it always has intraOpThreads: 1).
// --variant-open-options adds a third path to every round: the SDK opened with those options
// instead, for an A/B of one SDK setting against the same reference in the same run.
import { benchInput, codeLine, fnv1a64, machineLine, meanCi, measureQuietly, median, openOptionsFrom, parseArgs, pct, provenance, quietCheck, runReference, runSdk, us, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const usage =
  'usage: node bench/fidelity.mjs [--cpu 1] [--iterations 5000] [--warmup 200] [--rounds 20] [--model hey_jarvis_v0.1] [--out fidelity] [--open-options JSON] [--variant-open-options JSON]';
const opts = parseArgs(
  { cpu: 1, iterations: 5000, warmup: 200, rounds: 20, model: 'hey_jarvis_v0.1', out: 'fidelity', target: 0.03, openOptions: '', variantOpenOptions: '' },
  usage,
);
const meta = provenance();
const paths = modelPaths(opts.model);
const input = benchInput(16 * 96); // [1, 16, 96] float32
const inputHash = fnv1a64(input);
const base = { cpu: opts.cpu, iterations: opts.iterations, warmup: opts.warmup };
const runners = {
  sdk: (runtime) => runSdk(paths[runtime], input, { ...base, openOptions: openOptionsFrom(opts.openOptions) }),
  reference: (runtime) => runReference(runtime, paths[runtime], base),
};
if (opts.variantOpenOptions) runners.variant = (runtime) => runSdk(paths[runtime], input, { ...base, openOptions: openOptionsFrom(opts.variantOpenOptions) });
const who = Object.keys(runners);
const label = { sdk: 'SDK', reference: 'C++', variant: 'SDK variant' };

console.error(machineLine(meta.environment));
const rounds = [];
for (let r = 0; r < opts.rounds; r++) {
  const round = {};
  for (const runtime of ['onnx', 'tflite']) {
    // Each round starts with a different path (SDK first, then the reference first, …), so drift
    // and run order cancel out over the rounds.
    const order = who.slice(r % who.length).concat(who.slice(0, r % who.length));
    // A round during which other processes used the CPUs is set aside and run again (see README).
    const kept = await measureQuietly(async () => {
      const e = { order };
      for (const w of order) e[w] = await runners[w](runtime);
      return e;
    });
    const entry = kept.value;
    entry.otherWork = kept.other;
    entry.quiet = kept.quiet;
    entry.setAside = kept.setAside;
    if (kept.setAside.length) console.error(`round ${r + 1} ${runtime}: ${kept.setAside.length} attempt(s) set aside, other processes were busy`);
    if (entry.reference.inputFnv1a64 !== inputHash) throw new Error(`${runtime}: the reference ran on other input bytes (${entry.reference.inputFnv1a64} vs ${inputHash})`);
    entry.p50Diff = entry.sdk.p50Ns / entry.reference.p50Ns - 1;
    if (entry.variant) entry.variantP50Diff = entry.variant.p50Ns / entry.reference.p50Ns - 1;
    round[runtime] = entry;
    const warnings = order.filter((w) => w !== 'reference' && entry[w].quality.warnings.length).map((w) => `${label[w]} warns: ${entry[w].quality.warnings.join(' ')}`);
    console.error(
      `round ${r + 1}/${opts.rounds} ${runtime.padEnd(6)} (${order.map((w) => label[w]).join(', ')}): ` +
        order.map((w) => `${label[w]} p50 ${us(entry[w].p50Ns)} µs p99 ${us(entry[w].p99Ns)} µs`).join(' | ') +
        ` | SDK p50 ${pct(entry.p50Diff)}` +
        (entry.variant ? `, variant p50 ${pct(entry.variantP50Diff)}` : '') +
        (warnings.length ? ` | ${warnings.join(' ')}` : ''),
    );
  }
  rounds.push(round);
}

const summary = {};
for (const runtime of ['onnx', 'tflite']) {
  const pick = (w, key) => median(rounds.map((x) => x[runtime][w][key]));
  const s = { version: rounds[0][runtime].reference.version };
  for (const w of who) s[w] = { p50Ns: pick(w, 'p50Ns'), p99Ns: pick(w, 'p99Ns'), meanNs: pick(w, 'meanNs') };
  s.perRoundP50Diff = rounds.map((x) => x[runtime].p50Diff);
  s.pairedP50Diff = meanCi(s.perRoundP50Diff);
  s.roundsSetAside = rounds.reduce((n, x) => n + x[runtime].setAside.length, 0);
  s.roundsKeptDisturbed = rounds.filter((x) => !x[runtime].quiet).length;
  s.outputs = { sdk: rounds[0][runtime].sdk.output, reference: rounds[0][runtime].reference.output };
  s.p50Diff = s.sdk.p50Ns / s.reference.p50Ns - 1;
  s.p99Diff = s.sdk.p99Ns / s.reference.p99Ns - 1;
  s.withinTarget = Math.abs(s.p50Diff) <= opts.target;
  if (s.variant) {
    s.perRoundVariantP50Diff = rounds.map((x) => x[runtime].variantP50Diff);
    s.pairedVariantP50Diff = meanCi(s.perRoundVariantP50Diff);
    s.variantP50Diff = s.variant.p50Ns / s.reference.p50Ns - 1;
    s.variantP99Diff = s.variant.p99Ns / s.reference.p99Ns - 1;
  }
  summary[runtime] = s;
}

const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, options: opts, inputFnv1a64: inputHash, summary, rounds });

const name = { onnx: 'ONNX Runtime', tflite: 'TFLite' };
const spread = (diffs) => `${pct(median(diffs))} [${pct(Math.min(...diffs))} … ${pct(Math.max(...diffs))}]`;
const ci = (m) => `${pct(m.mean)} ± ${(m.halfWidth * 100).toFixed(2)} %`;
console.log(`\nMachine: ${machineLine(meta.environment)}`);
console.log(`Command: ${'node ' + meta.command}  (model ${opts.model}, N = ${opts.iterations} per path per round, warm-up ${opts.warmup}, CPU ${opts.cpu}, ${opts.rounds} rounds, medians over rounds)\n`);
console.log('| runtime | C++ reference p50 | model-audit p50 | p50 diff | C++ reference p99 | model-audit p99 | p99 diff | per-round p50 diff: median [min … max] | per-round p50 diff: mean ± 95 % CI | within 3 % |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |');
for (const runtime of ['onnx', 'tflite']) {
  const s = summary[runtime];
  console.log(
    `| ${name[runtime]} ${s.version} | ${us(s.reference.p50Ns)} µs | ${us(s.sdk.p50Ns)} µs | ${pct(s.p50Diff)} | ${us(s.reference.p99Ns)} µs | ${us(s.sdk.p99Ns)} µs | ${pct(s.p99Diff)} | ` +
      `${spread(s.perRoundP50Diff)} | ${ci(s.pairedP50Diff)} | ${s.withinTarget ? 'yes' : 'NO'} |`,
  );
}
if (opts.variantOpenOptions) {
  console.log(`\nVariant: the SDK opened with ${opts.variantOpenOptions}, in the same rounds:\n`);
  console.log('| runtime | C++ reference p50 | variant p50 | p50 diff | variant p99 | p99 diff | per-round p50 diff: median [min … max] | per-round p50 diff: mean ± 95 % CI |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const runtime of ['onnx', 'tflite']) {
    const s = summary[runtime];
    console.log(
      `| ${name[runtime]} ${s.version} | ${us(s.reference.p50Ns)} µs | ${us(s.variant.p50Ns)} µs | ${pct(s.variantP50Diff)} | ${us(s.variant.p99Ns)} µs | ${pct(s.variantP99Diff)} | ${spread(s.perRoundVariantP50Diff)} | ${ci(s.pairedVariantP50Diff)} |`,
    );
  }
}
for (const runtime of ['onnx', 'tflite']) {
  const s = summary[runtime];
  console.log(`\n${name[runtime]} output for the bench input: SDK ${JSON.stringify(s.outputs.sdk)}, C++ ${JSON.stringify(s.outputs.reference)}`);
}
console.log(
  `rounds set aside because other processes were busy and run again: ONNX Runtime ${summary.onnx.roundsSetAside}, TFLite ${summary.tflite.roundsSetAside}` +
    (summary.onnx.roundsKeptDisturbed + summary.tflite.roundsKeptDisturbed ? ` (still disturbed after 3 retries and kept: ${summary.onnx.roundsKeptDisturbed + summary.tflite.roundsKeptDisturbed})` : ''),
);
console.log(`input bytes FNV-1a 64: ${inputHash} (identical in every path)`);
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}`);
process.exitCode = summary.onnx.withinTarget && summary.tflite.withinTarget ? 0 : 1;
