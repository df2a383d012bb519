/**
 * The versioned JSON report: the source every other view (Markdown, JUnit, HTML) is made from.
 */
import type { Environment } from '../system/environment.js';
import type { AuditConfig } from '../audit/config.js';
import type { InputDescription } from '../inputs/feed-sets.js';
import type { ModelDescription } from '../model/model.js';

/** 2 added `complete`, `inputs`, `findings`, budget `status` and the model's sha256. */
export const reportSchemaVersion = 2;

export type StepName = 'latency' | 'throughput' | 'memory' | 'sensitivity' | 'profile' | 'accuracy' | 'crossRuntime' | 'abnormal' | 'constrained' | 'soak';
export const stepNames: readonly StepName[] = ['latency', 'throughput', 'memory', 'sensitivity', 'profile', 'accuracy', 'crossRuntime', 'abnormal', 'constrained', 'soak'];

export interface StepRecord {
  status: 'completed' | 'errored';
  durationMs: number;
  /** The step's result (typed arrays as plain arrays, non-finite numbers as null). */
  result: unknown;
  /** For an errored step: what went wrong. `result` then holds what it measured before, if anything. */
  error: { name: string; code: string | null; message: string } | null;
}

export interface BudgetResult {
  name: string;
  description: string;
  limit: number | boolean;
  /** What was measured; null when the step did not run or failed. */
  actual: number | boolean | null;
  unit: string;
  /** 'not-measured': the step did not run, failed, or could not tell (`reason` says which). */
  status: 'passed' | 'failed' | 'not-measured';
  /** status === 'passed'. */
  passed: boolean;
  /** Why it failed, in words. */
  reason: string | null;
}

/** What kind of thing a finding is. */
export type FindingKind = 'crash' | 'hang' | 'non-finite-output' | 'slow-input' | 'input-sensitive' | 'leak' | 'drift' | 'not-working-constrained' | 'step-failed';

export interface Finding {
  step: StepName;
  kind: FindingKind;
  /** The finding in one sentence. */
  summary: string;
  /** The model input concerned, when one is. */
  input: string | null;
  /** The abnormal-input class or reference case that caused it, when one did. */
  case: string | null;
  /** For a crash: the signal (or `exit N`). */
  signal: string | null;
  /** For a crash or hang: the last phase the child reported. */
  lastPhase: string | null;
}

export interface AuditReport {
  schemaVersion: typeof reportSchemaVersion;
  tool: { name: 'model-audit'; version: string };
  createdAt: string;
  durationMs: number;
  /** False while steps are still to run (a report written part-way, or cut short by a kill). */
  complete: boolean;
  model: ModelDescription;
  /** What the timed steps fed the model: the source, the feed sets, each input's values and shape, and which dimensions model-audit chose. */
  inputs: InputDescription;
  environment: Environment;
  config: AuditConfig;
  steps: Partial<Record<StepName, StepRecord>>;
  budgets: BudgetResult[];
  /** Crashes, hangs, non-finite outputs, leaks, drift, failed steps: whether or not a budget covers them. */
  findings: Finding[];
  /** Every budget passed and no step errored. */
  passed: boolean;
}

/** Plain JSON: typed arrays become arrays, bigints strings, non-finite numbers null. */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return undefined;
  if (ArrayBuffer.isView(value)) {
    return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v.toString() : Number.isFinite(v) ? v : null));
  }
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const safe = toJsonSafe(v);
      if (safe !== undefined) out[k] = safe;
    }
    return out;
  }
  return value;
}
