/**
 * Runs a task in a child process so that a runtime crash, abort or hang becomes a finding, not
 * a dead caller. Items are reported one by one; after a crash or hang the child is started again
 * with the items after the one that failed.
 */
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { slowdownFactor } from '../system/environment.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkObject, typeError } from '../validate.js';
import type { AppliedConstraints, ChildEvent, ChildRequest, Constraints, ModelSpec, SerializedError, TaskRef } from './protocol.js';

export type ItemOutcome<T> =
  | { status: 'completed'; result: T }
  /** The task threw: the model could not be opened, or the item failed in a way the task does not classify. */
  | { status: 'errored'; error: SerializedError; lastPhase: string }
  /** The child died: by a signal (SIGSEGV, SIGABRT, SIGKILL from the OOM killer, …) or an unexpected exit. */
  | { status: 'crashed'; signal: string | null; exitCode: number | null; lastPhase: string; stderr: string }
  /** The child stopped reporting for `timeoutMs` and was killed. */
  | { status: 'hung'; timeoutMs: number; lastPhase: string; stderr: string };

export interface IsolatedRun<T> {
  /** One outcome per item, in item order. */
  items: ItemOutcome<T>[];
  /** What the (last) child applied. */
  constraints: AppliedConstraints | null;
  /** Children started after a crash or hang. */
  restarts: number;
}

export interface IsolationOptions {
  model: ModelSpec | null;
  constraints?: Constraints;
  common?: unknown;
  /** Longest silence allowed from the child while one item runs (or while it starts). @default 30000 (× 20 under emulation) */
  timeoutMs?: number;
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** Progress the child reports while an item runs. */
  onProgress?: (payload: unknown) => void;
  /** Start a new child for the items after one that crashed or hung. @default true */
  restart?: boolean;
}

const childScript = fileURLToPath(new URL('./child.js', import.meta.url));

/** Names a task for {@link runIsolated}: the module (a file URL, or a path) and the export to call. */
export function taskRef(module: string | URL, exportName: string): TaskRef {
  const href = module instanceof URL ? module.href : /^[a-z]+:/.test(module) ? module : pathToFileURL(module).href;
  return { module: href, export: exportName };
}
const stderrKeep = 4000;

interface ChildAttempt<T> {
  done: Map<number, ItemOutcome<T>>;
  /** Index (in the full item list) of the item that was running when the child ended, or -1. */
  failedAt: number;
  failure: ItemOutcome<T> | null;
  /** The child failed before its first item: every remaining item shares the failure. */
  beforeItems: boolean;
  constraints: AppliedConstraints | null;
}

function attempt<T>(task: TaskRef, indices: number[], items: unknown[], options: IsolationOptions): Promise<ChildAttempt<T>> {
  return new Promise((resolve) => {
    const timeoutMs = options.timeoutMs ?? 30_000 * slowdownFactor();
    const child = fork(childScript, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Under an address-space limit, glibc's per-thread malloc arenas (64 MiB of address space
      // each) would exhaust it before any real allocation: one arena keeps the limit meaningful.
      env: { ...process.env, ...(options.constraints?.memoryLimitBytes !== undefined ? { MALLOC_ARENA_MAX: '1' } : {}), ...options.env },
      execArgv: [],
    });
    const result: ChildAttempt<T> = { done: new Map(), failedAt: -1, failure: null, beforeItems: true, constraints: null };
    let current = -1;
    let lastPhase = 'starting the child';
    let stderr = '';
    let finished = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-stderrKeep);
    });
    child.on('message', (event: ChildEvent) => {
      arm();
      switch (event.type) {
        case 'ready':
          result.constraints = event.constraints;
          lastPhase = 'applying constraints';
          break;
        case 'phase':
          lastPhase = event.phase;
          break;
        case 'progress':
          options.onProgress?.(event.payload);
          break;
        case 'item-start':
          result.beforeItems = false;
          current = indices[event.index]!;
          lastPhase = event.phase;
          break;
        case 'item-done':
          result.done.set(indices[event.index]!, { status: 'completed', result: event.result as T });
          current = -1;
          break;
        case 'done':
          finished = true;
          break;
        case 'error':
          result.failedAt = current;
          result.failure = { status: 'errored', error: event.error, lastPhase };
          finished = true;
          break;
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!finished) {
        result.failedAt = current;
        result.failure = timedOut
          ? { status: 'hung', timeoutMs, lastPhase, stderr }
          : { status: 'crashed', signal: signal ?? null, exitCode: code, lastPhase, stderr };
      }
      resolve(result);
    });
    arm();
    const request: ChildRequest = {
      task,
      model: options.model,
      constraints: options.constraints ?? {},
      items: indices.map((i) => items[i]),
      common: options.common ?? null,
    };
    child.send(request);
  });
}

/**
 * Runs `task` over `items` in child processes; never throws for what happens inside them. The
 * child imports the task's module and calls its export once per item.
 */
export async function runIsolated<T>(task: TaskRef, items: unknown[], options: IsolationOptions): Promise<IsolatedRun<T>> {
  if (typeof task?.module !== 'string' || typeof task.export !== 'string') throw typeError('task', 'a task reference made by taskRef()', task);
  if (!Array.isArray(items)) throw typeError('items', 'an array', items);
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, ['model', 'constraints', 'common', 'timeoutMs', 'env', 'onProgress', 'restart']);
  checkInteger('options.timeoutMs', o.timeoutMs, 1);
  checkBoolean('options.restart', o.restart);
  const outcomes: (ItemOutcome<T> | undefined)[] = new Array(items.length);
  let remaining = items.map((_, i) => i);
  let restarts = 0;
  let constraints: AppliedConstraints | null = null;
  while (remaining.length > 0) {
    const run = await attempt<T>(task, remaining, items, options);
    constraints = run.constraints ?? constraints;
    for (const [index, outcome] of run.done) outcomes[index] = outcome;
    if (!run.failure) break;
    if (run.beforeItems || run.failedAt < 0) {
      // It failed before reaching an item (opening the model, say): every item left shares that.
      for (const index of remaining) outcomes[index] ??= run.failure;
      break;
    }
    outcomes[run.failedAt] = run.failure;
    remaining = remaining.filter((i) => outcomes[i] === undefined);
    if (options.restart === false) {
      for (const index of remaining) outcomes[index] = run.failure;
      break;
    }
    restarts++;
  }
  return { items: outcomes.map((o) => o!), constraints, restarts };
}
