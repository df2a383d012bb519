/**
 * What each audit step runs: the configuration's options for that step over the defaults in
 * config.ts, handed to the measurement of the same name.
 */
import { checkAccuracy } from '../check/accuracy.js';
import { abnormalInputs, type AbnormalCaseKind } from '../check/abnormal.js';
import { constrainedRun } from '../check/constrained.js';
import { compareRuntimes } from '../check/cross-runtime.js';
import type { InputOptions } from '../inputs/feed-sets.js';
import { benchmark } from '../measure/benchmark.js';
import { inputSensitivity, type SensitivityOptions } from '../measure/sensitivity.js';
import { profile } from '../measure/profile.js';
import { soak } from '../measure/soak/soak.js';
import { throughput } from '../measure/throughput.js';
import { openModel, type Model } from '../model/model.js';
import { loadJsonCases, loadOnnxTestData, type ReferenceCase } from '../reference/load.js';
import type { StepName } from '../report/json.js';
import { stepDefaults, type AuditConfig } from './config.js';

/** What a step runs with: the model, the configuration, the inputs resolved once for every step. */
export interface StepContext {
  model: Model;
  config: AuditConfig;
  /** The timed steps' inputs: seed, resolved shapes, values, the data set, samples, order. */
  inputs: InputOptions & { seed: number; shapes: Record<string, number[]> };
  progress: (fraction: number) => void;
  /** Where the profile step copies the runtime's trace. */
  profileTrace?: string;
}

export type StepRunner = (context: StepContext) => Promise<unknown>;

/** The inputs the timed steps feed the model (every feed set of the data, every value drawn). */
function inputOptions({ inputs }: StepContext): InputOptions {
  return inputs;
}

/** The inputs of steps that feed one ordinary set (abnormal inputs, constrained runs): the seed and shapes. */
function seedAndShapes({ inputs }: StepContext): { seed: number; shapes: Record<string, number[]> } {
  return { seed: inputs.seed, shapes: inputs.shapes };
}

function stepConfig<S extends keyof NonNullable<AuditConfig['steps']>>(config: AuditConfig, step: S): NonNullable<NonNullable<AuditConfig['steps']>[S]> {
  return (config.steps?.[step] ?? {}) as NonNullable<NonNullable<AuditConfig['steps']>[S]>;
}

export const stepRunners: Record<StepName, StepRunner> = {
  latency: (c) => {
    const s = stepConfig(c.config, 'latency');
    const length = s.iterations === undefined && s.durationMs === undefined ? stepDefaults.latency : {};
    return benchmark(c.model, { ...inputOptions(c), ...length, ...s });
  },
  throughput: (c) => throughput(c.model, { ...inputOptions(c), ...stepDefaults.throughput, ...stepConfig(c.config, 'throughput') }),
  memory: async (c) => {
    // A short counted benchmark: what opening, the first run and each steady inference allocate.
    const result = await benchmark(c.model, { ...seedAndShapes(c), ...stepDefaults.memory });
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
  sensitivity: (c) => {
    const s = stepConfig(c.config, 'sensitivity');
    const { data, values, seed, shapes } = c.inputs;
    // Pinned where the latency step is, unless told otherwise.
    const latencyCpu = stepConfig(c.config, 'latency').cpu;
    return inputSensitivity(c.model, {
      ...(latencyCpu !== undefined ? { cpu: latencyCpu } : {}),
      ...(s as Record<string, unknown>),
      ...(data !== undefined ? { data } : {}),
      ...(values !== undefined ? { values } : {}),
      seed,
      shapes,
    } as SensitivityOptions);
  },
  profile: (c) => {
    const s = stepConfig(c.config, 'profile');
    const latencyCpu = stepConfig(c.config, 'latency').cpu;
    return profile(c.model, { ...inputOptions(c), ...(latencyCpu !== undefined ? { cpu: latencyCpu } : {}), ...s, ...(c.profileTrace ? { traceFile: c.profileTrace } : {}) });
  },
  accuracy: async ({ model, config }) => {
    const s = stepConfig(config, 'accuracy');
    let cases: ReferenceCase[] = [];
    if (s.cases) cases = cases.concat(loadJsonCases(s.cases));
    if (s.onnxTestData) cases = cases.concat(loadOnnxTestData(s.onnxTestData).cases);
    const tolerance: { atol?: number; rtol?: number } = {};
    if (s.atol !== undefined) tolerance.atol = s.atol;
    if (s.rtol !== undefined) tolerance.rtol = s.rtol;
    return checkAccuracy(model, cases, { tolerance, ...(s.topK !== undefined ? { topK: s.topK } : {}) });
  },
  crossRuntime: async ({ model, config, inputs: { shapes } }) => {
    const s = { ...stepDefaults.crossRuntime, ...config.steps!.crossRuntime! };
    const other = await openModel(s.other, { intraOpThreads: model.options.intraOpThreads });
    try {
      // The two formats name inputs differently: shapes go by position.
      return await compareRuntimes(model, other, { shapes: model.inputs.map((i) => shapes[i.name]!), tolerance: { atol: s.atol, rtol: s.rtol } });
    } finally {
      other.close();
    }
  },
  abnormal: (c) => {
    const s = stepConfig(c.config, 'abnormal');
    return abnormalInputs(c.model, {
      ...seedAndShapes(c),
      ...(s.kinds ? { kinds: s.kinds as AbnormalCaseKind[] } : {}),
      ...(s.timeoutMs ? { timeoutMs: s.timeoutMs } : {}),
    });
  },
  constrained: (c) => {
    const { benchmark: benchmarkDefaults, ...defaults } = stepDefaults.constrained;
    return constrainedRun(c.model, { ...defaults, ...stepConfig(c.config, 'constrained'), benchmark: { ...seedAndShapes(c), ...benchmarkDefaults } });
  },
  soak: (c) => {
    const s = { ...stepDefaults.soak, ...stepConfig(c.config, 'soak') };
    const windowMs = s.windowMs ?? Math.min(stepDefaults.soak.maxWindowMs, s.durationMs / stepDefaults.soak.windowsPerRun);
    const { maxWindowMs: _max, windowsPerRun: _per, ...options } = s;
    return soak(c.model, { ...inputOptions(c), ...options, windowMs, onWindow: (w) => c.progress(Math.min(1, w.endMs / s.durationMs)) });
  },
};
