// Real workloads: data sets through the timed loops, value distributions, input sensitivity and
// denormals. Timing assertions here only compare effects of 1.5× or more measured in one
// interleaved run, never a speed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OptionsError, UnsupportedConfigurationError, abnormalInputs, benchmark, inputSensitivity, loadDataSet, openModel, throughput } from '../dist/index.js';
import { encodeNpy } from '../dist/reference/index.js';
import { drawTensor, parseValueSource } from '../dist/tensor/index.js';
import { buildOnnxModel } from '../dist/testing/index.js';
import { modelPath } from './helpers.mjs';

// Under the sanitizers every allocation the runtime makes per run goes through ASan's allocator,
// which quarantines freed blocks instead of reusing them: per-round noise unrelated to the input
// values (one run there called a Transpose 20 % slower on zeros). The verdicts that must stay quiet
// are asserted in the plain build; the sanitizer run checks the memory safety of the same paths.
const underSanitizer = Boolean(process.env.MODEL_AUDIT_SANITIZE);

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const n = 4096;
const elementwise = (op, size = n) =>
  buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, size] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, size] }],
    nodes: [{ op, inputs: ['x'], outputs: ['y'] }],
  });
const transpose = () =>
  buildOnnxModel({
    inputs: [{ name: 'x', dtype: 'float32', shape: [64, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [64, 64] }],
    nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [1, 0] } }],
  });

let dir;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'model-audit-workloads-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('value distributions', () => {
  it('parses the short forms and refuses bad ones by name', () => {
    assert.deepEqual(parseValueSource('normal:0,2', 'v'), { distribution: 'normal', mean: 0, std: 2 });
    assert.deepEqual(parseValueSource('uniform:-3,3', 'v'), { distribution: 'uniform', min: -3, max: 3 });
    assert.deepEqual(parseValueSource(16000, 'v'), { distribution: 'constant', value: 16000 });
    assert.throws(() => parseValueSource('normal:0', 'values["x"]'), (e) => e instanceof OptionsError && /values\["x"\]/.test(e.message));
    assert.throws(() => parseValueSource('uniform:3,1', 'v'), OptionsError);
    assert.throws(() => parseValueSource('gamma:1,1', 'v'), OptionsError);
  });

  it('draws what it says: denormals are subnormal, normal has the asked mean and spread', () => {
    const d = drawTensor('float32', [10_000], { distribution: 'denormal' }, 3).data;
    for (const v of d) assert.ok(v !== 0 && Math.abs(v) < 1.1754943508222875e-38, `${v} is not a float32 denormal`);
    const x = drawTensor('float32', [20_000], { distribution: 'normal', mean: 5, std: 2 }, 4).data;
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    assert.ok(Math.abs(mean - 5) < 0.1 && Math.abs(sd - 2) < 0.1, `mean ${mean}, sd ${sd}`);
    const same = drawTensor('float32', [64], { distribution: 'uniform', min: -1, max: 1 }, 9).data;
    assert.deepEqual(drawTensor('float32', [64], { distribution: 'uniform', min: -1, max: 1 }, 9).data, same);
  });
});

