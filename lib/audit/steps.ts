/**
 * What each audit step runs: the configuration's options for that step over the defaults in
 * config.ts, handed to the measurement of the same name.
 */
import { checkAccuracy } from '../check/accuracy.js';
import { abnormalInputs, type AbnormalCaseKind } from '../check/abnormal.js';
import { constrainedRun } from '../check/constrained.js';
import { compareRuntimes } from '../check/cross-runtime.js';
import { benchmark } from '../measure/benchmark.js';
import { soak } from '../measure/soak/soak.js';
import { throughput } from '../measure/throughput.js';
import { openModel, type Model } from '../model/model.js';
import { loadJsonCases, loadOnnxTestData, type ReferenceCase } from '../reference/load.js';
import type { StepName } from '../report/json.js';
import { stepDefaults, type AuditConfig } from './config.js';

export type StepRunner = (model: Model, config: AuditConfig, progress: (fraction: number) => void) => Promise<unknown>;

/** The configuration's inputs, as every step that runs the model takes them. */
function inputOptions(config: AuditConfig): { seed: number; shapes?: Record<string, number[]> } {
  const seed = config.inputs?.seed ?? stepDefaults.inputs.seed;
  return config.inputs?.shapes ? { seed, shapes: config.inputs.shapes } : { seed };
}

function stepConfig<S extends keyof NonNullable<AuditConfig['steps']>>(config: AuditConfig, step: S): NonNullable<NonNullable<AuditConfig['steps']>[S]> {
  return (config.steps?.[step] ?? {}) as NonNullable<NonNullable<AuditConfig['steps']>[S]>;
}

export const stepRunners: Record<StepName, StepRunner> = {
  latency: (model, config) => {
    const s = stepConfig(config, 'latency');
    const length = s.iterations === undefined && s.durationMs === undefined ? stepDefaults.latency : {};
    return benchmark(model, { ...inputOptions(config), ...length, ...s });
  },
  throughput: (model, config) => throughput(model, { ...inputOptions(config), ...stepDefaults.throughput, ...stepConfig(config, 'throughput') }),
  memory: async (model, config) => {
    // A short counted benchmark: what opening, the first run and each steady inference allocate.
    const result = await benchmark(model, { ...inputOptions(config), ...stepDefaults.memory });
    const m = result.memory;
    const peaks = [m.firstRun, m.warmup, m.steadyState].map((p) => p?.peakBytesAboveStart ?? 0);
    return {
      counted: m.counted,
      notCountedReason: m.notCountedReason,
      load: m.load,
      creation: m.creation,
      firstRun: m.firstRun,
      steadyState: m.steadyState,
      perInference: m.perInference,
      /** The highest high-water mark of a run above the level before it. */
      peakRunBytes: m.counted ? Math.max(...peaks) : null,
      process: m.process,
    };
  },
  accuracy: async (model, config) => {
    const s = stepConfig(config, 'accuracy');
    let cases: ReferenceCase[] = [];
    if (s.cases) cases = cases.concat(loadJsonCases(s.cases));
    if (s.onnxTestData) cases = cases.concat(loadOnnxTestData(s.onnxTestData).cases);
    const tolerance: { atol?: number; rtol?: number } = {};
    if (s.atol !== undefined) tolerance.atol = s.atol;
    if (s.rtol !== undefined) tolerance.rtol = s.rtol;
    return checkAccuracy(model, cases, { tolerance, ...(s.topK !== undefined ? { topK: s.topK } : {}) });
  },
  crossRuntime: async (model, config) => {
    const s = { ...stepDefaults.crossRuntime, ...config.steps!.crossRuntime! };
    const other = await openModel(s.other, { intraOpThreads: model.options.intraOpThreads });
    try {
      const shapes = config.inputs?.shapes ? model.inputs.map((i) => config.inputs!.shapes![i.name]).filter((x): x is number[] => x !== undefined) : undefined;
      return await compareRuntimes(model, other, { ...(shapes && shapes.length ? { shapes } : {}), tolerance: { atol: s.atol, rtol: s.rtol } });
    } finally {
      other.close();
    }
  },
  abnormal: (model, config) => {
    const s = stepConfig(config, 'abnormal');
    return abnormalInputs(model, {
      ...inputOptions(config),
      ...(s.kinds ? { kinds: s.kinds as AbnormalCaseKind[] } : {}),
      ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}),
    });
  },
  constrained: (model, config) => {
    const { benchmark: benchmarkDefaults, ...defaults } = stepDefaults.constrained;
    return constrainedRun(model, { ...defaults, ...stepConfig(config, 'constrained'), benchmark: { ...inputOptions(config), ...benchmarkDefaults } });
  },
  soak: (model, config, progress) => {
    const s = config.steps!.soak!;
    const windowMs = s.windowMs ?? Math.min(stepDefaults.soak.maxWindowMs, s.durationMs / stepDefaults.soak.windowsPerRun);
    return soak(model, { ...inputOptions(config), ...s, windowMs, onWindow: (w) => progress(Math.min(1, w.endMs / s.durationMs)) });
  },
};
