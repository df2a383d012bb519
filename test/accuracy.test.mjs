// Accuracy against references (ONNX test data, .npy, JSON), the conformance suite, cross-runtime
// agreement, and constrained deployments.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { allowedCpus } from '../dist/system/index.js';
import { checkAccuracy, compareRuntimes, constrainedRun, openModel } from '../dist/index.js';
import { compareTensors, decodeNpy, defaultConformanceRoot, encodeNpy, loadJsonCases, loadOnnxTestData, readNpy, runOnnxConformance } from '../dist/reference/index.js';
import { synthesizeTensor } from '../dist/tensor/index.js';
import { bigIntermediateModel } from './fixtures/onnx-builder.mjs';
import { modelPath, ortNodeOutput, pairs } from './helpers.mjs';

const root = defaultConformanceRoot;
const hasSuite = existsSync(root);
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-accuracy-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('tensor comparison', () => {
  const t = (data) => ({ dtype: 'float32', shape: [2, 2], data: Float32Array.from(data) });

  it('computes the metrics and names the worst elements', () => {
    const c = compareTensors('y', t([1, 2, 3, 4]), t([1, 2.5, 3, 3]), { atol: 0.1, rtol: 0 });
    assert.equal(c.passed, false);
    assert.equal(c.mismatches, 2);
    assert.equal(c.maxAbsError, 1);
    assert.equal(c.maxRelError, 0.25);
    assert.ok(Math.abs(c.rmse - Math.sqrt((0.25 + 1) / 4)) < 1e-12);
    assert.ok(c.cosineSimilarity > 0.95 && c.cosineSimilarity < 1);
    assert.deepEqual(c.worst[0], { index: 3, coordinates: [1, 1], expected: 4, actual: 3, absError: 1 });
    assert.match(c.reason, /2 of 4 elements/);
  });

  it('passes within tolerance, treats NaN as matching NaN, and fails on shape or dtype', () => {
    assert.equal(compareTensors('y', t([1, NaN, Infinity, 0]), t([1.000001, NaN, Infinity, 0])).passed, true);
    assert.equal(compareTensors('y', t([1, 2, 3, 4]), { ...t([1, 2, 3, 4]), shape: [4] }).passed, false);
    assert.match(compareTensors('y', t([1, 2, 3, 4]), { dtype: 'float64', shape: [2, 2], data: Float64Array.of(1, 2, 3, 4) }).reason, /dtype/);
    assert.equal(compareTensors('y', t([1, 2, 3, 4]), t([1, 2, 3, 4]), { minCosine: 0.999 }).passed, true);
  });

  it('reports top-1 and top-k agreement for class scores', () => {
    const expected = { dtype: 'float32', shape: [2, 3], data: Float32Array.of(0.1, 0.7, 0.2, 0.5, 0.3, 0.2) };
    const actual = { dtype: 'float32', shape: [2, 3], data: Float32Array.of(0.1, 0.6, 0.3, 0.3, 0.5, 0.2) };
    const c = compareTensors('p', expected, actual, {}, { topK: 2 });
    assert.deepEqual(c.topK, { k: 2, top1Agreement: 0.5, topKAgreement: 1 });
  });
});

