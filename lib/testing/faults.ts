/**
 * Faults injected into a model's runs, to check that a gate catches what it is meant to catch: a
 * leak in the runtime library's counted allocations, or one inside the runtime itself (its own
 * allocator, its own call), a slower runtime, a runtime that starts failing part-way. Only with the
 * environment variable MODEL_AUDIT_TEST_HOOKS=1, so that no production run can carry one.
 */
import { sessionOf } from '../model/access.js';
import type { Model } from '../model/model.js';
import { OptionsError } from '../errors.js';
import { checkInteger, checkKnownKeys, checkObject } from '../validate.js';

/** Faults applied to every measured run of a model (benchmark, throughput, soak). */
export interface InjectedFaults {
  /** Bytes leaked through the runtime library's counted malloc after every run. @default 0 */
  leakBytesPerRun?: number;
  /**
   * Bytes the runtime itself allocates after every run and never frees: ONNX Runtime creates a
   * tensor of that many bytes with its default CPU allocator, inside its library (TFLite: refused
   * with UnsupportedConfigurationError). Not with `leakBytesPerRun`. @default 0
   */
  runtimeLeakBytesPerRun?: number;
  /** Nanoseconds spun after every run, inside the timed region. @default 0 */
  delayNsPerRun?: number;
  /**
   * After this many more runs, every run fails with RuntimeFailureError: a runtime that starts
   * failing part-way through a measurement, whose partial result must not be lost. 0 turns it off. @default 0
   */
  failAfterRuns?: number;
}

/** Sets (or, with zeros, clears) the faults of a model's measured runs. Throws unless MODEL_AUDIT_TEST_HOOKS=1. */
export function injectFaults(model: Model, faults: InjectedFaults): void {
  const o = checkObject('faults', faults) ?? {};
  checkKnownKeys('faults', o, ['leakBytesPerRun', 'runtimeLeakBytesPerRun', 'delayNsPerRun', 'failAfterRuns']);
  const session = sessionOf(model);
  const leak = checkInteger('faults.leakBytesPerRun', o.leakBytesPerRun, 0);
  const inside = checkInteger('faults.runtimeLeakBytesPerRun', o.runtimeLeakBytesPerRun, 0);
  const delay = checkInteger('faults.delayNsPerRun', o.delayNsPerRun, 0);
  const failAfter = checkInteger('faults.failAfterRuns', o.failAfterRuns, 0);
  if (leak && inside) throw new OptionsError('faults.leakBytesPerRun and faults.runtimeLeakBytesPerRun are two ways to leak: give one', { option: 'faults.runtimeLeakBytesPerRun' });
  if (inside !== undefined) session.setTestLeak(inside, true);
  else if (leak !== undefined) session.setTestLeak(leak);
  if (delay !== undefined) session.setTestDelay(delay);
  if (failAfter !== undefined) session.setTestFailAfter(failAfter === 0 ? -1 : failAfter);
}
