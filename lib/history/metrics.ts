/**
 * The metrics a stored audit keeps as rows, one value each, and what a worse value of each is:
 * the figures a history is drawn and judged on. The full report is stored beside them.
 */
import type { AuditReport } from '../report/json.js';

export type MetricName =
  | 'latency.p50Ns'
  | 'latency.p99Ns'
  | 'throughput.inferencesPerSecond'
  | 'memory.allocationsPerInference'
  | 'memory.peakRunBytes'
  | 'memory.openPeakBytes'
  | 'sensitivity.p50Ns';

/** What a series of one metric is judged with. */
export interface MetricRule {
  unit: 'ns' | 'inferences/s' | 'allocations' | 'bytes';
  /** Which way is worse. */
  worse: 'higher' | 'lower';
  /** Which noise floor applies: the tail's is wider (compare's `minTailEffect`). */
  floor: 'central' | 'tail';
  /** A change must also exceed this in the metric's unit (exact counters move by whole units). */
  minAbsolute: number;
  description: string;
}

export const metricRules: Readonly<Record<MetricName, MetricRule>> = {
  'latency.p50Ns': { unit: 'ns', worse: 'higher', floor: 'central', minAbsolute: 0, description: 'latency p50 of the latency step' },
  'latency.p99Ns': { unit: 'ns', worse: 'higher', floor: 'tail', minAbsolute: 0, description: 'latency p99 of the latency step' },
  'throughput.inferencesPerSecond': { unit: 'inferences/s', worse: 'lower', floor: 'central', minAbsolute: 0, description: 'best closed-loop throughput level' },
  'memory.allocationsPerInference': { unit: 'allocations', worse: 'higher', floor: 'central', minAbsolute: 0.5, description: 'runtime allocations per inference (memory step)' },
  'memory.peakRunBytes': { unit: 'bytes', worse: 'higher', floor: 'central', minAbsolute: 1024, description: 'runtime high-water of a run above its start (memory step)' },
  'memory.openPeakBytes': { unit: 'bytes', worse: 'higher', floor: 'central', minAbsolute: 1024, description: 'runtime high-water while the model was opened (memory step)' },
  'sensitivity.p50Ns': { unit: 'ns', worse: 'higher', floor: 'central', minAbsolute: 0, description: 'latency p50 of one input class (sensitivity step)' },
};

/** The metrics' names as tables and charts show them. */
const labels: Record<MetricName, string> = {
  'latency.p50Ns': 'latency p50',
  'latency.p99Ns': 'latency p99',
  'throughput.inferencesPerSecond': 'throughput',
  'memory.allocationsPerInference': 'allocations per inference',
  'memory.peakRunBytes': 'run high-water',
  'memory.openPeakBytes': 'open high-water',
  'sensitivity.p50Ns': 'p50',
};

export function metricLabel(metric: MetricName, inputClass = ''): string {
  const label = labels[metric] ?? metric;
  return inputClass ? `${label} (${inputClass} inputs)` : label;
}

export const metricNames = Object.keys(metricRules) as MetricName[];

export interface MetricRow {
  name: MetricName;
  /** The input class of a per-class metric (sensitivity), '' otherwise. */
  inputClass: string;
  unit: MetricRule['unit'];
  value: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The key metrics of a report, one row each; a step that did not run or failed gives none. */
export function keyMetrics(report: AuditReport): MetricRow[] {
  const rows: MetricRow[] = [];
  const add = (name: MetricName, value: unknown, inputClass = ''): void => {
    if (finite(value)) rows.push({ name, inputClass, unit: metricRules[name].unit, value });
  };
  const completed = (step: keyof AuditReport['steps']): any => (report.steps[step]?.status === 'completed' ? report.steps[step]?.result : undefined);
  const latency = completed('latency')?.summary;
  add('latency.p50Ns', latency?.p50Ns);
  add('latency.p99Ns', latency?.p99Ns);
  const levels = completed('throughput')?.levels;
  if (Array.isArray(levels) && levels.length > 0) add('throughput.inferencesPerSecond', Math.max(...levels.map((l: any) => l.inferencesPerSecond)));
  const memory = completed('memory');
  if (memory?.counted) {
    add('memory.allocationsPerInference', memory.perInference?.allocations);
    add('memory.peakRunBytes', memory.peakRunBytes);
    add('memory.openPeakBytes', memory.creation?.peakBytesAboveStart);
  }
  const classes = completed('sensitivity')?.classes;
  if (Array.isArray(classes)) for (const c of classes) if (typeof c?.class === 'string') add('sensitivity.p50Ns', c.p50Ns, c.class);
  return rows;
}
