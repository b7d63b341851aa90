/**
 * Leakage guards, run on the whole data set before any split is made. Subject-grouped
 * cross-validation only keeps a person out of their own test fold if each person has exactly
 * one subject id; a face-recognition embedding recognises people, so one person under two ids (or
 * one photo under two paths) lets the classifier score by recognition instead of phenotype.
 *
 * Rules (each threshold is a parameter, defaults in `config.ts`, DEFAULTS.data):
 * - **duplicate-content**: files with identical sha256 — the same photo under two paths.
 * - **near-duplicate**: two different files whose embeddings have cosine > `nearDuplicateCosine`
 *   (default 0.995): the same photo re-encoded, resized or lightly cropped. Two different shots of
 *   one person, even seconds apart, score lower (typically 0.7-0.95 for ArcFace-style backbones).
 * - **same-person**: subject ids A and B whose *centroid cosine* (cosine between the normalised
 *   means of their photos' embeddings) reaches the identity threshold. The threshold is calibrated
 *   on the data by split halves: each subject with two or more photos is split into two halves
 *   (alternate photos, in data order), as if filed under two ids, giving one half-to-half centroid
 *   cosine per subject: the similarity that one person under two ids would show. Default rule
 *   `split-half-robust`: threshold = median - k * 1.4826 * MAD of those cosines (k = 3, a robust
 *   lower 3-sigma fence), so A and B are flagged when they resemble each other as much as the two
 *   halves of an ordinary person do. Alternatives: `split-half-percentile` (the p-th percentile;
 *   about p% of true splits are then missed by construction) and `absolute` (a fixed cosine for
 *   the backbone, also used when fewer than `minCalibrationSubjects` subjects can be split).
 *
 *   By default a pair is flagged only when the two subjects are also each other's most similar
 *   subject (mutual nearest neighbours): a look-alike "hub" close to many people is not flagged
 *   with each of them, while one person's two ids are nearly always each other's nearest.
 *
 *   Measured on CFP with MobileFaceNet (14 frontal and profile photos per person). 60 people: the
 *   highest impostor centroid cosine was 0.737 and the robust threshold 0.738 (the 5th percentile
 *   0.736). 250 people (31,000 subject pairs): threshold 0.739; 68 impostor pairs above it (up to
 *   0.879, all different people), 11 of them mutual nearest neighbours. Ten people each split into
 *   two ids (frontal photos 1-5 and 6-10) scored 0.79-0.90 and all ten were flagged; split into
 *   mixed halves, 9 of 10. Subjects with profile photos only (self-similarity 0.35-0.61) pulled
 *   the 5th percentile down to 0.557 on 60 people (dozens of false alarms), the robust threshold
 *   only to 0.701. Centroids rather than the mean or maximum over photo pairs: on the mean,
 *   impostors' tail (0.38) overlapped frontal splits (0.37-0.63); single look-alike photo pairs
 *   reach 0.85, above many genuine maxima. A person whose frontal photos are under one id and
 *   profile photos under another scores 0.38-0.69 and is mostly not caught: cross-pose similarity
 *   is the backbone's limit. Expect a few look-alike warnings per few hundred subjects, for review.
 * All similarities are on L2-normalised embeddings.
 */
import { PhenofaceError } from '../errors.ts';
import { DEFAULTS } from '../config.ts';

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
  /** Always true: only copies under different subject ids are reported (they leak across folds). */
  crossSubject: boolean;
  message: string;
}

/** Two files with near-identical embeddings. */
export interface NearDuplicateWarning {
  kind: 'near-duplicate';
  cosine: number;
  photos: [PhotoRef, PhotoRef];
  /** Always true: near-identical photos of one person are not reported. */
  crossSubject: boolean;
  message: string;
}

/** Two subject ids that look like one person. */
export interface SamePersonWarning {
  kind: 'same-person';
  subjects: [string, string];
  /** Cosine between the two subjects' normalised mean embeddings (the flagged statistic). */
  centroidCosine: number;
  /** Mean cosine over all photo pairs across the two subjects. */
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
  rule: IdentityRule['rule'];
  /** The parameter of the rule used: `k` (robust), `percentile`, or neither (absolute). */
  k?: number;
  percentile?: number;
  /** Subjects with two or more embedded photos (the split-half calibration sample). */
  calibrationSubjects: number;
}

/** The rule setting the identity threshold (see the module comment). */
export type IdentityRule =
  | { rule: 'split-half-robust'; k: number }
  | { rule: 'split-half-percentile'; percentile: number }
  | { rule: 'absolute'; cosine: number };

