/**
 * 2-D similarity transforms (rotation, uniform scale, translation) as 2x3 affine matrices
 * `[a, b, c, d, e, f]` meaning `x' = a x + b y + c`, `y' = d x + e y + f`.
 */
import type { Point } from '../types.ts';

/** A 2x3 affine matrix, row-major. */
export type Affine = [number, number, number, number, number, number];

/**
 * Least-squares similarity transform from `src` to `dst` points: Umeyama (1991), "Least-squares
 * estimation of transformation parameters between two point patterns", the estimator behind
 * skimage's `SimilarityTransform.estimate` that insightface uses for ArcFace alignment.
 * In 2-D, without reflection, Umeyama's solution equals the complex least-squares fit
 * `w = a z + b` with `a = sum (w_i - w̄) conj(z_i - z̄) / sum |z_i - z̄|^2`, which is what we compute.
 */
export function umeyama(src: readonly Point[], dst: readonly Point[]): Affine {
  if (src.length !== dst.length || src.length < 2) throw new RangeError(`umeyama needs >= 2 point pairs of equal count, got ${src.length} and ${dst.length}`);
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) { sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1]; }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let re = 0, im = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const zx = src[i][0] - sx, zy = src[i][1] - sy;
    const wx = dst[i][0] - dx, wy = dst[i][1] - dy;
    // (wx + i wy) * (zx - i zy)
    re += wx * zx + wy * zy;
    im += wy * zx - wx * zy;
    norm += zx * zx + zy * zy;
  }
  if (norm === 0) throw new RangeError('umeyama: source points are all identical');
  const a = re / norm, b = im / norm;
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

/** Applies an affine matrix to a point. */
export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

/** The inverse of an affine matrix (throws on a singular one). */
export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (det === 0) throw new RangeError('invertAffine: singular matrix');
  const a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

/** The uniform scale of a similarity matrix. */
export function similarityScale(m: Affine): number {
  return Math.hypot(m[0], m[3]);
}
