/**
 * Budgets: each limit a team sets, checked against a report, passed or failed with the figure.
 */
import { ModelAuditError } from '../errors.js';
import type { AuditReport, BudgetResult, StepName } from '../report/json.js';
import { nsToMs } from '../units.js';
import type { Budgets } from './config.js';

interface BudgetRule {
  step: StepName;
  description: (limit: number | boolean) => string;
  unit: string;
  /** Reads the measured figure from the step's result. */
  measure: (result: any) => number | boolean | null; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** true: actual must be ≤ limit; false: ≥ limit; 'equal': actual must equal limit. */
  compare: 'atMost' | 'atLeast' | 'equal';
}

const ms = (ns: number | null | undefined): number | null => (ns === null || ns === undefined ? null : nsToMs(ns));

const rules: Record<keyof Budgets, BudgetRule> = {
  p50LatencyMs: { step: 'latency', unit: 'ms', compare: 'atMost', description: (l) => `median latency ≤ ${l} ms`, measure: (r) => ms(r?.summary?.p50Ns) },
  p99LatencyMs: { step: 'latency', unit: 'ms', compare: 'atMost', description: (l) => `p99 latency ≤ ${l} ms`, measure: (r) => ms(r?.summary?.p99Ns) },
  minThroughput: {
    step: 'throughput',
    unit: 'inferences/s',
    compare: 'atLeast',
    description: (l) => `throughput ≥ ${l} inferences/s (best concurrency level)`,
    measure: (r) => (Array.isArray(r?.levels) && r.levels.length ? Math.max(...r.levels.map((x: { inferencesPerSecond: number }) => x.inferencesPerSecond)) : null),
  },
  accuracy: {
    step: 'accuracy',
    unit: '',
    compare: 'equal',
    description: () => 'every accuracy case within tolerance',
    measure: (r) => (r ? r.passed > 0 && r.failed === 0 && r.crashed === 0 && r.hung === 0 : null),
  },
  crossRuntimeAgree: { step: 'crossRuntime', unit: '', compare: 'equal', description: () => 'the two runtimes agree within tolerance', measure: (r) => r?.agree ?? null },
  maxPeakMemoryBytes: {
    step: 'memory',
    unit: 'bytes',
    compare: 'atMost',
    description: (l) => `runtime high-water mark during a run ≤ ${l} bytes`,
    measure: (r) => r?.peakRunBytes ?? null,
  },
  maxAllocationsPerRun: {
    step: 'memory',
    unit: 'allocations',
    compare: 'atMost',
    description: (l) => `runtime allocations per inference ≤ ${l}`,
    measure: (r) => r?.perInference?.allocations ?? null,
  },
  noLeak: { step: 'soak', unit: '', compare: 'equal', description: () => 'no memory leak over the soak', measure: (r) => (r?.verdicts && r.verdicts.leakCall !== 'inconclusive' ? !r.verdicts.leak : null) },
  noCrashOnAbnormalInput: {
    step: 'abnormal',
    unit: '',
    compare: 'equal',
    description: () => 'no abnormal input crashes or hangs the runtime',
    measure: (r) => (r?.counts ? r.counts.crashed + r.counts.hung === 0 : null),
  },
  maxInputSensitivity: {
    step: 'sensitivity',
    unit: '×',
    compare: 'atMost',
    description: (l) => `slowest input class at most ${l}× the fastest (10 % trimmed means)`,
    measure: (r) => r?.maxRatio ?? null,
  },
  worksConstrained: { step: 'constrained', unit: '', compare: 'equal', description: () => 'works under the constrained deployment', measure: (r) => r?.works ?? null },
};

/** The step each budget reads. */
export function budgetStep(name: keyof Budgets): StepName {
  return rules[name].step;
}

/** Checks every budget that is set. A budget whose step did not run, or errored, fails. */
export function evaluateBudgets(report: Pick<AuditReport, 'steps'>, budgets: Budgets): BudgetResult[] {
  return (Object.entries(budgets) as [keyof Budgets, number | boolean | undefined][])
    .filter(([, limit]) => limit !== undefined)
    .map(([name, limit]) => {
      const rule = rules[name];
      const step = report.steps[rule.step];
      const base = { name, description: rule.description(limit!), limit: limit!, unit: rule.unit };
      const notMeasured = (reason: string): BudgetResult => ({ ...base, actual: null, status: 'not-measured', passed: false, reason });
      if (!step) return notMeasured(`the ${rule.step} step did not run`);
      if (step.status === 'errored') return notMeasured(`the ${rule.step} step failed (${step.error?.message ?? 'error'})`);
      const actual = rule.measure(step.result);
      if (actual === null) {
        const inconclusive = name === 'noLeak' && (step.result as any)?.verdicts?.leakCall === 'inconclusive';
        const statement = inconclusive ? ((step.result as any).verdicts.runtimeMemory ?? (step.result as any).verdicts.rss)?.statement : null;
        return notMeasured(inconclusive ? `the soak was too short to judge: ${statement}` : `the ${rule.step} step did not measure it`);
      }
      let passed: boolean;
      if (rule.compare === 'equal') passed = actual === limit;
      else if (rule.compare === 'atMost') passed = (actual as number) <= (limit as number);
      else passed = (actual as number) >= (limit as number);
      const shown = typeof actual === 'number' ? `${Number(actual.toPrecision(6))}${rule.unit ? ` ${rule.unit}` : ''}` : String(actual);
      return { ...base, actual, status: passed ? 'passed' : 'failed', passed, reason: passed ? null : `measured ${shown}, budget: ${base.description}` };
    });
}

/** Thrown by assertBudgets; `failures` lists each failed budget with its figure. */
export class BudgetError extends ModelAuditError {
  readonly failures: BudgetResult[];
  constructor(failures: BudgetResult[]) {
    super(`${failures.length} budget(s) failed:\n  ${failures.map((f) => `${f.name}: ${f.reason}`).join('\n  ')}`, {}, 'ERR_BUDGET');
    this.failures = failures;
  }
}

/**
 * Checks budgets against an audit report and throws a BudgetError naming every failure; for
 * node:test or any runner. Returns the results when all pass.
 */
export function assertBudgets(report: Pick<AuditReport, 'steps'>, budgets: Budgets): BudgetResult[] {
  const results = evaluateBudgets(report, budgets);
  const failures = results.filter((r) => !r.passed);
  if (failures.length > 0) throw new BudgetError(failures);
  return results;
}
