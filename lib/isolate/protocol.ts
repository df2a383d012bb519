/**
 * Messages between the parent and an isolated child. The child loads the task module it is told
 * to, works through a list of items (cases, model folders, one benchmark…) and reports each one as
 * it starts and ends, so a crash or hang is pinned to the item that caused it. This module knows
 * no feature: each feature owns its task.
 */
import type { Model } from '../model/model.js';
import type { ModelSpec } from '../model/options.js';

/** Constraints the child puts on itself before anything else. */
export interface Constraints {
  /** Pin every thread of the child to this CPU. */
  cpu?: number;
  /** Address space the child may add after start-up, in bytes (RLIMIT_AS = current size + this). */
  memoryLimitBytes?: number;
}

export type { ModelSpec };

/** A task a child runs: an export of an ES module, named by the module's file URL. */
export interface TaskRef {
  module: string;
  export: string;
}

/** What a task gets besides its item. */
export interface TaskContext {
  /** The model the parent asked the child to open, or null. */
  model: Model | null;
  /** What every item shares (tolerances, options…). */
  common: unknown;
  /** Names what the child is doing now, so a crash or hang can say where it happened. */
  phase(phase: string): Promise<void>;
  /** Sends a progress payload to the parent's onProgress. */
  progress(payload: unknown): Promise<void>;
}

/** One item in, a structured-cloneable result out; a thrown error ends the child's run as `errored`. */
export type Task = (item: unknown, context: TaskContext) => unknown | Promise<unknown>;

export interface ChildRequest {
  task: TaskRef;
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
