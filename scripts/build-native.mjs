// Builds the addon with cmake-js: finds the runtimes' C headers (fetching ONNX Runtime's when
// needed) and passes their folders to CMake. Neither runtime library is linked: both are opened
// with dlopen at run time.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchOrtHeaders } from './fetch-ort-headers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

export function tfliteIncludeDir() {
  const fromEnv = process.env.TFLITE_INCLUDE_DIR;
  const dir = fromEnv ?? join(dirname(require.resolve('tfjs-tflite-node/package.json')), 'cc_deps', 'include');
  if (!existsSync(join(dir, 'tensorflow', 'lite', 'c', 'c_api.h'))) {
    throw new Error(`${dir} does not hold tensorflow/lite/c/c_api.h (set TFLITE_INCLUDE_DIR to a folder that does)`);
  }
  return dir;
}

export function buildNative({ debug = false, sanitize = false, out } = {}) {
  const ortDir = fetchOrtHeaders();
  const tfliteDir = tfliteIncludeDir();
  const addonApiDir = dirname(require.resolve('node-addon-api/package.json'));
  const cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
  const args = [
    cmakeJs, 'compile',
    '--directory', root,
    '--out', out ?? join(root, 'build'),
    `--CDORT_INCLUDE_DIR=${ortDir}`,
    `--CDTFLITE_INCLUDE_DIR=${tfliteDir}`,
    `--CDNODE_ADDON_API_DIR=${addonApiDir}`,
  ];
  if (debug) args.push('--debug');
  if (sanitize) args.push('--CDMODEL_AUDIT_SANITIZE=ON');
  execFileSync(process.execPath, args, { stdio: 'inherit', cwd: root });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    buildNative({ debug: process.argv.includes('--debug'), sanitize: process.argv.includes('--sanitize') });
  } catch (err) {
    console.error(`model-audit: native build failed: ${err.message}`);
    process.exit(1);
  }
}
