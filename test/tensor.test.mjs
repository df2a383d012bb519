// Pure helpers: half-precision conversion, the seeded generator, input synthesis, format detection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom, detectFormat, fromFloat16Bits, synthesizeTensor, toFloat16Bits } from '../dist/tensor/index.js';

describe('float16', () => {
  it('round-trips every finite half value exactly', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exponent = (bits >> 10) & 0x1f;
      if (exponent === 0x1f) continue;
      assert.equal(toFloat16Bits(fromFloat16Bits(bits)), bits === 0x8000 ? 0x8000 : bits, `bits 0x${bits.toString(16)}`);
    }
  });

  it('rounds to nearest even, overflows to Inf, keeps NaN', () => {
    assert.equal(toFloat16Bits(1), 0x3c00);
    assert.equal(toFloat16Bits(-2), 0xc000);
    assert.equal(toFloat16Bits(65504), 0x7bff);
    assert.equal(toFloat16Bits(1e6), 0x7c00);
    assert.equal(toFloat16Bits(-Infinity), 0xfc00);
    assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(NaN))));
    // 1 + 2^-11 is halfway between 1 and the next half; ties go to the even mantissa (1).
    assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00);
    assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(fromFloat16Bits(0x0001), 2 ** -24);
  });
});

describe('SeededRandom and synthesizeTensor', () => {
  it('repeat exactly for the same seed and differ across seeds', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 100 }, () => a.nextUint32());
    assert.deepEqual(seqA, Array.from({ length: 100 }, () => b.nextUint32()));
    assert.notDeepEqual(seqA, Array.from({ length: 100 }, () => c.nextUint32()));
  });

  it('stays in range and is roughly uniform', () => {
    const t = synthesizeTensor('float32', [100000], 1, { floatMin: -2, floatMax: 3 });
    let sum = 0;
    for (const v of t.data) {
      assert.ok(v >= -2 && v < 3);
      sum += v;
    }
    assert.ok(Math.abs(sum / t.data.length - 0.5) < 0.05);
    const ints = synthesizeTensor('int64', [1000], 1, { intMin: -3, intMax: 3 });
    assert.ok(ints.data.every((v) => v >= -3n && v <= 3n));
    const bools = synthesizeTensor('bool', [1000], 1);
    assert.ok(bools.data.every((v) => v === 0 || v === 1));
  });

  it('uses the typed array of each dtype', () => {
    assert.ok(synthesizeTensor('float16', [4], 1).data instanceof Uint16Array);
    assert.ok(synthesizeTensor('int64', [4], 1).data instanceof BigInt64Array);
    assert.deepEqual(synthesizeTensor('int8', [2, 0, 3], 1).data.length, 0);
  });
});

describe('detectFormat', () => {
  it('tells TFLite, ORT format, ONNX and junk apart', () => {
    const tfl = new Uint8Array([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33, 0, 0]);
    assert.equal(detectFormat(tfl), 'tflite');
    const ortm = new Uint8Array([0x1c, 0, 0, 0, 0x4f, 0x52, 0x54, 0x4d]);
    assert.equal(detectFormat(ortm), 'ort');
    assert.equal(detectFormat(new Uint8Array([0x08, 0x07, 0x12, 0x04])), 'onnx');
    assert.equal(detectFormat(new Uint8Array([0xff, 0xff, 0xff])), 'unknown');
    assert.equal(detectFormat(new TextEncoder().encode('hello world')), 'unknown');
  });
});
