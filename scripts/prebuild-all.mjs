#!/usr/bin/env node
// Makes the prebuilds a published package carries, in prebuildify's layout:
//   prebuilds/linux-x64/model-audit.napi.node     built here
//   prebuilds/linux-arm64/model-audit.napi.node   cross-compiled with Debian's g++-aarch64-linux-gnu
// Both are Node-API builds: one file serves every Node version from 20 on. Stripped of symbols.
//   npm run prebuild:all [-- --only x64|arm64]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
const targets = [
  { arch: 'x64', strip: 'strip' },
  { arch: 'arm64', strip: 'aarch64-linux-gnu-strip' },
].filter((t) => only === null || t.arch === only);

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error('model-audit: prebuild:all runs on linux-x64 (it cross-compiles the arm64 prebuild)');
  process.exit(1);
}
try {
  for (const { arch, strip } of targets) {
    const out = join(root, 'build-prebuild', arch);
    console.log(`model-audit: building the linux-${arch} prebuild`);
    buildNative({ out, arch });
    const dir = join(root, 'prebuilds', `linux-${arch}`);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'model-audit.napi.node');
    copyFileSync(join(out, 'Release', 'model_audit.node'), file);
    execFileSync(strip, ['--strip-unneeded', file]);
    const kind = execFileSync('file', ['-b', file], { encoding: 'utf8' }).trim();
    console.log(`model-audit: ${file} (${statSync(file).size} bytes): ${kind}`);
  }
} catch (err) {
  console.error(`model-audit: prebuild failed: ${err.message}`);
  process.exit(1);
}
