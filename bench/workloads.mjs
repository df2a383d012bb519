#!/usr/bin/env node
// Real workloads: data sets through the timed loop, and the input-sensitivity verdict.
//
//   node bench/workloads.mjs --part fidelity     the SDK cycling 64 different samples against a plain C++ loop
//                                                 fed the same 64 samples in the same cyclic order (rounds alternate)
//   node bench/workloads.mjs --part moving       what moving between feed sets costs: one set against the same set
//                                                 copied 64 times (identical values, 64 buffers), rounds alternate
//   node bench/workloads.mjs --part classes      inputSensitivity() on every openWakeWord file, both runtimes
//   node bench/workloads.mjs --part calibration  the verdict's false-alarm rate and power, --trials runs each
//   node bench/workloads.mjs --part reshuffle --from workloads-calibration-loaded
//                                                 false alarms on the machine's own noise: every null trial of a
//                                                 calibration result, its classes shuffled within each round
//                                                 (--shuffles per trial), judged by both rules; no model is run
//   node bench/workloads.mjs --part simulate     both rules on seeded lognormal rounds: 5 identical classes, and one
//                                                 15 % slower, at 2, 8 and 15 % noise per round (--trials sets each,
//                                                 --sim-rounds rounds in a set, --noise other levels)
//
// Options: [--cpu 1 (-1: not pinned, calibration only)] [--rounds 10] [--iterations 5000] [--trials 30] [--only NAME-PREFIX] [--from NAME] [--shuffles 20] [--sim-rounds 20] [--noise 0.02,0.08,0.15] [--out workloads-<part>]
// (--only: the calibration rows whose name starts with it, e.g. --only transpose)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clopperPearson, lineLog, machineLine, measureQuietly, median, parseArgs, provenance, provenanceLines, runReference, sdk, us, writeResult } from './common.mjs';
import { modelPaths, resultsDir } from './paths.mjs';

const usage = 'usage: node bench/workloads.mjs --part fidelity|moving|classes|calibration|reshuffle|simulate [--cpu 1] [--rounds 10] [--iterations 5000] [--trials 30] [--only NAME-PREFIX] [--from NAME] [--shuffles 20] [--sim-rounds 20] [--noise 0.02,0.08,0.15] [--out NAME]';
const opts = parseArgs({ part: '', cpu: 1, rounds: 10, iterations: 5000, trials: 30, only: '', from: 'workloads-calibration-loaded', shuffles: 20, simRounds: 20, noise: '0.02,0.08,0.15', out: '' }, usage);
const { SeededRandom, benchmark, buildOnnxModel, drawTensor, inputSensitivity, judgeAgainstFastest, judgePairedChange, openModel } = sdk;
const meta = provenance();
console.error(machineLine(meta.environment));
const models = ['melspectrogram', 'embedding_model', 'alexa_v0.1', 'hey_jarvis_v0.1', 'hey_mycroft_v0.1', 'hey_rhasspy_v0.1', 'timer_v0.1', 'weather_v0.1'];
const { lines, say } = lineLog();
const result = { part: opts.part, options: opts, ...meta };

