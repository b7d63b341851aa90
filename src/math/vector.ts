/**
 * L2 normalisation of embeddings. Embeddings are compared as unit vectors (cosine similarity,
 * ArcFace: Deng et al. 2019, "ArcFace: Additive Angular Margin Loss for Deep Face Recognition"),
 * so the embedder, the classifiers and the explainers must normalise with the same arithmetic or
 * an explanation would score a slightly different vector than the screen did. It lives in
 * `math/`, at the bottom of the import graph with `types.ts`, so that `embed/` and `explain/`, which may not
 * import each other, share it.
 */

/**
 * Writes `src / ||src||` into `out` (which may be `src` itself) and returns `out`. The norm is summed
 * in double precision from `src`'s own values and each element is divided by it, rounded once to
 * `out`'s type; a zero vector stays zero. Where the sum of squares would overflow or underflow
 * (values beyond about 1e150 or below 1e-140, which only a file of precomputed vectors holds), the
 * values are first divided by the largest magnitude, so a rescaled copy of a vector normalises to
 * the same unit vector.
 */
export function l2normalizeInto<T extends Float32Array | Float64Array>(src: ArrayLike<number>, out: T): T {
  let s = 0;
  for (let i = 0; i < src.length; i++) s += src[i] * src[i];
  if (s > SAFE_SQUARES[0] && s < SAFE_SQUARES[1]) {
    const n = Math.sqrt(s);
    for (let i = 0; i < src.length; i++) out[i] = src[i] / n;
    return out;
  }
  let m = 0;
  for (let i = 0; i < src.length; i++) m = Math.max(m, Math.abs(src[i]));
  if (!(m > 0 && Number.isFinite(m))) {
    for (let i = 0; i < src.length; i++) out[i] = m === 0 ? 0 : src[i];
    return out;
  }
  let t = 0;
  for (let i = 0; i < src.length; i++) t += (src[i] / m) ** 2;
  const n = Math.sqrt(t);
  for (let i = 0; i < src.length; i++) out[i] = src[i] / m / n;
  return out;
}

/** Sums of squares safely inside double precision's range: summing and dividing lose nothing. */
const SAFE_SQUARES = [1e-280, 1e300] as const;

/** L2-normalises a vector in place and returns it. */
export function l2normalize(v: Float32Array): Float32Array {
  return l2normalizeInto(v, v);
}

/** The L2-normalised float32 copy of a vector (a raw embedding as the classifiers see it). */
export function unitVector(raw: ArrayLike<number>): Float32Array {
  return l2normalizeInto(raw, new Float32Array(raw.length));
}

/** Whether two vectors hold the same values, element for element (the same photo embeds to the same vector). */
export function sameVector(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
