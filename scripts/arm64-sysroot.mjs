#!/usr/bin/env node
// An arm64 Node.js to run the tests under user-mode emulation (qemu-aarch64-static -L SYSROOT):
// Debian 13's nodejs (20.x) for arm64 and the packages it depends on, fetched with a private apt
// configuration and unpacked under .deps/arm64-sysroot. Nothing is installed system-wide and the
// system's dpkg architectures are not changed.
//   node scripts/arm64-sysroot.mjs      prints the sysroot's path
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { privateApt } from './fetch-ort-headers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sysroot = join(root, '.deps', 'arm64-sysroot');
export const arm64Node = join(sysroot, 'usr', 'bin', 'node');

export function makeArm64Sysroot({ log = console.error } = {}) {
  if (existsSync(arm64Node)) return sysroot;
  const aptDir = join(root, '.deps', 'apt-arm64');
  const apt = privateApt(aptDir, 'arm64', 'trixie');
  log('model-audit: fetching Debian trixie nodejs for arm64 and its dependencies');
  execFileSync('apt-get', [...apt, '-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The dependency closure apt resolves against an empty status: everything nodejs needs to start.
  const plan = execFileSync('apt-get', [...apt, '-s', '--no-install-recommends', 'install', 'nodejs'], { encoding: 'utf8' });
  const packages = plan.split('\n').filter((l) => l.startsWith('Inst ')).map((l) => `${l.split(' ')[1]}:arm64`);
  execFileSync('apt-get', [...apt, '-qq', 'download', ...packages], { cwd: join(aptDir, 'debs'), stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(sysroot, { recursive: true, force: true });
  mkdirSync(sysroot, { recursive: true });
  for (const deb of readdirSync(join(aptDir, 'debs')).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', join(aptDir, 'debs', deb), sysroot]);
  // Merged /usr: node's ELF interpreter is /lib/ld-linux-aarch64.so.1.
  symlinkSync('usr/lib', join(sysroot, 'lib'));
  symlinkSync('usr/bin', join(sysroot, 'bin'));
  // qemu-user passes the host's /proc/cpuinfo through, in x86's format, and ONNX Runtime's CPU
  // detection dies reading it; qemu looks /proc paths up under -L first, so an arm64 one goes here.
  // It names the machine as emulated, which the report's CPU model then says.
  mkdirSync(join(sysroot, 'proc'), { recursive: true });
  const cpu = (i) => `processor\t: ${i}\nmodel name\t: qemu-user emulated aarch64\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n`;
  writeFileSync(join(sysroot, 'proc', 'cpuinfo'), cpu(0) + cpu(1));
  rmSync(aptDir, { recursive: true, force: true });
  log(`model-audit: ${packages.length} packages unpacked in ${sysroot}`);
  return sysroot;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(makeArm64Sysroot());
  } catch (err) {
    console.error(`model-audit: ${err.message}`);
    process.exit(1);
  }
}
