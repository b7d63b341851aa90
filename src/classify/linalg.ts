/**
 * The small dense kernels the classifiers run on, and the training-data standardiser. Rows are
 * packed into one row-major Float64Array. In V8 these loops are bound by typed-array loads
 * (~0.5-0.7 G multiply-adds/s on one core), so the kernels share each load among several
 * products: 4-way unrolled dots, and the logistic gradient in one pass over 4 rows at a time.
 *
 * Why not ml-matrix here: the solvers need only matrix-vector products (no factorisations), and
 * ml-matrix's `mmul` of a 1120 x 192 matrix by a vector takes ~2.5x as long as `multiply` below
 * (825 vs 340 µs CPU, measured in this repo), in a loop that runs ~10,000 times per study.
 */
import { PhenofaceError } from '../errors.ts';

/** Dot product of `len` entries of `a` from `ao` and `b` from `bo`. */
export function dot(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[ao + k] * b[bo + k];
    s1 += a[ao + k + 1] * b[bo + k + 1];
    s2 += a[ao + k + 2] * b[bo + k + 2];
    s3 += a[ao + k + 3] * b[bo + k + 3];
  }
  for (; k < len; k++) s0 += a[ao + k] * b[bo + k];
  return s0 + s1 + (s2 + s3);
}

/** A dense n x d matrix, row-major: row i at [i * d, (i + 1) * d). */
export interface Packed {
  n: number;
  d: number;
  rows: Float64Array;
}

/** `out[i] = row_i · w + bias` for every row. */
export function multiply(m: Packed, w: ArrayLike<number>, bias: number, out: Float64Array): Float64Array {
  for (let i = 0; i < m.n; i++) out[i] = dot(m.rows, i * m.d, w, 0, m.d) + bias;
  return out;
}

/**
 * Checks that `X` is a non-empty list of equal-length rows of finite numbers (of length `dim`
 * when given) and returns the row length. Throws `E_INPUT` naming the first bad row. With
 * `finite: false` only the lengths are checked (fitting finds non-finite values for free, in the
 * standardiser's sums, and only then scans for the row).
 */
export function checkRows(X: readonly Float32Array[], dim?: number, finite = true): number {
  if (X.length === 0) throw new PhenofaceError('E_INPUT', 'No embeddings given. Should be at least one row.');
  const d = dim ?? X[0].length;
  if (!(d > 0)) throw new PhenofaceError('E_INPUT', `Invalid embedding dimension: ${d}. Should be at least 1.`);
  for (let i = 0; i < X.length; i++) {
    const row = X[i];
    if (!row || row.length !== d) {
      throw new PhenofaceError('E_INPUT', `Embedding ${i} has dimension ${row ? row.length : 'none'}. Should be ${d}.`);
    }
    if (!finite) continue;
    for (let a = 0; a < d; a++) {
      if (!Number.isFinite(row[a])) throw new PhenofaceError('E_INPUT', `Embedding ${i} holds a non-finite value (${row[a]}) at index ${a}.`);
    }
  }
  return d;
}

/** All row indices 0..n-1. */
export const allRows = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Copies the rows of `X` listed in `rows` into a packed matrix. */
export function packRows(X: readonly Float32Array[], rows: readonly number[]): Packed {
  const d = X[rows[0]].length;
  const packed: Packed = { n: rows.length, d, rows: new Float64Array(rows.length * d) };
  rows.forEach((i, r) => packed.rows.set(X[i], r * d));
  return packed;
}

/**
 * Per-feature z-scoring, `(x - mean) / sd`, fitted on training rows only (population sd; a
 * feature constant in training keeps scale 1). With `unit`, each standardised row is then scaled
 * to length 1 (for cosine similarity).
 */
export class Standardiser {
  constructor(
    readonly mean: Float64Array,
    readonly scale: Float64Array,
    readonly unit = false,
  ) {}

  /** Fits on the rows of `X` listed in `rows`. */
  static fit(X: readonly Float32Array[], rows: readonly number[], unit = false): Standardiser {
    return Standardiser.fitTransform(X, rows, unit).standardiser;
  }

  /** Fits on the rows of `X` listed in `rows` and returns them standardised. */
  static fitTransform(X: readonly Float32Array[], rows: readonly number[], unit = false): { standardiser: Standardiser; packed: Packed } {
    const packed = packRows(X, rows);
    const { n, d, rows: R } = packed;
    // One pass for both moments: embeddings are bounded (|x| <= 1), so E[x²] - mean² loses nothing in float64.
    const sum = new Float64Array(d);
    const sumSq = new Float64Array(d);
    for (let o = 0; o < n * d; o += d) {
      for (let a = 0; a < d; a++) {
        const v = R[o + a];
        sum[a] += v;
        sumSq[a] += v * v;
      }
    }
    const mean = sum.map((v) => v / n);
    const scale = sumSq.map((v, a) => {
      const sd = Math.sqrt(Math.max(0, v / n - mean[a] * mean[a]));
      return sd > 1e-12 ? sd : 1;
    });
    if (!mean.every(Number.isFinite) || !scale.every(Number.isFinite)) checkRows(rows.map((i) => X[i]), d);
    const standardiser = new Standardiser(mean, scale, unit);
    standardiser.transformInPlace(packed);
    return { standardiser, packed };
  }

  /** Standardises the rows of `X` listed in `rows` into a packed matrix. */
  pack(X: readonly Float32Array[], rows: readonly number[]): Packed {
    return this.transformInPlace(packRows(X, rows));
  }

  private transformInPlace(packed: Packed): Packed {
    const { n, d, rows: R } = packed;
    const mean = this.mean;
    const inv = this.scale.map((s) => 1 / s);
    const unit = this.unit;
    for (let o = 0; o < n * d; o += d) {
      let norm = 0;
      for (let a = 0; a < d; a++) {
        const z = (R[o + a] - mean[a]) * inv[a];
        R[o + a] = z;
        norm += z * z;
      }
      if (unit && norm > 0) {
        const k = 1 / Math.sqrt(norm);
        for (let a = 0; a < d; a++) R[o + a] *= k;
      }
    }
    return packed;
  }

  toJSON(): { mean: number[]; scale: number[]; unit: boolean } {
    return { mean: [...this.mean], scale: [...this.scale], unit: this.unit };
  }

  /** Restores from {@link Standardiser.toJSON}; throws `E_BUNDLE` on a malformed record. */
  static fromJSON(json: unknown, dim: number): Standardiser {
    const j = json as { mean?: unknown; scale?: unknown; unit?: unknown };
    const mean = numberArray(j?.mean, dim, 'standardiser.mean');
    const scale = numberArray(j?.scale, dim, 'standardiser.scale');
    if (scale.some((s) => !(s > 0))) throw new PhenofaceError('E_BUNDLE', 'Invalid classifier: standardiser.scale holds a value <= 0. Should be positive.');
    return new Standardiser(mean, scale, j.unit === true);
  }
}

/** Reads a finite number array of length `length` from a bundle record, or throws `E_BUNDLE`. */
export function numberArray(value: unknown, length: number, name: string): Float64Array {
  if (!Array.isArray(value) || value.length !== length || value.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new PhenofaceError('E_BUNDLE', `Invalid classifier: ${name} should be an array of ${length} finite numbers.`);
  }
  return Float64Array.from(value as number[]);
}

/** Reads a finite number from a bundle record, or throws `E_BUNDLE`. */
export function finiteNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new PhenofaceError('E_BUNDLE', `Invalid classifier: ${name} is ${JSON.stringify(value)}. Should be a finite number.`);
  }
  return value;
}

/** The logistic function, written to avoid overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
