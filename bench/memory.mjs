#!/usr/bin/env node
// What the runtime library allocates, per inference and around it, for all eight openWakeWord
// models, through benchmark(model)'s memory figures (allocator-level counters on the runtime
// library's own imports). ONNX Runtime in the four combinations of cpuMemArena and memPattern,
// TFLite in its one configuration. Then what the counters cost: the same model with counting in
// the timed loop, counting suspended in the timed loop (the default), and counting off.
//
//   node bench/memory.mjs [--iterations 200] [--memory-iterations 200] [--repeats 2] [--cpu 1]
//                         [--cost-rounds 20] [--cost-iterations 5000] [--cost-model hey_jarvis_v0.1]
//                         [--out memory]
import { codeLine, machineLine, meanCi, measureQuietly, median, parseArgs, provenance, quietCheck, sdk, writeResult } from './common.mjs';
import { modelPaths } from './paths.mjs';

const usage =
  'usage: node bench/memory.mjs [--iterations 200] [--memory-iterations 200] [--repeats 2] [--cpu 1] [--cost-rounds 20] [--cost-iterations 5000] [--cost-warmup 200] [--cost-model hey_jarvis_v0.1] [--out memory]';
const opts = parseArgs(
  { iterations: 200, memoryIterations: 200, repeats: 2, cpu: 1, costRounds: 20, costIterations: 5000, costWarmup: 200, costModel: 'hey_jarvis_v0.1', out: 'memory' },
  usage,
);
const meta = provenance();
const { benchmark, openModel, runtimeMemory } = sdk;

const models = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
// Inputs with dynamic dimensions get these shapes (by position: ONNX and TFLite name them differently).
const dynamicShapes = { melspectrogram: [1, 1280], embedding_model: [1, 76, 32, 1] };
const configs = {
  onnx: [
    { label: 'arena on, pattern on (default)', open: { cpuMemArena: true, memPattern: true } },
    { label: 'arena on, pattern off', open: { cpuMemArena: true, memPattern: false } },
    { label: 'arena off, pattern on', open: { cpuMemArena: false, memPattern: true } },
    { label: 'arena off, pattern off', open: { cpuMemArena: false, memPattern: false } },
  ],
  tflite: [{ label: 'default', open: {} }],
};

const pickPhase = (p) =>
  p && {
    allocations: p.allocations,
    frees: p.frees,
    allocatedBytes: p.allocatedBytes,
    netBytes: p.netBytes,
    peakBytesAboveStart: p.peakBytesAboveStart,
    liveBytesAtStart: p.liveBytesAtStart,
    liveBytesAtEnd: p.liveBytesAtEnd,
    mmapCalls: p.mmapCalls,
    mappedBytes: p.mappedBytes,
    otherThreadAllocations: p.otherThreadAllocations,
  };

/** Opens, benchmarks with a counted memory pass, closes. Returns the memory figures. */
async function measure(runtime, name, openOptions) {
  const model = await openModel(modelPaths(name)[runtime], { intraOpThreads: 1, ...openOptions });
  try {
    const shapes = dynamicShapes[name] ? { [model.inputs[0].name]: dynamicShapes[name] } : undefined;
    const r = await benchmark(model, { iterations: opts.iterations, cpu: opts.cpu, memory: { iterations: opts.memoryIterations }, ...(shapes ? { shapes } : {}) });
    const m = r.memory;
    if (!m.counted) throw new Error(`${runtime} ${name}: not counted (${m.notCountedReason})`);
    return {
      perInference: m.perInference,
      steadyStateSource: m.steadyStateSource,
      steadyStateIterations: m.steadyStateIterations,
      load: pickPhase(m.load),
      creation: pickPhase(m.creation),
      firstRun: pickPhase(m.firstRun),
      warmup: pickPhase(m.warmup),
      steadyState: pickPhase(m.steadyState),
      p50Ns: r.summary.p50Ns,
      inputShape: r.inputs?.[0]?.shape ?? shapes?.[model.inputs[0].name] ?? model.inputs[0].shape,
      warnings: r.quality.warnings,
    };
  } finally {
    model.close();
  }
}

