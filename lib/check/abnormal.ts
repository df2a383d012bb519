/**
 * Abnormal inputs: for each input tensor, a catalogue of values and shapes a deployed model may
 * meet, each run in an isolated child and classified by what the model did with it.
 */
import { OptionsError } from '../errors.js';
import type { Constraints, SerializedError } from '../isolate/protocol.js';
import { runIsolated, taskRef } from '../isolate/run.js';
import { specOf } from '../model/access.js';
import type { Model, ModelDescription } from '../model/model.js';
import type { NativeDType, NativeFeed } from '../native.js';
import { environment, slowdownFactor, type Environment } from '../system/environment.js';
import { checkInteger, checkKnownKeys, checkNumber, checkObject, rangeError, typeError } from '../validate.js';
import { validateInputOptions } from '../inputs/feed-sets.js';
import { resolveInputShapes, type InputShapes } from '../inputs/shapes.js';
import type { CaseLatency, FeedResult, OutputFiniteness } from './abnormal-task.js';
import { allocate, elementCount, SeededRandom, synthesizeTensor, toFloat16Bits, type DType, type TensorSpec } from '../tensor/tensor.js';

/** The classes of abnormal input. */
export type AbnormalCaseKind =
  | 'nan'
  | 'pos-inf'
  | 'neg-inf'
  | 'pos-zero'
  | 'neg-zero'
  | 'denormal'
  | 'dtype-max'
  | 'dtype-min'
  | 'huge'
  | 'zeros'
  | 'constant'
  | 'random-extremes'
  | 'out-of-range'
  | 'wrong-dtype'
  | 'wrong-shape'
  | 'zero-size'
  | 'large-batch';

export const abnormalCaseKinds: readonly AbnormalCaseKind[] = [
  'nan', 'pos-inf', 'neg-inf', 'pos-zero', 'neg-zero', 'denormal', 'dtype-max', 'dtype-min', 'huge', 'zeros', 'constant',
  'random-extremes', 'out-of-range', 'wrong-dtype', 'wrong-shape', 'zero-size', 'large-batch',
];

/** What the model did with one abnormal input. */
export type AbnormalClassification = 'finite' | 'non-finite' | 'rejected' | 'crashed' | 'hung';

export interface AbnormalCaseResult {
  input: string;
  kind: AbnormalCaseKind;
  description: string;
  /** The feed's dtype and shape. */
  dtype: string;
  shape: number[];
  classification: AbnormalClassification;
  /** Non-finite counts per output, for 'finite' and 'non-finite'. */
  outputs: OutputFiniteness[] | null;
  /** For 'rejected': the error kept as given, and whether model-audit's guard or the runtime refused. */
  error: SerializedError | null;
  rejectedBy: 'model-audit' | 'runtime' | null;
  /** For 'crashed': the signal (or exit code) and the last phase reached. */
  signal: string | null;
  exitCode: number | null;
  lastPhase: string | null;
  stderr: string | null;
  /** For a case that ran: its latency over a short native loop in the child; for a value case, the loop alternates it with ordinary values of the same shapes (`baselineP50Ns`), and `ratioToBaseline` is the one over the other. */
  latency: (CaseLatency & { baselineP50Ns: number | null; ratioToBaseline: number | null }) | null;
  /** Much slower than ordinary values: the case's p50 interval lies above `slowFactor` × the baseline's. */
  slow: boolean;
}

export interface AbnormalInputsOptions {
  /** Concrete shapes for inputs with dynamic dimensions, by input name. */
  shapes?: Record<string, readonly number[]>;
  /** Seed of the normal values fed to the other inputs and of random extremes. @default 1 */
  seed?: number;
  /** Which classes to run. @default all that apply to each input's dtype */
  kinds?: AbnormalCaseKind[];
  /** Longest time one case may run before it counts as hung. @default 10000 */
  timeoutMs?: number;
  /** Run the cases on one CPU, under a memory limit. */
  constraints?: Constraints;
  /** Batch size for 'large-batch'. @default 64 */
  largeBatch?: number;
  /** Inferences timed per case that ran, natively in the child, beside its classification; 0 turns timing off. @default 50 */
  timedIterations?: number;
  /** A case is slow when its p50's 95 % interval lies wholly above this many times the baseline's (ordinary seeded values). @default 1.5 */
  slowFactor?: number;
}

export const abnormalDefaults = Object.freeze({ timeoutMs: 10_000, largeBatch: 64, timedIterations: 50, slowFactor: 1.5 });

