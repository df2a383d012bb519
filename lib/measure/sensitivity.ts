/**
 * inputSensitivity(): does the model's latency depend on its input values? Classes of input values
 * (zeros, uniform, normal, large magnitude, denormal, and the caller's own data) are timed in
 * interleaved rounds — every round runs every class once, in a new seeded order — so that what
 * drifts during the run hits every class alike. Each class is judged against the fastest on the
 * per-round ratios of their 10 % trimmed means, paired by round so that a machine that changes
 * speed between rounds changes both sides of each ratio: a bootstrap interval and a minimum effect
 * as in compare, and a p-value from shuffling the classes' labels within each round, which redoes
 * the choice of the fastest and covers all the classes at once (`judgeAgainstFastest`). Trimmed
 * means, because a model whose control flow sends some inputs down a slow path has a two-speed
 * latency, whose median jumps between the two speeds while the trimmed mean follows the share of
 * slow inputs.
 * When the denormal class is slower on ONNX Runtime, it is measured again with denormals flushed.
 */
import { OptionsError, UnsupportedConfigurationError } from '../errors.js';
import { measurementFeeds, type InputDescription, type InputOptions } from '../inputs/feed-sets.js';
import type { DataSet } from '../inputs/dataset.js';
import type { ValueSource } from '../inputs/values.js';
import { isFloat } from '../inputs/values.js';
import { sessionOf, specOf } from '../model/access.js';
import { toOutputs } from '../model/calls.js';
import { openModel, type Model, type ModelDescription } from '../model/model.js';
import type { NativeFeed, NativeSession } from '../native.js';
import { checkRoundsReachAlpha, interleavedRounds, type RoundEntry } from './rounds.js';
import { judgeAgainstFastest, judgePairedChange, type Change } from '../stats/change.js';
import { summarize, trimmedMean, type QuantileInterval } from '../stats/summary.js';
import { environment, type Environment } from '../system/environment.js';
import type { DType, Feeds } from '../tensor/tensor.js';
import { checkBoolean, checkCpu, checkInteger, checkKnownKeys, checkNumber, checkObject, typeError } from '../validate.js';

/** The classes of input values compared. */
export type SensitivityClass = 'zeros' | 'uniform' | 'normal' | 'large' | 'denormal' | 'data';

/** The values of every float input in each class (other inputs keep their `values` or defaults). */
export const sensitivityClasses: Readonly<Record<Exclude<SensitivityClass, 'data'>, ValueSource>> = Object.freeze({
  zeros: 'zeros',
  uniform: 'uniform:-1,1',
  normal: 'normal:0,1',
  large: 'normal:0,10000',
  denormal: 'denormal',
});

export interface SensitivityOptions {
  /** The classes to compare. @default ['zeros', 'uniform', 'normal', 'large', 'denormal'], and 'data' when `data` is given */
  classes?: SensitivityClass[];
  /** Your own data, compared as the class 'data'. */
  data?: DataSet | Feeds[];
  /** Values of the inputs the classes leave alone (non-float inputs, e.g. a sample rate), by input name. */
  values?: Record<string, ValueSource>;
  /** Concrete shapes for dynamic inputs. @default 1 per dynamic dimension, probed larger when refused */
  shapes?: Record<string, readonly number[]>;
  /** Feed sets drawn per class (each a different draw of the class's values). @default 16 */
  samplesPerClass?: number;
  /** Rounds; each runs every class once, in a new seeded order. Eight are the fewest that can reach p < 0.01. @default 20 */
  rounds?: number;
  /** Timed steady state of one class in one round. Short rounds keep the classes of a round close in time. @default 30 */
  roundMs?: number;
  /** Untimed inferences before each class's timed run in a round. @default 10 */
  warmupIterations?: number;
  /** Pin the measuring thread. @default not pinned */
  cpu?: number;
  /** Significance a difference needs (at least 0.0001). @default 0.01 */
  alpha?: number;
  /** Smallest relative slowdown of a class's trimmed mean (against the fastest class's) that counts. @default 0.10 */
  minEffect?: number;
  /** ONNX Runtime: when the denormal class is slower, measure it again with denormalAsZero, and what flushing changes in the outputs. @default true */
  checkDenormalFlush?: boolean;
  /** Seed of the class draws and of the round order. @default 1 */
  seed?: number;
}

export const sensitivityDefaults = Object.freeze({
  samplesPerClass: 16,
  rounds: 20,
  roundMs: 30,
  warmupIterations: 10,
  alpha: 0.01,
  minEffect: 0.1,
  checkDenormalFlush: true,
  seed: 1,
});

