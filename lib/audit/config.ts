/**
 * The audit configuration: YAML or JSON, checked against schema/config.schema.json with ajv, each
 * problem named by its key and why.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { OptionsError } from '../errors.js';
import type { OpenOptions } from '../model.js';
import { readSchema } from '../report/schema.js';

export interface AuditConfig {
  model?: string;
  open?: OpenOptions;
  inputs?: { seed?: number; shapes?: Record<string, number[]> };
  steps?: {
    latency?: { iterations?: number; durationMs?: number; cpu?: number; warmup?: { iterations?: number; durationMs?: number; untilStable?: boolean } };
    throughput?: { concurrency?: number[]; durationMs?: number };
    memory?: Record<string, never>;
    accuracy?: { cases?: string; onnxTestData?: string; atol?: number; rtol?: number; topK?: number };
    crossRuntime?: { other: string; atol?: number; rtol?: number };
    abnormal?: { kinds?: string[]; timeoutMs?: number };
    constrained?: { threads?: number; cpu?: number; memoryLimitBytes?: number };
    soak?: { durationMs: number; windowMs?: number; ratePerSecond?: number };
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
}

/** The steps an audit runs when the configuration names none. */
export const defaultSteps: NonNullable<AuditConfig['steps']> = {
  latency: { durationMs: 2000 },
  throughput: { durationMs: 500 },
  abnormal: {},
};

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
