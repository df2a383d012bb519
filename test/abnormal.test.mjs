// Every abnormal-input class against real models, in isolation.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { abnormalCaseKinds, abnormalCatalogue } from '../dist/tensor/index.js';
import { abnormalInputs, openModel } from '../dist/index.js';
import { identityModel } from './fixtures/onnx-builder.mjs';
import { modelPath } from './helpers.mjs';

const shapeOf = (model) => ({ [model.inputs[0].name]: [1, 76, 32, 1] });

for (const runtime of ['onnx', 'tflite']) {
  describe(`abnormal inputs on embedding_model (${runtime})`, () => {
    let result;
    before(async () => {
      const model = await openModel(modelPath('embedding_model', runtime), { intraOpThreads: 1 });
      result = await abnormalInputs(model, { shapes: shapeOf(model), largeBatch: 8 });
      model.close();
    });

    it('runs every class that applies to a float input, each classified', () => {
      const floatKinds = abnormalCaseKinds.filter((k) => k !== 'out-of-range');
      assert.deepEqual(result.cases.map((c) => c.kind).sort(), [...floatKinds].sort());
      // Each classification agrees with the evidence the case carries, and with nothing else.
      for (const c of result.cases) {
        assert.ok(c.description.length > 0);
        const nonFinite = c.outputs?.some((o) => o.nan + o.posInf + o.negInf > 0);
        if (c.classification === 'finite') assert.ok(c.outputs && !nonFinite && c.error === null && c.signal === null, c.kind);
        else if (c.classification === 'non-finite') assert.ok(c.outputs && nonFinite && c.error === null, c.kind);
        else if (c.classification === 'rejected') assert.ok(c.error !== null && c.outputs === null && ['model-audit', 'runtime'].includes(c.rejectedBy), c.kind);
        else if (c.classification === 'crashed') assert.ok(c.signal !== null || c.exitCode !== null, c.kind);
        else assert.equal(c.classification, 'hung', c.kind);
      }
      const total = Object.values(result.counts).reduce((a, b) => a + b, 0);
      assert.equal(total, result.cases.length);
    });

    it('ordinary values give finite outputs', () => {
      for (const kind of ['zeros', 'constant', 'pos-zero', 'neg-zero', 'denormal']) {
        const c = result.cases.find((x) => x.kind === kind);
        assert.equal(c.classification, 'finite', kind);
        assert.ok(c.outputs.every((o) => o.nan + o.posInf + o.negInf === 0));
      }
    });

    it('a wrong dtype is rejected, with the message kept and who refused it', () => {
      const c = result.cases.find((x) => x.kind === 'wrong-dtype');
      assert.equal(c.classification, 'rejected');
      assert.ok(c.error.message.length > 0);
      // TFLite checks only byte sizes, so model-audit's own guard refuses for it.
      assert.equal(c.rejectedBy, runtime === 'tflite' ? 'model-audit' : 'runtime');
    });

    it('a wrong shape is rejected by the runtime', () => {
      const c = result.cases.find((x) => x.kind === 'wrong-shape');
      assert.equal(c.classification, 'rejected');
      assert.equal(c.rejectedBy, 'runtime');
    });

    it('a larger batch on the dynamic axis runs', () => {
      const c = result.cases.find((x) => x.kind === 'large-batch');
      assert.deepEqual(c.shape, [8, 76, 32, 1]);
      assert.equal(c.classification, 'finite');
    });

    it('NaN input: the result says what the runtime made of it', () => {
      const c = result.cases.find((x) => x.kind === 'nan');
      // ONNX Runtime propagates NaN; this TFLite build's kernels turn it into finite values.
      assert.equal(c.classification, runtime === 'onnx' ? 'non-finite' : 'finite');
      assert.equal(result.counts.crashed, 0);
    });
  });
}

describe('integer and bool inputs', () => {
  it('int64 and bool inputs get their own classes, including out-of-range values', async () => {
    for (const dtype of ['int64', 'bool', 'uint8']) {
      const model = await openModel(identityModel(dtype, [2, 3]));
      const result = await abnormalInputs(model);
      const kinds = result.cases.map((c) => c.kind);
      assert.ok(kinds.includes('out-of-range') && kinds.includes('dtype-max') && kinds.includes('dtype-min'), dtype);
      assert.ok(!kinds.includes('nan'));
      // An identity passes every value through: integer outputs are always finite. Its shape is
      // static, so every change of shape is the runtime's to refuse.
      for (const c of result.cases) {
        const structural = ['wrong-dtype', 'wrong-shape', 'zero-size', 'large-batch'].includes(c.kind);
        assert.equal(c.classification, structural ? 'rejected' : 'finite', `${dtype} ${c.kind}`);
        if (structural) assert.equal(c.rejectedBy, 'runtime');
      }
      model.close();
    }
  });

  it('the catalogue needs concrete shapes for dynamic inputs', async () => {
    const model = await openModel(modelPath('melspectrogram', 'onnx'));
    assert.throws(() => abnormalCatalogue(model.inputs), { code: 'ERR_OPTION_RANGE' });
    assert.ok(abnormalCatalogue(model.inputs, { shapes: { input: [1, 400] }, kinds: ['nan'] }).length === 1);
    model.close();
  });
});
