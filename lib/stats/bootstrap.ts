/**
 * Bootstrap interval of a ratio of quantiles between two samples, from a seed.
 */
import { SeededRandom } from '../tensor.js';
import { percentileOfSorted, sortedCopy } from './summary.js';

function subsample(values: ArrayLike<number>, size: number, random: SeededRandom): Float64Array {
  if (values.length <= size) return Float64Array.from(values);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = values[random.nextInt(0, values.length - 1)]!;
  return out;
}

export interface RatioInterval {
  /** current quantile / baseline quantile on all samples. */
  ratio: number;
  low: number;
  high: number;
}

/**
 * 95 % percentile-bootstrap interval of quantile(current) / quantile(baseline). Each side is
 * first subsampled to at most `maxSamples` (which only widens the interval), then resampled
 * `resamples` times.
 */
export function bootstrapQuantileRatio(
  baseline: ArrayLike<number>,
  current: ArrayLike<number>,
  percentile: number,
  options: { resamples?: number; maxSamples?: number; seed?: number } = {},
): RatioInterval {
  const random = new SeededRandom(options.seed ?? 1);
  const maxSamples = options.maxSamples ?? 5000;
  const a = subsample(baseline, maxSamples, random);
  const b = subsample(current, maxSamples, random);
  const ratio = percentileOfSorted(sortedCopy(current), percentile) / percentileOfSorted(sortedCopy(baseline), percentile);
  const resamples = options.resamples ?? 400;
  const ratios = new Float64Array(resamples);
  const ra = new Float64Array(a.length);
  const rb = new Float64Array(b.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < a.length; i++) ra[i] = a[random.nextInt(0, a.length - 1)]!;
    for (let i = 0; i < b.length; i++) rb[i] = b[random.nextInt(0, b.length - 1)]!;
    ra.sort();
    rb.sort();
    ratios[r] = percentileOfSorted(rb, percentile) / percentileOfSorted(ra, percentile);
  }
  ratios.sort();
  return { ratio, low: percentileOfSorted(ratios, 2.5), high: percentileOfSorted(ratios, 97.5) };
}
