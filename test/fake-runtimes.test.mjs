// Runtime libraries that are not what model-audit needs, built by the test as tiny shared objects:
// an ONNX Runtime too old for C API 21, a library without OrtGetApiBase, a TFLite library whose
// XNNPack delegate cannot be created, and a TFLite of a version the kernel timer was not built
// for. Each must give the typed error that names it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RuntimeLibraryError, UnsupportedConfigurationError, openModel, profile } from '../dist/index.js';
import { runtimeInfo } from '../dist/system/index.js';
import { modelPath } from './helpers.mjs';

const cc = ['cc', 'gcc'].find((c) => spawnSync(c, ['--version']).status === 0);
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-fake-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function sharedObject(name, source, extra = []) {
  const c = join(dir, `${name}.c`);
  const so = join(dir, `${name}.so`);
  writeFileSync(c, source);
  execFileSync(cc, ['-shared', '-fPIC', '-o', so, c, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  return so;
}

describe('runtime libraries that do not fit', { skip: !cc && 'no C compiler' }, () => {
  it('an ONNX Runtime without C API 21 is refused, naming its version and the API it lacks', async () => {
    const old = sharedObject(
      'libonnxruntime-old',
      `#include <stddef.h>
       #include <stdint.h>
       typedef struct { const void* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); } Base;
       static const void* get_api(uint32_t version) { (void)version; return NULL; }
       static const char* version_string(void) { return "1.16.3"; }
       static const Base base = { get_api, version_string };
       const Base* OrtGetApiBase(void) { return &base; }`,
    );
    await assert.rejects(
      openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { libraryPath: old }),
      (e) => e instanceof RuntimeLibraryError && /ONNX Runtime 1\.16\.3 at .*libonnxruntime-old\.so does not provide C API version 21 \(needs 1\.21 or newer\)/.test(e.message),
    );
  });

  it('a library without OrtGetApiBase is refused, naming the symbol', async () => {
    const other = sharedObject('libnot-onnxruntime', 'int something_else(void) { return 0; }\n');
    await assert.rejects(
      openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { libraryPath: other }),
      (e) => e instanceof RuntimeLibraryError && e.message.includes('libnot-onnxruntime.so does not export OrtGetApiBase'),
    );
    assert.throws(() => runtimeInfo({ runtimes: ['onnx'], libraryPaths: { onnx: other } }), (e) => e instanceof RuntimeLibraryError && /OrtGetApiBase/.test(e.message));
  });

  it('a TFLite library whose XNNPack delegate cannot be created refuses xnnpack, and runs without it', async () => {
    // Everything else is the real library's (a dependency of the shim: dlsym finds it there); the
    // shim's own TfLiteXNNPackDelegateCreate comes first and fails.
    const real = join(dirname(modelPath('x', 'y')), '..', '..', 'tfjs-tflite-node', 'cc_deps', process.arch === 'arm64' ? 'linux_arm64' : 'linux_amd64', 'libtensorflowlite_c.so');
    const shim = sharedObject(
      'libtflite-no-xnnpack',
      `#include <stddef.h>
       void* TfLiteXNNPackDelegateCreate(const void* options) { (void)options; return NULL; }
       void TfLiteXNNPackDelegateDelete(void* delegate) { (void)delegate; }`,
      ['-Wl,--no-as-needed', '-L', dirname(real), '-l:libtensorflowlite_c.so', `-Wl,-rpath,${dirname(real)}`],
    );
    await assert.rejects(
      openModel(modelPath('hey_jarvis_v0.1', 'tflite'), { libraryPath: shim, xnnpack: true }),
      (e) => e instanceof UnsupportedConfigurationError && /XNNPack delegate could not be created/.test(e.message),
    );
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'), { libraryPath: shim });
    const out = model.runSync({ [model.inputs[0].name]: new Float32Array(16 * 96) });
    assert.equal(Object.values(out)[0].data.length, 1);
    model.close();
  });

  it('a TFLite library of another version runs, and its profile is refused naming the version', async () => {
    // The kernel timer relies on TFLite 2.9's structure layouts; this shim says it is 2.14.0.
    const real = join(dirname(modelPath('x', 'y')), '..', '..', 'tfjs-tflite-node', 'cc_deps', process.arch === 'arm64' ? 'linux_arm64' : 'linux_amd64', 'libtensorflowlite_c.so');
    const shim = sharedObject('libtflite-2.14', 'const char* TfLiteVersion(void) { return "2.14.0"; }\n', [
      '-Wl,--no-as-needed', '-L', dirname(real), '-l:libtensorflowlite_c.so', `-Wl,-rpath,${dirname(real)}`,
    ]);
    const model = await openModel(modelPath('alexa_v0.1', 'tflite'), { libraryPath: shim });
    try {
      assert.equal(model.library.version, '2.14.0');
      assert.equal(Object.values(model.runSync({ [model.inputs[0].name]: new Float32Array(16 * 96) }))[0].data.length, 1);
      await assert.rejects(profile(model), (e) => e instanceof UnsupportedConfigurationError && /TFLite 2\.14\.0/.test(e.message) && e.message.includes('libtflite-2.14.so'));
    } finally {
      model.close();
    }
  });
});
