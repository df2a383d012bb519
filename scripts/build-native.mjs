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

/** The cross compiler for `arch` when it is not this machine's, checked to be there. */
function crossArgs(arch) {
  if (!arch || arch === process.arch) return [];
  if (arch !== 'arm64' || process.arch !== 'x64') throw new Error(`cross-compiling from ${process.arch} to ${arch} is not set up (x64 to arm64 is)`);
  try {
    execFileSync('aarch64-linux-gnu-g++', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error("cross-compiling to arm64 needs aarch64-linux-gnu-g++ (Debian: apt-get install g++-aarch64-linux-gnu)");
  }
  return ['--arch', 'arm64', `--CDCMAKE_TOOLCHAIN_FILE=${join(root, 'scripts', 'aarch64-linux-gnu.cmake')}`];
}

/** Builds the addon into `out` (default build/); `arch: 'arm64'` cross-compiles on an x64 machine. */
export function buildNative({ debug = false, sanitize = false, out, arch } = {}) {
  const cross = crossArgs(arch);
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
    ...cross,
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
