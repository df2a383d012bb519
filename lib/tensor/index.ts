/**
 * model-audit/tensor: tensors and the inputs made of them: dtypes, seeded synthesis, half
 * precision, feed checks, the model-format probe, and the abnormal-input catalogue.
 */
export { dtypes, synthesizeTensor, SeededRandom, toFloat16Bits, fromFloat16Bits, elementCount, bytesPerElement } from './tensor.js';
export type { DType, Tensor, TensorData, TypedArrayOf, FeedValue, Feeds, TensorSpec, SynthesisRange } from './tensor.js';
export { checkFeeds } from '../model/feeds.js';
export { detectFormat } from '../model/detect.js';
export type { DetectedFormat } from '../model/detect.js';
export { abnormalCatalogue, abnormalCaseKinds } from '../check/abnormal.js';
export { drawTensor, parseValueSource, describeDistribution, defaultDistribution } from '../inputs/values.js';
export type { ValueDistribution, ValueSource } from '../inputs/values.js';
export { readSamples } from '../inputs/dataset.js';
