/**
 * The inputs a measurement runs on: the caller's feeds, or tensors synthesised from a seed.
 */
import { OptionsError } from '../errors.js';
import type { NativeFeed } from '../native.js';
import type { Model } from '../model.js';
import { formatShape, synthesizeTensor, type Feeds } from '../tensor.js';

/** Where a measurement's inputs come from. */
export interface InputOptions {
  /** Inputs to run on. When absent, inputs are synthesised from `seed`. */
  feeds?: Feeds;
  /** Seed for synthesised inputs (input i uses seed + i). @default 1 */
  seed?: number;
  /** Concrete shapes for inputs with dynamic dimensions, by input name. */
  shapes?: Record<string, readonly number[]>;
}

/** What a result records about its inputs. */
export interface InputDescription {
  source: 'feeds' | 'seeded';
  seed: number | null;
  shapes: Record<string, number[]>;
}

export function measurementFeeds(model: Model, options: InputOptions, optionPath: string): { feeds: NativeFeed[]; description: InputDescription } {
  if (options.feeds !== undefined) {
    const feeds = model.checkFeeds(options.feeds);
    const shapes: Record<string, number[]> = {};
    model.inputs.forEach((input, i) => (shapes[input.name] = feeds[i]!.shape));
    return { feeds, description: { source: 'feeds', seed: null, shapes } };
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0) {
    throw new OptionsError(`Expected a non-negative integer for ${optionPath}.seed but received ${String(seed)}`, { option: `${optionPath}.seed` });
  }
  const generated: Feeds = {};
  const shapes: Record<string, number[]> = {};
  model.inputs.forEach((input, i) => {
    if (input.dtype === 'unsupported') {
      throw new OptionsError(`input "${input.name}" has type ${input.runtimeType}, which cannot be synthesised; pass ${optionPath}.feeds`, {
        option: `${optionPath}.feeds`,
      });
    }
    const given = options.shapes?.[input.name];
    let shape: number[];
    if (given !== undefined) {
      shape = [...given];
    } else if (input.shape.every((d): d is number => d !== null)) {
      shape = [...input.shape];
    } else {
      throw new OptionsError(
        `input "${input.name}" has dynamic dimensions ${formatShape(input.shape)}: give a concrete shape in ${optionPath}.shapes["${input.name}"]`,
        { option: `${optionPath}.shapes`, kind: 'range' },
      );
    }
    generated[input.name] = { ...synthesizeTensor(input.dtype, shape, seed + i) };
    shapes[input.name] = shape;
  });
  return { feeds: model.checkFeeds(generated), description: { source: 'seeded', seed, shapes } };
}