describe('data sets', () => {
  let model;
  before(async () => {
    model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
  });
  after(() => model.close());
  const sample = (k) => drawTensor('float32', [1, 16, 96], { distribution: 'normal', mean: 0, std: 1 }, 50 + k);

  it('reads a .npy with a leading sample axis and a folder of one-sample files, in order', () => {
    const all = new Float32Array(5 * 16 * 96);
    for (let k = 0; k < 5; k++) all.set(sample(k).data, k * 16 * 96);
    const file = path.join(dir, 'five.npy');
    writeFileSync(file, encodeNpy({ dtype: 'float32', shape: [5, 1, 16, 96], data: all }));
    const set = loadDataSet(model, { npy: { [model.inputs[0].name]: file } });
    assert.equal(set.feedSets.length, 5);
    assert.deepEqual(set.feedSets[3][model.inputs[0].name].data, sample(3).data);

    const folder = path.join(dir, 'folder');
    mkdirSync(folder);
    for (let k = 0; k < 3; k++) writeFileSync(path.join(folder, `s${k}.npy`), encodeNpy(sample(k)));
    const fromFolder = loadDataSet(model, { npy: { [model.inputs[0].name]: folder } });
    assert.equal(fromFolder.feedSets.length, 3);
    assert.deepEqual(fromFolder.feedSets[2][model.inputs[0].name].data, sample(2).data);
  });

  it('reads JSON cases and ONNX test-data folders', () => {
    const cases = path.join(dir, 'cases.json');
    const s = sample(0);
    writeFileSync(cases, JSON.stringify({ cases: [{ inputs: { [model.inputs[0].name]: { dtype: 'float32', shape: s.shape, data: [...s.data] } } }] }));
    assert.equal(loadDataSet(model, { cases }).feedSets.length, 1);
    const abs = '/usr/share/libonnx-testdata/data/node/test_abs';
    const absModel = path.join(abs, 'model.onnx');
    return openModel(absModel).then((m) => {
      try {
        const set = loadDataSet(m, { onnxTestData: abs });
        assert.ok(set.feedSets.length >= 1);
        assert.match(set.source, /onnx test data/);
      } finally {
        m.close();
      }
    });
  });

  it('refuses samples that do not fit, naming the file and the input', () => {
    const bad = path.join(dir, 'bad.npy');
    writeFileSync(bad, encodeNpy({ dtype: 'float32', shape: [2, 1, 16, 95], data: new Float32Array(2 * 16 * 95) }));
    assert.throws(() => loadDataSet(model, { npy: { [model.inputs[0].name]: bad } }), (e) => e instanceof OptionsError && e.message.includes('bad.npy') && e.message.includes(model.inputs[0].name));
    const wrongType = path.join(dir, 'int.npy');
    writeFileSync(wrongType, encodeNpy({ dtype: 'int32', shape: [1, 16, 96], data: new Int32Array(16 * 96) }));
    assert.throws(() => loadDataSet(model, { npy: { [model.inputs[0].name]: wrongType } }), /int32/);
    assert.throws(() => loadDataSet(model, { npy: { nope: bad } }), /no input named "nope"/);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{ "cases": [');
    assert.throws(() => loadDataSet(model, { cases: broken }), (e) => e instanceof OptionsError && e.message.includes('broken.json'));
  });

  it('cycles the sets in order, or in a seeded shuffle that takes every set once per cycle', async () => {
    const data = Array.from({ length: 5 }, (_, k) => ({ [model.inputs[0].name]: sample(k).data }));
    const seq = await benchmark(model, { data, iterations: 103, warmup: { iterations: 5 }, memory: { iterations: 0 } });
    assert.equal(seq.inputs.sets, 5);
    assert.equal(seq.inputs.source, 'data');
    const start = seq.sampleSets[0];
    for (let i = 0; i < seq.sampleSets.length; i++) assert.equal(seq.sampleSets[i], (start + i) % 5);
    assert.equal(seq.perSet.reduce((s, p) => s + p.count, 0), 103);

    const shuffled = await benchmark(model, { data, order: 'shuffle', seed: 7, iterations: 100, warmup: { iterations: 0 }, memory: { iterations: 0 } });
    assert.equal(shuffled.inputs.order, 'shuffle');
    const sets = [...shuffled.sampleSets];
    for (let c = 0; c < 20; c++) assert.deepEqual([...sets.slice(c * 5, c * 5 + 5)].sort(), [0, 1, 2, 3, 4], `cycle ${c} is not a permutation`);
    assert.ok(sets.some((s, i) => s !== i % 5), 'the shuffle kept the sequential order');
    const again = await benchmark(model, { data, order: 'shuffle', seed: 7, iterations: 100, warmup: { iterations: 0 }, memory: { iterations: 0 } });
    assert.deepEqual([...again.sampleSets], sets, 'the same seed gives the same order');
  });

  it('throughput cycles a data set too', async () => {
    const data = Array.from({ length: 3 }, (_, k) => ({ [model.inputs[0].name]: sample(k).data }));
    const r = await throughput(model, { data, concurrency: [1], durationMs: 100, warmup: { iterations: 3 } });
    assert.equal(r.inputs.sets, 3);
    assert.ok(r.levels[0].inferencesPerSecond > 0);
  });
});

for (const runtime of ['onnx', 'tflite']) {
  describe(`input values reach the runtime (${runtime})`, () => {
    let model;
    before(async () => {
      model = await openModel(modelPath('hey_jarvis_v0.1', runtime), { intraOpThreads: 1, countAllocations: false });
    });
    after(() => model.close());

    it("each feed set's own latency: hey_jarvis has a fast branch for zeros and a slower one for some random inputs", async () => {
      // Set 0 is zeros; sets 1–16 are uniform draws, of which about half take the model's slow
      // branch (an If node): 1.6× slower on ONNX Runtime, 1.15–1.4× on TFLite. If the loop ran one
      // buffer for every set, all sets would share one latency. The sets take turns in one loop,
      // so what the machine does falls on all of them alike.
      const name = model.inputs[0].name;
      const data = [{ [name]: new Float32Array(16 * 96) }, ...Array.from({ length: 16 }, (_, k) => ({ [name]: drawTensor('float32', [1, 16, 96], { distribution: 'uniform', min: -1, max: 1 }, 200 + k).data }))];
      const r = await benchmark(model, { data, iterations: 17 * 400, warmup: { iterations: 34 }, memory: { iterations: 0 } });
      assert.equal(r.perSet.length, 17);
      const zeros = r.perSet.find((s) => s.set === 0).p50Ns;
      const slowest = Math.max(...r.perSet.map((s) => s.p50Ns));
      assert.ok(slowest / zeros > 1.1, `slowest set ${slowest} ns, zeros ${zeros} ns`);
      assert.ok(r.slowestSets.length > 0 && r.slowestSets[0] !== 0);
    });
  });
}

describe('inputSensitivity', () => {
  it('calls hey_jarvis sensitive, zeros among the fast classes', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1, countAllocations: false });
    // Under the sanitizers a round's figures spread more (the per-round log ratio of the two
    // classes on the same fast branch, zeros and denormal, had a standard deviation of 0.11-0.19
    // there against 0.09-0.11 in the plain build), and 20 rounds once missed p < 0.01 in CI with
    // the slowest class 45 % slower. More rounds buy power at the same false-alarm rate
    // (bench/README.md section 8, simulated: a class 15 % slower at 15 % noise per round is found
    // in 133 sets of 300 with 20 rounds, 266 with 40).
    const rounds = underSanitizer ? 40 : 20;
    try {
      const r = await inputSensitivity(model, { rounds });
      assert.equal(r.kind, 'input-sensitivity');
      assert.equal(r.sensitive, true, r.statement);
      assert.ok(['zeros', 'denormal'].includes(r.fastest), `fastest ${r.fastest}`);
      // Which of the random classes clear p < 0.01 after the correction for five classes varies
      // with the machine's noise (normal missed it once in CI under the sanitizers, its ratio not
      // reported, beside uniform and large at 1.35x and 1.30x): what holds is that the classes
      // called slower are random ones, each at least the 10 % floor.
      const slower = r.classes.filter((c) => c.slower);
      assert.ok(slower.length > 0, r.statement);
      for (const c of slower) {
        assert.ok(['uniform', 'normal', 'large'].includes(c.class), `${c.class} called slower: ${r.statement}`);
        assert.ok(c.change.ratio >= 1.1, `${c.class} at ${c.change.ratio}`);
      }
      assert.equal(r.classes.find((c) => c.class === r.fastest).change, null);
      assert.equal(r.classes[0].roundMeansNs.length, rounds);
      assert.match(r.statement, /depends on the input values/);
    } finally {
      model.close();
    }
  });

  it('does not call Add then Mul slower on any class but denormals (no control flow); what denormals cost is the CPU\'s, and is then checked against a flush', async () => {
    const model = await openModel(
      buildOnnxModel({
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, n] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, n] }],
        nodes: [
          { op: 'Add', inputs: ['x', 'x'], outputs: ['t'] },
          { op: 'Mul', inputs: ['t', 'x'], outputs: ['y'] },
        ],
      }),
      { intraOpThreads: 1, countAllocations: false },
    );
    try {
      const r = await inputSensitivity(model);
      // Denormal operands cost Add and Mul about 4 % on the AMD Zen 5 host of bench/README.md
      // section 8, under the 10 % floor; one CI run on another host (family 25) found them 30 %
      // slower over 20 interleaved rounds (not seen in twelve runs since). What they cost is the
      // CPU's, and a real dependence on the values where it occurs: only the other four classes
      // (as in the calibration of section 8) must never be called slower.
      if (!underSanitizer) {
        for (const c of r.classes) if (c.class !== 'denormal') assert.equal(c.slower, false, `${c.class}: ${r.statement}`);
      }
      const denormalSlower = r.classes.find((c) => c.class === 'denormal').slower;
      assert.equal(r.denormalFlush === null, !denormalSlower, r.statement);
    } finally {
      model.close();
    }
  });

  it('does not call a model that only moves bytes sensitive', async () => {
    const model = await openModel(transpose(), { intraOpThreads: 1, countAllocations: false });
    try {
      const r = await inputSensitivity(model);
      if (!underSanitizer) assert.equal(r.sensitive, false, r.statement);
      // The flush is tried only when the denormal class was called slower: never in the plain
      // build (asserted above), and under the sanitizers only after one of their false alarms.
      const denormalSlower = r.classes.find((c) => c.class === 'denormal').slower;
      assert.equal(r.denormalFlush === null, !denormalSlower, r.statement);
    } finally {
      model.close();
    }
  });

  it('finds denormal operands slow in Log, and that flushing them recovers the time', async () => {
    const model = await openModel(elementwise('Log'), { intraOpThreads: 1, countAllocations: false });
    try {
      const r = await inputSensitivity(model, { classes: ['uniform', 'denormal'], rounds: 12, roundMs: 20 });
      assert.equal(r.slowest, 'denormal');
      assert.ok(r.classes.find((c) => c.class === 'denormal').slower, r.statement);
      assert.ok(r.denormalFlush, r.denormalFlushNote ?? 'no flush check');
      assert.equal(r.denormalFlush.recovers, true, `flushed ratio ${r.denormalFlush.flushedRatioToFastest}`);
      assert.ok(Number.isFinite(r.denormalFlush.maxAbsOutputChange));
    } finally {
      model.close();
    }
  });

  it('refuses unknown classes and a data class without data', async () => {
    const model = await openModel(transpose());
    try {
      await assert.rejects(inputSensitivity(model, { classes: ['zeros', 'huge'] }), (e) => e instanceof OptionsError && /classes\[1\]/.test(e.message));
      await assert.rejects(inputSensitivity(model, { classes: ['zeros', 'data'] }), /data is not given/);
      await assert.rejects(inputSensitivity(model, { rounds: 5 }), (e) => e instanceof OptionsError && /can never reach p < 0.01.*at least 8/.test(e.message));
      // The shuffled-rounds p cannot fall below 1 / (shuffles + 1): an alpha that small is refused.
      await assert.rejects(inputSensitivity(model, { alpha: 0.00001 }), (e) => e instanceof OptionsError && /options\.alpha/.test(e.message));
    } finally {
      model.close();
    }
  });
});

