/**
 * A GestaltMatcher-style cosine gallery (Hsieh et al. 2022, "GestaltMatcher facilitates rare
 * disease matching using facial phenotype descriptors", Nat Genet): the training people form a
 * gallery of unit vectors in the (standardised) embedding space, and a face is matched by cosine
 * similarity. Each training subject is one entry (the mean of its photos, so a person photographed
 * often does not outvote the others). A class is scored by the cosine to its centroid (k = 0), or
 * by the mean cosine of its k nearest subjects (k >= 1; a class with fewer subjects uses all of
 * them). Scores become probabilities by a softmax at a temperature chosen on held-out rows.
 */
import { dot, type Packed } from './linalg.ts';

/** A fitted gallery: unit entries (row-major, d each) with their class, and unit class centroids. */
export interface GalleryModel {
  classes: number;
  /** 0 = class centroids; k >= 1 = mean of the k nearest subjects of each class. */
  k: number;
  d: number;
  entries: Float64Array;
  entryClass: Int32Array;
  centroids: Float64Array;
}

/** Scales `v[o..o+d)` to unit length (left as is when zero). */
function normalise(v: Float64Array, o: number, d: number): void {
  const norm = Math.sqrt(dot(v, o, v, o, d));
  if (norm > 0) for (let a = 0; a < d; a++) v[o + a] /= norm;
}

/** Builds the gallery from packed unit rows with classes `y` and subject ids `groups`. */
export function fitGalleryPacked(Z: Packed, y: Int32Array, groups: readonly string[], classes: number, k: number): GalleryModel {
  const { n, d, rows: R } = Z;
  const entryOf = new Map<string, number>();
  const entryClass: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!entryOf.has(groups[i])) {
      entryOf.set(groups[i], entryClass.length);
      entryClass.push(y[i]);
    }
  }
  const entries = new Float64Array(entryClass.length * d);
  for (let i = 0; i < n; i++) {
    const o = entryOf.get(groups[i])! * d;
    for (let a = 0; a < d; a++) entries[o + a] += R[i * d + a];
  }
  const centroids = new Float64Array(classes * d);
  for (let e = 0; e < entryClass.length; e++) {
    normalise(entries, e * d, d);
    const o = entryClass[e] * d;
    for (let a = 0; a < d; a++) centroids[o + a] += entries[e * d + a];
  }
  for (let c = 0; c < classes; c++) normalise(centroids, c * d, d);
  return { classes, k, d, entries, entryClass: Int32Array.from(entryClass), centroids };
}

/**
 * `out` (length K) = the class scores of unit vector `x` at offset `o`: cosines in [-1, 1]; a class
 * with no gallery entry scores -1 (as unlike as a unit vector can be).
 */
export function galleryScores(m: GalleryModel, x: ArrayLike<number>, o: number, out: Float64Array): Float64Array {
  const { d, classes } = m;
  if (m.k === 0) {
    for (let c = 0; c < classes; c++) {
      const s = dot(x, o, m.centroids, c * d, d);
      out[c] = s === 0 && !hasEntry(m, c) ? -1 : s;
    }
    return out;
  }
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let e = 0; e < m.entryClass.length; e++) byClass[m.entryClass[e]].push(dot(x, o, m.entries, e * d, d));
  for (let c = 0; c < classes; c++) {
    const sims = byClass[c].sort((a, b) => b - a).slice(0, m.k);
    out[c] = sims.length ? sims.reduce((a, b) => a + b, 0) / sims.length : -1;
  }
  return out;
}

const hasEntry = (m: GalleryModel, c: number) => m.entryClass.includes(c);
