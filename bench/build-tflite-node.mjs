#!/usr/bin/env node
// Compiles tfjs-tflite-node's own native binding into build/bench/tfjs-tflite-node/ (git-ignored),
// so that run-paths.mjs can time that package's runner beside model-audit's on the .tflite files:
//   node bench/build-tflite-node.mjs
// The package ships the binding's C++ source (binding/node_tflite_binding.cc) and the TFLite
// libraries, but no built binding, and it has no install script: installed from npm it does not
// load. Its binding.gyp's defines and exception flags (C++ exceptions on, NAPI_CPP_EXCEPTIONS),
// but C++17 (the gyp file says C++11) and Node-API 8 (what model-audit targets), with the
// Node-API headers model-audit builds with (node-api-headers) and node-addon-api as the package
// has it; the library directory is linked by its absolute path, as the binding is not inside the
// package. linux x64 and arm64 only, as the package's libraries are.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mtime } from './build-reference.mjs';
import { root, tfliteNodeBinding, tfliteNodePackage } from './paths.mjs';

const libraryDirs = { x64: 'linux_amd64', arm64: 'linux_arm64' };

/** The g++ command line, or the reason there is none on this machine. */
export function tfliteNodeCommand() {
  const libs = process.platform === 'linux' ? libraryDirs[process.arch] : undefined;
  if (!libs) return { error: `tfjs-tflite-node's libraries are for linux x64 and arm64, not ${process.platform} ${process.arch}` };
  const source = path.join(tfliteNodePackage, 'binding', 'node_tflite_binding.cc');
  if (!existsSync(source)) return { error: `no ${source}: is tfjs-tflite-node installed?` };
  const require = createRequire(path.join(tfliteNodePackage, 'package.json'));
  const addonApi = path.dirname(require.resolve('node-addon-api/package.json'));
  const napiHeaders = path.join(path.dirname(createRequire(path.join(root, 'package.json')).resolve('node-api-headers/package.json')), 'include');
  const libDir = path.join(tfliteNodePackage, 'cc_deps', libs);
  const args = [
    '-O2', '-std=c++17', '-shared', '-fPIC', '-fexceptions', '-DNAPI_CPP_EXCEPTIONS', '-DNAPI_VERSION=8',
    `-I${napiHeaders}`, `-I${addonApi}`, `-I${path.join(tfliteNodePackage, 'cc_deps', 'include')}`,
    source, '-o', tfliteNodeBinding,
    path.join(libDir, 'libtensorflowlite_c.so'), path.join(libDir, 'libexternal_delegate_obj.so'), `-Wl,-rpath,${libDir}`,
  ];
  return { source, args };
}

/** Builds the binding if it is missing or older than its source; returns its path. */
export function buildTfliteNode({ force = false, quiet = false } = {}) {
  const command = tfliteNodeCommand();
  if (command.error) throw new Error(command.error);
  if (!force && mtime(tfliteNodeBinding) > mtime(command.source)) return tfliteNodeBinding;
  mkdirSync(path.dirname(tfliteNodeBinding), { recursive: true });
  if (!quiet) console.error(`$ g++ ${command.args.join(' ')}`);
  execFileSync('g++', command.args, { stdio: ['ignore', 'inherit', 'inherit'] });
  return tfliteNodeBinding;
}

/** The package's version, for the bench's provenance. */
export function tfliteNodeVersion() {
  return JSON.parse(readFileSync(path.join(tfliteNodePackage, 'package.json'), 'utf8')).version;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`built ${buildTfliteNode({ force: true })} (tfjs-tflite-node ${tfliteNodeVersion()})`);
}
