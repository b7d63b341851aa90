/**
 * Leakage guards, run on the whole data set before any split is made. Subject-grouped
 * cross-validation only keeps a person out of their own test fold if each person has exactly
 * one subject id; a face-recognition embedding recognises people, so one person under two ids (or
 * one photo under two paths) lets the classifier score by recognition instead of phenotype.
 *
 * Rules (each threshold is a parameter, defaults in `defaults.ts`):
 * - **duplicate-content**: files with identical sha256 — the same photo under two paths.
 * - **near-duplicate**: two different files whose embeddings have cosine > `nearDuplicateCosine`
 *   (default 0.995): the same photo re-encoded, resized or lightly cropped. Two different shots of
 *   one person, even seconds apart, score lower (typically 0.7-0.95 for ArcFace-style backbones).
 * - **same-person**: subject ids A and B whose *mean* cross cosine (over all photo pairs, one from
 *   each) reaches the identity threshold. By default the threshold is calibrated on the data: the
 *   `identityPercentile`-th percentile (default 5th) of the subjects' within-subject mean cosines,
 *   i.e. A and B resemble each other at least as much as 95% of people resemble themselves. With
 *   fewer than `minCalibrationSubjects` subjects of two or more photos, the absolute
 *   `identityAbsoluteCosine` is used instead. Means rather than maxima: a single look-alike photo
 *   pair among thousands of impostor pairs is expected; a whole subject pair as close as genuine
 *   pairs is not. All similarities are on L2-normalised embeddings.
 */
import { PhenofaceError } from '../errors.ts';
import { DATA_DEFAULTS } from './defaults.ts';

/** What the guards need of a photo; `embedDataset`'s results fit (`{path, subject} = item`). */
export interface LeakagePhoto {
  path: string;
  subject: string;
  sha256?: string;
  embedding?: Float32Array;
}

/** A photo as named in a warning. */
export interface PhotoRef {
  path: string;
  subject: string;
}

/** The same bytes under several paths. */
export interface DuplicateContentWarning {
  kind: 'duplicate-content';
  sha256: string;
  photos: PhotoRef[];
  /** True when the copies carry different subject ids (leaks across folds). */
  crossSubject: boolean;
  message: string;
}

/** Two files with near-identical embeddings. */
export interface NearDuplicateWarning {
  kind: 'near-duplicate';
  cosine: number;
  photos: [PhotoRef, PhotoRef];
  crossSubject: boolean;
  message: string;
}

/** Two subject ids that look like one person. */
export interface SamePersonWarning {
  kind: 'same-person';
  subjects: [string, string];
  /** Mean cosine over all photo pairs across the two subjects (the flagged statistic). */
  meanCosine: number;
  /** Highest single cross-subject photo-pair cosine, and that pair. */
  maxCosine: number;
  closestPair: [string, string];
  threshold: number;
  message: string;
}

/** Any leakage warning; `kind` tells which rule raised it, `message` says it for the report. */
export type LeakageWarning = DuplicateContentWarning | NearDuplicateWarning | SamePersonWarning;

/** How the identity threshold was set. */
export interface IdentityThreshold {
  cosine: number;
  rule: 'within-subject-percentile' | 'absolute';
  /** The percentile used, for the calibrated rule. */
  percentile?: number;
  /** Subjects with two or more embedded photos (the calibration sample). */
  calibrationSubjects: number;
}

/** Options of {@link checkLeakage}; defaults from `DATA_DEFAULTS`. */
export interface LeakageOptions {
  nearDuplicateCosine?: number;
  /** `within-subject-percentile` (default) or a fixed cosine for the backbone. */
  identity?: { rule: 'within-subject-percentile'; percentile: number } | { rule: 'absolute'; cosine: number };
  minCalibrationSubjects?: number;
}

/** Warnings, and the identity threshold used (absent when no photo has an embedding). */
export interface LeakageReport {
  warnings: LeakageWarning[];
  identityThreshold?: IdentityThreshold;
}

/** The p-th percentile (0-100) of `values`, linear between order statistics (R's type 7). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new PhenofaceError('E_INPUT', 'percentile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Squared distance of rows at offsets `a` and `b` of `m` if it is at most `limit`, else undefined (early exit). */
function squaredDistanceBelow(m: Float32Array, a: number, b: number, dim: number, limit: number): number | undefined {
  let sum = 0;
  for (let k = 0; k < dim; k++) {
    const d = m[a + k] - m[b + k];
    sum += d * d;
    if ((k & 31) === 31 && sum > limit) return undefined;
  }
  return sum <= limit ? sum : undefined;
}

function unit(v: Float32Array): Float32Array {
  const n = Math.sqrt(dot(v, v));
  return n > 0 ? v.map((x) => x / n) : v.slice();
}

const ref = (p: LeakagePhoto): PhotoRef => ({ path: p.path, subject: p.subject });
const round = (x: number) => x.toFixed(3);

