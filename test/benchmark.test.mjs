// model.benchmark: behaviour, not speed. Invariants, read-back pinning, quality fields, typed errors.
import assert from 'node:assert/strict';
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ClosedModelError, FeedError, OptionsError, RuntimeFailureError, benchmark, openModel } from '../dist/index.js';
import { allowedCpus, environment, harnessInfo } from '../dist/system/index.js';
import { reshapeModel } from './fixtures/onnx-builder.mjs';
import { modelPath } from './helpers.mjs';

const lastCpu = allowedCpus().at(-1);

function assertOrdered(summary) {
  const values = [summary.minNs, summary.p50Ns, summary.p90Ns, summary.p95Ns, summary.p99Ns, summary.p999Ns, summary.maxNs];
  for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] <= values[i], `percentiles out of order: ${values}`);
  assert.ok(summary.minNs > 0);
  assert.ok(summary.p50IntervalNs.lowNs <= summary.p50Ns && summary.p50Ns <= summary.p50IntervalNs.highNs);
}

for (const runtime of ['onnx', 'tflite']) {
  describe(`benchmark on ${runtime}`, () => {
    let model;
    before(async () => {
      model = await openModel(modelPath('hey_jarvis_v0.1', runtime), { intraOpThreads: 1 });
    });
    after(() => model.close());

    it('keeps exactly the asked number of samples, with ordered percentiles', async () => {
      const result = await benchmark(model, { iterations: 500, warmup: { iterations: 5 } });
      assert.equal(result.kind, 'latency');
      assert.ok(result.samplesNs instanceof Float64Array);
      assert.equal(result.samplesNs.length, 500);
      assert.equal(result.summary.count, 500);
      assert.equal(result.phases.steadyState.iterations, 500);
      assert.ok(result.phases.warmup.iterations >= 5);
      assertOrdered(result.summary);
      const sum = result.samplesNs.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(result.summary.meanNs - sum / 500) < 1e-6);
      // Every sample is inside the steady state's wall time.
      assert.ok(sum <= result.phases.steadyState.durationNs);
      assert.ok(result.summary.inferencesPerSecond > 0);
    });

    it('reports the phases apart, and whether the first run was the session’s first', async () => {
      const fresh = await openModel(modelPath('alexa_v0.1', runtime));
      const first = await benchmark(fresh, { iterations: 20 });
      const second = await benchmark(fresh, { iterations: 20 });
      fresh.close();
      for (const key of ['readNs', 'createNs', 'firstRunNs']) assert.ok(first.phases[key] > 0, key);
      assert.equal(first.phases.firstRunColdSession, true);
      assert.equal(second.phases.firstRunColdSession, false);
      assert.equal(first.phases.warmup.stable, null);
    });

    it('pins the measuring thread and reads back where it ran', async () => {
      const result = await benchmark(model, { iterations: 300, cpu: lastCpu });
      assert.equal(result.quality.pinnedCpu, lastCpu);
      assert.deepEqual(result.quality.cpusUsed, [lastCpu]);
      assert.equal(result.quality.cpuChanges, 0);
      assert.ok(!result.quality.warnings.some((w) => w.includes('not pinned')));
    });

    it('carries every measurement-quality field and the environment', async () => {
      const result = await benchmark(model, { iterations: 200 });
      const q = result.quality;
      assert.equal(q.clock.source, 'CLOCK_MONOTONIC_RAW');
      assert.ok(q.clock.resolutionNs > 0);
      assert.ok(q.clock.readCostNs > 0);
      assert.ok(q.harnessOverheadNs > 0);
      assert.equal(q.pinnedCpu, null);
      assert.ok(q.cpusUsed.length >= 1);
      assert.ok(q.migrations === null || q.migrations >= 0);
      assert.ok(q.voluntaryContextSwitches >= 0 && q.involuntaryContextSwitches >= 0);
      // The governor the kernel reports for the CPU it ran on, or null where there is no cpufreq.
      const cpufreq = `/sys/devices/system/cpu/cpu${q.cpusUsed[0]}/cpufreq/scaling_governor`;
      assert.equal(q.governor, existsSync(cpufreq) ? readFileSync(cpufreq, 'utf8').trim() : null);
      assert.equal(q.loadAverage.length, 3);
      assert.ok(Object.keys(q.cpuBusy).length >= 1);
      assert.ok(q.warnings.some((w) => w.includes('not pinned')), 'an unpinned run says so');
      // Under user-mode emulation (npm run test:arm64) the run says its timings are the emulator's; natively it does not.
      assert.equal(q.warnings.some((w) => w.includes('user-mode emulation')), result.environment.cpu.emulated !== null);
      const env = result.environment;
      assert.equal(env.cpu.logicalCpus, os.cpus().length);
      assert.ok(env.cpu.model.length > 0);
      // The ISA features are the kernel's own flag names, from /proc/cpuinfo.
      const flags = new Set((/^(flags|Features)\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[2] ?? '').trim().split(/\s+/));
      assert.ok(env.cpu.isa.length > 0 && env.cpu.isa.every((f) => flags.has(f)), env.cpu.isa.join(' '));
      assert.equal(env.os.kernel, os.release());
      assert.equal(env.node.version, process.version);
      assert.equal(env.runtimes[0].sha256, model.library.sha256);
      assert.equal(result.model.runtime, runtime);
      assert.deepEqual(result.model.options, model.options);
    });

    it('warns when the tail rests on few samples', async () => {
      const result = await benchmark(model, { iterations: 50 });
      assert.ok(result.quality.warnings.some((w) => w.includes('Only 50')));
      assert.equal(result.summary.p99IntervalNs.clipped, true);
    });
  });
}

