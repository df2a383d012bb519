/**
 * The feed sets a measurement cycles through: the caller's feeds, a data set, per-input values
 * (a distribution or a file), or tensors synthesised from a seed. All are built and checked before
 * anything runs; the timed loops then move between sets without a copy or an allocation inside
 * the measured region.
 */
import { OptionsError } from '../errors.js';
import { checkFeeds } from '../model/feeds.js';
import type { Model } from '../model/model.js';
import type { NativeFeed } from '../native.js';
import { synthesizeTensor, type DType, type FeedValue, type Feeds, type Tensor } from '../tensor/tensor.js';
import { checkInteger, checkObject, checkOneOf, typeError } from '../validate.js';
import { readSamples, type DataSet } from './dataset.js';
import { resolveInputShapes, type ChosenDimension } from './shapes.js';
import { defaultDistribution, describeDistribution, drawTensor, parseValueSource, type ValueDistribution, type ValueSource } from './values.js';

/** Where a measurement's inputs come from. */
export interface InputOptions {
  /** One feed set to run on, the caller's tensors. */
  feeds?: Feeds;
  /** Feed sets to cycle through: a data set (`loadDataSet`) or an array of feeds. @default none */
  data?: DataSet | Feeds[];
  /**
   * How each input's values are drawn when they are synthesised: a distribution (`normal:0,1`,
   * `{ distribution: 'uniform', min, max }`, …), a constant, or `{ file }` (a .npy with a leading
   * sample axis, or a folder of .npy files). @default uniform in [-1, 1) for floats, integers in [0, 9]
   */
  values?: Record<string, ValueSource>;
  /** Feed sets to synthesise when neither `data` nor a file decides how many. @default 1 */
  samples?: number;
  /** Seed of synthesised inputs (input i of set k uses seed + i + k × inputs), and of the shuffle. @default 1 */
  seed?: number;
  /** Concrete shapes for inputs with dynamic dimensions, by input name. @default 1 per dynamic dimension, probed larger when the model refuses 1 */
  shapes?: Record<string, readonly number[]>;
  /** The order timed loops take the feed sets in: 'sequential', or 'shuffle' (a seeded new order each cycle). @default 'sequential' */
  order?: 'sequential' | 'shuffle';
}

/** What a result records about its inputs. */
export interface InputDescription {
  /** 'feeds': the caller's; 'data': a data set; 'seeded': synthesised (per `values`). */
  source: 'feeds' | 'seeded' | 'data';
  /** The data set's source, when there was one. */
  data: string | null;
  /** How many feed sets the timed loops cycled through. */
  sets: number;
  order: 'sequential' | 'shuffle';
  seed: number | null;
  /** How each input's values were made: a distribution's short form, `file: …`, `data` or `feeds`. */
  values: Record<string, string>;
  /** Each input's shape (in the first feed set, when `shapesVary`). */
  shapes: Record<string, number[]>;
  /** Whether the feed sets differ in shape. */
  shapesVary: boolean;
  /** Dimensions model-audit chose because no shape was given for them (see resolveInputShapes). */
  chosen: Record<string, ChosenDimension[]>;
}

export const inputOptionKeys = ['feeds', 'data', 'values', 'samples', 'seed', 'shapes', 'order'] as const;
export const inputDefaults = Object.freeze({ seed: 1, samples: 1, order: 'sequential' as const });