/** Run the three guards over the whole data set (see the module comment for the rules). */
export function checkLeakage(photos: readonly LeakagePhoto[], options: LeakageOptions = {}): LeakageReport {
  const nearCos = options.nearDuplicateCosine ?? DATA_DEFAULTS.nearDuplicateCosine;
  const identity = options.identity ?? { rule: 'within-subject-percentile', percentile: DATA_DEFAULTS.identityPercentile };
  const minCalibration = options.minCalibrationSubjects ?? DATA_DEFAULTS.identityMinCalibrationSubjects;
  const warnings: LeakageWarning[] = [];

  // 1. Identical content.
  const bySha = new Map<string, LeakagePhoto[]>();
  for (const p of photos) if (p.sha256 !== undefined) bySha.set(p.sha256, [...(bySha.get(p.sha256) ?? []), p]);
  for (const [sha256, group] of bySha) {
    if (group.length < 2) continue;
    const crossSubject = new Set(group.map((p) => p.subject)).size > 1;
    const list = group.map((p) => `"${p.path}" (subject ${p.subject})`).join(', ');
    warnings.push({ kind: 'duplicate-content', sha256, photos: group.map(ref), crossSubject, message: `the same photo appears under ${group.length} paths: ${list}` });
  }

  const embedded = photos.filter((p) => p.embedding !== undefined);
  if (embedded.length === 0) return { warnings };
  const dim = embedded[0].embedding!.length;
  const bad = embedded.find((p) => p.embedding!.length !== dim);
  if (bad) throw new PhenofaceError('E_INPUT', `Embedding of "${bad.path}" has ${bad.embedding!.length} dimensions; expected ${dim} like the others.`);
  const vectors = embedded.map((p) => unit(p.embedding!));

  // 2. Near-identical photos: every pair of different files. For unit vectors cosine > c means
  // squared distance < 2(1 - c); the distance is summed in blocks of 32 dimensions and a pair is
  // dropped as soon as the partial sum exceeds that bound, so most pairs cost 32 of `dim` products.
  const maxSquaredDistance = 2 * (1 - nearCos) + 1e-6; // slack for float32 rounding; the cosine decides
  const packed = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => packed.set(v, i * dim));
  for (let i = 0; i < embedded.length; i++) {
    for (let j = i + 1; j < embedded.length; j++) {
      const a = embedded[i];
      const b = embedded[j];
      if (a.sha256 !== undefined && a.sha256 === b.sha256) continue; // already a duplicate-content warning
      if (squaredDistanceBelow(packed, i * dim, j * dim, dim, maxSquaredDistance) === undefined) continue;
      const cosine = dot(vectors[i], vectors[j]);
      if (cosine <= nearCos) continue;
      const crossSubject = a.subject !== b.subject;
      warnings.push({
        kind: 'near-duplicate',
        cosine,
        photos: [ref(a), ref(b)],
        crossSubject,
        message: `"${a.path}" (subject ${a.subject}) and "${b.path}" (subject ${b.subject}) are near-identical photos (embedding cosine ${round(cosine)} > ${nearCos})`,
      });
    }
  }

  // 3. One person under two ids, from per-subject sums of unit vectors: for unit vectors the mean
  // cross cosine of A and B is sum_A . sum_B / (n_A n_B), and A's mean within-subject cosine is
  // (|sum_A|^2 - n_A) / (n_A (n_A - 1)).
  const subjects = new Map<string, { sum: Float32Array; members: number[] }>();
  vectors.forEach((v, i) => {
    const s = subjects.get(embedded[i].subject) ?? { sum: new Float32Array(dim), members: [] };
    for (let k = 0; k < dim; k++) s.sum[k] += v[k];
    s.members.push(i);
    subjects.set(embedded[i].subject, s);
  });
  const withinMeans = [...subjects.values()]
    .filter((s) => s.members.length >= 2)
    .map((s) => (dot(s.sum, s.sum) - s.members.length) / (s.members.length * (s.members.length - 1)));
  const calibrated = identity.rule === 'within-subject-percentile' && withinMeans.length >= minCalibration;
  const threshold: IdentityThreshold = calibrated
    ? { cosine: percentile(withinMeans, identity.percentile), rule: 'within-subject-percentile', percentile: identity.percentile, calibrationSubjects: withinMeans.length }
    : { cosine: identity.rule === 'absolute' ? identity.cosine : DATA_DEFAULTS.identityAbsoluteCosine, rule: 'absolute', calibrationSubjects: withinMeans.length };

  const ids = [...subjects.keys()];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      const A = subjects.get(ids[a])!;
      const B = subjects.get(ids[b])!;
      const meanCosine = dot(A.sum, B.sum) / (A.members.length * B.members.length);
      if (meanCosine < threshold.cosine) continue;
      let maxCosine = -Infinity;
      let closestPair: [string, string] = ['', ''];
      for (const i of A.members) {
        for (const j of B.members) {
          const c = dot(vectors[i], vectors[j]);
          if (c > maxCosine) [maxCosine, closestPair] = [c, [embedded[i].path, embedded[j].path]];
        }
      }
      const how = threshold.rule === 'absolute' ? `the absolute threshold ${round(threshold.cosine)}` : `${round(threshold.cosine)}, the ${threshold.percentile}th percentile of within-subject means`;
      warnings.push({
        kind: 'same-person',
        subjects: [ids[a], ids[b]],
        meanCosine,
        maxCosine,
        closestPair,
        threshold: threshold.cosine,
        message: `subjects ${ids[a]} and ${ids[b]} may be one person: mean cross-subject cosine ${round(meanCosine)} >= ${how} (closest photos "${closestPair[0]}" and "${closestPair[1]}", cosine ${round(maxCosine)})`,
      });
    }
  }
  return { warnings, identityThreshold: threshold };
}
