/**
 * Constrained deployments: the model in an isolated child with one thread, pinned to one core,
 * under a memory limit. Does it still work, and at what latency?
 */
import { environment, type Environment } from '../environment.js';
import type { LatencyResult, BenchmarkOptions } from '../measure/benchmark.js';
import type { AppliedConstraints } from '../isolate/protocol.js';
import { runIsolated } from '../isolate/run.js';
import type { Model } from '../model.js';
import { checkCpu, checkInteger, checkKnownKeys, checkObject } from '../validate.js';

export interface ConstrainedOptions {
  /** Inference threads (intraOpThreads) in the child. @default 1 */
  threads?: number;
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
  model: { runtime: string; path: string | null };
  asked: { threads: number; cpu: number | null; memoryLimitBytes: number | null };
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

export async function constrainedRun(model: Model, rawOptions: ConstrainedOptions = {}): Promise<ConstrainedResult> {
  const o = checkObject('options', rawOptions) ?? {};
  checkKnownKeys('options', o, ['threads', 'cpu', 'memoryLimitBytes', 'benchmark', 'timeoutMs']);
  const threads = checkInteger('options.threads', o.threads, 1, 1024) ?? 1;
  const cpu = checkCpu('options.cpu', o.cpu);
  const memoryLimitBytes = checkInteger('options.memoryLimitBytes', o.memoryLimitBytes, 1);
  const timeoutMs = checkInteger('options.timeoutMs', o.timeoutMs, 1) ?? 60_000;
  const spec = model.spec();
  spec.options = { ...spec.options, intraOpThreads: threads };
  delete spec.options.intraOpCpus;
  const constraints: { cpu?: number; memoryLimitBytes?: number } = {};
  if (cpu !== undefined) constraints.cpu = cpu;
  if (memoryLimitBytes !== undefined) constraints.memoryLimitBytes = memoryLimitBytes;
  const benchmarkOptions: BenchmarkOptions = { iterations: 200, ...(rawOptions.benchmark ?? {}) };
  if (cpu !== undefined && benchmarkOptions.cpu === undefined) benchmarkOptions.cpu = cpu;
  const run = await runIsolated<LatencyResult>('benchmark', [benchmarkOptions], { model: spec, constraints, timeoutMs });
  const outcome = run.items[0]!;
  const base = {
    kind: 'constrained' as const,
    model: { runtime: model.runtime, path: model.path ?? null },
    asked: { threads, cpu: cpu ?? null, memoryLimitBytes: memoryLimitBytes ?? null },
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
