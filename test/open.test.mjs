// openModel on the real openWakeWord networks, in both runtimes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { openModel, openModelSync } from '../dist/index.js';
import { runtimeInfo } from '../dist/system/index.js';
import { modelPath, pairs } from './helpers.mjs';

const require = createRequire(import.meta.url);

// Read independently of model-audit: onnxruntime-node's own binding describes the ONNX files.
const ortNode = require('onnxruntime-node');

describe('openModel on the openWakeWord models', () => {
  for (const { name } of pairs) {
    it(`${name}: ONNX metadata matches what onnxruntime-node reads from the file`, async () => {
      const path = modelPath(name, 'onnx');
      const model = await openModel(path);
      const reference = await ortNode.InferenceSession.create(path);
      try {
        assert.equal(model.runtime, 'onnx');
        assert.equal(model.path, path);
        assert.equal(model.sizeBytes, statSync(path).size);
        assert.deepEqual(model.inputs.map((i) => i.name), reference.inputNames);
        assert.deepEqual(model.outputs.map((o) => o.name), reference.outputNames);
        for (const [specs, metadata] of [
          [model.inputs, reference.inputMetadata],
          [model.outputs, reference.outputMetadata],
        ]) {
          specs.forEach((spec, i) => {
            const ref = metadata[i];
            assert.equal(spec.dtype, ref.type, `${spec.name} dtype`);
            // onnxruntime-node gives symbolic names for dynamic dims and numbers for static ones.
            assert.deepEqual(
              spec.shape.map((d, axis) => (d === null ? spec.dimNames[axis] ?? 'dynamic' : d)),
              ref.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : d === -1 || d === '' ? 'dynamic' : d)),
              `${spec.name} shape`,
            );
          });
        }
      } finally {
        model.close();
        await reference.release();
      }
    });

    it(`${name}: the TFLite file opens with the same tensor dtypes and shapes as the ONNX one`, async () => {
      const onnx = await openModel(modelPath(name, 'onnx'));
      const tflite = await openModel(modelPath(name, 'tflite'));
      try {
        assert.equal(tflite.runtime, 'tflite');
        assert.equal(tflite.inputs.length, onnx.inputs.length);
        assert.equal(tflite.outputs.length, onnx.outputs.length);
        for (const [a, b] of [
          [tflite.inputs, onnx.inputs],
          [tflite.outputs, onnx.outputs],
        ]) {
          a.forEach((spec, i) => {
            assert.equal(spec.dtype, b[i].dtype);
            assert.deepEqual(spec.shape, b[i].shape, `${spec.name} vs ${b[i].name}`);
            assert.ok(spec.name.length > 0);
          });
        }
      } finally {
        onnx.close();
        tflite.close();
      }
    });
  }

  it('marks dynamic dimensions as null and keeps their symbolic names', async () => {
    const model = await openModel(modelPath('melspectrogram', 'onnx'));
    assert.deepEqual(model.inputs[0].shape, [null, null]);
    assert.deepEqual(model.inputs[0].dimNames, ['batch_size', 'samples']);
    model.close();
    const tflite = await openModel(modelPath('embedding_model', 'tflite'));
    assert.deepEqual(tflite.inputs[0].shape, [null, 76, 32, 1]);
    tflite.close();
  });

  it('opens from bytes, picking the runtime from the content', async () => {
    const bytes = await readFile(modelPath('hey_jarvis_v0.1', 'tflite'));
    const model = await openModel(new Uint8Array(bytes));
    assert.equal(model.runtime, 'tflite');
    assert.equal(model.path, undefined);
    model.close();
    const onnxBytes = await readFile(modelPath('hey_jarvis_v0.1', 'onnx'));
    const onnx = openModelSync(onnxBytes);
    assert.equal(onnx.runtime, 'onnx');
    onnx.close();
  });

  it('accepts a file URL', async () => {
    const model = await openModel(new URL(`file://${modelPath('alexa_v0.1', 'onnx')}`));
    assert.equal(model.runtime, 'onnx');
    model.close();
  });

  it('records the options in force and the open timings', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1, graphOptimizationLevel: 'basic' });
    assert.equal(model.options.intraOpThreads, 1);
    assert.equal(model.options.graphOptimizationLevel, 'basic');
    assert.equal(model.options.cpuMemArena, true);
    assert.ok(model.timings.readNs > 0);
    assert.ok(model.timings.createNs > 0);
    model.close();
  });

  it('runs TFLite with the XNNPack delegate when asked', async () => {
    const model = await openModel(modelPath('embedding_model', 'tflite'), { xnnpack: true, intraOpThreads: 1 });
    assert.equal(model.options.xnnpack, true);
    const out = await model.run({ [model.inputs[0].name]: { data: new Float32Array(76 * 32), shape: [1, 76, 32, 1] } });
    assert.deepEqual(Object.values(out)[0].shape, [1, 1, 1, 96]);
    model.close();
  });
});

describe('runtimeInfo', () => {
  it('names the loaded library files, their versions, sha256 and C API version', () => {
    const infos = runtimeInfo();
    assert.deepEqual(infos.map((i) => i.runtime), ['onnx', 'tflite']);
    const [onnx, tflite] = infos;
    assert.match(onnx.libraryPath, /libonnxruntime\.so\.1$/);
    assert.equal(onnx.version, require('onnxruntime-node/package.json').version);
    assert.equal(onnx.apiVersion, '21');
    assert.match(tflite.libraryPath, /libtensorflowlite_c\.so$/);
    assert.match(tflite.version, /^2\.\d+\.\d+/);
    for (const info of infos) {
      // Against a hash taken here, not one the SDK computed.
      assert.equal(info.sha256, createHash('sha256').update(readFileSync(info.libraryPath)).digest('hex'));
      assert.equal(info.sizeBytes, statSync(info.libraryPath).size);
    }
  });

  it("turns ONNX Runtime's telemetry off before loading it, unless the user set ORT_DISABLE_TELEMETRY", () => {
    const [onnx, tflite] = runtimeInfo();
    assert.equal(onnx.telemetryDisabled, process.env.ORT_DISABLE_TELEMETRY !== '0');
    assert.equal(tflite.telemetryDisabled, null);
    // A child where the user keeps it on: model-audit leaves the variable alone.
    const script = `import(${JSON.stringify(new URL('../dist/system/index.js', import.meta.url).href)}).then(({ runtimeInfo }) => { const [onnx] = runtimeInfo({ runtimes: ['onnx'] }); console.log(JSON.stringify([process.env.ORT_DISABLE_TELEMETRY, onnx.telemetryDisabled])); })`;
    const kept = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ORT_DISABLE_TELEMETRY: '0' } });
    assert.deepEqual(JSON.parse(kept.stdout), ['0', false], kept.stderr);
    const unset = { ...process.env };
    delete unset.ORT_DISABLE_TELEMETRY;
    const off = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: unset });
    assert.deepEqual(JSON.parse(off.stdout), ['1', true], off.stderr);
  });

  it('a model reports the library it runs on', async () => {
    const model = await openModel(modelPath('timer_v0.1', 'tflite'));
    assert.deepEqual(model.library, runtimeInfo({ runtimes: ['tflite'] })[0]);
    model.close();
  });
});