export interface AbnormalInputsResult {
  kind: 'abnormal-inputs';
  model: ModelDescription;
  /** The shapes the other inputs ran with, and which dimensions model-audit chose. */
  inputs: InputShapes;
  /** Ordinary seeded values, timed the same way: what each case's latency is held against. */
  baseline: CaseLatency | null;
  cases: AbnormalCaseResult[];
  counts: Record<AbnormalClassification, number>;
  /** Children started again after a crash or hang. */
  restarts: number;
  environment: Environment;
}

interface CaseSpec {
  input: string;
  kind: AbnormalCaseKind;
  description: string;
  feeds: NativeFeed[];
}

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64' || d === 'float16';

const intRange: Record<string, [number | bigint, number | bigint]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  bool: [0, 1],
};

const floatFacts: Record<string, { max: number; denormal: number; huge: number }> = {
  float32: { max: 3.4028234663852886e38, denormal: 1.401298464324817e-45, huge: 1e30 },
  float64: { max: Number.MAX_VALUE, denormal: 5e-324, huge: 1e300 },
  float16: { max: 65504, denormal: 5.960464477539063e-8, huge: 6e4 },
};

/** Fills `count` elements of `dtype` from `value(i)` (numbers; float16 converted to its bits). */
function filled(dtype: DType, count: number, value: (i: number) => number | bigint) {
  const data = allocate(dtype, count);
  for (let i = 0; i < count; i++) {
    const v = value(i);
    if (dtype === 'int64') (data as BigInt64Array)[i] = BigInt(v);
    else if (dtype === 'float16') (data as Uint16Array)[i] = toFloat16Bits(Number(v));
    else (data as Float32Array)[i] = Number(v);
  }
  return data;
}

function concreteShape(spec: TensorSpec, shapes: AbnormalInputsOptions['shapes']): number[] {
  const given = shapes?.[spec.name];
  if (given) return [...given];
  if (spec.shape.some((d) => d === null)) {
    throw new OptionsError(`input "${spec.name}" has dynamic dimensions: give a concrete shape in options.shapes["${spec.name}"]`, {
      option: 'options.shapes',
      kind: 'range',
    });
  }
  return spec.shape as number[];
}

/** Ordinary seeded values for every input, as the catalogue feeds the inputs a case leaves alone. */
/** Cases that change values only, not shapes or types: the ones timed against ordinary values and judged slow. */
function isValueCase(kind: AbnormalCaseKind): boolean {
  return kind !== 'large-batch' && kind !== 'zero-size' && kind !== 'wrong-shape' && kind !== 'wrong-dtype';
}

function baselineCase(inputs: readonly TensorSpec[], options: AbnormalInputsOptions): NativeFeed[] {
  const seed = options.seed ?? 1;
  return inputs.map((spec, i) => {
    const t = synthesizeTensor(spec.dtype as DType, concreteShape(spec, options.shapes), seed + i);
    return { dtype: t.dtype as NativeDType, shape: [...t.shape], data: t.data };
  });
}

