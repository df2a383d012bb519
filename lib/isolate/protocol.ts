/**
 * Messages between the parent and an isolated child. The child works through a list of items
 * (cases, model folders, one benchmark…) and reports each one as it starts and ends, so a crash
 * or hang is pinned to the item that caused it.
 */
import type { OpenOptions } from '../model.js';

/** Constraints the child puts on itself before anything else. */
export interface Constraints {
  /** Pin every thread of the child to this CPU. */
  cpu?: number;
  /** Address space the child may add after start-up, in bytes (RLIMIT_AS = current size + this). */
  memoryLimitBytes?: number;
}

/** Where the child gets its model: a file, or bytes sent along. */
export type ModelSpec = { path: string; options: OpenOptions } | { bytes: Uint8Array; options: OpenOptions };

export type TaskName = 'describe' | 'feeds' | 'cases' | 'conformance' | 'benchmark' | 'soak' | 'test-crash' | 'test-hang';

export interface ChildRequest {
  task: TaskName;
  model: ModelSpec | null;
  constraints: Constraints;
  items: unknown[];
  common: unknown;
}

export type ChildEvent =
  | { type: 'ready'; constraints: AppliedConstraints }
  | { type: 'phase'; phase: string }
  | { type: 'progress'; payload: unknown }
  | { type: 'item-start'; index: number; phase: string }
  | { type: 'item-done'; index: number; result: unknown }
  | { type: 'done'; result: unknown }
  | { type: 'error'; error: SerializedError };

/** What the child actually applied. */
export interface AppliedConstraints {
  cpu: number | null;
  pinError: string | null;
  memoryLimitBytes: number | null;
  addressSpaceLimitBytes: number | null;
  limitError: string | null;
}

export interface SerializedError {
  name: string;
  code: string | null;
  message: string;
  runtimeMessage: string | null;
}

export function serializeError(err: unknown): SerializedError {
  const e = err as { name?: string; code?: string; message?: string; runtimeMessage?: string };
  return {
    name: e?.name ?? 'Error',
    code: typeof e?.code === 'string' ? e.code : null,
    message: e?.message ?? String(err),
    runtimeMessage: e?.runtimeMessage ?? null,
  };
}
