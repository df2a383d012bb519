/**
 * How the values of a synthesised input are drawn: a distribution chosen per input, written as an
 * object or in a short form shared by the configuration and the `--input` flag
 * (`normal:0,1`, `uniform:-1,1`, `constant:16000`, `16000`, `zeros`, `denormal`, `integers:0,9`).
 */
import { OptionsError } from '../errors.js';
import { allocate, elementCount, SeededRandom, toFloat16Bits, type DType, type Tensor } from '../tensor/tensor.js';

/** A distribution of input values. */
export type ValueDistribution =
  | { distribution: 'uniform'; min: number; max: number }
  | { distribution: 'normal'; mean: number; std: number }
  | { distribution: 'constant'; value: number }
  | { distribution: 'zeros' }
  /** Values of the smallest magnitudes a float holds short of zero (subnormals), random in sign and size. */
  | { distribution: 'denormal' }
  | { distribution: 'integers'; min: number; max: number };

/** What the values of one input come from: a distribution, its short form, a constant, or a file. */
export type ValueSource = ValueDistribution | string | number | { file: string };

/** The draws when nothing is said: uniform in [-1, 1) for floats, integers in [0, 9] otherwise. */
export function defaultDistribution(dtype: DType): ValueDistribution {
  return isFloat(dtype) ? { distribution: 'uniform', min: -1, max: 1 } : { distribution: 'integers', min: 0, max: 9 };
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

const shortForm = /^(uniform|normal|integers):(-?[\d.e+-]+),(-?[\d.e+-]+)$|^constant:(-?[\d.e+-]+)$|^(zeros|denormal)$|^(-?[\d.e+-]+)$/;

/** Reads a value source given at `where` (an option path or a flag); a string naming a file becomes `{ file }`. */
export function parseValueSource(value: unknown, where: string): ValueDistribution | { file: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OptionsError(`Expected a finite number for ${where} but received ${value}`, { option: where, kind: 'range' });
    return { distribution: 'constant', value };
  }
  if (typeof value === 'string') {
    const m = shortForm.exec(value.trim());
    if (!m) {
      if (/\.npy$/i.test(value) || value.endsWith('/') || !/^[a-z]+:/i.test(value)) return { file: value };
      throw new OptionsError(
        `Expected a distribution (uniform:MIN,MAX, normal:MEAN,STD, constant:V, zeros, denormal, integers:MIN,MAX), a number or a .npy file for ${where} but received "${value}"`,
        { option: where, kind: 'range' },
      );
    }
    if (m[1] === 'uniform') return checked({ distribution: 'uniform', min: Number(m[2]), max: Number(m[3]) }, where);
    if (m[1] === 'normal') return checked({ distribution: 'normal', mean: Number(m[2]), std: Number(m[3]) }, where);
    if (m[1] === 'integers') return checked({ distribution: 'integers', min: Number(m[2]), max: Number(m[3]) }, where);
    if (m[4] !== undefined) return checked({ distribution: 'constant', value: Number(m[4]) }, where);
    if (m[5] !== undefined) return { distribution: m[5] as 'zeros' | 'denormal' };
    return checked({ distribution: 'constant', value: Number(m[6]) }, where);
  }
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if (typeof o.file === 'string' && Object.keys(o).length === 1) return { file: o.file };
    const d = o.distribution;
    const need = (keys: string[]): void => {
      const extra = Object.keys(o).filter((k) => k !== 'distribution' && !keys.includes(k));
      if (extra.length) throw new OptionsError(`Unknown option ${where}.${extra[0]}; a ${String(d)} distribution takes ${keys.join(', ') || 'nothing else'}`, { option: `${where}.${extra[0]}`, kind: 'type' });
      for (const k of keys) {
        if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) throw new OptionsError(`Expected a finite number for ${where}.${k} but received ${JSON.stringify(o[k])}`, { option: `${where}.${k}`, kind: 'type' });
      }
    };
    if (d === 'uniform') return (need(['min', 'max']), checked(o as ValueDistribution, where));
    if (d === 'normal') return (need(['mean', 'std']), checked(o as ValueDistribution, where));
    if (d === 'integers') return (need(['min', 'max']), checked(o as ValueDistribution, where));
    if (d === 'constant') return (need(['value']), o as ValueDistribution);
    if (d === 'zeros' || d === 'denormal') return (need([]), o as ValueDistribution);
  }
  throw new OptionsError(`Expected a distribution, a number or { file } for ${where} but received ${JSON.stringify(value)}`, { option: where, kind: 'type' });
}

