// Model.bind(): inputs and outputs that live across calls. Every run of a binding must give what
// Model.runSync gives on the same values, whatever path the call took.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ClosedModelError, FeedError, OptionsError, openModel, openModelSync } from '../dist/index.js';
import { synthesizeTensor } from '../dist/tensor/index.js';
import { sessionOf } from '../dist/model/access.js';
import { buildOnnxModel, identityModel } from './fixtures/onnx-builder.mjs';
import { dtypeSamples, modelPath, pairs } from './helpers.mjs';

/** Writes seeded values into the binding's inputs; returns the same values as feeds. */
function fill(model, bound, seed) {
  const feeds = {};
  model.inputs.forEach((input, i) => {
    const values = synthesizeTensor(input.dtype, bound.inputShapes[input.name], seed + i).data;
    bound.inputs[input.name].set(values);
    feeds[input.name] = { data: values, shape: [...bound.inputShapes[input.name]] };
  });
  return feeds;
}

function assertSameOutputs(actual, expected, what) {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), what);
  for (const [name, tensor] of Object.entries(expected)) {
    assert.equal(actual[name].dtype, tensor.dtype, `${what}: ${name} dtype`);
    assert.deepEqual([...actual[name].shape], tensor.shape, `${what}: ${name} shape`);
    assert.deepEqual(actual[name].data, tensor.data, `${what}: ${name} values`);
  }
}

describe('a binding runs as Model.runSync does', () => {
  for (const { name, shapes } of pairs) {
    for (const ext of ['onnx', 'tflite']) {
      it(`${name}.${ext}: runSync() and run() give runSync()'s outputs, in the same arrays every call`, async () => {
        const model = await openModel(modelPath(name, ext));
        try {
          const given = shapes ? Object.fromEntries(model.inputs.map((input, i) => [input.name, shapes[i]])) : undefined;
          const bound = model.bind(given);
          const first = bound.runSync();
          let feeds = fill(model, bound, 11);
          const second = bound.runSync();
          assert.equal(second, first, 'the same outputs object');
          assertSameOutputs(second, model.runSync(feeds), 'runSync, seed 11');
          feeds = fill(model, bound, 12);
          const third = await bound.run();
          assert.equal(third, first);
          assertSameOutputs(third, model.runSync(feeds), 'run, seed 12');
          // Five calls in a row, each awaited, each on its own values: whichever thread ran each.
          for (let seed = 20; seed < 25; seed++) {
            feeds = fill(model, bound, seed);
            assertSameOutputs(await bound.run(), model.runSync(feeds), `run, seed ${seed}`);
          }
          assert.ok(Object.isFrozen(first) && Object.isFrozen(Object.values(first)[0]));
        } finally {
          model.close();
        }
      });
    }
  }
});

