/**
 * What every run() call shares, whatever it runs on (Model.run, BoundRun.run): the JS thread's
 * wait for short calls, and outputs as typed arrays over the buffers the addon made.
 */
import { ModelAuditError } from '../errors.js';
import { native, type NativeOutput } from '../native.js';
import { view, type Tensor } from '../tensor/tensor.js';

/**
 * After run() calls are submitted, one microtask gives the JS thread a bounded wait for those
 * expected to take at most 250 µs (native settleShortCalls): waking a JS thread asleep in the event
 * loop costs more than a small model's run. (Such a call made alone in its turn runs on the JS
 * thread instead, which would spend it waiting anyway: the native side keeps it for this
 * microtask.) So that a loop of awaited runs cannot keep timers and I/O waiting, once 1 ms has
 * passed since the first call after the event loop last turned (the addon reads libuv's count of
 * the loop's iterations), the calls that finish at once are held and settled from an immediate:
 * the event loop turns first, and the JS thread is not put to sleep and woken for them
 * (bench/README.md, section 11: this took run()'s p99 from up to 21 µs above onnxruntime-node's to
 * at most 3.6 µs).
 */
let waitQueued = false;
let settleQueued = false;
/**
 * The wait is queued as a reaction to a settled promise rather than with queueMicrotask(): Node's
 * queueMicrotask() wraps each callback in an async resource, and from cold caches (a call made 80 ms
 * after the last) that cost 20–33 µs of every run() (bench/README.md, section 11); the job runs
 * at the same place in the microtask queue.
 */
const settledPromise = Promise.resolve();

/** Called by run() before it submits a call: queues this turn's wait for short calls. */
export function beforeRun(): void {
  if (waitQueued) return;
  waitQueued = true;
  void settledPromise.then(waitForShortRuns);
}

function waitForShortRuns(): void {
  waitQueued = false;
  if (native().settleShortCalls() > 0 && !settleQueued) {
    settleQueued = true;
    setImmediate(settleHeld);
  }
}

function settleHeld(): void {
  settleQueued = false;
  native().settleHeldCalls();
}

/** The output tensors of one run, by output name, in the model's output order. */
export type Outputs = Record<string, Tensor>;

/** Adds the file to errors the runtime raised about the model. */
export function withPath(err: unknown, path: string | undefined): unknown {
  if (path === undefined || !(err instanceof ModelAuditError) || err.path !== undefined) return err;
  const Ctor = err.constructor as new (message: string, details: { path?: string; runtimeMessage?: string; cause?: unknown }) => ModelAuditError;
  return new Ctor(`${path}: ${err.message}`, { path, runtimeMessage: err.runtimeMessage, cause: err });
}

/** Output tensors as typed arrays over the buffers the addon made (no copy). */
export function toOutputs(outputs: NativeOutput[]): Outputs {
  const result: Outputs = {};
  for (const out of outputs) result[out.name] = { dtype: out.dtype, shape: out.shape, data: view(out.dtype, out.buffer) };
  return result;
}

