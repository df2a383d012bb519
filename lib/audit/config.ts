/**
 * The audit configuration: YAML or JSON, checked against schema/config.schema.json with ajv, each
 * problem named by its key and why.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { OptionsError } from '../errors.js';
import type { OpenOptions } from '../model/options.js';
import { readSchema } from '../report/schema.js';

/** Where the configuration's data set comes from (paths relative to the working folder). */
export type DataSourceConfig = { npy: Record<string, string> } | { onnxTestData: string } | { cases: string };

export interface AuditConfig {
  model?: string;
  open?: OpenOptions;
  inputs?: {
    seed?: number;
    shapes?: Record<string, number[]>;
    /** Per input: a distribution (`normal:0,1`, `constant:16000`, …) or a .npy file or folder. */
    values?: Record<string, string | number | { file: string } | Record<string, unknown>>;
    /** A data set the timed steps cycle through (and the sensitivity step compares as a class). */
    data?: DataSourceConfig;
    /** Feed sets to synthesise when no data or file decides how many. */
    samples?: number;
    order?: 'sequential' | 'shuffle';
  };
  steps?: {
    latency?: { iterations?: number; durationMs?: number; cpu?: number; warmup?: { iterations?: number; durationMs?: number; untilStable?: boolean } };
    throughput?: { concurrency?: number[]; durationMs?: number };
    memory?: Record<string, never>;
    sensitivity?: { classes?: string[]; rounds?: number; roundMs?: number; samplesPerClass?: number; minEffect?: number; alpha?: number; cpu?: number };
    /** Per-operator profile (ONNX Runtime), a separate pass; the trace is written beside the reports by the command. */
    profile?: { runs?: number; warmupRuns?: number; cpu?: number };
    accuracy?: { cases?: string; onnxTestData?: string; atol?: number; rtol?: number; topK?: number };
    crossRuntime?: { other: string; atol?: number; rtol?: number };
    abnormal?: { kinds?: string[]; timeoutMs?: number };
    constrained?: { intraOpThreads?: number; cpu?: number; memoryLimitBytes?: number };
    soak?: { durationMs?: number; windowMs?: number; ratePerSecond?: number };
  };
  budgets?: Budgets;
}

/** Limits an audit checks; each one that is set becomes a pass or fail in the report. */
export interface Budgets {
  p50LatencyMs?: number;
  p99LatencyMs?: number;
  minThroughput?: number;
  accuracy?: boolean;
  crossRuntimeAgree?: boolean;
  maxPeakMemoryBytes?: number;
  maxAllocationsPerRun?: number;
  noLeak?: boolean;
  noCrashOnAbnormalInput?: boolean;
  worksConstrained?: boolean;
  /** The slowest input class's latency (10 % trimmed mean) over the fastest's, at most this. */
  maxInputSensitivity?: number;
}

export type StepsConfig = NonNullable<AuditConfig['steps']>;

/** The steps an audit runs when the configuration names none (memory runs with latency): latency, throughput, memory, sensitivity, abnormal. */
export const defaultSteps: StepsConfig = { latency: {}, throughput: {}, sensitivity: {}, abnormal: {} };

/**
 * What each step uses where the configuration is silent: the one place these are written. The
 * latency step runs 2 s (benchmark()'s own default is 1 s) because compare needs runs of a second
 * or more; the memory step is a short counted benchmark; the soak runs a minute (when asked for by
 * `--steps` with no duration), its window a thirtieth of its duration, at most 10 s: the leak and
 * drift verdicts need 12 windows at least.
 */
export const stepDefaults = Object.freeze({
  inputs: Object.freeze({ seed: 1 }),
  latency: Object.freeze({ durationMs: 2000 }),
  throughput: Object.freeze({ durationMs: 500 }),
  memory: Object.freeze({ iterations: 20, warmup: Object.freeze({ iterations: 5 }), memory: Object.freeze({ iterations: 100 }) }),
  crossRuntime: Object.freeze({ atol: 1e-4, rtol: 1e-3 }),
  constrained: Object.freeze({ intraOpThreads: 1, benchmark: Object.freeze({ iterations: 200 }) }),
  soak: Object.freeze({ durationMs: 60_000, maxWindowMs: 10_000, windowsPerRun: 30 }),
});

let validator: ReturnType<Ajv['compile']> | undefined;

function describeError(e: ErrorObject, where: string): string {
  const path = `${where}${e.instancePath.replace(/\//g, '.')}`;
  if (e.keyword === 'additionalProperties') return `${path}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum') return `${path}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (e.keyword === 'required') return `${path}: missing "${(e.params as { missingProperty: string }).missingProperty}"`;
  return `${path}: ${e.message ?? 'is not valid'}`;
}

/** Checks a configuration object; throws OptionsError naming every offending key. */
export function validateConfig(config: unknown, where = 'config'): AuditConfig {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(readSchema('config'));
  if (!validator(config)) {
    const errors = (validator.errors ?? []).map((e) => describeError(e, where));
    throw new OptionsError(`invalid configuration:\n  ${errors.join('\n  ')}`, { option: where, kind: 'range' });
  }
  return config as AuditConfig;
}

/** Reads a YAML (.yaml, .yml) or JSON configuration file and checks it. */
export function loadConfig(path: string): AuditConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new OptionsError(`cannot read the configuration ${path}: ${(err as Error).message}`, { option: 'config' });
  }
  let parsed: unknown;
  try {
    parsed = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new OptionsError(`${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { option: 'config' });
  }
  return validateConfig(parsed ?? {}, path);
}