/** The catalogue for a model's inputs: one case per (input, applicable class). */
export function abnormalCatalogue(inputs: readonly TensorSpec[], options: AbnormalInputsOptions = {}): CaseSpec[] {
  const seed = options.seed ?? 1;
  const wanted = new Set(options.kinds ?? abnormalCaseKinds);
  const normal: NativeFeed[] = inputs.map((spec, i) => {
    if (spec.dtype === 'unsupported') throw new OptionsError(`input "${spec.name}" has type ${spec.runtimeType}, which cannot be fed`, { option: 'inputs' });
    const t = synthesizeTensor(spec.dtype, concreteShape(spec, options.shapes), seed + i);
    return { dtype: t.dtype, shape: [...t.shape], data: t.data };
  });
  const cases: CaseSpec[] = [];
  inputs.forEach((spec, index) => {
    const dtype = spec.dtype as DType;
    const shape = normal[index]!.shape;
    const count = elementCount(shape);
    const add = (kind: AbnormalCaseKind, description: string, feed: NativeFeed): void => {
      if (!wanted.has(kind)) return;
      const feeds = normal.slice();
      feeds[index] = feed;
      cases.push({ input: spec.name, kind, description, feeds });
    };
    const same = (kind: AbnormalCaseKind, description: string, value: (i: number) => number | bigint): void =>
      add(kind, description, { dtype: dtype as NativeDType, shape, data: filled(dtype, count, value) });
    const random = new SeededRandom(seed * 7919 + index);
    if (isFloat(dtype)) {
      const f = floatFacts[dtype]!;
      same('nan', 'every element NaN', () => NaN);
      same('pos-inf', 'every element +Infinity', () => Infinity);
      same('neg-inf', 'every element −Infinity', () => -Infinity);
      same('pos-zero', 'every element +0', () => 0);
      same('neg-zero', 'every element −0', () => -0);
      same('denormal', `every element the smallest denormal (${f.denormal})`, () => f.denormal);
      same('dtype-max', `every element the dtype's largest finite value (${f.max})`, () => f.max);
      same('dtype-min', `every element the dtype's most negative finite value (${-f.max})`, () => -f.max);
      same('huge', `alternating ±${f.huge}`, (i) => (i % 2 ? -f.huge : f.huge));
      same('zeros', 'all zeros', () => 0);
      same('constant', 'every element 1', () => 1);
      const pool = [NaN, Infinity, -Infinity, f.max, -f.max, f.denormal, -f.denormal, 0, -0, f.huge, -f.huge];
      same('random-extremes', 'a seeded mix of NaN, ±Inf, ±max, ±denormal, ±0 and ±huge', () => pool[random.nextInt(0, pool.length - 1)]!);
    } else {
      const [lo, hi] = intRange[dtype]!;
      same('dtype-max', `every element the dtype's largest value (${hi})`, () => hi);
      same('dtype-min', `every element the dtype's smallest value (${lo})`, () => lo);
      same('zeros', 'all zeros', () => 0);
      same('constant', 'every element 1', () => 1);
      if (dtype !== 'bool') {
        same('out-of-range', 'alternating −1 and the dtype maximum (beyond any index or vocabulary)', (i) => (i % 2 ? hi : dtype === 'uint8' ? 255 : -1));
        const pool = [lo, hi, 0, dtype === 'uint8' ? 1 : -1];
        same('random-extremes', 'a seeded mix of min, max, 0 and −1', () => pool[random.nextInt(0, pool.length - 1)]!);
      } else {
        same('out-of-range', 'bytes other than 0 and 1 (255)', () => 255);
      }
    }
    // Structural cases go to the runtime as they are (model-audit's own checks would refuse them).
    const otherDtype: DType = isFloat(dtype) ? 'int32' : 'float32';
    add('wrong-dtype', `${otherDtype} data for a ${dtype} input`, { dtype: otherDtype as NativeDType, shape, data: allocate(otherDtype, count) });
    const wrongShape = [...shape.slice(0, -1), (shape.at(-1) ?? 1) + 1];
    if (shape.length === 0) wrongShape.splice(0, 1, 2);
    add('wrong-shape', `shape [${wrongShape.join(',')}] instead of [${shape.join(',')}]`, {
      dtype: dtype as NativeDType,
      shape: wrongShape,
      data: allocate(dtype, elementCount(wrongShape)),
    });
    const dynamicAxis = spec.shape.findIndex((d) => d === null);
    const zeroAxis = dynamicAxis >= 0 ? dynamicAxis : 0;
    if (shape.length > 0) {
      const zeroShape = shape.map((d, axis) => (axis === zeroAxis ? 0 : d));
      add('zero-size', `dimension ${zeroAxis} set to 0: [${zeroShape.join(',')}]`, { dtype: dtype as NativeDType, shape: zeroShape, data: allocate(dtype, 0) });
      const batch = options.largeBatch ?? 64;
      const bigShape = shape.map((d, axis) => (axis === 0 ? d * batch : d));
      const big = synthesizeTensor(dtype, bigShape, seed + index);
      add('large-batch', `dimension 0 × ${batch}: [${bigShape.join(',')}]${spec.shape[0] === null ? '' : ' (the model declares it static)'}`, {
        dtype: dtype as NativeDType,
        shape: bigShape,
        data: big.data,
      });
    }
  });
  return cases;
}

/**
 * Runs the abnormal-input catalogue against a model, every case in an isolated child (the model
 * is opened again there with the same options). A crash or hang is a finding for that case; the
 * caller's process is never at risk.
 */
