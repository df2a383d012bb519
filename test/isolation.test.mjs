// Risky steps run in a child: a crash or hang there is a finding, never the caller's death.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runIsolated, testTasks } from '../dist/testing/index.js';

const hooks = { MODEL_AUDIT_TEST_HOOKS: '1' };

describe('containment', () => {
  it('a child that dies by SIGSEGV gives a crashed finding with that signal, and the parent lives on', async () => {
    const run = await runIsolated(testTasks.crash, ['segv'], { model: null, env: hooks });
    assert.equal(run.items[0].status, 'crashed');
    assert.equal(run.items[0].signal, 'SIGSEGV');
    assert.match(run.items[0].lastPhase, /running segv/);
    assert.ok(process.pid > 0, 'still here');
  });

  it('an abort is a crashed finding with SIGABRT', async () => {
    const run = await runIsolated(testTasks.crash, ['abort'], { model: null, env: hooks });
    assert.equal(run.items[0].status, 'crashed');
    assert.equal(run.items[0].signal, 'SIGABRT');
  });

  it('a hang is killed after the timeout and gives a hung finding', async () => {
    const started = Date.now();
    const run = await runIsolated(testTasks.hang, [{ name: 'spin' }], { model: null, timeoutMs: 500 });
    assert.equal(run.items[0].status, 'hung');
    assert.equal(run.items[0].timeoutMs, 500);
    assert.match(run.items[0].lastPhase, /running spin/);
    assert.ok(Date.now() - started < 10_000);
  });

  it('after a crash, the items after the one that crashed still run in a new child', async () => {
    const run = await runIsolated(testTasks.crash, ['segv', 'abort', 'segv'], { model: null, env: hooks });
    assert.deepEqual(run.items.map((i) => i.signal), ['SIGSEGV', 'SIGABRT', 'SIGSEGV']);
    assert.equal(run.restarts, 3);
  });

  it('the crash hook refuses to run without the test switch', async () => {
    const run = await runIsolated(testTasks.crash, ['segv'], { model: null, env: { MODEL_AUDIT_TEST_HOOKS: '0' } });
    assert.equal(run.items[0].status, 'errored');
    assert.match(run.items[0].error.message, /test hook/);
  });
});