describe('denormalAsZero', () => {
  it('flushes on ONNX Runtime: log of a denormal becomes log(0)', async () => {
    const tiny = new Float32Array(n).fill(1e-40);
    const plain = await openModel(elementwise('Log'));
    const flushed = await openModel(elementwise('Log'), { denormalAsZero: true });
    try {
      const a = plain.runSync({ x: tiny }).y.data[0];
      const b = flushed.runSync({ x: tiny }).y.data[0];
      assert.ok(Number.isFinite(a) && a < -90, `log(1e-40) = ${a}`);
      assert.equal(b, -Infinity);
      assert.equal(flushed.describe().options.denormalAsZero, true);
    } finally {
      plain.close();
      flushed.close();
    }
  });

  it('is refused on TFLite, whose C API has no such switch', async () => {
    await assert.rejects(openModel(modelPath('hey_jarvis_v0.1', 'tflite'), { denormalAsZero: true }), UnsupportedConfigurationError);
  });
});

describe('abnormal inputs time the value cases', () => {
  it('marks denormal inputs to Log as a slow input, and leaves ordinary extremes alone', async () => {
    // 16,384 floats, not 4,096: what a run costs besides the arithmetic (more under the
    // sanitizers, which intercept every allocation) dilutes the denormal slowdown, and with 4,096
    // it came to 1.64-1.99x under the sanitizers in eight runs (one test run missed the 1.5x
    // rule at 1.70x) against 2.00-3.88x with 16,384; in the plain build 1.83-2.40x and 2.05-2.86x.
    const model = await openModel(elementwise('Log', 16_384), { intraOpThreads: 1, countAllocations: false });
    try {
      const r = await abnormalInputs(model, { kinds: ['denormal', 'zeros', 'huge'], timedIterations: 200 });
      const byKind = Object.fromEntries(r.cases.map((c) => [c.kind, c]));
      assert.equal(byKind.denormal.slow, true, JSON.stringify(byKind.denormal.latency));
      assert.ok(byKind.denormal.latency.p50Ns > 0);
    } finally {
      model.close();
    }
  });
});

