export { openModel, openModelSync, Model, checkFeeds } from './model.js';
export type { OpenOptions, ResolvedOpenOptions, GraphOptimizationLevel, ModelSource, OpenTimings, Outputs } from './model.js';
export { runtimeInfo, resolveLibraryPath, packagedLibraryPath, runtimeLibraryEnv } from './runtimes.js';
export type { RuntimeKind, RuntimeLibraryInfo, RuntimeInfoOptions } from './runtimes.js';
export { detectFormat } from './format.js';
export type { DetectedFormat } from './format.js';
export {
  dtypes,
  synthesizeTensor,
  SeededRandom,
  toFloat16Bits,
  fromFloat16Bits,
  elementCount,
  bytesPerElement,
} from './tensor.js';
export type { DType, Tensor, TensorData, TypedArrayOf, FeedValue, Feeds, TensorSpec, SynthesisRange } from './tensor.js';
export {
  ModelAuditError,
  ModelFormatError,
  ModelReadError,
  CorruptModelError,
  FeedError,
  RuntimeFailureError,
  RuntimeLibraryError,
  OptionsError,
  UnsupportedConfigurationError,
  ClosedModelError,
} from './errors.js';
export type { ErrorDetails, FeedMismatch } from './errors.js';
