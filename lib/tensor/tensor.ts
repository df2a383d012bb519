/**
 * Tensor dtypes, their typed arrays, shapes, and inputs synthesised from a seed.
 */

/** Element types model-audit reads and writes. float16 travels as raw bits in a Uint16Array. */
export type DType = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'int32' | 'int64' | 'bool';

export const dtypes: readonly DType[] = ['float32', 'float16', 'float64', 'int8', 'uint8', 'int16', 'int32', 'int64', 'bool'];

/** The typed array that holds each dtype. */
export interface TypedArrayOf {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

export type TensorData = TypedArrayOf[DType];

/** A tensor: its data and shape, and its dtype when the typed array alone does not say it. */
export interface Tensor<D extends DType = DType> {
  dtype: D;
  shape: readonly number[];
  data: TypedArrayOf[D];
}

/** What a caller may feed for one input: a tensor, or a bare typed array for a static shape. */
export type FeedValue = TensorData | { data: TensorData; shape?: readonly number[]; dtype?: DType };

export type Feeds = Record<string, FeedValue>;

/** One model input or output as the model declares it. */
export interface TensorSpec {
  name: string;
  /** `'unsupported'` for types model-audit cannot feed or return (strings, maps, …); see `runtimeType`. */
  dtype: DType | 'unsupported';
  /** The runtime's own name for the element type. */
  runtimeType: string;
  /** Dimensions; `null` marks a dynamic one whose size the caller chooses. */
  shape: readonly (number | null)[];
  /** Symbolic names of dimensions where the model has them (ONNX), else null. */
  dimNames: readonly (string | null)[];
}

const constructors = {
  float32: Float32Array,
  float16: Uint16Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
} as const;

export function bytesPerElement(dtype: DType): number {
  return constructors[dtype].BYTES_PER_ELEMENT;
}

/** A new zeroed typed array of `length` elements for `dtype`. */
export function allocate<D extends DType>(dtype: D, length: number): TypedArrayOf[D] {
  return new constructors[dtype](length) as TypedArrayOf[D];
}

/** A typed array of `dtype` over an ArrayBuffer (no copy). */
export function view<D extends DType>(dtype: D, buffer: ArrayBuffer): TypedArrayOf[D] {
  return new constructors[dtype](buffer) as TypedArrayOf[D];
}

/** The dtypes a typed array can carry (Uint8Array: uint8 or bool; Uint16Array: float16). */
export function dtypesOf(data: ArrayBufferView): DType[] {
  if (data instanceof Float32Array) return ['float32'];
  if (data instanceof Float64Array) return ['float64'];
  if (data instanceof Int8Array) return ['int8'];
  if (data instanceof Uint8Array) return ['uint8', 'bool'];
  if (data instanceof Int16Array) return ['int16'];
  if (data instanceof Uint16Array) return ['float16'];
  if (data instanceof Int32Array) return ['int32'];
  if (data instanceof BigInt64Array) return ['int64'];
  return [];
}

/** Whether a typed array can carry `dtype`: `dtypesOf(data).includes(dtype)` without making the list. */
export function carriesDType(data: ArrayBufferView, dtype: string): boolean {
  const ctor = constructorsByName[dtype];
  return ctor !== undefined && data instanceof ctor;
}

/** `constructors` without a prototype, for names that may be anything ("toString" finds nothing). */
const constructorsByName: Readonly<Record<string, (typeof constructors)[DType] | undefined>> = Object.assign(Object.create(null), constructors);

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const d of shape) count *= d;
  return count;
}

export function formatShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** Converts a number to IEEE 754 half-precision bits (round to nearest even). */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    return sign | (half + (rest > midpoint || (rest === midpoint && (half & 1) !== 0) ? 1 : 0));
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && (half & 1) !== 0) ? 1 : 0));
}

/** Converts IEEE 754 half-precision bits to a number. */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * A small, fast, seedable generator (SplitMix32 seeding a xoshiro128**), so an input made from a
 * seed is the same on every machine and in every runtime.
 */
export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  nextInt(min: number, max: number): number {
    return min + Math.floor(this.nextFloat() * (max - min + 1));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** How values of synthesised inputs are drawn. */
export interface SynthesisRange {
  /** Lower bound for floating-point inputs. @default -1 */
  floatMin?: number;
  /** Upper bound (exclusive) for floating-point inputs. @default 1 */
  floatMax?: number;
  /** Lower bound for integer inputs. @default 0 */
  intMin?: number;
  /** Upper bound (inclusive) for integer inputs. @default 9 */
  intMax?: number;
}

/**
 * Fills a tensor of `dtype` and `shape` from `seed`. The values depend only on seed, dtype,
 * element count and range, so two runtimes fed the same seed get identical inputs.
 */
export function synthesizeTensor<D extends DType>(dtype: D, shape: readonly number[], seed: number, range: SynthesisRange = {}): Tensor<D> {
  const count = elementCount(shape);
  const data = allocate(dtype, count);
  const random = new SeededRandom(seed);
  const floatMin = range.floatMin ?? -1;
  const floatMax = range.floatMax ?? 1;
  const intMin = range.intMin ?? 0;
  const intMax = range.intMax ?? 9;
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'float32':
      case 'float64':
        (data as Float32Array | Float64Array)[i] = floatMin + random.nextFloat() * (floatMax - floatMin);
        break;
      case 'float16':
        (data as Uint16Array)[i] = toFloat16Bits(floatMin + random.nextFloat() * (floatMax - floatMin));
        break;
      case 'int64':
        (data as BigInt64Array)[i] = BigInt(random.nextInt(intMin, intMax));
        break;
      case 'bool':
        (data as Uint8Array)[i] = random.nextUint32() & 1;
        break;
      default:
        (data as Int8Array | Uint8Array | Int16Array | Int32Array)[i] = random.nextInt(intMin, intMax);
    }
  }
  return { dtype, shape: [...shape], data };
}