/** Checks the input options of a measurement whose options object is `o` at `where`. */
export function validateInputOptions(o: Record<string, unknown>, where: string): InputOptions {
  const out: InputOptions = {};
  if (o.feeds !== undefined) out.feeds = checkObject(`${where}.feeds`, o.feeds) as Feeds;
  if (o.data !== undefined) {
    const isSet = typeof o.data === 'object' && o.data !== null && Array.isArray((o.data as DataSet).feedSets);
    if (!isSet && !Array.isArray(o.data)) throw typeError(`${where}.data`, 'a data set (loadDataSet) or an array of feeds', o.data);
    if (o.feeds !== undefined) throw new OptionsError(`Expected ${where}.feeds or ${where}.data, not both`, { option: `${where}.data`, kind: 'range' });
    out.data = o.data as DataSet | Feeds[];
  }
  const values = checkObject(`${where}.values`, o.values);
  if (values !== undefined) {
    for (const [name, v] of Object.entries(values)) parseValueSource(v, `${where}.values["${name}"]`);
    out.values = values as Record<string, ValueSource>;
  }
  const samples = checkInteger(`${where}.samples`, o.samples, 1, 1_000_000);
  if (samples !== undefined) out.samples = samples;
  const seed = checkInteger(`${where}.seed`, o.seed, 0);
  if (seed !== undefined) out.seed = seed;
  const shapes = checkObject(`${where}.shapes`, o.shapes);
  if (shapes !== undefined) {
    for (const [name, shape] of Object.entries(shapes)) {
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw typeError(`${where}.shapes["${name}"]`, 'an array of non-negative integers', shape);
      }
    }
    out.shapes = shapes as Record<string, number[]>;
  }
  const order = checkOneOf(`${where}.order`, o.order, ['sequential', 'shuffle'] as const);
  if (order !== undefined) out.order = order;
  return out;
}

function shapeOf(value: FeedValue): number[] | null {
  return ArrayBuffer.isView(value) ? null : value.shape ? [...value.shape] : null;
}

/**
 * The feed sets a measurement runs, each checked and in input order, and how they were made.
 * The timed loops cycle through them (ONNX Runtime: one prepared binding per set; TFLite: the set's
 * bytes copied into the input tensors before the first clock read of the inference).
 */