describe('what a binding holds', () => {
  it('every dtype goes in and comes back unchanged through an Identity model, in arrays of its type', () => {
    for (const [dtype, data] of Object.entries(dtypeSamples)) {
      const model = openModelSync(identityModel(dtype), { runtime: 'onnx' });
      const bound = model.bind();
      assert.equal(bound.inputs.x.constructor, data.constructor, dtype);
      assert.deepEqual(bound.inputs.x, new data.constructor(6), `${dtype}: zero-filled at first`);
      bound.inputs.x.set(data);
      const out = bound.runSync();
      assert.equal(out.y.dtype, dtype);
      assert.deepEqual(out.y.shape, [2, 3]);
      assert.deepEqual(out.y.data, data, dtype);
      model.close();
    }
  });

  it('an input of no elements binds and runs', () => {
    const model = openModelSync(identityModel('float32', ['n']), { runtime: 'onnx' });
    const bound = model.bind({ x: [0] });
    assert.equal(bound.inputs.x.length, 0);
    const out = bound.runSync();
    assert.deepEqual(out.y.shape, [0]);
    assert.equal(out.y.data.length, 0);
    model.close();
  });

  it('outputs whose shape changes come in new arrays, and the arrays of the last shape keep their values', async () => {
    // y = NonZero(x): [1, k] indices, k the count of non-zero values.
    const model = openModelSync(buildOnnxModel({
      inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
      outputs: [{ name: 'y', dtype: 'int64', shape: [1, 'k'] }],
      nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'] }],
    }), { runtime: 'onnx' });
    const bound = model.bind();
    bound.inputs.x.set([0, 5, 0, 7]);
    const two = bound.runSync();
    assert.deepEqual([...two.y.data], [1n, 3n]);
    bound.inputs.x.set([9, 0, 0, 0]);
    const one = await bound.run();
    assert.notEqual(one, two);
    assert.deepEqual(one.y.shape, [1, 1]);
    assert.deepEqual([...one.y.data], [0n]);
    assert.deepEqual([...two.y.data], [1n, 3n], 'the earlier arrays are no longer written');
    bound.inputs.x.set([0, 0, 0, 4]);
    assert.equal(bound.runSync(), one, 'the same shape again: the same arrays');
    assert.deepEqual([...one.y.data], [3n]);
    model.close();
  });

  it("the arrays outlive the binding and the model, and are the binding's own memory", () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc');
    let model = openModelSync(identityModel('float32', [1000]), { runtime: 'onnx' });
    let bound = model.bind();
    const input = bound.inputs.x;
    input.fill(3.5);
    const output = bound.runSync().y.data;
    model.close();
    model = undefined;
    bound = undefined;
    for (let i = 0; i < 3; i++) gc();
    // Other allocations, which would reuse freed memory.
    const churn = [];
    for (let i = 0; i < 200; i++) churn.push(new Float32Array(1000).fill(-1));
    assert.ok(output.every((v) => v === 3.5) && input.every((v) => v === 3.5));
    input.fill(1);
    assert.ok(output.every((v) => v === 3.5), 'the output is not a view of the input');
  });

  it('a TFLite binding and plain runs of the same interpreter take turns without mixing their inputs', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'));
    const bound = model.bind();
    const feeds = fill(model, bound, 31);
    const expected = model.runSync(feeds);
    const otherFeeds = Object.fromEntries(model.inputs.map((input) => [input.name, synthesizeTensor(input.dtype, input.shape, 99).data]));
    const other = model.runSync(otherFeeds);
    const [fromBinding, fromRun] = await Promise.all([bound.run(), model.run(otherFeeds)]);
    assertSameOutputs(fromBinding, expected, 'the binding');
    assertSameOutputs(fromRun, other, 'the plain run');
    model.close();
  });
});

describe('bind() refuses what does not fit, before anything is allocated', () => {
  const mel = () => openModelSync(modelPath('melspectrogram', 'onnx'));
  it('a dynamic input without a shape, naming the input', () => {
    const model = mel();
    const input = model.inputs[0].name;
    assert.throws(() => model.bind(), (err) => err instanceof FeedError && err.input === input && err.field === 'shape' && err.message.includes(`bind({ "${input}": [...] })`));
    assert.throws(() => model.bind({}), (err) => err instanceof FeedError && err.field === 'shape');
    model.close();
  });
  it('an unknown input, the wrong rank, a static dimension changed, a dimension that is not an integer', () => {
    const model = mel();
    const input = model.inputs[0].name;
    assert.throws(() => model.bind({ [input]: [1, 1280], nope: [1] }), (err) => err instanceof FeedError && err.field === 'unknown' && err.input === 'nope');
    assert.throws(() => model.bind({ [input]: [1280] }), (err) => err instanceof FeedError && err.field === 'rank' && err.actual === '[1280]');
    assert.throws(() => model.bind({ [input]: [1, 1.5] }), (err) => err instanceof FeedError && err.field === 'shape');
    assert.throws(() => model.bind({ [input]: [1, -1] }), (err) => err instanceof FeedError && err.field === 'shape');
    assert.throws(() => model.bind({ [input]: [1, 2 ** 54] }), (err) => err instanceof FeedError && err.field === 'shape' && /more elements than memory can/.test(err.message));
    const jarvis = openModelSync(modelPath('hey_jarvis_v0.1', 'onnx'));
    const name = jarvis.inputs[0].name;
    assert.throws(() => jarvis.bind({ [name]: [1, 17, 96] }), (err) => err instanceof FeedError && err.field === 'shape' && err.message.includes('axis 1: 16 vs 17'));
    assert.throws(() => jarvis.bind([[1, 16, 96]]), (err) => err instanceof OptionsError && err.option === 'shapes');
    assert.deepEqual(jarvis.bind({ [name]: [1, 16, 96] }).inputShapes, { [name]: [1, 16, 96] });
    jarvis.close();
    model.close();
  });
  it('a closed model', () => {
    const model = mel();
    model.close();
    assert.throws(() => model.bind({ [model.inputs[0].name]: [1, 1280] }), ClosedModelError);
  });
});

