// Allocator-level counters for the runtime library alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchmark, openModel } from '../dist/index.js';
import { runtimeMemory } from '../dist/system/index.js';
import { bigIntermediateModel, twoBranchModel } from './fixtures/onnx-builder.mjs';
import { modelPath } from './helpers.mjs';

const MiB = 1024 * 1024;
const intermediateBytes = 64 * MiB;

describe('a model with one 64 MiB intermediate (CPU arena off)', () => {
  const open = () =>
    openModel(bigIntermediateModel(intermediateBytes / 4), { cpuMemArena: false, graphOptimizationLevel: 'disabled', intraOpThreads: 1 });

  it('the high-water mark during a run is at least 64 MiB and less than twice it', async () => {
    const model = await open();
    model.resetPeak();
    const before = model.memory().counters;
    assert.equal(before.peakLiveBytes, before.liveBytes, 'resetPeak sets the peak to the live level');
    const out = await model.run({ x: Float32Array.of(1) });
    assert.equal(out.z.data[0], intermediateBytes / 4);
    const after = model.memory().counters;
    const peak = after.peakLiveBytes - before.liveBytes;
    assert.ok(peak >= intermediateBytes, `peak ${peak / MiB} MiB`);
    assert.ok(peak < 2 * intermediateBytes, `peak ${peak / MiB} MiB`);
    // The intermediate is gone after the run.
    assert.ok(Math.abs(after.liveBytes - before.liveBytes) < MiB);
    model.close();
  });

  it('the benchmark reports it in the first-run phase', async () => {
    const model = await open();
    const result = await benchmark(model, { iterations: 3, warmup: { iterations: 1 }, memory: { iterations: 2 } });
    const first = result.memory.firstRun;
    assert.ok(first.peakBytesAboveStart >= intermediateBytes && first.peakBytesAboveStart < 2 * intermediateBytes);
    assert.ok(result.memory.steadyState.peakBytesAboveStart >= intermediateBytes);
    assert.ok(Math.abs(result.memory.perInference.netGrowthBytes) < 1024);
    model.close();
  });

  it('after close, the library’s live bytes come back to within 1 MiB of the level before load', async () => {
    // The first session of a process builds process-wide state that stays; the check holds per
    // open/run/close cycle from then on.
    for (let cycle = 0; cycle < 3; cycle++) {
      const before = runtimeMemory('onnx').counters?.liveBytes ?? 0;
      const model = await open();
      await model.run({ x: Float32Array.of(2) });
      model.close();
      const after = runtimeMemory('onnx').counters.liveBytes;
      if (cycle > 0) assert.ok(Math.abs(after - before) < MiB, `cycle ${cycle}: ${before} → ${after}`);
    }
  });

  it('closing the last model restores the library’s original bindings', async () => {
    const model = await open();
    assert.equal(runtimeMemory('onnx').counted, true);
    model.close();
    assert.equal(runtimeMemory('onnx').counted, false);
  });

  it('with the CPU arena on, the high-water mark shows what the arena reserved', async () => {
    const model = await openModel(bigIntermediateModel(intermediateBytes / 4), { graphOptimizationLevel: 'disabled' });
    model.resetPeak();
    const before = model.memory().counters.liveBytes;
    await model.run({ x: Float32Array.of(1) });
    const peak = model.memory().counters.peakLiveBytes - before;
    assert.ok(peak >= intermediateBytes);
    model.close();
  });
});

describe('allocations on the runtime’s own threads', () => {
  for (const [threads, expectOthers] of [
    [2, true],
    [1, false],
  ]) {
    it(`interOpThreads ${threads}: ${expectOthers ? 'allocations on worker threads are counted' : 'none are on other threads'}`, async () => {
      const model = await openModel(twoBranchModel(1 << 20), {
        interOpThreads: threads,
        intraOpThreads: 1,
        cpuMemArena: false,
        graphOptimizationLevel: 'disabled',
      });
      const before = model.memory().counters;
      for (let i = 0; i < 5; i++) await model.run({ x: Float32Array.of(1) });
      const after = model.memory().counters;
      const others = after.otherThreadAllocations - before.otherThreadAllocations;
      assert.ok(after.allocations > before.allocations);
      if (expectOthers) assert.ok(others > 0, `${others} allocations on other threads`);
      else assert.equal(others, 0);
      model.close();
    });
  }
});

describe('memory in results', () => {
  for (const runtime of ['onnx', 'tflite']) {
    it(`${runtime}: phases, per-inference figures and process cross-checks`, async () => {
      const model = await openModel(modelPath('hey_jarvis_v0.1', runtime), { intraOpThreads: 1 });
      const result = await benchmark(model, { iterations: 200 });
      const m = result.memory;
      assert.equal(m.counted, true);
      assert.equal(m.notCountedReason, null);
      assert.ok(m.creation.allocations > 0);
      if (runtime === 'tflite') assert.ok(m.load.allocations > 0);
      else assert.equal(m.load, null);
      assert.ok(m.firstRun.allocations > 0);
      assert.equal(m.steadyStateSource, 'memory-pass');
      assert.equal(m.steadyStateIterations, 100);
      assert.ok(m.perInference.allocations > 0);
      assert.equal(m.perInference.allocations, m.steadyState.allocations / 100);
      assert.ok(Math.abs(m.perInference.netGrowthBytes) < 64);
      // Under user-mode emulation the process figures are the emulator's (RSS reads 0 there).
      for (const p of result.environment.cpu.emulated ? [] : [m.process.before, m.process.after]) {
        assert.ok(p.rssBytes > 0 && p.peakRssBytes >= p.rssBytes * 0.5);
        // glibc's mallinfo2; under AddressSanitizer malloc is ASan's and glibc's heap is empty.
        if (!process.env.MODEL_AUDIT_SANITIZE) assert.ok(p.heapInUseBytes > 0);
      }
      assert.equal(m.runtimeAllocatorStats, null);
      assert.deepEqual(model.openMemory.creation, m.creation);
      model.close();
    });
  }

  it('counting the timed loop itself is possible, and the result says what it costs', async () => {
    const model = await openModel(modelPath('hey_jarvis_v0.1', 'onnx'), { intraOpThreads: 1 });
    const result = await benchmark(model, { iterations: 300, memory: { countSteadyState: true } });
    assert.equal(result.memory.steadyStateSource, 'timed-loop');
    assert.equal(result.memory.steadyStateIterations, 300);
    assert.ok(result.quality.warnings.some((w) => w.includes('Allocation counting was on')));
    model.close();
  });

  it('a model opened with countAllocations: false says its memory was not counted', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'tflite'), { countAllocations: false });
    const snapshot = model.memory();
    assert.equal(snapshot.counted, false);
    assert.match(snapshot.notCountedReason, /countAllocations: false/);
    const result = await benchmark(model, { iterations: 20 });
    assert.equal(result.memory.counted, false);
    assert.equal(result.memory.steadyState, null);
    assert.equal(result.memory.perInference, null);
    assert.equal(model.openMemory.creation, null);
    model.close();
  });

  it('model.memory() and resetPeak() on a closed model throw', async () => {
    const model = await openModel(modelPath('alexa_v0.1', 'onnx'));
    model.close();
    assert.throws(() => model.memory(), { code: 'ERR_MODEL_CLOSED' });
    assert.throws(() => model.resetPeak(), { code: 'ERR_MODEL_CLOSED' });
  });
});