async function fidelity() {
  // 64 different samples of normal(0, 1), written once for the reference loop and given to the SDK
  // as a data set. Warm-ups of 256 (a multiple of 64) leave both loops' timed runs starting at
  // sample 0 and taking the samples in the same order.
  const sets = 64;
  const warmup = 256;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'model-audit-workloads-'));
  const rows = [];
  for (const runtime of ['onnx', 'tflite']) {
    const model = await openModel(modelPaths('hey_jarvis_v0.1')[runtime], { intraOpThreads: 1, countAllocations: false });
    const name = model.inputs[0].name;
    const samples = Array.from({ length: sets }, (_, k) => drawTensor('float32', [1, 16, 96], { distribution: 'normal', mean: 0, std: 1 }, 1000 + k).data);
    const file = path.join(dir, `${runtime}.f32`);
    const all = new Float32Array(sets * 16 * 96);
    samples.forEach((s, k) => all.set(s, k * 16 * 96));
    writeFileSync(file, all);
    const data = samples.map((s) => ({ [name]: s }));
    const rounds = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 ? ['reference', 'sdk'] : ['sdk', 'reference'];
      const kept = await measureQuietly(async () => {
        const e = {};
        for (const w of order) {
          if (w === 'sdk') {
            const b = await benchmark(model, { data, iterations: opts.iterations, cpu: opts.cpu, warmup: { iterations: warmup }, memory: { iterations: 0 } });
            e.sdk = { p50Ns: b.summary.p50Ns, p99Ns: b.summary.p99Ns, firstSet: b.sampleSets[0] };
          } else {
            e.reference = await runReference(runtime, modelPaths('hey_jarvis_v0.1')[runtime], { cpu: opts.cpu, iterations: opts.iterations, warmup, inputsFile: file });
          }
        }
        return e;
      });
      const e = kept.value;
      if (e.sdk.firstSet !== 0) throw new Error(`the SDK's timed loop started at set ${e.sdk.firstSet}, not 0`);
      rounds.push({ ...e, ratio: e.sdk.p50Ns / e.reference.p50Ns, quiet: kept.quiet });
      console.error(`fidelity ${runtime} round ${r + 1}: SDK ${us(e.sdk.p50Ns)} µs, C++ ${us(e.reference.p50Ns)} µs, ratio ${(e.sdk.p50Ns / e.reference.p50Ns).toFixed(3)}`);
    }
    model.close();
    const ratio = median(rounds.map((r) => r.ratio));
    rows.push({ runtime, sdkP50Ns: median(rounds.map((r) => r.sdk.p50Ns)), referenceP50Ns: median(rounds.map((r) => r.reference.p50Ns)), ratio, rounds });
  }
  rmSync(dir, { recursive: true, force: true });
  result.fidelity = rows;
  say(`| runtime | plain C++ loop p50 | SDK p50 | SDK / C++ (median of ${opts.rounds} rounds) |`);
  say('| --- | ---: | ---: | ---: |');
  for (const r of rows) say(`| ${r.runtime === 'onnx' ? 'ONNX Runtime' : 'TFLite'} | ${us(r.referenceP50Ns)} µs | ${us(r.sdkP50Ns)} µs | ${r.ratio.toFixed(3)} |`);
}

