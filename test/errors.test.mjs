// Every failure a caller can cause gives a typed error, and the process survives all of them.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ClosedModelError, CorruptModelError, FeedError, ModelAuditError, ModelFormatError, ModelReadError, OptionsError, RuntimeFailureError, RuntimeLibraryError, UnsupportedConfigurationError, benchmark, openModel, openModelSync } from '../dist/index.js';
import { SeededRandom } from '../dist/tensor/index.js';
import { reshapeModel } from './fixtures/onnx-builder.mjs';
import { modelPath } from './helpers.mjs';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-errors-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name, bytes) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Asserts the promise rejects with `Class` and `code`, and that the message names `mention`. */
async function rejectsWith(promise, Class, code, mention) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err?.constructor?.name}: ${err?.message}`);
    assert.ok(err instanceof ModelAuditError);
    assert.equal(err.code, code);
    if (mention) assert.ok(err.message.includes(mention), `"${err.message}" should mention "${mention}"`);
    return true;
  });
}

describe('corrupt and unreadable model files', () => {
  for (const ext of ['onnx', 'tflite']) {
    const original = readFileSync(modelPath('hey_jarvis_v0.1', ext));
    for (const fraction of [0.001, 0.01, 0.1, 0.5, 0.9, 0.999]) {
      it(`${ext} truncated to ${fraction * 100}% → CorruptModelError naming the file`, async () => {
        const path = write(`truncated-${fraction}.${ext}`, original.subarray(0, Math.max(8, Math.floor(original.length * fraction))));
        await rejectsWith(openModel(path), CorruptModelError, 'ERR_MODEL_CORRUPT', path);
      });
    }
  }

  it('a zero-byte file → CorruptModelError', async () => {
    const path = write('empty.onnx', new Uint8Array(0));
    await rejectsWith(openModel(path), CorruptModelError, 'ERR_MODEL_CORRUPT', 'empty');
  });

  it('random bytes → ModelFormatError or CorruptModelError, never a crash', async () => {
    const random = new SeededRandom(99);
    for (let trial = 0; trial < 20; trial++) {
      const bytes = Uint8Array.from({ length: 4096 }, () => random.nextUint32() & 0xff);
      const path = write(`random-${trial}.bin`, bytes);
      await assert.rejects(openModel(path), (err) => err instanceof ModelFormatError || err instanceof CorruptModelError);
    }
  });

  it('random bytes forced into each runtime → CorruptModelError carrying the runtime message', async () => {
    const random = new SeededRandom(7);
    const bytes = Uint8Array.from({ length: 4096 }, () => random.nextUint32() & 0xff);
    await rejectsWith(openModel(bytes, { runtime: 'onnx' }), CorruptModelError, 'ERR_MODEL_CORRUPT', 'ONNX Runtime');
    await rejectsWith(openModel(bytes, { runtime: 'tflite' }), CorruptModelError, 'ERR_MODEL_CORRUPT', 'TFLite');
    const err = await openModel(bytes, { runtime: 'onnx' }).catch((e) => e);
    assert.ok(err.runtimeMessage.length > 0);
  });

  it('a .tflite renamed .onnx → ModelFormatError that says what the content is', async () => {
    const path = join(dir, 'renamed.onnx');
    copyFileSync(modelPath('hey_jarvis_v0.1', 'tflite'), path);
    await rejectsWith(openModel(path), ModelFormatError, 'ERR_MODEL_FORMAT', 'TFLite flatbuffer');
    // The same file with the runtime named explicitly is the caller's choice and opens.
    const model = await openModel(path, { runtime: 'tflite' });
    model.close();
  });

  it('a .onnx renamed .tflite → ModelFormatError', async () => {
    const path = join(dir, 'renamed.tflite');
    copyFileSync(modelPath('alexa_v0.1', 'onnx'), path);
    await rejectsWith(openModel(path), ModelFormatError, 'ERR_MODEL_FORMAT', path);
  });

  it('a .tflite forced into ONNX Runtime → CorruptModelError', async () => {
    await rejectsWith(openModel(modelPath('alexa_v0.1', 'tflite'), { runtime: 'onnx' }), CorruptModelError, 'ERR_MODEL_CORRUPT');
  });

  it('a directory → ModelReadError with EISDIR', async () => {
    await rejectsWith(openModel(dir), ModelReadError, 'ERR_MODEL_READ', 'is a directory');
    assert.throws(() => openModelSync(dir), (err) => err instanceof ModelReadError && err.systemCode === 'EISDIR');
  });

  it('a missing file → ModelReadError with ENOENT', async () => {
    const path = join(dir, 'nope.onnx');
    const err = await openModel(path).catch((e) => e);
    assert.ok(err instanceof ModelReadError);
    assert.equal(err.systemCode, 'ENOENT');
    assert.equal(err.path, path);
    assert.match(err.message, /does not exist/);
  });

  it('not a path, URL or bytes → ModelReadError', async () => {
    await rejectsWith(openModel(42), ModelReadError, 'ERR_MODEL_READ', 'number');
  });

  it('the process is still healthy afterwards: a good model runs', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'));
    const out = await model.run({ [model.inputs[0].name]: new Float32Array(16 * 96) });
    assert.equal(Object.values(out)[0].data.length, 1);
    model.close();
  });
});

describe('feeds that do not match', () => {
  let model;
  before(async () => {
    model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
  });
  after(() => model.close());

  it('a missing input names it and its expected shape', async () => {
    const err = await model.run({}).catch((e) => e);
    assert.ok(err instanceof FeedError);
    assert.equal(err.code, 'ERR_FEED');
    assert.equal(err.input, 'x.1');
    assert.equal(err.field, 'missing');
    assert.equal(err.path, model.path);
    assert.match(err.message, /input "x\.1": missing \(expected float32 \[1,16,96\]\)/);
  });

  it('an unknown input name', async () => {
    const err = await model.run({ 'x.1': new Float32Array(16 * 96), extra: new Float32Array(1) }).catch((e) => e);
    assert.ok(err instanceof FeedError);
    assert.equal(err.field, 'unknown');
    assert.equal(err.input, 'extra');
  });

  it('the wrong dtype: expected vs given', async () => {
    const err = await model.run({ 'x.1': new Int32Array(16 * 96) }).catch((e) => e);
    assert.ok(err instanceof FeedError);
    assert.equal(err.field, 'dtype');
    assert.equal(err.expected, 'float32');
    assert.equal(err.actual, 'int32');
    assert.match(err.message, /expected dtype float32, got int32 \(Int32Array\(1536\)\)/);
  });

  it('a dtype the feed names: the array must carry it and the input must take it', async () => {
    const data = new Float32Array(16 * 96);
    const named = await model.run({ 'x.1': { data, shape: [1, 16, 96], dtype: 'float32' } });
    assert.equal(Object.values(named)[0].data.length, 1);
    // Named, but the array cannot carry it; and names that are no dtype at all, one of them an Object.prototype member.
    for (const dtype of ['int32', 'toString', '__proto__', 'nonsense']) {
      const err = await model.run({ 'x.1': { data, shape: [1, 16, 96], dtype } }).catch((e) => e);
      assert.ok(err instanceof FeedError, `${dtype}: ${err}`);
      assert.equal(err.field, 'dtype');
      assert.equal(err.expected, 'float32');
      assert.equal(err.actual, 'Float32Array(1536)');
    }
    // Named and carried, but not the input's dtype.
    const err = await model.run({ 'x.1': { data: new Uint8Array(16 * 96), shape: [1, 16, 96], dtype: 'bool' } }).catch((e) => e);
    assert.equal(err.field, 'dtype');
    assert.equal(err.actual, 'bool');
    assert.match(err.message, /expected dtype float32, got bool \(Uint8Array\(1536\)\)/);
    // A typed array no dtype maps to.
    const clamped = await model.run({ 'x.1': new Uint8ClampedArray(16 * 96) }).catch((e) => e);
    assert.equal(clamped.field, 'dtype');
    assert.equal(clamped.actual, 'Uint8ClampedArray(1536)');
  });

  it('a shape that is not an array of non-negative integers', async () => {
    for (const shape of [[1, 16, 96.5], [1, -16, 96], [1, '16', 96], 'x']) {
      const err = await model.run({ 'x.1': { data: new Float32Array(16 * 96), shape } }).catch((e) => e);
      assert.ok(err instanceof FeedError, `${JSON.stringify(shape)}: ${err}`);
      assert.equal(err.field, 'shape');
      assert.equal(err.expected, 'an array of non-negative integers');
    }
  });

  it('the wrong shape: expected vs given, with the axis', async () => {
    const err = await model.run({ 'x.1': { data: new Float32Array(16 * 96), shape: [1, 96, 16] } }).catch((e) => e);
    assert.ok(err instanceof FeedError);
    assert.equal(err.field, 'shape');
    assert.equal(err.expected, '[1,16,96]');
    assert.equal(err.actual, '[1,96,16]');
    assert.match(err.message, /axis 1: 16 vs 96/);
  });

  it('the wrong rank', async () => {
    const err = await model.run({ 'x.1': { data: new Float32Array(16 * 96), shape: [16, 96] } }).catch((e) => e);
    assert.equal(err.field, 'rank');
  });

  it('an element count that does not fill the shape', async () => {
    const err = await model.run({ 'x.1': { data: new Float32Array(100), shape: [1, 16, 96] } }).catch((e) => e);
    assert.ok(err instanceof FeedError);
    assert.equal(err.field, 'elements');
    assert.equal(err.expected, String(16 * 96));
    assert.equal(err.actual, '100');
  });

  it('not a typed array', async () => {
    const err = await model.run({ 'x.1': [1, 2, 3] }).catch((e) => e);
    assert.equal(err.field, 'data');
    assert.throws(() => model.runSync(null), FeedError);
  });

  it('a dynamic input fed without a shape', async () => {
    const mel = await openModel(modelPath('melspectrogram', 'onnx'));
    const err = await mel.run({ input: new Float32Array(1280) }).catch((e) => e);
    assert.equal(err.field, 'shape');
    assert.match(err.message, /dynamic dimensions \[\?,\?\]/);
    mel.close();
  });
});

describe('runtime failures', () => {
  it('an error inside a run → RuntimeFailureError with the runtime message', async () => {
    const model = await openModel(reshapeModel());
    const out = await model.run({ x: { data: new Float32Array(6), shape: [6] } });
    assert.deepEqual(out.y.shape, [2, 3]);
    const err = await model.run({ x: { data: new Float32Array(5), shape: [5] } }).catch((e) => e);
    assert.ok(err instanceof RuntimeFailureError, String(err));
    assert.equal(err.code, 'ERR_RUNTIME');
    assert.match(err.runtimeMessage, /reshape/i);
    assert.throws(() => model.runSync({ x: { data: new Float32Array(5), shape: [5] } }), RuntimeFailureError);
    model.close();
  });

  it('a TFLite graph the XNNPack delegate refuses → UnsupportedConfigurationError', async () => {
    await rejectsWith(
      openModel(modelPath('hey_jarvis_v0.1', 'tflite'), { xnnpack: true }),
      UnsupportedConfigurationError,
      'ERR_UNSUPPORTED_CONFIGURATION',
      'XNNPack',
    );
  });
});

describe('runtime library missing or unusable', () => {
  it('a library path that does not exist', async () => {
    const err = await openModel(modelPath('alexa_v0.1', 'onnx'), { libraryPath: join(dir, 'libmissing.so') }).catch((e) => e);
    assert.ok(err instanceof RuntimeLibraryError);
    assert.equal(err.code, 'ERR_RUNTIME_LIBRARY');
    assert.match(err.message, /libmissing\.so.*does not exist/);
  });

  it('a file that is not a shared library', async () => {
    const fake = write('libfake.so', 'not an ELF file');
    await rejectsWith(openModel(modelPath('alexa_v0.1', 'tflite'), { libraryPath: fake }), RuntimeLibraryError, 'ERR_RUNTIME_LIBRARY', fake);
  });

  it('a real library of the other runtime → names the missing symbol', async () => {
    const tfliteLibrary = (await openModel(modelPath('alexa_v0.1', 'tflite'))).library.libraryPath;
    await rejectsWith(openModel(modelPath('alexa_v0.1', 'onnx'), { libraryPath: tfliteLibrary }), RuntimeLibraryError, 'ERR_RUNTIME_LIBRARY', 'OrtGetApiBase');
  });

  it('the environment variable is honoured', async () => {
    process.env.MODEL_AUDIT_TFLITE_LIBRARY = join(dir, 'libnothere.so');
    try {
      await rejectsWith(openModel(modelPath('alexa_v0.1', 'tflite')), RuntimeLibraryError, 'ERR_RUNTIME_LIBRARY', 'MODEL_AUDIT_TFLITE_LIBRARY');
    } finally {
      delete process.env.MODEL_AUDIT_TFLITE_LIBRARY;
    }
  });
});

describe('bad options', () => {
  const path = modelPath('alexa_v0.1', 'onnx');
  const cases = [
    [{ intraOpThreads: -1 }, 'ERR_OPTION_RANGE', 'options.intraOpThreads'],
    [{ intraOpThreads: 1.5 }, 'ERR_OPTION_RANGE', 'options.intraOpThreads'],
    [{ intraOpThreads: '2' }, 'ERR_OPTION_TYPE', 'options.intraOpThreads'],
    [{ runtime: 'tensorrt' }, 'ERR_OPTION_RANGE', 'options.runtime'],
    [{ graphOptimizationLevel: 3 }, 'ERR_OPTION_TYPE', 'options.graphOptimizationLevel'],
    [{ xnnpack: 'yes' }, 'ERR_OPTION_TYPE', 'options.xnnpack'],
    [{ jsThreadRunMaxMs: -1 }, 'ERR_OPTION_RANGE', 'options.jsThreadRunMaxMs'],
    [{ jsThreadRunMaxMs: 200 }, 'ERR_OPTION_RANGE', 'options.jsThreadRunMaxMs'],
    [{ jsThreadRunMaxMs: '2' }, 'ERR_OPTION_TYPE', 'options.jsThreadRunMaxMs'],
    [{ intraOpThread: 1 }, 'ERR_OPTION_TYPE', 'options.intraOpThread'],
  ];
  for (const [options, code, name] of cases) {
    it(`${JSON.stringify(options)} → OptionsError ${code} naming ${name}`, async () => {
      const err = await openModel(path, options).catch((e) => e);
      assert.ok(err instanceof OptionsError, String(err));
      assert.equal(err.code, code);
      assert.equal(err.option, name);
      assert.ok(err.message.includes(name));
    });
  }

  it('uses one message shape', async () => {
    const err = await openModel(path, { intraOpThreads: '2' }).catch((e) => e);
    assert.equal(err.message, 'Expected an integer for options.intraOpThreads but received "2" of type string');
  });
});

describe('a closed model', () => {
  it('refuses every call with ClosedModelError', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    model.close();
    assert.equal(model.closed, true);
    await rejectsWith(model.run({}), ClosedModelError, 'ERR_MODEL_CLOSED', 'closed');
    assert.throws(() => model.runSync({}), ClosedModelError);
    assert.throws(() => model.memory(), ClosedModelError);
    await assert.rejects(benchmark(model, { iterations: 1 }), ClosedModelError);
    // Metadata stays readable.
    assert.equal(model.inputs.length, 1);
  });
});
