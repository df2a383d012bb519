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
    // The crash was the child's: this process goes on, and a new child reports back to it (the
    // crash hook, switched off, answers with an error instead of a signal).
    const again = await runIsolated(testTasks.crash, ['segv'], { model: null, env: { MODEL_AUDIT_TEST_HOOKS: '0' } });
    assert.equal(again.items[0].status, 'errored', JSON.stringify(again.items[0]));
  });

  it('an abort is a crashed finding with SIGABRT', async () => {
    const run = await runIsolated(testTasks.crash, ['abort'], { model: null, env: hooks });
    assert.equal(run.items[0].status, 'crashed');
    assert.equal(run.items[0].signal, 'SIGABRT');
  });

  it('a hang is killed after the timeout and gives a hung finding', async () => {
    const started = Date.now();
    // The timeout also covers the child's start-up: 3 s leaves room for a start on a loaded machine.
    const run = await runIsolated(testTasks.hang, [{ name: 'spin' }], { model: null, timeoutMs: 3000 });
    assert.equal(run.items[0].status, 'hung');
    assert.equal(run.items[0].timeoutMs, 3000);
    assert.match(run.items[0].lastPhase, /running spin/);
    assert.ok(Date.now() - started < 30_000);
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