describe('reference formats', () => {
  it('.npy round-trips every dtype', () => {
    for (const dtype of ['float32', 'float64', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool', 'float16']) {
      const tensor = synthesizeTensor(dtype, [2, 3, 4], 5);
      const back = decodeNpy(encodeNpy(tensor));
      assert.equal(back.dtype, dtype);
      assert.deepEqual(back.shape, [2, 3, 4]);
      assert.deepEqual(back.data, tensor.data);
    }
    assert.throws(() => decodeNpy(new Uint8Array(20)), /not a \.npy/);
  });

  it('JSON cases, with non-finite values written as strings', () => {
    const path = join(dir, 'cases.json');
    writeFileSync(path, JSON.stringify({ cases: [{ name: 'a', inputs: { x: { dtype: 'float32', shape: [2], data: [1, 'NaN'] } }, expected: { y: { dtype: 'int64', shape: [1], data: ['9007199254740993'] } }, labels: [1] }] }));
    const [c] = loadJsonCases(path);
    assert.equal(c.name, 'a');
    assert.ok(Number.isNaN(c.inputs.x.data[1]));
    assert.equal(c.expected.y.data[0], 9007199254740993n);
    assert.deepEqual(c.labels, [1]);
    writeFileSync(path, JSON.stringify({ cases: [{ inputs: { x: { dtype: 'float32', shape: [3], data: [1] } }, expected: {} }] }));
    assert.throws(() => loadJsonCases(path), /holds 3 elements, data has 1/);
  });

  it('ONNX test-data folders (TensorProto)', { skip: !hasSuite && 'libonnx-testdata is not installed' }, () => {
    const data = loadOnnxTestData(join(root, 'test_add'));
    assert.equal(data.cases.length, 1);
    const [c] = data.cases;
    assert.equal(c.inputs.length, 2);
    assert.equal(c.inputs[0].dtype, 'float32');
    assert.deepEqual(c.inputs[0].shape, [3, 4, 5]);
    assert.equal(c.expected[0].data.length, 60);
    assert.ok(Math.abs(c.expected[0].data[0] - (c.inputs[0].data[0] + c.inputs[1].data[0])) < 1e-6);
  });
});

describe('checkAccuracy', () => {
  it('passes on outputs from onnxruntime-node, fails on perturbed ones, in a child or in process', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
    const input = synthesizeTensor('float32', [1, 16, 96], 3);
    // Expected outputs from another binding of the runtime, not from the model under test.
    const out = await ortNodeOutput(modelPath('hey_jarvis_v0.1', 'onnx'), 'x.1', input);
    const good = { name: 'good', inputs: [input], expected: [out] };
    const bad = { name: 'bad', inputs: [input], expected: [{ ...out, data: out.data.map((v) => v + 0.5) }] };
    for (const isolate of [true, false]) {
      const result = await checkAccuracy(model, [good, bad], { isolate });
      assert.equal(result.passed, 1, `isolate ${isolate}`);
      assert.equal(result.failed, 1);
      assert.equal(result.cases[0].passed, true);
      assert.equal(result.cases[1].passed, false);
      assert.ok(Math.abs(result.cases[1].outputs[0].maxAbsError - 0.5) < 1e-6);
      assert.equal(result.cases[1].outputs[0].worst[0].index, 0);
    }
    model.close();
  });

  it('reads references from .npy files', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'tflite'));
    const input = synthesizeTensor('float32', [1, 16, 96], 4);
    // The reference: the same network's .onnx file through onnxruntime-node (the two formats agree
    // within 1e-4, see run.test.mjs), written as .npy.
    const onnxModel = await openModel(modelPath('alexa_v0.1', 'onnx'));
    const onnxInput = onnxModel.inputs[0].name;
    onnxModel.close();
    const out = await ortNodeOutput(modelPath('alexa_v0.1', 'onnx'), onnxInput, input);
    writeFileSync(join(dir, 'in.npy'), encodeNpy(input));
    writeFileSync(join(dir, 'out.npy'), encodeNpy(out));
    const result = await checkAccuracy(model, [{ name: 'npy', inputs: [readNpy(join(dir, 'in.npy'))], expected: [readNpy(join(dir, 'out.npy'))] }], { isolate: false, tolerance: { atol: 1e-4 } });
    assert.equal(result.passed, 1, JSON.stringify(result.cases[0].outputs[0]));
    model.close();
  });

  it('reports classifier agreement and accuracy against labels', async () => {
    const model = await openModel(modelPath('timer_v0.1', 'onnx'));
    const input = synthesizeTensor('float32', [1, 34, 96], 6);
    const out = await ortNodeOutput(modelPath('timer_v0.1', 'onnx'), model.inputs[0].name, input);
    let best = 0;
    out.data.forEach((v, i) => (v > out.data[best] ? (best = i) : 0));
    const result = await checkAccuracy(model, [{ name: 'c', inputs: [input], expected: [out], labels: [best] }], { topK: 3, isolate: false });
    assert.deepEqual(result.classification, { k: 3, top1Agreement: 1, topKAgreement: 1, labelAccuracy: 1 });
    const wrong = await checkAccuracy(model, [{ name: 'c', inputs: [input], expected: [out], labels: [(best + 1) % 7] }], { topK: 3, isolate: false });
    assert.equal(wrong.classification.labelAccuracy, 0);
    // The same, with the cases run in the isolated child: predictions come back from there.
    const isolated = await checkAccuracy(model, [{ name: 'c', inputs: [input], expected: [out], labels: [best] }], { topK: 3 });
    assert.deepEqual(isolated.classification, { k: 3, top1Agreement: 1, topKAgreement: 1, labelAccuracy: 1 });
    model.close();
  });
});

