/**
 * How far one tensor is from another: the metrics of accuracy and cross-runtime checks.
 */
import { fromFloat16Bits, type Tensor } from '../tensor/tensor.js';
import { checkKnownKeys, checkNumber, checkObject } from '../validate.js';

/** Pass when |actual − expected| ≤ atol + rtol·|expected| for every element (NaN matches NaN, ±Inf match themselves). */
export interface Tolerance {
  /** @default 1e-5 */
  atol?: number;
  /** @default 1e-3 */
  rtol?: number;
  /** Also require cosine similarity ≥ this (float outputs). @default none */
  minCosine?: number;
}

/** Checks a tolerance option at `where` (unknown keys refused). */
export function validateTolerance(value: unknown, where: string): Tolerance | undefined {
  const o = checkObject(where, value);
  if (o === undefined) return undefined;
  checkKnownKeys(where, o, ['atol', 'rtol', 'minCosine']);
  const tolerance: Tolerance = {};
  const atol = checkNumber(`${where}.atol`, o.atol, 0);
  const rtol = checkNumber(`${where}.rtol`, o.rtol, 0);
  const minCosine = checkNumber(`${where}.minCosine`, o.minCosine, -1, 1);
  if (atol !== undefined) tolerance.atol = atol;
  if (rtol !== undefined) tolerance.rtol = rtol;
  if (minCosine !== undefined) tolerance.minCosine = minCosine;
  return tolerance;
}

export interface ElementDifference {
  /** Flat index, and the same as coordinates. */
  index: number;
  coordinates: number[];
  expected: number;
  actual: number;
  absError: number;
}

export interface TensorComparison {
  name: string;
  passed: boolean;
  /** Why it failed in words, when it did. */
  reason: string | null;
  elements: number;
  /** Elements outside the tolerance. */
  mismatches: number;
  maxAbsError: number;
  /** max |a − e| / |e| over elements with e ≠ 0. */
  maxRelError: number;
  rmse: number;
  /** Cosine similarity of the two as vectors (1 for two zero vectors; NaN when non-finite values take part). */
  cosineSimilarity: number;
  /** The worst elements by absolute error. */
  worst: ElementDifference[];
  /** Classifier view, when asked: per batch row, whether the top-1 and top-k classes agree. */
  topK: { k: number; top1Agreement: number; topKAgreement: number } | null;
}

export function numbersOf(t: Tensor): Float64Array {
  const out = new Float64Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    out[i] = t.dtype === 'float16' ? fromFloat16Bits(v as number) : Number(v);
  }
  return out;
}

function coordinatesOf(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length).fill(0);
  let rest = index;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const size = shape[axis]!;
    coords[axis] = size > 0 ? rest % size : 0;
    rest = size > 0 ? Math.floor(rest / size) : 0;
  }
  return coords;
}

/** Indices of the k largest values of a row, largest first. */
export function topIndices(row: Float64Array, k: number): number[] {
  return Array.from(row.keys())
    .sort((a, b) => row[b]! - row[a]! || a - b)
    .slice(0, k);
}

export function compareTensors(name: string, expected: Tensor, actual: Tensor, tolerance: Tolerance = {}, options: { worst?: number; topK?: number } = {}): TensorComparison {
  const atol = tolerance.atol ?? 1e-5;
  const rtol = tolerance.rtol ?? 1e-3;
  const base = { name, elements: expected.data.length, topK: null, worst: [] as ElementDifference[] };
  const fail = (reason: string): TensorComparison => ({
    ...base,
    passed: false,
    reason,
    mismatches: base.elements,
    maxAbsError: NaN,
    maxRelError: NaN,
    rmse: NaN,
    cosineSimilarity: NaN,
  });
  if (expected.dtype !== actual.dtype) return fail(`dtype ${actual.dtype}, expected ${expected.dtype}`);
  if (expected.shape.length !== actual.shape.length || expected.shape.some((d, i) => d !== actual.shape[i])) {
    return fail(`shape [${actual.shape.join(',')}], expected [${expected.shape.join(',')}]`);
  }
  const e = numbersOf(expected);
  const a = numbersOf(actual);
  let mismatches = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let squares = 0;
  let dot = 0;
  let normE = 0;
  let normA = 0;
  const diffs: ElementDifference[] = [];
  for (let i = 0; i < e.length; i++) {
    const ev = e[i]!;
    const av = a[i]!;
    const same = Object.is(ev, av) || ev === av || (Number.isNaN(ev) && Number.isNaN(av));
    const abs = same ? 0 : Math.abs(av - ev);
    const within = same || abs <= atol + rtol * Math.abs(ev);
    if (!within) mismatches++;
    const absForMetric = Number.isNaN(abs) ? Infinity : abs;
    if (absForMetric > maxAbs) maxAbs = absForMetric;
    if (ev !== 0 && Number.isFinite(ev)) maxRel = Math.max(maxRel, absForMetric / Math.abs(ev));
    squares += Number.isFinite(absForMetric) ? absForMetric * absForMetric : Infinity;
    dot += ev * av;
    normE += ev * ev;
    normA += av * av;
    if (absForMetric > 0) diffs.push({ index: i, coordinates: [], expected: ev, actual: av, absError: absForMetric });
  }
  const worstCount = options.worst ?? 5;
  const worst = diffs
    .sort((x, y) => y.absError - x.absError || x.index - y.index)
    .slice(0, worstCount)
    .map((d) => ({ ...d, coordinates: coordinatesOf(d.index, expected.shape) }));
  const cosine = normE === 0 && normA === 0 ? 1 : dot / Math.sqrt(normE * normA);
  let topK: TensorComparison['topK'] = null;
  if (options.topK !== undefined && expected.shape.length >= 1) {
    const classes = expected.shape[expected.shape.length - 1]!;
    const rows = classes > 0 ? e.length / classes : 0;
    let top1 = 0;
    let topk = 0;
    for (let r = 0; r < rows; r++) {
      const er = e.subarray(r * classes, (r + 1) * classes);
      const ar = a.subarray(r * classes, (r + 1) * classes);
      const want = topIndices(er, 1)[0];
      if (topIndices(ar, 1)[0] === want) top1++;
      if (want !== undefined && topIndices(ar, options.topK).includes(want)) topk++;
    }
    topK = { k: options.topK, top1Agreement: rows > 0 ? top1 / rows : NaN, topKAgreement: rows > 0 ? topk / rows : NaN };
  }
  const rmse = e.length > 0 ? Math.sqrt(squares / e.length) : 0;
  const cosineFails = tolerance.minCosine !== undefined && !(cosine >= tolerance.minCosine);
  const passed = mismatches === 0 && !cosineFails;
  return {
    ...base,
    passed,
    reason: passed
      ? null
      : mismatches > 0
        ? `${mismatches} of ${e.length} elements outside atol ${atol} + rtol ${rtol}·|expected| (max |Δ| ${maxAbs})`
        : `cosine similarity ${cosine} below ${tolerance.minCosine}`,
    mismatches,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    rmse,
    cosineSimilarity: cosine,
    worst,
    topK,
  };
}
