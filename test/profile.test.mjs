// profile(): per-node and per-operator-type times from ONNX Runtime's profiler, in a pass of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UnsupportedConfigurationError, audit, compareReports, openModel, profile } from '../dist/index.js';
import { specOf } from '../dist/model/access.js';
import { openProfiledSession } from '../dist/model/model.js';
import { modelPath, pairs } from './helpers.mjs';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-profile-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));


describe('profile on ONNX Runtime', () => {
  for (const { name, shapes } of pairs) {
    it(`${name}: every node of every profiled run, once; op types and shares that add up`, async () => {
      const model = await openModel(modelPath(name, 'onnx'), { intraOpThreads: 1 });
      try {
        const r = await profile(model, { runs: 20, warmupRuns: 2, shapes: shapes ? { [model.inputs[0].name]: shapes[0] } : {} });
        assert.equal(r.kind, 'profile');
        assert.equal(r.runs, 20);
        assert.ok(r.nodes.length >= 1);
        // A node outside control flow runs once per run.
        const straight = r.nodes.filter((n) => n.opType !== 'If');
        assert.ok(straight.every((n) => n.calls === 20), JSON.stringify(straight.map((n) => [n.name, n.calls])));
        // Op types: exactly the types of the nodes listed, each counted once per node.
        const types = new Map();
        for (const n of r.nodes) types.set(n.opType, (types.get(n.opType) ?? 0) + 1);
        assert.deepEqual(new Map(r.opTypes.map((t) => [t.opType, t.nodes])), types);
        assert.ok(r.opTypes.every((t) => t.opType !== '?' && t.opType.length > 0));
        const share = r.nodes.reduce((a, n) => a + n.share, 0);
        assert.ok(share > 0 && share < 1.2, `shares sum to ${share}`);
        assert.ok(Math.abs(share - r.nodeSumRatio) < 1e-9);
        assert.ok(r.profiledRunP50Ns > 0 && r.unprofiledP50Ns > 0);
        assert.ok(r.nodes.every((n) => n.provider === 'CPUExecutionProvider'));
      } finally {
        model.close();
      }
    });
  }

  it('a profiled session gives the same outputs as the model unprofiled', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'));
    const session = await openProfiledSession(specOf(model), join(dir, 'outputs'));
    try {
      const feeds = [{ dtype: 'float32', shape: [1, 16, 96], data: Float32Array.from({ length: 16 * 96 }, (_, i) => Math.sin(i)) }];
      const plain = model.runSync({ [model.inputs[0].name]: feeds[0] });
      const profiled = session.runSync(feeds);
      assert.deepEqual(new Float32Array(profiled[0].buffer), Object.values(plain)[0].data);
      assert.ok(existsSync(session.endProfiling()));
    } finally {
      session.close();
      model.close();
    }
  });

  it('writes the trace when asked, in the Chrome trace format', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    try {
      const traceFile = join(dir, 'alexa.trace.json');
      const r = await profile(model, { runs: 5, traceFile });
      assert.equal(r.traceFile, traceFile);
      const events = JSON.parse(readFileSync(traceFile, 'utf8'));
      assert.ok(events.some((e) => e.name === 'model_run' && e.ph === 'X'));
    } finally {
      model.close();
    }
  });

  it('a trace file it cannot write is an OptionsError naming the file', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    try {
      const where = join(dir, 'no-such-folder', 'x.trace.json');
      await assert.rejects(profile(model, { runs: 2, traceFile: where }), (e) => e.name === 'OptionsError' && e.message.includes(where));
    } finally {
      model.close();
    }
  });

  it('refuses TFLite models with a typed error that says why', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'));
    try {
      await assert.rejects(profile(model), (e) => e instanceof UnsupportedConfigurationError && /no profiler/.test(e.message));
    } finally {
      model.close();
    }
  });
});

describe('profile in the audit, the command and compare', () => {
  it('the profile step reports operator types, and compare ranks where a change came from', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
    try {
      const a = await audit(model, { steps: { profile: { runs: 10 } } });
      assert.equal(a.steps.profile.status, 'completed');
      assert.ok(a.steps.profile.result.opTypes.length > 0);
      // A second report whose Gemm time doubled: compare names Gemm first.
      const b = structuredClone(a);
      for (const t of b.steps.profile.result.opTypes) if (t.opType === 'Gemm') t.perRunNs *= 2;
      const c = compareReports(a, b);
      assert.equal(c.operators[0].opType, 'Gemm');
      assert.ok(c.operators[0].changeNs > 0);
    } finally {
      model.close();
    }
  });

  it('model-audit profile prints the tables and writes the trace', () => {
    const trace = join(dir, 'cli.trace.json');
    const r = spawnSync(process.execPath, [cli, 'profile', modelPath('hey_jarvis_v0.1', 'onnx'), '--runs', '10', '--threads', '1', '--trace', trace], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\| operator type \| nodes \| share of the run/);
    assert.match(r.stdout, /Gemm/);
    assert.ok(existsSync(trace));
    const tfl = spawnSync(process.execPath, [cli, 'profile', modelPath('hey_jarvis_v0.1', 'tflite')], { encoding: 'utf8' });
    assert.notEqual(tfl.status, 0);
    assert.match(tfl.stderr, /no profiler/);
  });
});