export interface ClassLatency {
  class: SensitivityClass;
  inputs: InputDescription;
  /** Every timed inference of the class, all rounds together. */
  count: number;
  p50Ns: number;
  p99Ns: number;
  p50IntervalNs: QuantileInterval;
  p99IntervalNs: QuantileInterval;
  /** 10 % trimmed mean of every timed inference of the class. */
  trimmedMeanNs: number;
  /** The class's 10 % trimmed mean in each round, in round order: what the verdict compares. */
  roundMeansNs: number[];
  /** Pooled trimmed mean against the fastest class's (the verdict judges the per-round ratios: `change.ratio`). The fastest is the class with the least geometric mean of `roundMeansNs`, so another class can stand a hair below 1 here. */
  ratioToFastest: number;
  /** Against the fastest class (null for the fastest itself); `change.p` is adjusted for the choice of the fastest and the number of classes. */
  change: Change | null;
  slower: boolean;
}

export interface DenormalFlushCheck {
  /** The denormal class on a session with denormalAsZero, rounds interleaved with the fastest class. */
  flushedP50Ns: number;
  /** Trimmed means, flushed denormal class over the fastest class. */
  flushedRatioToFastest: number;
  change: Change;
  /** Flushing brings the denormal class back within the minimum effect of the fastest. */
  recovers: boolean;
  /** max |Δ| of every float output, with and without flushing, over the feed sets compared. */
  maxAbsOutputChange: number;
  /** What the outputs were compared on. */
  comparedOn: string;
}

export interface SensitivityResult {
  kind: 'input-sensitivity';
  model: ModelDescription;
  classes: ClassLatency[];
  fastest: SensitivityClass;
  slowest: SensitivityClass;
  /** The slowest class's trimmed mean over the fastest's. */
  maxRatio: number;
  /** Some class is slower than the fastest, significantly and by at least the minimum effect. */
  sensitive: boolean;
  /** The verdict in a sentence. */
  statement: string;
  rule: { alpha: number; minEffect: number; rounds: number; roundMs: number; samplesPerClass: number };
  /** ONNX Runtime, denormal class slower: whether flushing helps, and its cost; else null. */
  denormalFlush: DenormalFlushCheck | null;
  /** Why there is no flush check when one could have been expected. */
  denormalFlushNote: string | null;
  environment: Environment;
}

interface Resolved extends Required<Omit<SensitivityOptions, 'data' | 'values' | 'shapes' | 'cpu' | 'classes'>> {
  classes: SensitivityClass[];
  data: SensitivityOptions['data'];
  values: Record<string, ValueSource>;
  shapes: Record<string, readonly number[]>;
  cpu: number | null;
}

const keys = ['classes', 'data', 'values', 'shapes', 'samplesPerClass', 'rounds', 'roundMs', 'warmupIterations', 'cpu', 'alpha', 'minEffect', 'checkDenormalFlush', 'seed'];
const allClasses: SensitivityClass[] = ['zeros', 'uniform', 'normal', 'large', 'denormal', 'data'];

export function resolveSensitivityOptions(options: unknown, where = 'options'): Resolved {
  const o = checkObject(where, options) ?? {};
  checkKnownKeys(where, o, keys);
  const d = sensitivityDefaults;
  let classes: SensitivityClass[] = ['zeros', 'uniform', 'normal', 'large', 'denormal', ...(o.data !== undefined ? (['data'] as const) : [])];
  if (o.classes !== undefined) {
    if (!Array.isArray(o.classes) || o.classes.length < 2) throw typeError(`${where}.classes`, 'an array of at least two classes', o.classes);
    for (const [i, c] of o.classes.entries()) if (!allClasses.includes(c)) throw typeError(`${where}.classes[${i}]`, `one of ${allClasses.join(', ')}`, c);
    classes = [...new Set(o.classes as SensitivityClass[])];
    if (classes.includes('data') && o.data === undefined) throw new OptionsError(`${where}.classes names 'data' but ${where}.data is not given`, { option: `${where}.data`, kind: 'range' });
  }
  const r: Resolved = {
    classes,
    data: o.data as SensitivityOptions['data'],
    values: (checkObject(`${where}.values`, o.values) ?? {}) as Record<string, ValueSource>,
    shapes: (checkObject(`${where}.shapes`, o.shapes) ?? {}) as Record<string, readonly number[]>,
    samplesPerClass: checkInteger(`${where}.samplesPerClass`, o.samplesPerClass, 1, 10_000) ?? d.samplesPerClass,
    rounds: checkInteger(`${where}.rounds`, o.rounds, 3, 1000) ?? d.rounds,
    roundMs: checkNumber(`${where}.roundMs`, o.roundMs, 1) ?? d.roundMs,
    warmupIterations: checkInteger(`${where}.warmupIterations`, o.warmupIterations, 0) ?? d.warmupIterations,
    cpu: checkCpu(`${where}.cpu`, o.cpu) ?? null,
    alpha: checkNumber(`${where}.alpha`, o.alpha, 0.0001, 1) ?? d.alpha,
    minEffect: checkNumber(`${where}.minEffect`, o.minEffect, 0) ?? d.minEffect,
    checkDenormalFlush: checkBoolean(`${where}.checkDenormalFlush`, o.checkDenormalFlush) ?? d.checkDenormalFlush,
    seed: checkInteger(`${where}.seed`, o.seed, 0) ?? d.seed,
  };
  checkRoundsReachAlpha(r.rounds, r.alpha, `${where}.rounds`);
  return r;
}

