// The package with a prebuild for this platform, installed where there is no compiler: npm install
// must use the prebuild (no CMake, no header fetch, no compiler) and `npx model-audit run` work.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { userProject } from './helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const addon = join(root, 'build', 'Release', 'model_audit.node');
let dir;
let project;
let env;
let install;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-prebuild-'));
  // The package as `npm pack` would take it, with this machine's addon as its prebuild: what
  // `npm run prebuild:all` puts in prebuilds/ before a release.
  const stage = join(dir, 'stage');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  mkdirSync(stage);
  for (const entry of [...pkg.files, 'package.json', 'README.md']) {
    if (entry === 'prebuilds' || !existsSync(join(root, entry))) continue;
    cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
  const prebuildDir = join(stage, 'prebuilds', `${process.platform}-${process.arch}`);
  mkdirSync(prebuildDir, { recursive: true });
  copyFileSync(addon, join(prebuildDir, 'model-audit.napi.node'));
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: stage, stdio: 'ignore' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  // A PATH with node, npm and the shell npm runs scripts with, and nothing else: no cc, no c++, no
  // cmake, no make, no python3, no apt-get.
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['node', 'npm', 'npx', 'sh']) symlinkSync(execFileSync('which', [tool], { encoding: 'utf8' }).trim(), join(bin, tool));
  env = { ...process.env, PATH: bin, CI: 'true' };
  for (const tool of ['cc', 'gcc', 'g++', 'c++', 'cmake', 'make', 'python3', 'apt-get']) assert.equal(spawnSync(tool, ['--version'], { env }).error?.code, 'ENOENT', `${tool} is reachable`);
  project = userProject(dir);
  install = spawnSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts', join(dir, tarball)], { cwd: project, env, encoding: 'utf8', timeout: 600_000 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('installing the package with a prebuild, with no compiler', () => {
  it('installs, saying it uses the prebuild, and builds nothing', () => {
    assert.equal(install.status, 0, `${install.stdout}\n${install.stderr}`);
    assert.match(install.stdout + install.stderr, /model-audit: using the prebuild in .*prebuilds\/linux-x64/);
    const installed = join(project, 'node_modules', 'model-audit');
    assert.ok(!existsSync(join(installed, 'build')), 'a build/ folder: the addon was compiled');
    assert.ok(!existsSync(join(installed, '.deps')), 'a .deps/ folder: headers were fetched');
  });

  it('npx model-audit run audits the demo model on the prebuild', () => {
    const out = join(dir, 'report');
    const r = spawnSync('npx', ['--no', 'model-audit', 'run', '--steps', 'latency,memory', '--iterations', '300', '--out', out, '--quiet'], { cwd: project, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.environment.addon.path, join(project, 'node_modules', 'model-audit', 'prebuilds', 'linux-x64', 'model-audit.napi.node'));
    assert.equal(report.steps.latency.result.summary.count, 300);
    assert.equal(report.environment.cpu.emulated, null);
  });
});
