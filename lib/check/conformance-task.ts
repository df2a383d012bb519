/**
 * The conformance suite's child task: one ONNX test-data folder, its model opened here and every
 * case run against the reference outputs.
 */
import type { Task } from '../isolate/protocol.js';
import { openModelSync, type Model } from '../model/model.js';
import type { OpenOptions } from '../model/options.js';
import { loadOnnxTestData, type ReferenceCase } from '../reference/load.js';
import { casesOutcome, type CaseOutcome } from './run-case.js';
import type { Tolerance } from './tensor-diff.js';

export interface ConformanceCommon {
  tolerance: Tolerance;
  options: OpenOptions;
}

export interface ConformanceResult {
  dir: string;
  status: 'passed' | 'failed' | 'unloadable' | 'unreadable' | 'undecodable';
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
    const first = data.unreadable[0];
    return { dir, status: first?.kind === 'undecodable' ? 'undecodable' : 'unreadable', reason: first?.reason ?? 'no test_data_set_* folders', cases: [] };
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

export const conformanceTask: Task = (item, { common }) => runConformance(item as string, common as ConformanceCommon);
