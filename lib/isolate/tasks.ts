/**
 * What an isolated child can do, one function per task. Each takes one item and returns a
 * plain, structured-cloneable result; a thrown error ends the child's run as `errored`.
 */
import type { Tolerance } from '../audit/compare.js';
import { casesOutcome, type CaseOutcome } from '../audit/cases.js';
import type { Model, OpenOptions, Outputs } from '../model.js';
import { openModelSync } from '../model.js';
import { native, type NativeFeed } from '../native.js';
import { loadOnnxTestData } from '../reference/cases.js';
import type { ReferenceCase } from '../reference/cases.js';
import type { BenchmarkOptions } from '../measure/benchmark.js';
import type { SoakOptions } from '../soak/soak.js';
import { view } from '../tensor.js';
import { serializeError, type TaskName } from './protocol.js';

export interface TaskContext {
  model: Model | null;
  common: unknown;
  phase(phase: string): Promise<void>;
  progress(payload: unknown): Promise<void>;
}

/** One set of feeds to run: checked by model-audit first, or handed to the runtime as they are. */
export interface FeedItem {
  name: string;
  /** Inputs by name (checked) or in model order as raw native feeds (`raw: true`). */
  feeds: Record<string, unknown> | NativeFeed[];
  raw: boolean;
  returnOutputs: boolean;
}

export interface OutputFiniteness {
  name: string;
  elements: number;
  nan: number;
  posInf: number;
  negInf: number;
}

export type FeedResult =
  | { status: 'completed'; finiteness: OutputFiniteness[]; outputs: Outputs | null; runMs: number }
  | { status: 'rejected'; error: ReturnType<typeof serializeError>; rejectedBy: 'model-audit' | 'runtime' };

function finitenessOf(outputs: Outputs): OutputFiniteness[] {
  return Object.entries(outputs).map(([name, t]) => {
    let nan = 0;
    let posInf = 0;
    let negInf = 0;
    if (t.dtype === 'float32' || t.dtype === 'float64') {
      for (const v of t.data as Float32Array) {
        if (Number.isNaN(v)) nan++;
        else if (v === Infinity) posInf++;
        else if (v === -Infinity) negInf++;
      }
    } else if (t.dtype === 'float16') {
      for (const bits of t.data as Uint16Array) {
        if ((bits & 0x7c00) === 0x7c00) {
          if (bits & 0x3ff) nan++;
          else if (bits & 0x8000) negInf++;
          else posInf++;
        }
      }
    }
    return { name, elements: t.data.length, nan, posInf, negInf };
  });
}

function runFeeds(item: FeedItem, model: Model): FeedResult {
  const started = process.hrtime.bigint();
  try {
    let outputs: Outputs;
    if (item.raw) {
      const raw = model.nativeSession().runSync(item.feeds as NativeFeed[]);
      outputs = Object.fromEntries(raw.map((o) => [o.name, { dtype: o.dtype, shape: o.shape, data: view(o.dtype, o.buffer) }]));
    } else {
      outputs = model.runSync(item.feeds as Parameters<Model['runSync']>[0]);
    }
    const runMs = Number(process.hrtime.bigint() - started) / 1e6;
    return { status: 'completed', finiteness: finitenessOf(outputs), outputs: item.returnOutputs ? outputs : null, runMs };
  } catch (err) {
    const e = serializeError(err);
    // A feed error with no words from the runtime was refused by model-audit's own checks.
    const rejectedBy = e.code === 'ERR_FEED' && !e.runtimeMessage ? 'model-audit' : 'runtime';
    return { status: 'rejected', error: e, rejectedBy };
  }
}

export interface ConformanceCommon {
  tolerance: Tolerance;
  options: OpenOptions;
}

export interface ConformanceResult {
  dir: string;
  status: 'passed' | 'failed' | 'unloadable' | 'unreadable';
  reason: string | null;
  cases: CaseOutcome[];
}

function runConformance(dir: string, common: ConformanceCommon): ConformanceResult {
  let data: ReturnType<typeof loadOnnxTestData>;
  try {
    data = loadOnnxTestData(dir);
  } catch (err) {
    return { dir, status: 'unreadable', reason: (err as Error).message, cases: [] };
  }
  if (data.cases.length === 0) {
    return { dir, status: 'unreadable', reason: data.unreadable[0]?.reason ?? 'no test_data_set_* folders', cases: [] };
  }
  let model: Model;
  try {
    model = openModelSync(data.model, { ...common.options, runtime: 'onnx' });
  } catch (err) {
    return { dir, status: 'unloadable', reason: (err as Error).message, cases: [] };
  }
  try {
    const nonTensor = [...model.inputs, ...model.outputs].find((t) => t.dtype === 'unsupported');
    if (nonTensor) {
      return { dir, status: 'unreadable', reason: `${nonTensor.name} is a ${nonTensor.runtimeType}, which model-audit does not feed or read`, cases: [] };
    }
    const cases = data.cases.map((c: ReferenceCase) => casesOutcome(model, c, common.tolerance));
    const passed = cases.every((c) => c.passed);
    return { dir, status: passed ? 'passed' : 'failed', reason: passed ? null : cases.find((c) => !c.passed)?.reason ?? null, cases };
  } finally {
    model.close();
  }
}

type Task = (item: unknown, context: TaskContext) => unknown | Promise<unknown>;

export const childTasks: Record<TaskName, Task> = {
  describe: (_item, { model }) => {
    const d = model!.describe();
    return { runtime: d.runtime, inputs: d.inputs, outputs: d.outputs, options: d.options, library: d.library };
  },
  feeds: (item, { model }) => runFeeds(item as FeedItem, model!),
  cases: (item, { model, common }) => {
    const { tolerance, topK } = common as { tolerance: Tolerance; topK?: number };
    return casesOutcome(model!, item as ReferenceCase, tolerance, topK === undefined ? {} : { topK });
  },
  conformance: (item, { common }) => runConformance(item as string, common as ConformanceCommon),
  benchmark: (item, { model }) => model!.benchmark(item as BenchmarkOptions),
  soak: (item, { model, progress }) => model!.soak({ ...(item as SoakOptions), onWindow: (w) => void progress(w) }),
  'test-crash': (item) => native().crashForTest(item as 'segv' | 'abort'),
  'test-hang': () => {
    for (;;) {
      // Spins until the parent's timeout kills the child.
    }
  },
};