const roundStatistic = (samples: ArrayLike<number>): number => trimmedMean(samples, 0.1);

/** Interleaved rounds of the entries; each entry's pooled samples and per-round trimmed means. */
async function interleaved(entries: RoundEntry[], o: Resolved, seed: number) {
  const run = await interleavedRounds(entries, o, seed);
  return { pooled: run.pooled, means: (key: string) => run.perRound(key).map(roundStatistic) };
}

/** The feed sets of each class: the class's values on every float input, the caller's values elsewhere. */
function classFeeds(model: Model, o: Resolved): Map<SensitivityClass, { feedSets: NativeFeed[][]; inputs: InputDescription }> {
  const floats = model.inputs.filter((i) => i.dtype !== 'unsupported' && isFloat(i.dtype as DType));
  if (floats.length === 0 && o.classes.some((c) => c !== 'data')) {
    throw new UnsupportedConfigurationError('input sensitivity: the model has no float inputs, so the value classes (zeros, uniform, normal, large, denormal) do not apply');
  }
  const out = new Map<SensitivityClass, { feedSets: NativeFeed[][]; inputs: InputDescription }>();
  for (const cls of o.classes) {
    const options: InputOptions = { shapes: o.shapes, seed: o.seed };
    if (cls === 'data') {
      options.data = o.data!;
      if (Object.keys(o.values).length) options.values = o.values;
    } else {
      options.samples = o.samplesPerClass;
      options.values = { ...o.values, ...Object.fromEntries(floats.map((i) => [i.name, sensitivityClasses[cls]])) };
    }
    const { feedSets, description } = measurementFeeds(model, options, 'options');
    out.set(cls, { feedSets, inputs: description });
  }
  return out;
}

function maxAbsFloatChange(a: NativeFeed[][], run: (feeds: NativeFeed[]) => ReturnType<typeof toOutputs>, flushedRun: (feeds: NativeFeed[]) => ReturnType<typeof toOutputs>): number {
  let max = 0;
  for (const feeds of a) {
    const x = run(feeds);
    const y = flushedRun(feeds);
    for (const [name, t] of Object.entries(x)) {
      if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
      const u = y[name]!.data as Float32Array;
      const v = t.data as Float32Array;
      for (let i = 0; i < v.length; i++) {
        const d = Math.abs(v[i]! - u[i]!);
        if (Number.isNaN(d)) {
          if (!(Number.isNaN(v[i]!) && Number.isNaN(u[i]!)) && v[i] !== u[i]) max = Infinity;
        } else if (d > max) max = d;
      }
    }
  }
  return max;
}

/**
 * Times the model on each class of input values, interleaved, and says whether its latency
 * depends on them. Takes about rounds × classes × (roundMs + warm-up), more when the denormal
 * class is slow on ONNX Runtime and is measured again with flushing.
 */