describe('the command with real workloads', () => {
  it('--input and --data reach the report', async () => {
    const modelFile = modelPath('hey_jarvis_v0.1', 'onnx');
    const m = await openModel(modelFile);
    const inputName = m.inputs[0].name;
    m.close();
    const s = drawTensor('float32', [1, 16, 96], { distribution: 'normal', mean: 0, std: 1 }, 1);
    const cases = path.join(dir, 'cli-cases.json');
    writeFileSync(cases, JSON.stringify({ cases: [0, 1].map(() => ({ inputs: { [inputName]: { dtype: 'float32', shape: s.shape, data: [...s.data] } } })) }));
    const out = path.join(dir, 'cli-out');
    const r = spawnSync(process.execPath, [cli, 'run', modelFile, '--steps', 'latency', '--iterations', '200', '--data', cases, '--out', out, '--quiet'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const latency = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')).steps.latency.result;
    assert.equal(latency.inputs.sets, 2);
    assert.match(latency.inputs.data, /cli-cases\.json/);

    const out2 = path.join(dir, 'cli-out2');
    const r2 = spawnSync(process.execPath, [cli, 'run', modelFile, '--steps', 'latency', '--iterations', '200', '--input', `${inputName}=normal:0,3`, '--samples', '4', '--out', out2, '--quiet'], { encoding: 'utf8' });
    assert.equal(r2.status, 0, r2.stderr);
    const latency2 = JSON.parse(readFileSync(path.join(out2, 'report.json'), 'utf8')).steps.latency.result;
    assert.equal(latency2.inputs.sets, 4);
    assert.match(latency2.inputs.values[inputName], /normal/);
  });

  it('--input with a bad distribution exits 2 before measuring, naming the flag', () => {
    const r = spawnSync(process.execPath, [cli, 'run', modelPath('hey_jarvis_v0.1', 'onnx'), '--input', 'x.1=normal:0', '--out', path.join(dir, 'never')], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /normal/);
  });
});
