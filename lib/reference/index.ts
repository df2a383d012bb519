/**
 * model-audit/reference: reference data and the means to compare against it: ONNX test-data
 * folders (TensorProto), .npy files, JSON cases, the ONNX operator conformance suite, and tensor
 * comparison.
 */
export { loadOnnxTestData, loadJsonCases, readNpy } from './load.js';
export type { ReferenceCase, UnreadableCase } from './load.js';
export { decodeNpy, encodeNpy } from './npy.js';
export { decodeTensorProto } from './tensorproto.js';
export { runOnnxConformance, defaultConformanceRoot } from '../check/conformance.js';
export type { ConformanceOptions, ConformanceReport, ConformanceCaseResult } from '../check/conformance.js';
export { compareTensors } from '../check/tensor-diff.js';
