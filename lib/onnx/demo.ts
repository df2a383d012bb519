/**
 * The demo model `model-audit run` audits when given no model: a small keyword classifier of the
 * openWakeWord shape (16 × 96 features in, 8 class probabilities out) with seeded weights,
 * generated on the spot so that it is reachable offline.
 */
import { SeededRandom } from '../tensor/tensor.js';
import { buildOnnxModel } from './writer.js';

function weights(count: number, scale: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: count }, () => (random.nextFloat() * 2 - 1) * scale);
}

/** Flatten → Gemm 1536×64 → Relu → Gemm 64×8 → Softmax, about 400 KB. */
export function demoModel(): Uint8Array {
  const hidden = 64;
  const features = 16 * 96;
  return buildOnnxModel({
    name: 'model-audit-demo',
    inputs: [{ name: 'features', dtype: 'float32', shape: [1, 16, 96] }],
    outputs: [{ name: 'probabilities', dtype: 'float32', shape: [1, 8] }],
    initializers: [
      { name: 'w1', dtype: 'float32', shape: [features, hidden], data: weights(features * hidden, 0.05, 1) },
      { name: 'b1', dtype: 'float32', shape: [hidden], data: weights(hidden, 0.01, 2) },
      { name: 'w2', dtype: 'float32', shape: [hidden, 8], data: weights(hidden * 8, 0.2, 3) },
      { name: 'b2', dtype: 'float32', shape: [8], data: weights(8, 0.01, 4) },
    ],
    nodes: [
      { op: 'Flatten', inputs: ['features'], outputs: ['flat'], attrs: { axis: 1 } },
      { op: 'Gemm', inputs: ['flat', 'w1', 'b1'], outputs: ['h'] },
      { op: 'Relu', inputs: ['h'], outputs: ['a'] },
      { op: 'Gemm', inputs: ['a', 'w2', 'b2'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: 1 } },
    ],
  });
}
