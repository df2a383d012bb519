// The package as a user gets it: `npm pack`, installed into a fresh project, the bin run through
// the links npm makes (node_modules/.bin, npx). Tests that call dist/cli.js directly cannot see a
// bin that does nothing when it is reached through a symlink.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { userProject } from './helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir;
let project;

function sh(command, args, options = {}) {
  return spawnSync(command, args, { encoding: 'utf8', cwd: project, env: { ...process.env, CI: 'true' }, timeout: 300_000, ...options });
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-package-'));
  // dist/ is fresh (npm test's pretest built it): packing must not rebuild it under the other tests' feet.
  execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root, stdio: 'ignore' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made no tarball');
  project = userProject(dir);
  const install = sh(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)]);
  assert.equal(install.status, 0, `npm install of the packed tarball failed:\n${install.stdout}\n${install.stderr}`);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the installed model-audit command', () => {
  it('prints its help through node_modules/.bin', () => {
    const r = sh(join(project, 'node_modules', '.bin', 'model-audit'), ['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: model-audit/);
    assert.match(r.stdout, /Exit codes/);
  });

  it('runs the demo audit through npx and writes the four reports', () => {
    const out = join(dir, 'npx-run');
    const r = sh(npm, ['exec', '--no', '--', 'model-audit', 'run', '--out', out, '--quiet']);
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['report.json', 'report.md', 'report.junit.xml', 'report.html']) assert.ok(existsSync(join(out, f)), f);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    assert.equal(report.tool.name, 'model-audit');
    assert.ok(report.steps.latency.result.summary.count > 0);
  });

  it('exits 1 through the bin when a budget fails', () => {
    const config = join(dir, 'tight.yml');
    writeFileSync(config, 'steps:\n  latency:\n    iterations: 200\nbudgets:\n  p50LatencyMs: 0.000001\n');
    const r = sh(join(project, 'node_modules', '.bin', 'model-audit'), ['run', '--config', config, '--out', join(dir, 'tight'), '--quiet']);
    assert.equal(r.status, 1, r.stderr);
    const report = JSON.parse(readFileSync(join(dir, 'tight', 'report.json'), 'utf8'));
    assert.equal(report.budgets[0].passed, false);
  });

  it('records runs in a SQLite store and reads the history back through the bin', () => {
    const bin = join(project, 'node_modules', '.bin', 'model-audit');
    const store = `sqlite:${join(dir, 'audits.db')}`;
    for (let i = 0; i < 2; i++) {
      const r = sh(bin, ['run', '--steps', 'latency,memory', '--iterations', '300', '--out', join(dir, `stored-${i}`), '--quiet', '--store', store]);
      assert.equal(r.status, 0, r.stderr);
    }
    const h = sh(bin, ['history', '--store', store, '--json', '--check']);
    assert.equal(h.status, 0, h.stderr);
    const history = JSON.parse(h.stdout);
    const p50 = history.series.find((x) => x.metric === 'latency.p50Ns');
    assert.equal(p50.points.length, 2);
    assert.equal(p50.latest.verdict, 'not-enough-history');
  });

  it('also runs as `node dist/cli.js`', () => {
    const r = sh(process.execPath, [join(project, 'node_modules', 'model-audit', 'dist', 'cli.js'), '--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});
