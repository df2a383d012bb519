// Error paths a user can reach that no other test feeds: compare on files that are not reports,
// the conformance suite with no folder, and a library error surfacing through the command (exit 3).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { OptionsError } from '../dist/index.js';
import { runOnnxConformance } from '../dist/reference/index.js';
import { modelPath } from './helpers.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-errors-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
}

describe('compare on files that are not reports', () => {
  let report;
  before(() => {
    const r = run(['run', '-o', join(dir, 'ok'), '-q', '-f', 'json', '--steps', 'latency', '--iterations', '300']);
    assert.equal(r.status, 0, r.stderr);
    report = join(dir, 'ok', 'report.json');
  });

  it('exits 2 naming the file that is not JSON, not a report, or of a newer schema', () => {
    writeFileSync(join(dir, 'text.json'), 'this is not JSON');
    const text = run(['compare', report, join(dir, 'text.json')]);
    assert.equal(text.status, 2, text.stderr);
    assert.match(text.stderr, /cannot read the report .*text\.json/);

    writeFileSync(join(dir, 'other.json'), JSON.stringify({ name: 'some other tool', steps: {} }));
    const other = run(['compare', join(dir, 'other.json'), report]);
    assert.equal(other.status, 2, other.stderr);
    assert.match(other.stderr, /other\.json is not a model-audit report/);

    const newer = { ...JSON.parse(readFileSync(report, 'utf8')), schemaVersion: 99 };
    writeFileSync(join(dir, 'newer.json'), JSON.stringify(newer));
    const future = run(['compare', report, join(dir, 'newer.json')]);
    assert.equal(future.status, 2, future.stderr);
    assert.match(future.stderr, /newer\.json is a model-audit report of schema version 99/);

    const missing = run(['compare', report, join(dir, 'absent.json')]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /absent\.json/);
    // And a report against itself is fine: the failures above are the files', not compare's.
    assert.equal(run(['compare', report, report]).status, 0);
  });
});

describe('the conformance suite with no folder', () => {
  it('rejects with an OptionsError naming the folder it looked in', async () => {
    const empty = join(dir, 'no-test-data');
    mkdirSync(empty);
    await assert.rejects(runOnnxConformance({ root: empty }), (e) => e instanceof OptionsError && e.option === 'options.root' && e.message.includes(empty));
    await assert.rejects(runOnnxConformance({ root: join(dir, 'does-not-exist') }), (e) => e instanceof OptionsError && /no ONNX test-data folders found/.test(e.message));
  });
});

describe('a library error through the command', () => {
  it('exits 3 when the runtime cannot build the model, with the error class and the file', () => {
    const bytes = readFileSync(modelPath('hey_jarvis_v0.1', 'onnx'));
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 3)));
    for (const command of [['profile', truncated], ['compare-models', truncated, modelPath('hey_jarvis_v0.1', 'onnx')]]) {
      const r = run(command);
      assert.equal(r.status, 3, `${command[0]}: ${r.stderr}`);
      assert.match(r.stderr, /truncated\.onnx/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace reached the user');
    }
  });
});
