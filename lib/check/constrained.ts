/**
 * Constrained deployments: the model in an isolated child with one thread, pinned to one core,
 * under a memory limit. Does it still work, and at what latency?
 */
import type { AppliedConstraints } from '../isolate/protocol.js';
import { runIsolated, taskRef } from '../isolate/run.js';
import type { BenchmarkOptions, LatencyResult } from '../measure/benchmark.js';
import { specOf } from '../model/access.js';
import type { Model, ModelDescription } from '../model/model.js';
import { environment, type Environment } from '../system/environment.js';
import { checkCpu, checkInteger, checkKnownKeys, checkObject } from '../validate.js';

export interface ConstrainedOptions {
  /** Threads one inference may use in the child (the open option of the same name). @default 1 */
  intraOpThreads?: number;
  /** Pin every thread of the child to this CPU. @default not pinned */
  cpu?: number;
  /** Address space the child may add after start-up (RLIMIT_AS). @default no limit */
  memoryLimitBytes?: number;
  /** The latency measurement run under the constraints. @default { iterations: 200 } */
  benchmark?: BenchmarkOptions;
  /** @default 60000 */
  timeoutMs?: number;
}

export interface ConstrainedResult {
  kind: 'constrained';
  model: ModelDescription;
  asked: { intraOpThreads: number; cpu: number | null; memoryLimitBytes: number | null };
  applied: AppliedConstraints | null;
  /** Whether the model opened and ran under the constraints. */
  works: boolean;
  status: 'completed' | 'errored' | 'crashed' | 'hung';
  /** Latency under the constraints, when it worked. */
  latency: { p50Ns: number; p99Ns: number; inferencesPerSecond: number } | null;
  /** The full latency result from the child, when it worked. */
  benchmark: LatencyResult | null;
  error: string | null;
  signal: string | null;
  lastPhase: string | null;
  environment: Environment;
}

export const constrainedDefaults = Object.freeze({ intraOpThreads: 1, timeoutMs: 60_000, benchmark: Object.freeze({ iterations: 200 }) });

export async function constrainedRun(model: Model, rawOptions: ConstrainedOptions = {}): Promise<ConstrainedResult> {
  const o = checkObject('options', rawOptions) ?? {};
  checkKnownKeys('options', o, ['intraOpThreads', 'cpu', 'memoryLimitBytes', 'benchmark', 'timeoutMs']);
  const threads = checkInteger('options.intraOpThreads', o.intraOpThreads, 1, 1024) ?? constrainedDefaults.intraOpThreads;
  const cpu = checkCpu('options.cpu', o.cpu);
  const memoryLimitBytes = checkInteger('options.memoryLimitBytes', o.memoryLimitBytes, 1);
  const timeoutMs = checkInteger('options.timeoutMs', o.timeoutMs, 1) ?? constrainedDefaults.timeoutMs;
  const spec = specOf(model);
  spec.options = { ...spec.options, intraOpThreads: threads };
  delete spec.options.intraOpCpus;
  const constraints: { cpu?: number; memoryLimitBytes?: number } = {};
  if (cpu !== undefined) constraints.cpu = cpu;
  if (memoryLimitBytes !== undefined) constraints.memoryLimitBytes = memoryLimitBytes;
  const benchmarkOptions: BenchmarkOptions = { ...constrainedDefaults.benchmark, ...(rawOptions.benchmark ?? {}) };
  if (cpu !== undefined && benchmarkOptions.cpu === undefined) benchmarkOptions.cpu = cpu;
  const run = await runIsolated<LatencyResult>(taskRef(new URL('./constrained-task.js', import.meta.url), 'benchmarkTask'), [benchmarkOptions], {
    model: spec,
    constraints,
    timeoutMs,
  });
  const outcome = run.items[0]!;
  const base = {
    kind: 'constrained' as const,
    model: model.describe(),
    asked: { intraOpThreads: threads, cpu: cpu ?? null, memoryLimitBytes: memoryLimitBytes ?? null },
    applied: run.constraints,
    environment: environment([model.library]),
  };
  if (outcome.status === 'completed') {
    const s = outcome.result.summary;
    return {
      ...base,
      works: true,
      status: 'completed',
      latency: { p50Ns: s.p50Ns, p99Ns: s.p99Ns, inferencesPerSecond: s.inferencesPerSecond },
      benchmark: outcome.result,
      error: null,
      signal: null,
      lastPhase: null,
    };
  }
  return {
    ...base,
    works: false,
    status: outcome.status,
    latency: null,
    benchmark: null,
    error: outcome.status === 'errored' ? outcome.error.message : outcome.status === 'hung' ? `no answer within ${outcome.timeoutMs} ms` : null,
    signal: outcome.status === 'crashed' ? outcome.signal : null,
    lastPhase: outcome.lastPhase,
  };
}