console.error(machineLine(meta.environment));

// 1. Allocations. The first session of a process leaves process-wide state live (README: about
// 1 MiB for ONNX Runtime), which would land in the first model's creation figures: one priming
// open/run/close per runtime takes it out of the table (its figures are kept in the JSON).
const priming = {};
for (const runtime of ['onnx', 'tflite']) {
  priming[runtime] = await measure(runtime, 'hey_jarvis_v0.1', {});
  console.error(`priming ${runtime}: creation net ${priming[runtime].creation.netBytes} B, first run peak ${priming[runtime].firstRun.peakBytesAboveStart} B`);
}

const table = { onnx: {}, tflite: {} };
for (const runtime of ['onnx', 'tflite']) {
  for (const name of models) {
    table[runtime][name] = {};
    for (const config of configs[runtime]) {
      const repeats = [];
      for (let i = 0; i < opts.repeats; i++) repeats.push(await measure(runtime, name, config.open));
      table[runtime][name][config.label] = repeats;
      const f = repeats[0];
      console.error(
        `${runtime.padEnd(6)} ${name.padEnd(16)} ${config.label.padEnd(31)} allocs/inf ${repeats.map((x) => x.perInference.allocations).join(' / ')}` +
          `, bytes/inf ${repeats.map((x) => x.perInference.allocatedBytes.toFixed(0)).join(' / ')}, net/inf ${repeats.map((x) => x.perInference.netGrowthBytes).join(' / ')}` +
          `, creation net ${f.creation.netBytes}, first-run peak ${f.firstRun.peakBytesAboveStart}`,
      );
    }
  }
}

// 2. What counting costs, on one model per runtime pinned to one CPU. Counters are per library,
// not per session: a model opened with countAllocations: false is still counted while another
// counted model of the same library is open. So each variant opens its own model and closes it
// before the next variant runs, as the fidelity bench does, in an order that rotates per round.
const variants = {
  counted: { open: { countAllocations: true }, memory: { countSteadyState: true }, label: 'counting on in the timed loop (`countSteadyState: true`)' },
  suspended: { open: { countAllocations: true }, memory: undefined, label: 'counting suspended in the timed loop (the default)' },
  off: { open: { countAllocations: false }, memory: undefined, label: 'counting off (`countAllocations: false`)' },
};
const variantNames = Object.keys(variants);
const cost = {};
for (const runtime of ['onnx', 'tflite']) {
  const rounds = [];
  for (let r = 0; r < opts.costRounds; r++) {
    const order = variantNames.slice(r % variantNames.length).concat(variantNames.slice(0, r % variantNames.length));
    const kept = await measureQuietly(async () => {
      const round = { order };
      for (const v of order) {
        const model = await openModel(modelPaths(opts.costModel)[runtime], { intraOpThreads: 1, ...variants[v].open });
        try {
          if (runtimeMemory(runtime).counted !== (v !== 'off')) throw new Error(`${runtime} ${v}: the library is ${runtimeMemory(runtime).counted ? '' : 'not '}counted`);
          const res = await benchmark(model, { iterations: opts.costIterations, cpu: opts.cpu, warmup: { iterations: opts.costWarmup }, ...(variants[v].memory ? { memory: variants[v].memory } : {}) });
          round[v] = {
            p50Ns: res.summary.p50Ns,
            p99Ns: res.summary.p99Ns,
            meanNs: res.summary.meanNs,
            steadyStateSource: res.memory.steadyStateSource,
            allocationsPerInference: res.memory.perInference?.allocations ?? null,
            warnings: res.quality.warnings,
          };
        } finally {
          model.close();
        }
      }
      return round;
    });
    const round = { ...kept.value, otherWork: kept.other, quiet: kept.quiet, setAside: kept.setAside.length };
    rounds.push(round);
    console.error(`cost ${runtime} round ${r + 1}/${opts.costRounds}: ` + variantNames.map((v) => `${v} ${(round[v].p50Ns / 1000).toFixed(2)} µs`).join(', ') + (kept.setAside.length ? ` (${kept.setAside.length} set aside)` : ''));
  }
  const allocs = median(rounds.map((x) => x.counted.allocationsPerInference));
  const p50 = Object.fromEntries(variantNames.map((v) => [v, median(rounds.map((x) => x[v].p50Ns))]));
  const paired = (a, b) => rounds.map((x) => x[a].p50Ns - x[b].p50Ns);
  const pairedCountedOff = paired('counted', 'off');
  const pairedSuspendedOff = paired('suspended', 'off');
  cost[runtime] = {
    allocationsPerInference: allocs,
    p50Ns: p50,
    p99Ns: Object.fromEntries(variantNames.map((v) => [v, median(rounds.map((x) => x[v].p99Ns))])),
    diffCountedMinusOffNs: p50.counted - p50.off,
    diffSuspendedMinusOffNs: p50.suspended - p50.off,
    pairedCountedMinusOffNs: { median: median(pairedCountedOff), min: Math.min(...pairedCountedOff), max: Math.max(...pairedCountedOff), roundsPositive: pairedCountedOff.filter((d) => d > 0).length },
    pairedSuspendedMinusOffNs: { median: median(pairedSuspendedOff), min: Math.min(...pairedSuspendedOff), max: Math.max(...pairedSuspendedOff), roundsPositive: pairedSuspendedOff.filter((d) => d > 0).length },
    pairedCountedMinusOffMeanCi: meanCi(pairedCountedOff),
    pairedSuspendedMinusOffMeanCi: meanCi(pairedSuspendedOff),
    nsPerAllocation: (p50.counted - p50.off) / allocs,
    nsPerAllocationPaired: median(pairedCountedOff) / allocs,
    roundsSetAside: rounds.reduce((n, x) => n + x.setAside, 0),
    roundsKeptDisturbed: rounds.filter((x) => !x.quiet).length,
    rounds,
  };
}

