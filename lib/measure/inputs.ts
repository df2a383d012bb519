/**
 * The inputs a measurement runs on: the caller's feeds, or tensors synthesised from a seed.
 */
import { OptionsError } from '../errors.js';
import type { NativeFeed } from '../native.js';
import { checkFeeds } from '../model/feeds.js';
import type { Model } from '../model/model.js';
import { synthesizeTensor, type Feeds } from '../tensor/tensor.js';
import { resolveInputShapes, type ChosenDimension } from './shapes.js';
import { checkInteger, checkObject, typeError } from '../validate.js';

/** Where a measurement's inputs come from. */
export interface InputOptions {
  /** Inputs to run on. When absent, inputs are synthesised from `seed`. */
  feeds?: Feeds;
  /** Seed for synthesised inputs (input i uses seed + i). @default 1 */
  seed?: number;
  /** Concrete shapes for inputs with dynamic dimensions, by input name. @default the model's */
  shapes?: Record<string, readonly number[]>;
}

/** What a result records about its inputs. */
export interface InputDescription {
  source: 'feeds' | 'seeded';
  seed: number | null;
  shapes: Record<string, number[]>;
  /** Dimensions model-audit chose because no shape was given for them (see resolveInputShapes). */
  chosen: Record<string, ChosenDimension[]>;
}

export const inputOptionKeys = ['feeds', 'seed', 'shapes'] as const;
export const defaultSeed = 1;

/** Checks the input options of a measurement whose options object is `o` at `where`. */
export function validateInputOptions(o: Record<string, unknown>, where: string): InputOptions {
  const out: InputOptions = {};
  if (o.feeds !== undefined) out.feeds = checkObject(`${where}.feeds`, o.feeds) as Feeds;
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
  return out;
}

/** The feeds a measurement runs, checked and in input order, and how they were made. */
export function measurementFeeds(model: Model, options: InputOptions, where: string): { feeds: NativeFeed[]; description: InputDescription } {
  const at = model.path ?? `${model.runtime} model`;
  if (options.feeds !== undefined) {
    const feeds = checkFeeds(model.inputs, options.feeds, at, model.path);
    const shapes: Record<string, number[]> = {};
    model.inputs.forEach((input, i) => (shapes[input.name] = feeds[i]!.shape));
    return { feeds, description: { source: 'feeds', seed: null, shapes, chosen: {} } };
  }
  const seed = options.seed ?? defaultSeed;
  const unsupported = model.inputs.find((i) => i.dtype === 'unsupported');
  if (unsupported) {
    throw new OptionsError(`input "${unsupported.name}" has type ${unsupported.runtimeType}, which cannot be synthesised; pass ${where}.feeds`, {
      option: `${where}.feeds`,
    });
  }
  const { shapes, chosen } = resolveInputShapes(model, options.shapes, `${where}.shapes`);
  const generated: Feeds = {};
  model.inputs.forEach((input, i) => {
    generated[input.name] = { ...synthesizeTensor(input.dtype as Exclude<typeof input.dtype, 'unsupported'>, shapes[input.name]!, seed + i) };
  });
  return { feeds: checkFeeds(model.inputs, generated, at, model.path), description: { source: 'seeded', seed, shapes, chosen } };
}