export async function abnormalInputs(model: Model, options: AbnormalInputsOptions = {}): Promise<AbnormalInputsResult> {
  const o = checkObject('options', options) ?? {};
  checkKnownKeys('options', o, ['shapes', 'seed', 'kinds', 'timeoutMs', 'constraints', 'largeBatch', 'timedIterations', 'slowFactor']);
  const timedIterations = checkInteger('options.timedIterations', o.timedIterations, 0, 100_000) ?? abnormalDefaults.timedIterations;
  const slowFactor = checkNumber('options.slowFactor', o.slowFactor, 1) ?? abnormalDefaults.slowFactor;
  validateInputOptions({ shapes: o.shapes, seed: o.seed }, 'options');
  if (o.kinds !== undefined) {
    if (!Array.isArray(o.kinds)) throw typeError('options.kinds', 'an array of abnormal case kinds', o.kinds);
    o.kinds.forEach((kind, i) => {
      if (!(abnormalCaseKinds as readonly unknown[]).includes(kind)) throw rangeError(`options.kinds[${i}]`, `one of ${abnormalCaseKinds.join(', ')}`, kind);
    });
  }
  checkInteger('options.timeoutMs', o.timeoutMs, 1);
  checkInteger('options.largeBatch', o.largeBatch, 1);
  checkObject('options.constraints', o.constraints);
  const spec = specOf(model);
  const inputs = model.inputs;
  const shapes = resolveInputShapes(model, options.shapes);
  const catalogue = abnormalCatalogue(inputs, { ...options, shapes: shapes.shapes });
  // The first item is the baseline: ordinary seeded values for every input, timed the same way.
  const baselineFeeds = baselineCase(inputs, { ...options, shapes: shapes.shapes });
  const items = [
    { name: 'baseline (ordinary values)', feeds: baselineFeeds, raw: true, returnOutputs: false, timedIterations },
    ...catalogue.map((c) => ({ name: `${c.input}/${c.kind}`, feeds: c.feeds, raw: true, returnOutputs: false, timedIterations, baselineFeeds: isValueCase(c.kind) ? baselineFeeds : null })),
  ];
  const all = await runIsolated<FeedResult>(taskRef(new URL('./abnormal-task.js', import.meta.url), 'feedsTask'), items, {
    model: spec,
    constraints: options.constraints ?? {},
    timeoutMs: options.timeoutMs ?? abnormalDefaults.timeoutMs * slowdownFactor(),
  });
  const first = all.items[0]!;
  const baseline = first.status === 'completed' && first.result.status === 'completed' ? first.result.latency : null;
  const run = { ...all, items: all.items.slice(1) };
  const counts: Record<AbnormalClassification, number> = { finite: 0, 'non-finite': 0, rejected: 0, crashed: 0, hung: 0 };
  const cases = catalogue.map((c, i): AbnormalCaseResult => {
    const outcome = run.items[i]!;
    const target = c.feeds[inputs.findIndex((s) => s.name === c.input)]!;
    const base: AbnormalCaseResult = {
      input: c.input,
      kind: c.kind,
      description: c.description,
      dtype: target.dtype,
      shape: target.shape,
      classification: 'rejected',
      outputs: null,
      error: null,
      rejectedBy: null,
      signal: null,
      exitCode: null,
      lastPhase: null,
      stderr: null,
      latency: null,
      slow: false,
    };
    let result: AbnormalCaseResult;
    if (outcome.status === 'completed') {
      const r = outcome.result;
      if (r.status === 'completed') {
        const nonFinite = r.finiteness.some((o) => o.nan + o.posInf + o.negInf > 0);
        // A value case is held against ordinary values timed alternately with it in the same loop;
        // shape cases change the work itself (a 64× batch is meant to be slower) and are never slow inputs.
        const against = r.baselineLatency ?? baseline;
        const latency = r.latency ? { ...r.latency, baselineP50Ns: against?.p50Ns ?? null, ratioToBaseline: against ? r.latency.p50Ns / against.p50Ns : null } : null;
        const slow = isValueCase(c.kind) && latency !== null && r.baselineLatency !== null && latency.p50LowNs > slowFactor * r.baselineLatency.p50HighNs;
        result = { ...base, classification: nonFinite ? 'non-finite' : 'finite', outputs: r.finiteness, latency, slow };
      } else {
        result = { ...base, classification: 'rejected', error: r.error, rejectedBy: r.rejectedBy };
      }
    } else if (outcome.status === 'errored') {
      result = { ...base, classification: 'rejected', error: outcome.error, rejectedBy: 'runtime', lastPhase: outcome.lastPhase };
    } else if (outcome.status === 'crashed') {
      result = { ...base, classification: 'crashed', signal: outcome.signal, exitCode: outcome.exitCode, lastPhase: outcome.lastPhase, stderr: outcome.stderr };
    } else {
      result = { ...base, classification: 'hung', lastPhase: outcome.lastPhase, stderr: outcome.stderr };
    }
    counts[result.classification]++;
    return result;
  });
  return {
    kind: 'abnormal-inputs',
    model: model.describe(),
    inputs: shapes,
    baseline,
    cases,
    counts,
    restarts: run.restarts,
    environment: environment([model.library]),
  };
}
