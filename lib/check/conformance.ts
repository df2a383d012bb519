/**
 * The ONNX operator conformance suite (or any set of ONNX test-data folders): each folder's model
 * opened in ONNX Runtime and its reference cases run, in isolated children.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { OptionsError } from '../errors.js';
import { runIsolated, taskRef } from '../isolate/run.js';
import type { OpenOptions } from '../model/options.js';
import { environment, type Environment } from '../system/environment.js';
import { describeRuntime } from '../system/runtimes.js';
import type { ConformanceResult } from './conformance-task.js';
import { checkInteger, checkKnownKeys, checkObject, checkString } from '../validate.js';
import { validateTolerance, type Tolerance } from './tensor-diff.js';

/** The folders of the ONNX operator conformance suite as Debian's libonnx-testdata installs it. */
export const defaultConformanceRoot = '/usr/share/libonnx-testdata/data/node';

export interface ConformanceOptions {
  /** Case folders to run (each holding model.onnx and test_data_set_*). @default every folder under `root` */
  dirs?: string[];
  /** @default /usr/share/libonnx-testdata/data/node */
  root?: string;
  tolerance?: Tolerance;
  /** Per case folder. @default 30000 */
  timeoutMs?: number;
  /** Options for opening each model (ONNX Runtime). */
  open?: OpenOptions;
}

export interface ConformanceCaseResult {
  name: string;
  status: 'passed' | 'failed' | 'unloadable' | 'unreadable' | 'undecodable' | 'crashed' | 'hung' | 'errored';
  reason: string | null;
}

export interface ConformanceReport {
  kind: 'onnx-conformance';
  root: string | null;
  total: number;
  /** Cases whose model the runtime could load and whose data could be read. */
  loaded: number;
  passed: number;
  failed: number;
  /** The runtime refused the model (an operator or opset it does not implement, …). */
  unloadable: number;
  /** model-audit does not read the test data's types (strings, sequences, bfloat16 tensors, …). */
  unreadable: number;
  /** The TensorProto decoder failed on a data file (a SequenceProto or OptionalProto, or a damaged file): counted apart so that a decoder failure is never hidden among unsupported types. */
  undecodable: number;
  crashed: number;
  hung: number;
  cases: ConformanceCaseResult[];
  environment: Environment;
}

/** Runs ONNX test-data folders through ONNX Runtime in isolated children and counts the outcomes. */
export async function runOnnxConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, ['dirs', 'root', 'tolerance', 'timeoutMs', 'open']);
  if (o.dirs !== undefined && (!Array.isArray(o.dirs) || !o.dirs.every((d) => typeof d === 'string'))) {
    throw new OptionsError('Expected an array of folder paths for options.dirs', { option: 'options.dirs', kind: 'type' });
  }
  checkString('options.root', o.root);
  validateTolerance(o.tolerance, 'options.tolerance');
  checkInteger('options.timeoutMs', o.timeoutMs, 1);
  checkObject('options.open', o.open);
  const root = options.root ?? defaultConformanceRoot;
  const dirs = options.dirs ?? (existsSync(root) ? readdirSync(root).sort().map((d) => join(root, d)) : []);
  if (dirs.length === 0) throw new OptionsError(`no ONNX test-data folders found under ${root} (install Debian's libonnx-testdata, or pass options.dirs)`, { option: 'options.root' });
  const tolerance = { atol: options.tolerance?.atol ?? 1e-4, rtol: options.tolerance?.rtol ?? 1e-3 };
  const run = await runIsolated<ConformanceResult>(taskRef(new URL('./conformance-task.js', import.meta.url), 'conformanceTask'), dirs, {
    model: null,
    common: { tolerance, options: { intraOpThreads: 1, ...options.open } },
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const cases = run.items.map((o, i): ConformanceCaseResult => {
    const name = dirs[i]!.split('/').pop()!;
    if (o.status === 'completed') return { name, status: o.result.status, reason: o.result.reason };
    if (o.status === 'crashed') return { name, status: 'crashed', reason: `${o.signal ?? `exit ${o.exitCode}`} during ${o.lastPhase}` };
    if (o.status === 'hung') return { name, status: 'hung', reason: `no answer within ${o.timeoutMs} ms during ${o.lastPhase}` };
    return { name, status: 'errored', reason: o.error.message };
  });
  const count = (s: ConformanceCaseResult['status']): number => cases.filter((c) => c.status === s).length;
  return {
    kind: 'onnx-conformance',
    root: options.dirs ? null : root,
    total: cases.length,
    loaded: count('passed') + count('failed'),
    passed: count('passed'),
    failed: count('failed'),
    unloadable: count('unloadable'),
    unreadable: count('unreadable'),
    undecodable: count('undecodable'),
    crashed: count('crashed'),
    hung: count('hung'),
    cases,
    environment: environment([describeRuntime('onnx', options.open?.libraryPath)]),
  };
}