export async function inputSensitivity(model: Model, options: SensitivityOptions = {}): Promise<SensitivityResult> {
  const session = sessionOf(model);
  const o = resolveSensitivityOptions(options);
  const feeds = classFeeds(model, o);
  const run = await interleaved(
    o.classes.map((c) => ({ key: c, session, feedSets: feeds.get(c)!.feedSets })),
    o,
    o.seed,
  );
  const summaries = o.classes.map((c) => {
    const pooled = run.pooled(c);
    return { cls: c, summary: summarize(pooled), mean: roundStatistic(pooled), means: run.means(c) };
  });
  const judged = judgeAgainstFastest(
    summaries.map((s) => s.means),
    // Enough shuffles that p can fall well below alpha: at least 20 / alpha.
    { alpha: o.alpha, minEffect: o.minEffect, seed: o.seed, permutations: Math.max(5000, Math.ceil(20 / o.alpha)) },
  );
  const fastest = summaries[judged.fastest]!;
  const classes: ClassLatency[] = summaries.map((s, i) => {
    const change = judged.changes[i]!;
    return {
      class: s.cls,
      inputs: feeds.get(s.cls)!.inputs,
      count: s.summary.count,
      p50Ns: s.summary.p50Ns,
      p99Ns: s.summary.p99Ns,
      p50IntervalNs: s.summary.p50IntervalNs,
      p99IntervalNs: s.summary.p99IntervalNs,
      trimmedMeanNs: s.mean,
      roundMeansNs: s.means,
      ratioToFastest: s.mean / fastest.mean,
      change,
      slower: change?.verdict === 'slower',
    };
  });
  const slowest = classes.reduce((a, b) => (b.ratioToFastest > a.ratioToFastest ? b : a));
  const sensitive = classes.some((c) => c.slower);
  const slowerOnes = classes.filter((c) => c.slower);
  const pct = (r: number): string => `${((r - 1) * 100).toFixed(0)} %`;
  const statement = sensitive
    ? `Latency depends on the input values: ${slowerOnes.map((c) => `${c.class} is ${pct(c.ratioToFastest)} slower`).join(', ')} than ${fastest.cls} (median of the per-round ratios of 10 % trimmed means over ${o.rounds} interleaved rounds; p < ${o.alpha} with the classes shuffled within rounds, at least ${Math.round(o.minEffect * 100)} %).`
    : `No input class is slower than ${fastest.cls} by ${Math.round(o.minEffect * 100)} % or more with p < ${o.alpha} over ${o.rounds} interleaved rounds (the slowest, ${slowest.class}, is at ${pct(slowest.ratioToFastest)}).`;
  let denormalFlush: DenormalFlushCheck | null = null;
  let denormalFlushNote: string | null = null;
  const denormal = classes.find((c) => c.class === 'denormal');
  if (denormal?.slower && o.checkDenormalFlush) {
    if (model.runtime !== 'onnx') {
      denormalFlushNote = "TFLite's C API has no switch for flushing denormals: nothing to try.";
    } else if (model.options.denormalAsZero) {
      denormalFlushNote = 'the model was opened with denormalAsZero already, and the denormal class is still slower.';
    } else {
      denormalFlush = await flushCheck(model, session, feeds, fastest.cls, o);
    }
  }
  return {
    kind: 'input-sensitivity',
    model: model.describe(),
    classes,
    fastest: fastest.cls,
    slowest: slowest.class,
    maxRatio: slowest.ratioToFastest,
    sensitive,
    statement,
    rule: { alpha: o.alpha, minEffect: o.minEffect, rounds: o.rounds, roundMs: o.roundMs, samplesPerClass: o.samplesPerClass },
    denormalFlush,
    denormalFlushNote,
    environment: environment([model.library]),
  };
}

async function flushCheck(model: Model, session: NativeSession, feeds: Map<SensitivityClass, { feedSets: NativeFeed[][] }>, fastest: SensitivityClass, o: Resolved): Promise<DenormalFlushCheck> {
  const spec = specOf(model);
  const flushed = await openModel('path' in spec ? spec.path : spec.bytes, { ...spec.options, denormalAsZero: true });
  try {
    const flushedSession = sessionOf(flushed);
    const run = await interleaved(
      [
        { key: 'flushed', session: flushedSession, feedSets: feeds.get('denormal')!.feedSets },
        { key: 'fastest', session, feedSets: feeds.get(fastest)!.feedSets },
      ],
      o,
      o.seed + 1,
    );
    const flushedP50 = summarize(run.pooled('flushed')).p50Ns;
    const flushedMean = roundStatistic(run.pooled('flushed'));
    const fastestMean = roundStatistic(run.pooled('fastest'));
    const change = judgePairedChange(run.means('fastest'), run.means('flushed'), { alpha: o.alpha, minEffect: o.minEffect, seed: o.seed });
    // What flushing costs: the outputs with and without it, on the caller's data when given.
    const compared = feeds.get('data') ?? { feedSets: [...(feeds.get('uniform')?.feedSets ?? []), ...(feeds.get('normal')?.feedSets ?? [])] };
    const comparedOn = feeds.has('data') ? 'the data class' : 'the uniform and normal classes';
    const maxAbsOutputChange = maxAbsFloatChange(compared.feedSets, (f) => toOutputs(session.runSync(f)), (f) => toOutputs(flushedSession.runSync(f)));
    return { flushedP50Ns: flushedP50, flushedRatioToFastest: flushedMean / fastestMean, change, recovers: change.verdict !== 'slower', maxAbsOutputChange, comparedOn };
  } finally {
    flushed.close();
  }
}