/** Options of {@link checkLeakage}; defaults from `DEFAULTS.data`. */
export interface LeakageOptions {
  nearDuplicateCosine?: number;
  /** How the identity threshold is set (default `split-half-robust` with k = 3). */
  identity?: IdentityRule;
  minCalibrationSubjects?: number;
  /** Flag a pair only when each subject is the other's most similar subject (default true). */
  mutualNearest?: boolean;
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

/** The identity threshold from the rule and the split-half cosines; `absolute` when too few to calibrate. */
function identityThreshold(identity: IdentityRule, splitHalves: number[], minCalibration: number): IdentityThreshold {
  const calibrationSubjects = splitHalves.length;
  if (identity.rule === 'split-half-robust' && calibrationSubjects >= minCalibration) {
    const median = percentile(splitHalves, 50);
    const mad = percentile(splitHalves.map((c) => Math.abs(c - median)), 50);
    // 1.4826 * MAD estimates the standard deviation of a normal distribution robustly.
    return { cosine: median - identity.k * 1.4826 * mad, rule: identity.rule, k: identity.k, calibrationSubjects };
  }
  if (identity.rule === 'split-half-percentile' && calibrationSubjects >= minCalibration) {
    return { cosine: percentile(splitHalves, identity.percentile), rule: identity.rule, percentile: identity.percentile, calibrationSubjects };
  }
  return { cosine: identity.rule === 'absolute' ? identity.cosine : DEFAULTS.data.identityAbsoluteCosine, rule: 'absolute', calibrationSubjects };
}

/** What to do about a photo under two people, said once for every such warning. */
const FIX_IDS = 'If both show one person, give them one subject id in the manifest; otherwise remove the copy.';

/** Run the three guards over the whole data set (see the module comment for the rules). */
export function checkLeakage(photos: readonly LeakagePhoto[], options: LeakageOptions = {}): LeakageReport {
  const warnings: LeakageWarning[] = duplicateContent(photos);
  const embedded = photos.filter((p) => p.embedding !== undefined);
  if (embedded.length === 0) return { warnings };
  const vectors = unitEmbeddings(embedded);
  warnings.push(...nearDuplicates(embedded, vectors, options.nearDuplicateCosine ?? DEFAULTS.data.nearDuplicateCosine));
  const samePerson = samePersonUnderTwoIds(embedded, vectors, options);
  return { warnings: [...warnings, ...samePerson.warnings], identityThreshold: samePerson.threshold };
}

/**
 * A leakage warning as the model bundle keeps it: what was found, without the photos' paths or
 * the subject ids. The bundle leaves the study (`serve` shows its training warnings to every user
 * of the web app, it is shared with other clinics), and the names are of the training patients;
 * the study's own report and log keep the full {@link LeakageWarning.message}.
 */
export function warningWithoutNames(w: LeakageWarning): string {
  const where = 'the study\'s report names them';
  switch (w.kind) {
    case 'duplicate-content':
      return `the same photo appeared under ${w.photos.length} paths of different people (${where}).`;
    case 'near-duplicate':
      return `two photos of different people were near-identical (embedding cosine ${round(w.cosine)}; ${where}).`;
    case 'same-person':
      return `two subjects may have been one person (centroid cosine ${round(w.centroidCosine)} >= ${round(w.threshold)}; ${where}).`;
  }
}

/** Guard 1: identical content under different people (copies within one person stay in one fold). */
function duplicateContent(photos: readonly LeakagePhoto[]): DuplicateContentWarning[] {
  const bySha = new Map<string, LeakagePhoto[]>();
  for (const p of photos) if (p.sha256 !== undefined) bySha.set(p.sha256, [...(bySha.get(p.sha256) ?? []), p]);
  const warnings: DuplicateContentWarning[] = [];
  for (const [sha256, group] of bySha) {
    if (group.length < 2 || new Set(group.map((p) => p.subject)).size < 2) continue;
    const list = group.map((p) => `"${p.path}" (subject ${p.subject})`).join(', ');
    warnings.push({ kind: 'duplicate-content', sha256, photos: group.map(ref), crossSubject: true, message: `the same photo appears under ${group.length} paths of different people: ${list}. ${FIX_IDS}` });
  }
  return warnings;
}

/** The photos' embeddings as unit vectors; E_INPUT when their dimensions differ. */
function unitEmbeddings(embedded: readonly LeakagePhoto[]): Float32Array[] {
  const dim = embedded[0].embedding!.length;
  const bad = embedded.find((p) => p.embedding!.length !== dim);
  if (bad) throw new PhenofaceError('E_INPUT', `Embedding of "${bad.path}" has ${bad.embedding!.length} dimensions; expected ${dim} like the others.`);
  return embedded.map((p) => unit(p.embedding!));
}

/**
 * Guard 2: near-identical photos of different people, over every pair of different files. For
 * unit vectors cosine > c means squared distance < 2(1 - c); the distance is summed in blocks of 32
 * dimensions and a pair is dropped as soon as the partial sum exceeds that bound, so most pairs
 * cost 32 of `dim` products.
 */
function nearDuplicates(embedded: readonly LeakagePhoto[], vectors: readonly Float32Array[], nearCos: number): NearDuplicateWarning[] {
  const dim = vectors[0].length;
  const maxSquaredDistance = 2 * (1 - nearCos) + 1e-6; // slack for float32 rounding; the cosine decides
  const packed = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => packed.set(v, i * dim));
  const warnings: NearDuplicateWarning[] = [];
  for (let i = 0; i < embedded.length; i++) {
    for (let j = i + 1; j < embedded.length; j++) {
      const a = embedded[i];
      const b = embedded[j];
      if (a.subject === b.subject) continue; // one person's photos never span a subject-grouped split
      if (a.sha256 !== undefined && a.sha256 === b.sha256) continue; // already a duplicate-content warning
      if (squaredDistanceBelow(packed, i * dim, j * dim, dim, maxSquaredDistance) === undefined) continue;
      const cosine = dot(vectors[i], vectors[j]);
      if (cosine <= nearCos) continue;
      warnings.push({
        kind: 'near-duplicate',
        cosine,
        photos: [ref(a), ref(b)],
        crossSubject: true,
        message: `"${a.path}" (subject ${a.subject}) and "${b.path}" (subject ${b.subject}) are near-identical photos of different people (embedding cosine ${round(cosine)} > ${nearCos}). ${FIX_IDS}`,
      });
    }
  }
  return warnings;
}