describe('ONNX operator conformance suite', { skip: !hasSuite && 'libonnx-testdata is not installed' }, () => {
  it('runs every case ONNX Runtime can load and counts passes and failures', async () => {
    const report = await runOnnxConformance();
    // Exact counts for Debian bookworm's libonnx-testdata and onnxruntime-node 1.30 (package-lock):
    // a change in any of them is a change in what model-audit reads or ONNX Runtime runs.
    const { total, loaded, passed, failed, unloadable, unreadable, undecodable, crashed, hung } = report;
    assert.deepEqual({ total, loaded, passed, failed, unloadable, unreadable, undecodable, crashed, hung }, { total: 932, loaded: 861, passed: 846, failed: 15, unloadable: 12, unreadable: 48, undecodable: 11, crashed: 0, hung: 0 });
    assert.equal(report.total, report.passed + report.failed + report.unloadable + report.unreadable + report.undecodable + report.crashed + report.hung + report.cases.filter((c) => c.status === 'errored').length);
    const status = (name) => report.cases.find((c) => c.name === name)?.status;
    for (const name of ['test_abs', 'test_add', 'test_conv_with_strides_padding', 'test_matmul_2d', 'test_relu', 'test_softmax_axis_1', 'test_gru_defaults']) {
      assert.equal(status(name), 'passed', name);
    }
    // Random sampling cannot match recorded outputs: the comparison can fail.
    assert.equal(status('test_bernoulli_seed'), 'failed');
    assert.equal(status('test_identity_sequence'), 'unreadable');
    // An OptionalProto read as a TensorProto: a decoder failure, counted as such, not as a type we skip.
    assert.equal(status('test_identity_opt'), 'undecodable');
    assert.match(report.cases.find((c) => c.name === 'test_identity_opt').reason, /not a TensorProto the decoder can read/);
  });
});

describe('cross-runtime', () => {
  for (const { name, shapes, differentNetworks } of pairs) {
    it(`${name}: ONNX vs TFLite ${differentNetworks ? 'disagree (two different networks in the package)' : 'agree'}, latencies side by side`, async () => {
      const a = await openModel(modelPath(name, 'onnx'), { intraOpThreads: 1 });
      const b = await openModel(modelPath(name, 'tflite'), { intraOpThreads: 1 });
      const result = await compareRuntimes(a, b, { shapes, samples: 2, latencyIterations: 20 });
      assert.equal(result.agree, !differentNetworks, `max |Δ| ${result.maxAbsError}`);
      if (!differentNetworks) assert.ok(result.maxAbsError <= 1e-4);
      assert.equal(result.cases.length, 2);
      assert.ok(result.latency.a.p50Ns > 0 && result.latency.b.p50Ns > 0);
      assert.deepEqual([result.a.runtime, result.b.runtime], ['onnx', 'tflite']);
      a.close();
      b.close();
    });
  }
});

describe('constrained deployments', () => {
  it('one thread, pinned to one core: works, at what latency', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'));
    const cpu = allowedCpus().at(-1);
    const result = await constrainedRun(model, { intraOpThreads: 1, cpu, benchmark: { iterations: 50 } });
    assert.equal(result.works, true);
    assert.equal(result.applied.cpu, cpu);
    assert.equal(result.applied.pinError, null);
    assert.equal(result.benchmark.model.options.intraOpThreads, 1);
    assert.deepEqual(result.benchmark.quality.cpusUsed, [cpu]);
    assert.ok(result.latency.p50Ns > 0);
    model.close();
  });

  it('under a memory limit: a model that needs 64 MiB fails with 16 MiB and works with 256 MiB', async () => {
    const model = await openModel(bigIntermediateModel(16 * 1024 * 1024), { cpuMemArena: false, graphOptimizationLevel: 'disabled', intraOpThreads: 1 });
    const tight = await constrainedRun(model, { memoryLimitBytes: 16 * 1024 * 1024, benchmark: { iterations: 2 } });
    assert.equal(tight.works, false);
    // ONNX Runtime reports the failed allocation: an error, not a death.
    assert.equal(tight.status, 'errored', JSON.stringify(tight.error ?? tight.signal));
    assert.match(JSON.stringify(tight.error), /alloc|memory/i);
    assert.equal(tight.applied.memoryLimitBytes, 16 * 1024 * 1024);
    const roomy = await constrainedRun(model, { memoryLimitBytes: 256 * 1024 * 1024, benchmark: { iterations: 2 } });
    assert.equal(roomy.works, true);
    model.close();
  });
});