function checked(d: ValueDistribution, where: string): ValueDistribution {
  if ((d.distribution === 'uniform' || d.distribution === 'integers') && !(d.max >= d.min)) {
    throw new OptionsError(`Expected max ≥ min for ${where} but received ${d.min}..${d.max}`, { option: where, kind: 'range' });
  }
  if (d.distribution === 'integers' && (!Number.isInteger(d.min) || !Number.isInteger(d.max))) {
    throw new OptionsError(`Expected whole numbers for the bounds of ${where} but received ${d.min}, ${d.max}`, { option: where, kind: 'range' });
  }
  if (d.distribution === 'normal' && !(d.std >= 0)) throw new OptionsError(`Expected std ≥ 0 for ${where} but received ${d.std}`, { option: where, kind: 'range' });
  return d;
}

/** The distribution in its short form, as reports write it. */
export function describeDistribution(d: ValueDistribution): string {
  switch (d.distribution) {
    case 'uniform':
      return `uniform:${d.min},${d.max}`;
    case 'normal':
      return `normal:${d.mean},${d.std}`;
    case 'integers':
      return `integers:${d.min},${d.max}`;
    case 'constant':
      return `constant:${d.value}`;
    default:
      return d.distribution;
  }
}

// The largest subnormal of each float type: denormal draws fall below it.
const largestSubnormal: Record<string, number> = { float32: 1.1754942e-38, float64: 2.2250738585072e-308, float16: 6.0975552e-5 };

/** One standard normal draw (Box–Muller), from the seeded generator. */
function gaussian(random: SeededRandom): number {
  const u = 1 - random.nextFloat();
  const v = random.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * A tensor of `dtype` and `shape` drawn from `d` with `seed`. The values depend only on these, so
 * two runtimes fed the same seed get the same bytes. Integer dtypes round and clamp to their range.
 */
export function drawTensor<D extends DType>(dtype: D, shape: readonly number[], d: ValueDistribution, seed: number): Tensor<D> {
  const count = elementCount(shape);
  const data = allocate(dtype, count);
  const random = new SeededRandom(seed);
  const next = (): number => {
    switch (d.distribution) {
      case 'uniform':
        return d.min + random.nextFloat() * (d.max - d.min);
      case 'normal':
        return d.mean + d.std * gaussian(random);
      case 'constant':
        return d.value;
      case 'zeros':
        return 0;
      case 'integers':
        return random.nextInt(d.min, d.max);
      case 'denormal': {
        const top = largestSubnormal[dtype] ?? 0;
        const magnitude = top * (0.001 + 0.998 * random.nextFloat());
        return random.nextUint32() & 1 ? -magnitude : magnitude;
      }
    }
  };
  for (let i = 0; i < count; i++) {
    const v = next();
    switch (dtype) {
      case 'float32':
      case 'float64':
        (data as Float32Array | Float64Array)[i] = v;
        break;
      case 'float16':
        (data as Uint16Array)[i] = toFloat16Bits(v);
        break;
      case 'int64':
        (data as BigInt64Array)[i] = BigInt(Math.round(v));
        break;
      case 'bool':
        (data as Uint8Array)[i] = v !== 0 ? 1 : 0;
        break;
      default:
        // The typed array clamps nothing: a value out of the dtype's range wraps, so clamp first.
        (data as Int32Array)[i] = clampToDtype(dtype, Math.round(v));
    }
  }
  return { dtype, shape: [...shape], data };
}

const intRanges: Partial<Record<DType, [number, number]>> = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], int32: [-2147483648, 2147483647] };

function clampToDtype(dtype: DType, v: number): number {
  const range = intRanges[dtype];
  return range ? Math.min(range[1], Math.max(range[0], v)) : v;
}