/** Guard 3: one person under two ids, by centroid cosines calibrated on split halves (module comment). */
function samePersonUnderTwoIds(embedded: readonly LeakagePhoto[], vectors: readonly Float32Array[], options: LeakageOptions): { warnings: SamePersonWarning[]; threshold: IdentityThreshold } {
  const identity = options.identity ?? { rule: 'split-half-robust', k: DEFAULTS.data.identityRobustK };
  const minCalibration = options.minCalibrationSubjects ?? DEFAULTS.data.identityMinCalibrationSubjects;
  const mutualNearest = options.mutualNearest ?? DEFAULTS.data.identityMutualNearest;
  const dim = vectors[0].length;
  const members = new Map<string, number[]>();
  embedded.forEach((p, i) => members.set(p.subject, [...(members.get(p.subject) ?? []), i]));
  const centroid = (idx: readonly number[]) => {
    const sum = new Float32Array(dim);
    for (const i of idx) for (let k = 0; k < dim; k++) sum[k] += vectors[i][k];
    return unit(sum);
  };
  const splitHalves = [...members.values()]
    .filter((idx) => idx.length >= 2)
    .map((idx) => dot(centroid(idx.filter((_, k) => k % 2 === 0)), centroid(idx.filter((_, k) => k % 2 === 1))));
  const threshold = identityThreshold(identity, splitHalves, minCalibration);

  const ids = [...members.keys()];
  const centroids = ids.map((id) => centroid(members.get(id)!));
  const similarity = ids.map((_, a) => ids.map((_, b) => (a === b ? -Infinity : dot(centroids[a], centroids[b]))));
  const nearest = similarity.map((row) => row.indexOf(Math.max(...row)));
  const warnings: SamePersonWarning[] = [];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      if (similarity[a][b] < threshold.cosine) continue;
      if (mutualNearest && (nearest[a] !== b || nearest[b] !== a)) continue;
      warnings.push(samePersonWarning([ids[a], ids[b]], similarity[a][b], members, embedded, vectors, threshold));
    }
  }
  return { warnings, threshold };
}

/** The warning for two subject ids whose centroids are as close as one person's photos. */
function samePersonWarning(subjects: [string, string], centroidCosine: number, members: ReadonlyMap<string, number[]>, embedded: readonly LeakagePhoto[], vectors: readonly Float32Array[], threshold: IdentityThreshold): SamePersonWarning {
  let maxCosine = -Infinity;
  let sum = 0;
  let closestPair: [string, string] = ['', ''];
  for (const i of members.get(subjects[0])!) {
    for (const j of members.get(subjects[1])!) {
      const c = dot(vectors[i], vectors[j]);
      sum += c;
      if (c > maxCosine) [maxCosine, closestPair] = [c, [embedded[i].path, embedded[j].path]];
    }
  }
  const meanCosine = sum / (members.get(subjects[0])!.length * members.get(subjects[1])!.length);
  const how = {
    absolute: `the absolute threshold ${round(threshold.cosine)}`,
    'split-half-robust': `${round(threshold.cosine)}, the median - ${threshold.k} robust SD of split-half cosines within subjects`,
    'split-half-percentile': `${round(threshold.cosine)}, the ${threshold.percentile}th percentile of split-half cosines within subjects`,
  }[threshold.rule];
  return {
    kind: 'same-person',
    subjects,
    centroidCosine,
    meanCosine,
    maxCosine,
    closestPair,
    threshold: threshold.cosine,
    message: `subjects ${subjects[0]} and ${subjects[1]} may be one person: centroid cosine ${round(centroidCosine)} >= ${how} (closest photos "${closestPair[0]}" and "${closestPair[1]}", cosine ${round(maxCosine)}). If they are one person, give them one subject id; look-alikes can stay as they are`,
  };
}