const quiet = quietCheck(meta);
const file = writeResult(opts.out, { ...meta, otherWork: quiet, options: opts, models, dynamicShapes, configs, priming, table, cost });

// Tables.
const kib = (b) => {
  const a = Math.abs(b);
  if (a === 0) return '0';
  if (a >= 1048576) return `${(b / 1048576).toFixed(2)} MiB`;
  if (a >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${Math.round(b)} B`;
};
const num = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
/**
 * One figure over the repeats: the value, or "a / b" when the repeats disagree. A value marked †
 * comes from a phase in which another thread allocated inside the runtime library
 * (otherThreadAllocations > 0), so the counters hold more than this model's own calls.
 */
const over = (repeats, get, fmt, phase) => {
  const values = repeats.map(get);
  const marked = repeats.map((x) => (x[phase]?.otherThreadAllocations > 0 ? '†' : ''));
  return values.every((v) => v === values[0]) && marked.every((m) => m === '') ? fmt(values[0]) : values.map((v, i) => fmt(v) + marked[i]).join(' / ');
};
const figures = [
  ['allocations per inference', (x) => x.perInference.allocations, num, 'steadyState'],
  ['bytes allocated per inference', (x) => x.perInference.allocatedBytes, kib, 'steadyState'],
  ['net growth per inference', (x) => x.perInference.netGrowthBytes, kib, 'steadyState'],
  ['live after creating (creation.netBytes)', (x) => x.creation.netBytes, kib, 'creation'],
  ['first run: peak above start', (x) => x.firstRun.peakBytesAboveStart, kib, 'firstRun'],
];
const otherThreadCells = [];
for (const runtime of ['onnx', 'tflite'])
  for (const name of models)
    for (const config of configs[runtime])
      table[runtime][name][config.label].forEach((x, i) => {
        const phases = ['creation', 'firstRun', 'warmup', 'steadyState'].filter((p) => x[p]?.otherThreadAllocations > 0);
        if (phases.length) otherThreadCells.push(`${runtime} ${name} (${config.label}), repeat ${i + 1}: ${phases.map((p) => `${p} ${x[p].otherThreadAllocations}`).join(', ')}`);
      });

console.log(`Machine: ${machineLine(meta.environment)}`);
console.log(
  `Command: node ${meta.command}  (intraOpThreads 1, benchmark({ iterations: ${opts.iterations}, cpu: ${opts.cpu}, memory: { iterations: ${opts.memoryIterations} } }), ${opts.repeats} repeats per cell, each a fresh model; "a / b" where repeats differ)\n`,
);
console.log('### ONNX Runtime\n');
console.log(`| model | figure | ${configs.onnx.map((c) => c.label).join(' | ')} |`);
console.log(`| --- | --- | ${configs.onnx.map(() => '---:').join(' | ')} |`);
for (const name of models) {
  figures.forEach(([label, get, fmt, phase], i) => {
    console.log(`| ${i === 0 ? name : ''} | ${label} | ${configs.onnx.map((c) => over(table.onnx[name][c.label], get, fmt, phase)).join(' | ')} |`);
  });
}
console.log('\n### TFLite\n');
console.log(`| model | ${figures.map(([label]) => label).join(' | ')} |`);
console.log(`| --- | ${figures.map(() => '---:').join(' | ')} |`);
for (const name of models) {
  console.log(`| ${name} | ${figures.map(([, get, fmt, phase]) => over(table.tflite[name].default, get, fmt, phase)).join(' | ')} |`);
}
console.log(`\n† allocations by another thread inside the runtime library during the phase (otherThreadAllocations): ${otherThreadCells.length ? otherThreadCells.join('; ') : 'none'}.`);
console.log(`\nPriming session (first of the process, hey_jarvis_v0.1, not in the tables): ONNX Runtime creation net ${kib(priming.onnx.creation.netBytes)}, TFLite ${kib(priming.tflite.creation.netBytes)}.`);

console.log(`\n### What the counters cost (${opts.costModel}, CPU ${opts.cpu}, ${opts.costRounds} rounds × ${opts.costIterations} iterations, median over rounds)\n`);
console.log('| runtime | allocations per inference | p50 counting on in timed loop | p50 counting suspended (default) | p50 counting off | on − off | suspended − off | paired on − off: median [min … max] | paired on − off: mean ± 95 % CI | paired suspended − off: mean ± 95 % CI | ns per allocation: (on − off) / allocations |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |');
for (const runtime of ['onnx', 'tflite']) {
  const c = cost[runtime];
  const ns = (x) => `${x.toFixed(0)} ns`;
  console.log(
    `| ${runtime === 'onnx' ? 'ONNX Runtime' : 'TFLite'} | ${num(c.allocationsPerInference)} | ${(c.p50Ns.counted / 1000).toFixed(2)} µs | ${(c.p50Ns.suspended / 1000).toFixed(2)} µs | ${(c.p50Ns.off / 1000).toFixed(2)} µs | ${ns(c.diffCountedMinusOffNs)} | ${ns(c.diffSuspendedMinusOffNs)} | ${ns(c.pairedCountedMinusOffNs.median)} [${ns(c.pairedCountedMinusOffNs.min)} … ${ns(c.pairedCountedMinusOffNs.max)}], ${c.pairedCountedMinusOffNs.roundsPositive}/${opts.costRounds} rounds > 0 | ${ns(c.pairedCountedMinusOffMeanCi.mean)} ± ${ns(c.pairedCountedMinusOffMeanCi.halfWidth)} | ${ns(c.pairedSuspendedMinusOffMeanCi.mean)} ± ${ns(c.pairedSuspendedMinusOffMeanCi.halfWidth)} | ${c.nsPerAllocation.toFixed(1)} from the medians; paired mean ${(c.pairedCountedMinusOffMeanCi.mean / c.allocationsPerInference).toFixed(1)} ± ${(c.pairedCountedMinusOffMeanCi.halfWidth / c.allocationsPerInference).toFixed(1)} |`,
  );
}
console.log(`\nrounds set aside (kept though disturbed): ONNX Runtime ${cost.onnx.roundsSetAside} (${cost.onnx.roundsKeptDisturbed}), TFLite ${cost.tflite.roundsSetAside} (${cost.tflite.roundsKeptDisturbed})`);
console.log(`SDK build: ${codeLine(meta)}`);
console.log(quiet.line);
console.log(`raw results: ${file}`);
