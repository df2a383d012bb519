// model.throughput: closed loop, open loop, rate search. Behaviour and invariants only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OptionsError, benchmark, openModel, throughput } from '../dist/index.js';
import { allowedCpus } from '../dist/system/index.js';
import { poissonArrivalsNs } from '../dist/stats/index.js';
import { modelPath } from './helpers.mjs';

const cpus = allowedCpus();

describe('closed-loop throughput', () => {
  for (const runtime of ['onnx', 'tflite']) {
    it(`${runtime}: one result per concurrency level, N streams each, pinned where asked`, async () => {
      const model = await openModel(modelPath('hey_jarvis_v0.1', runtime), { intraOpThreads: 1 });
      const result = await throughput(model, { concurrency: [1, 2], durationMs: 300, cpus });
      assert.equal(result.kind, 'throughput-closed');
      assert.deepEqual(result.levels.map((l) => l.concurrency), [1, 2]);
      for (const level of result.levels) {
        assert.equal(level.streams.length, level.concurrency);
        assert.ok(level.inferencesPerSecond > 0);
        assert.ok(level.wallNs >= 300e6);
        const total = level.streams.reduce((n, s) => n + s.inferences, 0);
        assert.equal(level.latency.count, total);
        level.streams.forEach((s, i) => {
          assert.ok(s.inferences > 0);
          assert.deepEqual(s.cpus, [cpus[i % cpus.length]]);
          assert.ok(s.latency.minNs <= s.latency.p50Ns && s.latency.p50Ns <= s.latency.maxNs);
        });
      }
      // The model's own session still works afterwards; the extra sessions were closed.
      const out = await model.run({ [model.inputs[0].name]: new Float32Array(16 * 96) });
      assert.equal(Object.values(out)[0].data.length, 1);
      model.close();
    });
  }

  it('rejects bad levels', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    await assert.rejects(throughput(model, { concurrency: [0] }), OptionsError);
    await assert.rejects(throughput(model, { concurrency: [] }), OptionsError);
    await assert.rejects(throughput(model, { mode: 'burst' }), OptionsError);
    await assert.rejects(throughput(model, { cpus: [4000] }), OptionsError);
    model.close();
  });
});

describe('open-loop throughput', () => {
  let model;
  before(async () => {
    model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
  });
  after(() => model.close());

  it('serves a Poisson schedule and counts latency from the arrival', async () => {
    const result = await throughput(model, { mode: 'open', ratePerSecond: 2000, durationMs: 500 });
    assert.equal(result.kind, 'throughput-open');
    assert.equal(result.offeredRatePerSecond, 2000);
    // A Poisson process of 2000/s over 0.5 s: 1000 arrivals, standard deviation √1000; and exactly
    // the seeded schedule the options name.
    assert.ok(Math.abs(result.requests - 1000) < 4 * Math.sqrt(1000), `${result.requests} requests`);
    assert.equal(result.requests, poissonArrivalsNs(2000, 500e6, 1).length);
    assert.equal(result.completed + result.abandoned, result.requests);
    assert.equal(result.latencyNs.length, result.requests);
    for (let i = 0; i < result.requests; i++) {
      if (result.latencyNs[i] < 0) continue;
      // Arrival-to-completion includes the call itself.
      assert.ok(result.latencyNs[i] >= result.serviceNs[i], `request ${i}`);
    }
    assert.ok(result.latency.p50Ns >= result.service.p50Ns);
  });

  it('queues when the rate exceeds what one worker can serve', async () => {
    const single = await benchmark(model, { iterations: 200 });
    const overload = 10 * single.summary.inferencesPerSecond;
    const result = await throughput(model, { mode: 'open', ratePerSecond: overload, durationMs: 200 });
    // Queueing makes waiting dominate: the median latency is far above the call's own.
    assert.ok(result.latency.p50Ns > 5 * result.service.p50Ns, `${result.latency.p50Ns} vs ${result.service.p50Ns}`);
  });

  it('draws the same schedule from the same seed, and Poisson gaps average 1/rate', () => {
    const a = poissonArrivalsNs(1000, 5e9, 7);
    assert.deepEqual(a, poissonArrivalsNs(1000, 5e9, 7));
    assert.notDeepEqual(a, poissonArrivalsNs(1000, 5e9, 8));
    assert.ok(Math.abs(a.length - 5000) < 5000 * 0.05, `${a.length} arrivals`);
    for (let i = 1; i < a.length; i++) assert.ok(a[i] >= a[i - 1]);
  });

  it('rejects a missing or non-positive rate', async () => {
    await assert.rejects(throughput(model, { mode: 'open' }), OptionsError);
    await assert.rejects(throughput(model, { mode: 'open', ratePerSecond: -1 }), OptionsError);
  });
});

describe('rate search', () => {
  // The bound is far above any latency this model shows even on a loaded machine (a 2 ms bound
  // failed under load): the test checks the search's mechanics, not the machine.
  it('finds a rate whose p99 meets the bound, below the closed-loop capacity', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'tflite'), { intraOpThreads: 1 });
    const result = await throughput(model, { mode: 'search', p99BoundMs: 500, trialDurationMs: 200, trials: 5 });
    assert.equal(result.kind, 'throughput-search');
    assert.ok(result.capacityPerSecond > 0);
    assert.equal(result.trials.length, 5);
    assert.notEqual(result.maxRatePerSecond, null);
    assert.ok(result.maxRatePerSecond <= result.capacityPerSecond);
    const best = result.trials.find((t) => t.ratePerSecond === result.maxRatePerSecond);
    assert.ok(best.passed && best.p99Ns <= 500e6);
    for (const t of result.trials) assert.equal(t.passed, t.abandoned === 0 && t.p99Ns <= result.p99BoundNs);
    model.close();
  });

  it('says when even the lowest rate misses the bound', async () => {
    const model = await openModel(modelPath('embedding_model', 'onnx'), { intraOpThreads: 1 });
    const result = await throughput(model, {
      mode: 'search',
      p99BoundMs: 0.001,
      trialDurationMs: 200,
      trials: 3,
      shapes: { input_1: [1, 76, 32, 1] },
    });
    assert.equal(result.maxRatePerSecond, null);
    assert.equal(result.trials.length, 1);
    assert.ok(result.warnings.length > 0);
    model.close();
  });
});

describe('ONNX Runtime intra-op thread pinning', () => {
  it('opens with one CPU per worker thread and refuses a wrong count', async () => {
    const path = modelPath('embedding_model', 'onnx');
    const model = await openModel(path, { intraOpThreads: 2, intraOpCpus: [cpus[0]] });
    assert.deepEqual(model.options.intraOpCpus, [cpus[0]]);
    const result = await benchmark(model, { iterations: 20, cpu: cpus.at(-1), shapes: { input_1: [1, 76, 32, 1] } });
    assert.ok(!result.quality.warnings.some((w) => w.includes('intraOpCpus')));
    model.close();
    const unpinned = await openModel(path, { intraOpThreads: 2 });
    const warned = await benchmark(unpinned, { iterations: 20, cpu: cpus.at(-1), shapes: { input_1: [1, 76, 32, 1] } });
    assert.ok(warned.quality.warnings.some((w) => w.includes('intraOpCpus')));
    unpinned.close();
    await assert.rejects(openModel(path, { intraOpThreads: 3, intraOpCpus: [0] }), OptionsError);
    await assert.rejects(openModel(path, { intraOpCpus: [0] }), OptionsError);
    await assert.rejects(openModel(modelPath('embedding_model', 'tflite'), { intraOpThreads: 2, intraOpCpus: [0] }), OptionsError);
  });
});
