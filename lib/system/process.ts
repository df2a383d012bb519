/**
 * Constraints a process puts on itself: CPU affinity for every thread, and an address-space limit.
 */
import { native } from '../native.js';

/** Pins every thread of this process to `cpus`; returns why not, or null when it worked. */
export function pinProcess(cpus: number[]): string | null {
  return native().pinProcess(cpus) || null;
}

/** What {@link limitAddressSpace} set. */
export interface AddressSpaceLimit {
  /** The address space in use when the limit was set. */
  baseBytes: number;
  /** RLIMIT_AS: the base plus the bytes allowed on top. */
  limitBytes: number;
  /** Why the limit could not be set, or null. */
  error: string | null;
}

/** Sets RLIMIT_AS to the address space in use now plus `extraBytes`. */
export function limitAddressSpace(extraBytes: number): AddressSpaceLimit {
  const limit = native().limitAddressSpace(extraBytes);
  return { baseBytes: limit.baseBytes, limitBytes: limit.limitBytes, error: limit.error || null };
}