describe('calls of a binding', () => {
  it('one at a time: another call while one runs is refused, and the binding works after it', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
    const bound = model.bind();
    const feeds = fill(model, bound, 41);
    const pending = bound.run();
    await assert.rejects(bound.run(), { code: 'ERR_BINDING_BUSY' });
    assert.throws(() => bound.runSync(), { code: 'ERR_BINDING_BUSY' });
    assertSameOutputs(await pending, model.runSync(feeds), 'the call that ran');
    assertSameOutputs(bound.runSync(), model.runSync(feeds), 'a call after it');
    model.close();
  });

  it('the addon refuses a second call of a binding by itself, whatever the caller', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
    const bound = sessionOf(model).bind([{ dtype: 'float32', shape: [1, 16, 96] }]);
    const pending = bound.run();
    assert.throws(() => bound.runSync(), /a call of this binding is still running/);
    assert.throws(() => bound.run(), /a call of this binding is still running/, 'refused before a promise is made');
    assert.equal((await pending).length, 1, 'the first call ran');
    assert.equal(bound.runSync(), null, 'and the binding is free after it: outputs written in place');
    model.close();
  });

  it('eight bindings of one ONNX session run side by side, each on its own values', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
    const bindings = Array.from({ length: 8 }, () => model.bind());
    const expected = bindings.map((bound, i) => model.runSync(fill(model, bound, 50 + i)));
    const results = await Promise.all(bindings.map((bound) => bound.run()));
    results.forEach((outputs, i) => assertSameOutputs(outputs, expected[i], `binding ${i}`));
    model.close();
  });

  it('a call the runtime fails gives the binding back: the next call runs, and fails the same way', async () => {
    // y = Reshape(x, [2, 3]) bound to 5 elements: every run fails inside the runtime, after the
    // call has been claimed. A binding left claimed would refuse the next call as busy.
    const { reshapeModel } = await import('./fixtures/onnx-builder.mjs');
    const model = openModelSync(reshapeModel(), { runtime: 'onnx' });
    const bound = model.bind({ x: [5] });
    for (let i = 0; i < 3; i++) await assert.rejects(bound.run(), { code: 'ERR_RUNTIME' }, `run() call ${i + 1}`);
    assert.throws(() => bound.runSync(), { code: 'ERR_RUNTIME' });
    await assert.rejects(bound.run(), { code: 'ERR_RUNTIME' }, 'run() after runSync()');
    model.close();
  });

  it('closing the model ends its bindings: a call in flight finishes, later ones are refused', async () => {
    const model = await openModel(modelPath('embedding_model', 'onnx'));
    const bound = model.bind({ [model.inputs[0].name]: [1, 76, 32, 1] });
    const feeds = fill(model, bound, 61);
    const expected = model.runSync(feeds);
    const pending = bound.run();
    model.close();
    assertSameOutputs(await pending, expected, 'the call in flight');
    assert.throws(() => bound.runSync(), ClosedModelError);
    await assert.rejects(bound.run(), ClosedModelError);
  });
});