describe('benchmark options', () => {
  let model;
  before(async () => {
    model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
  });
  after(() => model.close());

  it('runs for a duration when asked, and keeps the JS thread responsive meanwhile', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const result = await benchmark(model, { durationMs: 2000 });
    clearInterval(timer);
    assert.ok(result.phases.steadyState.durationNs >= 2e9);
    assert.ok(ticks >= 20, `a 20 ms JS timer fired ${ticks} times during the 2 s benchmark`);
  });

  it('stops at maxSamples and says so', async () => {
    const result = await benchmark(model, { durationMs: 10_000, maxSamples: 1000 });
    assert.equal(result.samplesNs.length, 1000);
    assert.ok(result.quality.warnings.some((w) => w.includes('maxSamples')));
  });

  it('warms up until stable and reports whether it got there', async () => {
    const result = await benchmark(model, { iterations: 100, warmup: { untilStable: true, tolerance: 0.5 } });
    // Stable means the last windows of the warm-up agree within the tolerance: with 50 % on a
    // 20-µs model that happens within the first few hundred runs; unstable means it ran to its cap.
    const w = result.phases.warmup;
    assert.ok(w.iterations >= 60);
    assert.equal(w.stable, true);
    assert.ok(!result.quality.warnings.some((x) => x.includes('warm-up stopped')));
    // Three batch medians never agree within 0 % in 60 runs of a real model: the cap is reached and said.
    const capped = await benchmark(model, { iterations: 100, warmup: { untilStable: true, tolerance: 0, maxIterations: 60 } });
    assert.equal(capped.phases.warmup.stable, false);
    assert.ok(capped.quality.warnings.some((x) => x.includes('warm-up stopped at its limit')), capped.quality.warnings.join(' | '));
  });

  it('runs on the feeds given, and repeats exactly from a seed otherwise', async () => {
    const feeds = { 'x.1': new Float32Array(16 * 96).fill(0.5) };
    const r = await benchmark(model, { iterations: 10, feeds });
    assert.equal(r.inputs.source, 'feeds');
    const seeded = await benchmark(model, { iterations: 10, seed: 9 });
    assert.deepEqual(seeded.inputs, { source: 'seeded', data: null, sets: 1, order: 'sequential', seed: 9, values: { 'x.1': 'uniform:-1,1' }, shapes: { 'x.1': [1, 16, 96] }, shapesVary: false, chosen: {} });
  });

  const bad = [
    [{ iterations: -1 }, 'ERR_OPTION_RANGE', 'options.iterations'],
    [{ iterations: 0 }, 'ERR_OPTION_RANGE', 'options.iterations'],
    [{ durationMs: 0 }, 'ERR_OPTION_RANGE', 'options.durationMs'],
    [{ durationMs: '1s' }, 'ERR_OPTION_TYPE', 'options.durationMs'],
    [{ cpu: 4000 }, 'ERR_OPTION_RANGE', 'options.cpu'],
    [{ cpu: -1 }, 'ERR_OPTION_RANGE', 'options.cpu'],
    [{ warmup: { iterations: -5 } }, 'ERR_OPTION_RANGE', 'options.warmup.iterations'],
    [{ warmup: { tolerance: 2 } }, 'ERR_OPTION_RANGE', 'options.warmup.tolerance'],
    [{ iteration: 10 }, 'ERR_OPTION_TYPE', 'options.iteration'],
  ];
  for (const [options, code, option] of bad) {
    it(`${JSON.stringify(options)} → OptionsError naming ${option}`, async () => {
      const err = await benchmark(model, options).catch((e) => e);
      assert.ok(err instanceof OptionsError, String(err));
      assert.equal(err.code, code);
      assert.equal(err.option, option);
    });
  }

  it('a CPU that does not exist names the CPUs that do', async () => {
    const err = await benchmark(model, { cpu: 4000 }).catch((e) => e);
    assert.match(err.message, new RegExp(`a CPU this process may run on \\(${allowedCpus().join(', ')}\\)`));
  });

  it('feeds of the wrong shape → FeedError', async () => {
    const err = await benchmark(model, { iterations: 10, feeds: { 'x.1': { data: new Float32Array(96), shape: [1, 1, 96] } } }).catch((e) => e);
    assert.ok(err instanceof FeedError);
    assert.equal(err.field, 'shape');
  });

  it('a dynamic input without a shape gets 1, probed larger when the model refuses 1, and the result says so', async () => {
    const mel = await openModel(modelPath('melspectrogram', 'onnx'));
    const chosen = await benchmark(mel, { iterations: 10 });
    assert.deepEqual(chosen.inputs.chosen.input[0], { axis: 0, size: 1, how: 'default' });
    assert.equal(chosen.inputs.chosen.input[1].how, 'probed');
    assert.equal(chosen.inputs.shapes.input[1], chosen.inputs.chosen.input[1].size);
    const given = await benchmark(mel, { iterations: 10, shapes: { input: [1, 1280] } });
    assert.equal(given.samplesNs.length, 10);
    assert.deepEqual(given.inputs.chosen, {});
    mel.close();
  });

  it('a shape that contradicts the model → OptionsError naming options.shapes', async () => {
    const mel = await openModel(modelPath('melspectrogram', 'onnx'));
    const err = await benchmark(mel, { iterations: 10, shapes: { input: [1280] } }).catch((e) => e);
    assert.ok(err instanceof OptionsError, String(err));
    assert.match(err.message, /Expected rank 2 .* for options\.shapes\["input"\]/);
    mel.close();
  });

  it('a closed model → ClosedModelError', async () => {
    const closed = await openModel(modelPath('alexa_v0.1', 'onnx'));
    closed.close();
    await assert.rejects(benchmark(closed, { iterations: 10 }), ClosedModelError);
  });

  it('a runtime failure → RuntimeFailureError with what was measured before it', async () => {
    const reshape = await openModel(reshapeModel());
    const err = await benchmark(reshape, { iterations: 10, feeds: { x: { data: new Float32Array(5), shape: [5] } } }).catch((e) => e);
    assert.ok(err instanceof RuntimeFailureError, String(err));
    assert.match(err.message, /first run/);
    assert.equal(err.partial.kind, 'latency');
    assert.ok(err.partial.phases.firstRunNs > 0);
    assert.ok(err.partial.quality.clock.readCostNs > 0);
    reshape.close();
  });
});

describe('harnessInfo', () => {
  it('measures the clock and the harness cost per sample', () => {
    const h = harnessInfo();
    assert.equal(h.clockSource, 'CLOCK_MONOTONIC_RAW');
    assert.ok(h.clockResolutionNs > 0 && h.clockReadCostNs > 0 && h.harnessOverheadNs > 0);
    assert.ok(h.clockSmallestStepNs >= h.clockResolutionNs);
  });
});

describe('environment', () => {
  it('fingerprints the machine and the libraries in use', () => {
    const env = environment();
    assert.ok(env.cpu.physicalCores >= 1 && env.cpu.physicalCores <= env.cpu.logicalCpus);
    assert.deepEqual(env.cpu.allowedCpus, allowedCpus());
    assert.ok(env.memory.totalBytes > 0);
    assert.ok(!Number.isNaN(Date.parse(env.takenAt)));
    assert.match(env.addon.path, /\.node$/);
  });
});
