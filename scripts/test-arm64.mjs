#!/usr/bin/env node
// The core tests on linux-arm64, under user-mode emulation: the arm64 prebuild (npm run
// prebuild:all) loaded by Debian's arm64 Node.js 20 (scripts/arm64-sysroot.mjs) through
// qemu-aarch64-static, on the arm64 runtime libraries the npm packages ship. Tests that start
// child processes need the kernel to run arm64 binaries through qemu (binfmt_misc): as root this
// script registers qemu-aarch64 there if nothing is; otherwise those files are left out, and it
// says so. Emulated timings are not speeds: reports say `cpu.emulated` and warn.
//   npm run test:arm64 [-- open run]        (default: every file below)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arm64Node, makeArm64Sysroot, sysroot } from './arm64-sysroot.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prebuild = join(root, 'prebuilds', 'linux-arm64', 'model-audit.napi.node');
const qemu = '/usr/bin/qemu-aarch64-static';
// open, run, bound, errors: the binding; benchmark: the harness's invariants; memory: the allocation
// counters (the GOT rebinding has aarch64 relocation types of its own); abnormal: children.
const all = ['open', 'run', 'bound', 'errors', 'benchmark', 'memory', 'abnormal'];
const spawning = new Set(['abnormal', 'run']);

function fail(message) {
  console.error(`model-audit: ${message}`);
  process.exit(1);
}

if (!existsSync(qemu)) fail('needs qemu-aarch64-static (Debian: apt-get install qemu-user-static)');
if (!existsSync(prebuild)) fail(`no arm64 prebuild at ${prebuild}: run npm run prebuild:all first`);
makeArm64Sysroot();

/** Whether the kernel hands arm64 ELF files to qemu; registers it when root and nothing does. */
function binfmtReady() {
  const dir = '/proc/sys/fs/binfmt_misc';
  const registered = () => existsSync(join(dir, 'qemu-aarch64')) && readFileSync(join(dir, 'qemu-aarch64'), 'utf8').startsWith('enabled');
  if (existsSync(join(dir, 'register')) && registered()) return true;
  if (process.getuid?.() !== 0) return false;
  try {
    if (!existsSync(join(dir, 'register'))) execFileSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', dir], { stdio: 'ignore' });
    // The ELF header of an aarch64 executable (e_machine 183), and the mask of what varies.
    const magic = '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
    const mask = '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';
    if (!existsSync(join(dir, 'qemu-aarch64'))) writeFileSync(join(dir, 'register'), `:qemu-aarch64:M::${magic}:${mask}:${qemu}:F`);
    console.error('model-audit: registered qemu-aarch64 with binfmt_misc, for the tests that start children');
    return registered();
  } catch (err) {
    console.error(`model-audit: could not register qemu-aarch64 with binfmt_misc (${err.message})`);
    return false;
  }
}

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
let files = asked.length ? asked : all;
if (!binfmtReady()) {
  const left = files.filter((f) => spawning.has(f));
  if (left.length) console.error(`model-audit: arm64 binaries cannot be started as children here; leaving out ${left.join(', ')}`);
  files = files.filter((f) => !spawning.has(f));
}
const started = Date.now();
const r = spawnSync(qemu, [arm64Node, '--test', '--test-concurrency=1', '--test-reporter=spec', ...files.map((f) => join('test', `${f}.test.mjs`))], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, QEMU_LD_PREFIX: sysroot, MODEL_AUDIT_ADDON: prebuild },
});
console.error(`model-audit: arm64 under emulation: ${files.join(', ')} in ${((Date.now() - started) / 1000).toFixed(0)} s, exit ${r.status ?? r.signal}`);
process.exit(r.status ?? 1);
