/**
 * Faults injected into a model's runs, to check that a gate catches what it is meant to catch: a
 * leak inside the runtime library's counted allocations, a slower runtime. Only with the
 * environment variable MODEL_AUDIT_TEST_HOOKS=1, so that no production run can carry one.
 */
import { sessionOf } from '../model/access.js';
import type { Model } from '../model/model.js';
import { checkInteger, checkKnownKeys, checkObject } from '../validate.js';

/** Faults applied to every measured run of a model (benchmark, throughput, soak). */
export interface InjectedFaults {
  /** Bytes leaked through the runtime library's counted malloc after every run. @default 0 */
  leakBytesPerRun?: number;
  /** Nanoseconds spun after every run, inside the timed region. @default 0 */
  delayNsPerRun?: number;
}

/** Sets (or, with zeros, clears) the faults of a model's measured runs. Throws unless MODEL_AUDIT_TEST_HOOKS=1. */
export function injectFaults(model: Model, faults: InjectedFaults): void {
  const o = checkObject('faults', faults) ?? {};
  checkKnownKeys('faults', o, ['leakBytesPerRun', 'delayNsPerRun']);
  const session = sessionOf(model);
  const leak = checkInteger('faults.leakBytesPerRun', o.leakBytesPerRun, 0);
  const delay = checkInteger('faults.delayNsPerRun', o.delayNsPerRun, 0);
  if (leak !== undefined) session.setTestLeak(leak);
  if (delay !== undefined) session.setTestDelay(delay);
}