async function moving() {
  const rows = [];
  for (const runtime of ['onnx', 'tflite']) {
    const model = await openModel(modelPaths('hey_jarvis_v0.1')[runtime], { intraOpThreads: 1, countAllocations: false });
    const name = model.inputs[0].name;
    const sample = drawTensor('float32', [1, 16, 96], { distribution: 'uniform', min: -1, max: 1 }, 7).data;
    const one = [{ [name]: sample }];
    const copies = Array.from({ length: 64 }, () => ({ [name]: Float32Array.from(sample) }));
    const rounds = [];
    for (let r = 0; r < opts.rounds; r++) {
      const order = r % 2 ? ['copies', 'one'] : ['one', 'copies'];
      const e = {};
      for (const w of order) {
        const b = await benchmark(model, { data: w === 'one' ? one : copies, iterations: opts.iterations, cpu: opts.cpu, warmup: { iterations: 256 }, memory: { iterations: 0 } });
        e[w] = b.summary.p50Ns;
        e.harnessNs = b.quality.harnessOverheadNs;
      }
      rounds.push({ ...e, differenceNs: e.copies - e.one });
    }
    model.close();
    rows.push({ runtime, oneP50Ns: median(rounds.map((r) => r.one)), copiesP50Ns: median(rounds.map((r) => r.copies)), differenceNs: median(rounds.map((r) => r.differenceNs)), harnessNs: median(rounds.map((r) => r.harnessNs)), rounds });
  }
  result.moving = rows;
  say(`| runtime | one feed set p50 | the same set in 64 buffers p50 | difference (median of ${opts.rounds} rounds) | harness cost per sample |`);
  say('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) say(`| ${r.runtime === 'onnx' ? 'ONNX Runtime' : 'TFLite'} | ${us(r.oneP50Ns)} µs | ${us(r.copiesP50Ns)} µs | ${r.differenceNs >= 0 ? '+' : ''}${r.differenceNs.toFixed(0)} ns | ${r.harnessNs.toFixed(0)} ns |`);
}

async function classes() {
  const rows = [];
  for (const name of models) {
    for (const runtime of ['onnx', 'tflite']) {
      const model = await openModel(modelPaths(name)[runtime], { intraOpThreads: 1 });
      const r = await inputSensitivity(model, { cpu: opts.cpu });
      model.close();
      rows.push({ model: `${name}.${runtime}`, result: r });
      console.error(`${name}.${runtime}: ${r.sensitive ? 'sensitive' : 'not sensitive'} (${r.classes.map((c) => `${c.class} ${us(c.trimmedMeanNs)}`).join(', ')})`);
    }
  }
  result.classes = rows.map((r) => ({ model: r.model, sensitive: r.result.sensitive, statement: r.result.statement, classes: r.result.classes.map((c) => ({ class: c.class, p50Ns: c.p50Ns, trimmedMeanNs: c.trimmedMeanNs, ratio: c.ratioToFastest, slower: c.slower, p: c.change?.p ?? null })), denormalFlush: r.result.denormalFlush }));
  const names = rows[0].result.classes.map((c) => c.class);
  say(`| model | ${names.map((n) => `${n} p50`).join(' | ')} | slowest / fastest (trimmed means) | verdict |`);
  say(`| --- | ${names.map(() => '---:').join(' | ')} | ---: | --- |`);
  for (const r of rows) {
    const byClass = Object.fromEntries(r.result.classes.map((c) => [c.class, c]));
    say(`| ${r.model} | ${names.map((n) => `${us(byClass[n].p50Ns)} µs${byClass[n].slower ? ' (slower)' : ''}`).join(' | ')} | ${r.result.maxRatio.toFixed(2)}× | ${r.result.sensitive ? '**sensitive**' : 'not sensitive'} |`);
  }
}

function generated(kind) {
  const n = 4096;
  const io = { inputs: [{ name: 'x', dtype: 'float32', shape: [1, n] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, n] }] };
  if (kind === 'add-mul') return buildOnnxModel({ ...io, nodes: [{ op: 'Add', inputs: ['x', 'x'], outputs: ['t'] }, { op: 'Mul', inputs: ['t', 'x'], outputs: ['y'] }] });
  if (kind === 'log') return buildOnnxModel({ ...io, nodes: [{ op: 'Log', inputs: ['x'], outputs: ['y'] }] });
  if (kind === 'transpose') {
    return buildOnnxModel({ inputs: [{ name: 'x', dtype: 'float32', shape: [64, 64] }], outputs: [{ name: 'y', dtype: 'float32', shape: [64, 64] }], nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [1, 0] } }] });
  }
  throw new Error(kind);
}