export function measurementFeeds(model: Model, options: InputOptions, where: string): { feedSets: NativeFeed[][]; description: InputDescription } {
  const at = model.path ?? `${model.runtime} model`;
  const order = options.order ?? inputDefaults.order;
  const check = (feeds: Feeds, i: number): NativeFeed[] => checkFeeds(model.inputs, feeds, feedsWhere(at, i), model.path);
  if (options.feeds !== undefined) {
    const feeds = check(options.feeds, -1);
    return {
      feedSets: [feeds],
      description: describe('feeds', null, 1, order, null, Object.fromEntries(model.inputs.map((i) => [i.name, 'feeds'])), [feeds], model, {}),
    };
  }
  const seed = options.seed ?? inputDefaults.seed;
  // Inputs whose values come from a data set or a file, as feed sets of their own.
  const given: Feeds[] | null = options.data === undefined ? null : Array.isArray(options.data) ? options.data : options.data.feedSets;
  const fromFiles = new Map<string, Tensor[]>();
  const distributions = new Map<string, ValueDistribution>();
  for (const [name, raw] of Object.entries(options.values ?? {})) {
    const spec = model.inputs.find((i) => i.name === name);
    if (!spec) throw new OptionsError(`${where}.values["${name}"]: the model has no input named "${name}" (inputs: ${model.inputs.map((i) => i.name).join(', ')})`, { option: `${where}.values`, kind: 'range' });
    const source = parseValueSource(raw, `${where}.values["${name}"]`);
    if ('file' in source) fromFiles.set(name, readSamples(source.file, spec, `${where}.values["${name}"]`));
    else distributions.set(name, source);
  }
  const counts = new Set<number>([...(given ? [given.length] : []), ...[...fromFiles.values()].map((s) => s.length)]);
  if (counts.size > 1) {
    throw new OptionsError(`${where}: the data set and the input files hold different numbers of samples (${[...counts].join(' vs ')})`, { option: `${where}.values`, kind: 'range' });
  }
  if (given?.length === 0) throw new OptionsError(`${where}.data holds no feed sets`, { option: `${where}.data`, kind: 'range' });
  const sets = counts.size === 1 ? [...counts][0]! : (options.samples ?? inputDefaults.samples);
  // Shapes: what the data and files fix, then the caller's, then resolved (default 1, probed).
  const fixed: Record<string, number[]> = {};
  for (const spec of model.inputs) {
    const fromData = given?.[0]?.[spec.name];
    const shape = fromData !== undefined ? shapeOf(fromData) : fromFiles.has(spec.name) ? [...fromFiles.get(spec.name)![0]!.shape] : null;
    if (shape) fixed[spec.name] = shape;
  }
  const synthesised = model.inputs.filter((spec) => given?.[0]?.[spec.name] === undefined && !fromFiles.has(spec.name));
  const unsupported = synthesised.find((i) => i.dtype === 'unsupported');
  if (unsupported) {
    throw new OptionsError(`input "${unsupported.name}" has type ${unsupported.runtimeType}, which cannot be synthesised; pass ${where}.feeds or ${where}.data`, {
      option: `${where}.feeds`,
    });
  }
  const resolved = resolveInputShapes(model, { ...options.shapes, ...fixed }, `${where}.shapes`);
  const feedSets: NativeFeed[][] = [];
  for (let k = 0; k < sets; k++) {
    const feeds: Feeds = {};
    model.inputs.forEach((spec, i) => {
      const fromData = given?.[k]?.[spec.name];
      if (fromData !== undefined) {
        feeds[spec.name] = fromData;
        return;
      }
      const fromFile = fromFiles.get(spec.name)?.[k];
      if (fromFile) {
        feeds[spec.name] = { data: fromFile.data, shape: [...fromFile.shape], dtype: fromFile.dtype };
        return;
      }
      const dtype = spec.dtype as DType;
      const shape = resolved.shapes[spec.name]!;
      const inputSeed = seed + i + k * model.inputs.length;
      const d = distributions.get(spec.name);
      feeds[spec.name] = d ? drawTensor(dtype, shape, d, inputSeed) : synthesizeTensor(dtype, shape, inputSeed);
    });
    feedSets.push(check(feeds, sets > 1 ? k : -1));
  }
  const values = Object.fromEntries(
    model.inputs.map((spec) => {
      if (given?.[0]?.[spec.name] !== undefined) return [spec.name, 'data'];
      const raw = options.values?.[spec.name];
      if (raw !== undefined) {
        const source = parseValueSource(raw, '');
        return [spec.name, 'file' in source ? `file: ${source.file}` : describeDistribution(source)];
      }
      return [spec.name, describeDistribution(defaultDistribution(spec.dtype as DType))];
    }),
  );
  const source = given ? 'data' : fromFiles.size > 0 ? 'data' : 'seeded';
  const dataName = options.data === undefined ? (fromFiles.size ? [...fromFiles.keys()].map((n) => `${n}: ${values[n]}`).join(', ') : null) : Array.isArray(options.data) ? `${options.data.length} feed sets given` : options.data.source;
  return { feedSets, description: describe(source, dataName, sets, order, seed, values, feedSets, model, resolved.chosen) };
}

function feedsWhere(at: string, set: number): string {
  return set < 0 ? at : `${at} (feed set ${set})`;
}

function describe(
  source: InputDescription['source'],
  data: string | null,
  sets: number,
  order: InputDescription['order'],
  seed: number | null,
  values: Record<string, string>,
  feedSets: NativeFeed[][],
  model: Model,
  chosen: Record<string, ChosenDimension[]>,
): InputDescription {
  const shapes: Record<string, number[]> = {};
  model.inputs.forEach((input, i) => (shapes[input.name] = feedSets[0]![i]!.shape));
  const key = (set: NativeFeed[]): string => set.map((f) => f.shape.join(',')).join(';');
  const shapesVary = feedSets.some((set) => key(set) !== key(feedSets[0]!));
  return { source, data, sets, order, seed, values, shapes, shapesVary, chosen };
}