describe("run() and runSync() through the model's own binding", () => {
  for (const ext of ['onnx', 'tflite']) {
    it(`${ext}: each call's outputs are arrays of its own, which later calls leave as they were`, async () => {
      const model = await openModel(modelPath('hey_jarvis_v0.1', ext));
      const input = model.inputs[0];
      const feeds = (seed) => ({ [input.name]: synthesizeTensor(input.dtype, input.shape, seed).data });
      const fresh = await openModel(modelPath('hey_jarvis_v0.1', ext));
      const expected = [1, 2, 3, 4].map((seed) => fresh.runSync(feeds(seed)));
      fresh.close();
      const got = [model.runSync(feeds(1)), await model.run(feeds(2)), model.runSync(feeds(3)), await model.run(feeds(4))];
      got.forEach((outputs, i) => assertSameOutputs(outputs, expected[i], `call ${i + 1}`));
      const name = model.outputs[0].name;
      assert.equal(new Set(got.map((o) => o[name].data)).size, 4, 'four different arrays');
      assert.equal(new Set(got.map((o) => o[name].data.buffer)).size, 4, 'over four different buffers');
      got[0][name].data[0] = 42;
      assert.equal(model.runSync(feeds(1))[name].data[0], expected[0][name].data[0], 'writing into a result changes no later one');
      model.close();
    });
  }

  it('a model fed changing shapes gives each shape its outputs, however the shapes alternate', async () => {
    const model = await openModel(modelPath('melspectrogram', 'onnx'));
    const input = model.inputs[0].name;
    const lengths = [1280, 1280, 1600, 1280, 1600, 1600, 1600, 1280, 1280, 1920, 1280];
    const feedsOf = (n) => ({ [input]: { data: synthesizeTensor('float32', [1, n], n).data, shape: [1, n] } });
    const expected = new Map();
    for (const n of new Set(lengths)) {
      const bound = model.bind({ [input]: [1, n] });
      bound.inputs[input].set(feedsOf(n)[input].data);
      expected.set(n, Object.fromEntries(Object.entries(bound.runSync()).map(([k, t]) => [k, { dtype: t.dtype, shape: [...t.shape], data: t.data.slice() }])));
    }
    for (const [i, n] of lengths.entries()) {
      const outputs = i % 2 ? await model.run(feedsOf(n)) : model.runSync(feedsOf(n));
      assertSameOutputs(outputs, expected.get(n), `call ${i + 1}, ${n} samples`);
    }
    model.close();
  });

  it('outputs or inputs larger than the own binding takes still come back right, call after call', async () => {
    // 160 kB out (the own binding stops after the first call), then 1.6 MB in (it is never used).
    for (const elements of [40000, 400000]) {
      const model = openModelSync(identityModel('float32', [1, elements]), { runtime: 'onnx' });
      for (let seed = 1; seed <= 4; seed++) {
        const data = synthesizeTensor('float32', [1, elements], seed).data;
        const out = seed % 2 ? model.runSync({ x: data }) : await model.run({ x: data });
        assert.deepEqual(out.y.data, data);
      }
      model.close();
    }
  });

  it('a call that fails leaves the model running the next ones', async () => {
    // y = Reshape(x, [2, 3]): any length but 6 fails inside the runtime.
    const { reshapeModel } = await import('./fixtures/onnx-builder.mjs');
    const model = openModelSync(reshapeModel(), { runtime: 'onnx' });
    const six = Float32Array.from([1, 2, 3, 4, 5, 6]);
    assert.deepEqual(model.runSync({ x: { data: six, shape: [6] } }).y.data, six);
    for (let i = 0; i < 2; i++) {
      assert.throws(() => model.runSync({ x: { data: new Float32Array(5), shape: [5] } }), { code: 'ERR_RUNTIME' });
      await assert.rejects(model.run({ x: { data: new Float32Array(5), shape: [5] } }), { code: 'ERR_RUNTIME' });
    }
    assert.deepEqual((await model.run({ x: { data: six, shape: [6] } })).y.data, six);
    assert.deepEqual(model.runSync({ x: { data: six, shape: [6] } }).y.data, six);
    model.close();
  });
});
