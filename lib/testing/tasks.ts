/**
 * Child tasks that misbehave on purpose, to show that isolation contains them.
 */
import type { Task } from '../isolate/protocol.js';
import { taskRef } from '../isolate/run.js';
import { native } from '../native.js';

/** Ends the child with SIGSEGV ('segv') or SIGABRT ('abort') from native code (needs MODEL_AUDIT_TEST_HOOKS=1). */
export const crashTask: Task = (item) => native().crashForTest(item as 'segv' | 'abort');

/** Spins until the parent's timeout kills the child. */
export const hangTask: Task = () => {
  for (;;) {
    // never reports back
  }
};

/** The tasks above, as {@link runIsolated} takes them. */
export const testTasks = Object.freeze({
  crash: taskRef(new URL('./tasks.js', import.meta.url), 'crashTask'),
  hang: taskRef(new URL('./tasks.js', import.meta.url), 'hangTask'),
});