async function calibration() {
  // False alarms: models and classes whose latency cannot depend on the values. Transpose moves
  // bytes and computes nothing; on Add/Mul the four classes other than denormal take identical
  // work (denormal operands carry a real few-per-cent penalty on this CPU, left out here).
  const nulls = [
    { name: 'transpose (all classes)', src: generated('transpose'), classes: ['zeros', 'uniform', 'normal', 'large', 'denormal'] },
    { name: 'add-mul (zeros, uniform, normal, large)', src: generated('add-mul'), classes: ['zeros', 'uniform', 'normal', 'large'] },
  ];
  // Power: effects known to exist.
  const effects = [
    { name: 'hey_jarvis_v0.1.onnx (If branch, zeros fast)', src: modelPaths('hey_jarvis_v0.1').onnx },
    { name: 'hey_jarvis_v0.1.tflite (If branch, zeros fast)', src: modelPaths('hey_jarvis_v0.1').tflite },
    { name: 'log (denormal operands)', src: generated('log') },
  ];
  const rows = [];
  for (const [group, list] of [['false alarms', nulls], ['power', effects]]) {
    for (const c of list.filter((x) => x.name.startsWith(opts.only))) {
      const model = await openModel(c.src, { intraOpThreads: 1 });
      let calls = 0;
      let pairwise = 0;
      const ratios = [];
      const trials = [];
      for (let t = 0; t < opts.trials; t++) {
        const r = await inputSensitivity(model, { ...(opts.cpu >= 0 ? { cpu: opts.cpu } : {}), seed: 100 + t, ...(c.classes ? { classes: c.classes } : {}) });
        if (r.sensitive) calls++;
        // The rule used before, on the same rounds, with its own choice of the fastest: the least
        // pooled trimmed mean.
        const first = r.classes.reduce((best, x, i) => (x.trimmedMeanNs < r.classes[best].trimmedMeanNs ? i : best), 0);
        const byPairs = pairwiseRule(r.classes.map((x) => x.roundMeansNs), 100 + t, first);
        if (byPairs) pairwise++;
        ratios.push(r.maxRatio);
        trials.push({ seed: 100 + t, sensitive: r.sensitive, pairwiseRule: byPairs, statement: r.statement, roundMeansNs: Object.fromEntries(r.classes.map((x) => [x.class, x.roundMeansNs])) });
      }
      model.close();
      rows.push({ group, name: c.name, trials: opts.trials, sensitive: calls, pairwiseRule: pairwise, maxRatioMedian: median(ratios), maxRatioMax: Math.max(...ratios), perTrial: trials });
      console.error(`${group}: ${c.name}: ${calls}/${opts.trials} sensitive (the pairwise rule: ${pairwise})`);
    }
  }
  result.calibration = rows;
  say('| what | trials | called sensitive | 95 % interval of the rate | the pairwise rule on the same rounds | slowest / fastest: median, max |');
  say('| --- | ---: | ---: | --- | ---: | --- |');
  for (const r of rows) {
    const [lo, hi] = clopperPearson(r.sensitive, r.trials);
    say(`| ${r.group}: ${r.name} | ${r.trials} | ${r.sensitive} | ${(lo * 100).toFixed(1)}–${(hi * 100).toFixed(1)} % | ${r.pairwiseRule} | ${r.maxRatioMedian.toFixed(3)}, ${r.maxRatioMax.toFixed(3)} |`);
  }
}

/**
 * The rule used before: every other group tested against the fastest alone (signed-rank, alpha
 * 0.01, at least 10 %), with no account of the choice. The fastest is `fastest` when given (the
 * calibration passes the least pooled trimmed mean, as that rule chose), else the least mean of logs.
 */
function pairwiseRule(rounds, seed, fastest) {
  const logMean = (g) => g.reduce((a, x) => a + Math.log(x), 0);
  const f = fastest ?? rounds.reduce((best, g, i) => (logMean(g) < logMean(rounds[best]) ? i : best), 0);
  return rounds.some((g, i) => i !== f && judgePairedChange(rounds[f], g, { alpha: 0.01, minEffect: 0.1, seed }).verdict === 'slower');
}

