// audit(): steps, budgets, a failing step that keeps what it measured, configuration checks.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BudgetError, OptionsError, assertBudgets, audit, evaluateBudgets, loadConfig, openModel, toJUnit, toMarkdown } from '../dist/index.js';
import { validateConfig } from '../dist/report/index.js';
import { reshapeModel } from './fixtures/onnx-builder.mjs';
import { modelPath } from './helpers.mjs';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'model-audit-audit-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('audit', () => {
  let report;
  before(async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
    report = await audit(model, {
      steps: {
        latency: { iterations: 500 },
        throughput: { concurrency: [1, 2], durationMs: 200 },
        abnormal: { kinds: ['nan', 'zeros', 'wrong-shape'] },
        constrained: { intraOpThreads: 1 },
        // 12 windows at least make a leak verdict: 25 nominal, as under the sanitizers on a busy
        // 2-CPU machine a 1.5-s soak closed only 11 (its windows stretched to 136 ms).
        soak: { durationMs: 2500, windowMs: 100 },
        crossRuntime: { other: modelPath('hey_jarvis_v0.1', 'tflite') },
      },
      budgets: {
        p99LatencyMs: 1000,
        p50LatencyMs: 0.000001,
        minThroughput: 1,
        maxAllocationsPerRun: 1000,
        maxPeakMemoryBytes: 1024 ** 3,
        noLeak: true,
        noCrashOnAbnormalInput: true,
        worksConstrained: true,
        crossRuntimeAgree: true,
        accuracy: true,
      },
    });
    model.close();
  });

  it('runs every configured step and records each', () => {
    for (const step of ['latency', 'throughput', 'memory', 'abnormal', 'constrained', 'soak', 'crossRuntime']) {
      assert.equal(report.steps[step]?.status, 'completed', step);
    }
    assert.equal(report.steps.accuracy, undefined);
    assert.equal(report.schemaVersion, 2);
    assert.equal(report.complete, true);
    assert.equal(report.model.sha256, createHash('sha256').update(readFileSync(modelPath('hey_jarvis_v0.1', 'onnx'))).digest('hex'));
    assert.equal(report.tool.name, 'model-audit');
    assert.ok(Array.isArray(report.steps.latency.result.samplesNs) && report.steps.latency.result.samplesNs.length === 500);
    assert.equal(report.environment.runtimes[0].runtime, 'onnx');
  });

  it('checks every budget, with the measured figure and why a failure failed', () => {
    const byName = Object.fromEntries(report.budgets.map((b) => [b.name, b]));
    for (const name of ['p99LatencyMs', 'minThroughput', 'maxAllocationsPerRun', 'maxPeakMemoryBytes', 'noLeak', 'noCrashOnAbnormalInput', 'worksConstrained', 'crossRuntimeAgree']) {
      assert.equal(byName[name].passed, true, `${name}: ${byName[name].reason}`);
    }
    assert.equal(byName.p50LatencyMs.passed, false);
    assert.match(byName.p50LatencyMs.reason, /measured .* ms, budget: median latency ≤ 0.000001 ms/);
    assert.equal(byName.accuracy.passed, false);
    assert.match(byName.accuracy.reason, /did not run/);
    assert.equal(report.passed, false);
  });

  it('renders Markdown and JUnit from the report', () => {
    const md = toMarkdown(report);
    assert.match(md, /model-audit — hey_jarvis_v0\.1\.onnx: budgets FAILED \(1 of 10 failed, 1 not measured\)/);
    assert.match(md, /\| median latency ≤ 0.000001 ms \|/);
    const xml = toJUnit(report);
    assert.equal((xml.match(/<testcase /g) ?? []).length, report.budgets.length);
    assert.equal((xml.match(/<failure /g) ?? []).length, report.budgets.filter((b) => !b.passed).length);
  });

  it('a failing step keeps what it measured, and the other steps still run', async () => {
    const model = await openModel(reshapeModel());
    const failing = await audit(model, {
      inputs: { shapes: { x: [5] } },
      steps: { latency: { iterations: 20 }, abnormal: { kinds: ['zeros'] } },
      budgets: { p99LatencyMs: 100 },
    });
    model.close();
    assert.equal(failing.steps.latency.status, 'errored');
    assert.equal(failing.steps.latency.error.code, 'ERR_RUNTIME');
    assert.ok(failing.steps.latency.result.phases.firstRunNs > 0, 'the partial result is kept');
    assert.equal(failing.steps.abnormal.status, 'completed');
    assert.equal(failing.budgets[0].passed, false);
    assert.match(failing.budgets[0].reason, /latency step failed/);
    assert.equal(failing.passed, false);
  });
});

describe('assertBudgets', () => {
  const report = { steps: { latency: { status: 'completed', durationMs: 1, result: { summary: { p50Ns: 2e6, p99Ns: 5e6 } }, error: null } } };

  it('returns the results when every budget holds', () => {
    assert.equal(assertBudgets(report, { p99LatencyMs: 6 })[0].passed, true);
  });

  it('throws a BudgetError naming each failure', () => {
    assert.throws(
      () => assertBudgets(report, { p99LatencyMs: 4, p50LatencyMs: 1 }),
      (err) => err instanceof BudgetError && err.code === 'ERR_BUDGET' && err.failures.length === 2 && /p99LatencyMs: measured 5 ms/.test(err.message),
    );
  });

  it('a budget whose step is missing fails as not measured', () => {
    const [r] = evaluateBudgets(report, { noLeak: true });
    assert.equal(r.passed, false);
    assert.equal(r.actual, null);
  });
});

describe('configuration', () => {
  it('reads YAML and JSON', () => {
    writeFileSync(join(dir, 'a.yaml'), 'open:\n  intraOpThreads: 1\nsteps:\n  latency:\n    iterations: 100\nbudgets:\n  p99LatencyMs: 5\n');
    assert.deepEqual(loadConfig(join(dir, 'a.yaml')), { open: { intraOpThreads: 1 }, steps: { latency: { iterations: 100 } }, budgets: { p99LatencyMs: 5 } });
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ budgets: { noLeak: true } }));
    assert.deepEqual(loadConfig(join(dir, 'a.json')), { budgets: { noLeak: true } });
  });

  it('names every offending key and why', () => {
    const err = (() => {
      try {
        validateConfig({ steps: { latency: { iterations: 0 }, bogus: {} }, budgets: { p99LatencyMS: 5 }, open: { runtime: 'trt' } });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof OptionsError);
    assert.match(err.message, /config\.steps\.latency\.iterations: must be >= 1/);
    assert.match(err.message, /config\.steps: unknown key "bogus"/);
    assert.match(err.message, /config\.budgets: unknown key "p99LatencyMS"/);
    assert.match(err.message, /config\.open\.runtime: must be one of "onnx", "tflite"/);
  });

  it('reports unreadable YAML with the file name', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'steps: [unclosed\n');
    assert.throws(() => loadConfig(join(dir, 'bad.yaml')), /bad\.yaml is not valid YAML/);
  });
});