async function reshuffle() {
  // The rounds a calibration recorded hold the machine's own noise (its fast and slow states,
  // preemption). Shuffling the classes of a null trial within each round keeps that noise and
  // makes the classes identical by construction; each shuffle is then judged by both rules.
  const source = JSON.parse(readFileSync(path.join(resultsDir, `${opts.from}.json`), 'utf8'));
  result.from = { file: `${opts.from}.json`, command: source.command, otherWork: source.otherWork };
  const rows = [];
  for (const row of source.calibration.filter((r) => r.group === 'false alarms' && r.perTrial)) {
    const random = new SeededRandom(7);
    let sets = 0;
    let called = 0;
    let pairwise = 0;
    for (const trial of row.perTrial) {
      const original = Object.values(trial.roundMeansNs);
      for (let s = 0; s < opts.shuffles; s++) {
        const rounds = original.map((g) => [...g]);
        for (let r = 0; r < rounds[0].length; r++) {
          for (let j = rounds.length - 1; j > 0; j--) {
            const i = random.nextInt(0, j);
            [rounds[i][r], rounds[j][r]] = [rounds[j][r], rounds[i][r]];
          }
        }
        sets++;
        const seed = trial.seed * 1000 + s;
        if (judgeAgainstFastest(rounds, { alpha: 0.01, minEffect: 0.1, seed, permutations: 2000 }).changes.some((c) => c?.verdict === 'slower')) called++;
        if (pairwiseRule(rounds, seed)) pairwise++;
      }
    }
    rows.push({ name: row.name, trials: row.perTrial.length, sets, called, pairwise });
    console.error(`${row.name}: ${called}/${sets} called sensitive (the pairwise rule: ${pairwise})`);
  }
  result.reshuffle = rows;
  say(`Rounds of \`${source.command}\`, each null trial's classes shuffled within every round ${opts.shuffles} times (2,000 shuffles per verdict):`);
  say('');
  say('| what | trials | shuffled sets | called sensitive | 95 % interval | the pairwise rule | 95 % interval |');
  say('| --- | ---: | ---: | ---: | --- | ---: | --- |');
  for (const r of rows) {
    const [lo, hi] = clopperPearson(r.called, r.sets);
    const [plo, phi] = clopperPearson(r.pairwise, r.sets);
    say(`| ${r.name} | ${r.trials} | ${r.sets} | ${r.called} | ${(lo * 100).toFixed(1)}–${(hi * 100).toFixed(1)} % | ${r.pairwise} | ${(plo * 100).toFixed(1)}–${(phi * 100).toFixed(1)} % |`);
  }
}

async function simulate() {
  const rows = [];
  const levels = opts.noise.split(',').map(Number);
  if (levels.some((x) => !(x >= 0))) throw new Error(`--noise needs comma-separated numbers >= 0, got ${opts.noise}`);
  for (const sd of levels) {
    for (const [what, shifts] of [['5 identical classes', [0, 0, 0, 0, 0]], ['one of 5 classes 15 % slower', [0, 0, 0, 0, Math.log(1.15)]]]) {
      let called = 0;
      let pairwise = 0;
      for (let t = 0; t < opts.trials; t++) {
        const random = new SeededRandom(1000 * t + Math.round(sd * 100));
        const gauss = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());
        const rounds = shifts.map((m) => Array.from({ length: opts.simRounds }, () => 1000 * Math.exp(m + sd * gauss())));
        if (judgeAgainstFastest(rounds, { alpha: 0.01, minEffect: 0.1, seed: t }).changes.some((c) => c?.verdict === 'slower')) called++;
        if (pairwiseRule(rounds, t)) pairwise++;
      }
      rows.push({ what, sd, rounds: opts.simRounds, sets: opts.trials, called, pairwise });
      console.error(`${what}, noise ${sd}: ${called}/${opts.trials} (the pairwise rule: ${pairwise})`);
    }
  }
  result.simulate = rows;
  say('| classes | rounds | noise per round (σ of log) | sets | called sensitive | the pairwise rule |');
  say('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) say(`| ${r.what} | ${r.rounds} | ${r.sd} | ${r.sets} | ${r.called} | ${r.pairwise} |`);
}

const parts = { fidelity, moving, classes, calibration, reshuffle, simulate };
if (!parts[opts.part]) {
  console.error(usage);
  process.exit(2);
}
await parts[opts.part]();
const quiet = provenanceLines(meta, say);
result.otherWork = quiet;
result.table = lines;
console.error(`raw results: ${writeResult(opts.out || `workloads-${opts.part}`, result)}`);
