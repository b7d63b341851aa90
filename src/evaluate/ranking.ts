/**
 * The ranked differential's evaluation: repeated subject-grouped K-fold cross-validation of a
 * ranker (`classify/ranker.ts`) over three or more classes, and its metrics, in the terms
 * GestaltMatcher reports (Hsieh et al. 2022): top-k accuracy (is the true class among the k most
 * probable?) per photo and per person, each class's one-vs-rest AUC, sensitivity and support, a
 * confusion matrix, and the chance levels to read them against.
 *
 * How repeats are combined, as in `crossval.ts`: each metric is computed on one repeat's
 * out-of-fold predictions (each photo predicted once, by a model that never saw its subject) and
 * averaged over the repeats. A person's class probabilities fuse their photos' by the mean
 * log-probability, renormalised (the product of the photos' likelihoods, geometric-mean tempered);
 * a person's rank is the rank of the true class in that fused list. Intervals come from a
 * subject bootstrap stratified by class, which recomputes the same repeat-averaged metric; those
 * of rates (top-k, sensitivity, specificity) are widened to Wilson's on the counts as the binary
 * metrics' are (`widenRate`), since a bootstrap of a rate of 1 is [1, 1] however few people it rests on.
 */
import { fitRanker, type RankerChoice, type RankSelection } from '../classify/ranker.ts';
import { softmaxInPlace } from '../classify/multinomial.ts';
import { checkRows } from '../classify/linalg.ts';
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { checkSeed, deriveSeed, mulberry32 } from '../math/random.ts';
import { percentileInterval, subjectBootstrap } from './bootstrap.ts';
import type { Estimate } from './crossval.ts';
import { ascendingOrder, auc, widenRate } from './metrics.ts';
import { checkFolds, groupedClassKFold } from './splits.ts';

/** The ks of top-k accuracy that a ranking reports. */
export const TOP_K = [1, 3, 5, 10] as const;

/**
 * The ks of {@link TOP_K} that say something about a ranking of `classes` classes: top-1, and each
 * k below the number of classes. Top-k for k >= classes is 1 by construction (the true class is
 * always among all the classes), so the report, the CLI and the model card leave it out rather
 * than show it as a result; `metrics.json` keeps every k for its contract.
 */
export function informativeTopK(classes: number): (typeof TOP_K)[number][] {
  return TOP_K.filter((k, i) => i === 0 || k < classes);
}

/** A ranking study's data: one row per photo. */
export interface RankingData {
  X: readonly Float32Array[];
  /** Class index of each photo (into `labels`); one class per subject. */
  classes: readonly number[];
  /** Class names. */
  labels: readonly string[];
  subjects: readonly string[];
  /** Photo ids (the manifest's `path`), unique. */
  photoIds: readonly string[];
}

/** How to cross-validate; defaults from `DEFAULTS.evaluate` and `DEFAULTS.classify`. */
export interface RankingOptions {
  classifier?: RankerChoice;
  folds?: number;
  repeats?: number;
  seed?: number;
  bootstrap?: number;
  innerFolds?: number;
  patience?: number;
}

/** One out-of-fold prediction: a row of `ranking.csv`. */
export interface RankPrediction {
  path: string;
  subject: string;
  /** True class index. */
  label: number;
  repeat: number;
  fold: number;
  /** The photo's class probabilities, in `labels` order. */
  probabilities: Float64Array;
  /** The person's fused class probabilities (same for all their photos in this repeat). */
  subjectProbabilities: Float64Array;
}

/** One outer fold of a ranking. */
export interface RankFoldReport {
  repeat: number;
  fold: number;
  trainSubjects: number;
  testSubjects: number;
  family: string;
  hyper: Record<string, number>;
  selection?: RankSelection;
}

/** Top-k accuracies of one level, each with its 95% subject-bootstrap interval. */
export type TopK = Record<`top${(typeof TOP_K)[number]}`, Estimate>;

/** One class's one-vs-rest figures at one level. */
export interface ClassLevel {
  /** Probability of the class as the score, the class against every other. */
  auc: Estimate;
  /** Share of the class's units ranked first as it (recall). */
  sensitivity: Estimate;
  /** Share of the other classes' units not ranked first as it. */
  specificity: Estimate;
}

/** One class's support and one-vs-rest figures. */
export interface ClassMetrics {
  support: { subjects: number; photos: number };
  photo: ClassLevel;
  subject: ClassLevel;
}

/** A ranking's metrics (what `metrics.json`'s `ranking` holds). */
export interface RankingMetrics {
  classes: string[];
  photo: TopK;
  subject: TopK;
  perClass: Record<string, ClassMetrics>;
  /** Top-k accuracy for every k from 1 to the number of classes (point values, for the top-k curve). */
  curve: { photo: number[]; subject: number[] };
  /** Counts of true class (rows) by top-ranked class (columns), in `classes` order, averaged over repeats. */
  confusion: { photo: number[][]; subject: number[][] };
  chance: {
    /** Top-k of a uniformly random ranking: k / classes. */
    uniform: Record<string, number>;
    /**
     * Top-1 of always naming the largest class: per person the class with the most people
     * (`class`), per photo the class with the most photos (`photoClass`), which differ when
     * people have different numbers of photos.
     */
    majority: { class: string; photo: number; subject: number; photoClass: string };
  };
  repeats: number;
  bootstrap: number;
}

/** The result of {@link crossValidateRanking}. */
export interface RankingResult {
  options: Required<RankingOptions>;
  predictions: RankPrediction[];
  folds: RankFoldReport[];
  metrics: RankingMetrics;
}

function resolve(o: RankingOptions): Required<RankingOptions> {
  const r = {
    classifier: o.classifier ?? DEFAULTS.classify.ranking.classifier,
    folds: o.folds ?? DEFAULTS.evaluate.folds,
    repeats: o.repeats ?? DEFAULTS.evaluate.repeats,
    seed: checkSeed(o.seed ?? DEFAULTS.evaluate.seed),
    bootstrap: o.bootstrap ?? DEFAULTS.evaluate.bootstrap,
    innerFolds: o.innerFolds ?? DEFAULTS.classify.innerFolds,
    patience: o.patience ?? DEFAULTS.classify.patience,
  };
  checkFolds(r.folds);
  checkFolds(r.innerFolds, 'innerFolds');
  for (const [name, value, min] of [['repeats', r.repeats, 1], ['bootstrap', r.bootstrap, 0]] as const) {
    if (!Number.isInteger(value) || value < min) throw new PhenofaceError('E_CONFIG', `Invalid ${name}: ${JSON.stringify(value)}. Should be an integer >= ${min}.`);
  }
  return r;
}

/** Each class's subjects; E_INPUT when a class has fewer than two (held out, it could not be learnt). */
function subjectsByClass(data: RankingData): string[][] {
  const by: Set<string>[] = data.labels.map(() => new Set());
  data.classes.forEach((c, i) => by[c].add(data.subjects[i]));
  const thin = data.labels.filter((_, c) => by[c].size < 2);
  if (thin.length) {
    throw new PhenofaceError('E_INPUT', `Class${thin.length > 1 ? 'es' : ''} ${thin.map((l) => `"${l}" (${by[data.labels.indexOf(l)].size} subject)`).join(', ')} ha${thin.length > 1 ? 've' : 's'} fewer than 2 subjects. A ranking needs at least 2 per class: a held-out class must be learnt from another person.`);
  }
  return by.map((s) => [...s].sort());
}

/**
 * Cross-validates a ranker: `repeats` shuffles of subject-grouped K-fold stratified over classes,
 * each fold's ranker tuned by inner grouped CV on its training rows only. Deterministic given `seed`.
 */
export function crossValidateRanking(data: RankingData & RankingOptions): RankingResult {
  const o = resolve(data);
  checkRows(data.X);
  const strata = subjectsByClass(data);
  const predictions: RankPrediction[] = [];
  const folds: RankFoldReport[] = [];
  for (let rep = 0; rep < o.repeats; rep++) {
    const probs: Float64Array[] = new Array(data.X.length);
    const foldOf = new Int32Array(data.X.length);
    groupedClassKFold(data.classes, data.subjects, o.folds, deriveSeed(o.seed, rep)).forEach((fold, f) => {
      const ranker = fitRanker(fold.train.map((i) => data.X[i]), fold.train.map((i) => data.classes[i]), fold.train.map((i) => data.subjects[i]), data.labels, {
        classifier: o.classifier, seed: deriveSeed(o.seed, 1, rep, f), innerFolds: o.innerFolds, split: groupedClassKFold, patience: o.patience,
      });
      ranker.rank(fold.test.map((i) => data.X[i])).forEach((p, j) => { probs[fold.test[j]] = p; foldOf[fold.test[j]] = f; });
      const count = (rows: number[]) => new Set(rows.map((i) => data.subjects[i])).size;
      folds.push({ repeat: rep, fold: f, trainSubjects: count(fold.train), testSubjects: count(fold.test), family: ranker.family, hyper: { ...ranker.hyper }, ...(ranker.rankSelection ? { selection: ranker.rankSelection } : {}) });
    });
    const fused = fuseRanks(probs, data.subjects);
    probs.forEach((p, i) => predictions.push({ path: data.photoIds[i], subject: data.subjects[i], label: data.classes[i], repeat: rep, fold: foldOf[i], probabilities: p, subjectProbabilities: fused.get(data.subjects[i])! }));
  }
  return { options: o, predictions, folds, metrics: rankingMetrics(predictions, data.labels, strata, o.bootstrap, o.seed) };
}

/** Each subject's fused class probabilities: the softmax of the mean log-probability of its photos. */
export function fuseRanks(probs: readonly Float64Array[], subjects: readonly string[]): Map<string, Float64Array> {
  const sums = new Map<string, { sum: Float64Array; n: number }>();
  probs.forEach((p, i) => {
    const s = sums.get(subjects[i]) ?? { sum: new Float64Array(p.length), n: 0 };
    for (let k = 0; k < p.length; k++) s.sum[k] += Math.log(Math.max(p[k], 1e-300));
    s.n++;
    sums.set(subjects[i], s);
  });
  return new Map([...sums].map(([subject, { sum, n }]) => {
    const z = sum.map((v) => v / n);
    softmaxInPlace(z);
    return [subject, z];
  }));
}

/** Position (1 = first) of class `truth` when classes are sorted by descending probability, ties by class order. */
export function rankOf(p: ArrayLike<number>, truth: number): number {
  let rank = 1;
  for (let k = 0; k < p.length; k++) if (p[k] > p[truth] || (p[k] === p[truth] && k < truth)) rank++;
  return rank;
}

/** The top-ranked class (ties to the lower class index). */
export function topClass(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
  return best;
}

/** One repeat's units (photos, or subjects) at one level, as arrays for the bootstrap loops. */
interface Units {
  subject: Int32Array;
  label: Int32Array;
  rank: Int32Array;
  predicted: Int32Array;
  /** Probability of each class, per class (column-major), with each column's ascending order. */
  score: Float64Array[];
  order: Int32Array[];
  /** 1 where the unit's class is k, per class. */
  isClass: Uint8Array[];
}

function units(rows: { subject: number; label: number; p: Float64Array }[], classes: number): Units {
  const score = Array.from({ length: classes }, (_, k) => Float64Array.from(rows, (r) => r.p[k]));
  return {
    subject: Int32Array.from(rows, (r) => r.subject),
    label: Int32Array.from(rows, (r) => r.label),
    rank: Int32Array.from(rows, (r) => rankOf(r.p, r.label)),
    predicted: Int32Array.from(rows, (r) => topClass(r.p)),
    score,
    order: score.map((s) => ascendingOrder(s)),
    isClass: score.map((_, k) => Uint8Array.from(rows, (r) => (r.label === k ? 1 : 0))),
  };
}

/** Photo- and subject-level units of each repeat. */
function levels(predictions: readonly RankPrediction[], subjectIndex: Map<string, number>, classes: number): { photo: Units[]; subject: Units[] } {
  const repeats = Math.max(...predictions.map((p) => p.repeat)) + 1;
  const photo: Units[] = [];
  const subject: Units[] = [];
  for (let r = 0; r < repeats; r++) {
    const rows = predictions.filter((p) => p.repeat === r);
    photo.push(units(rows.map((p) => ({ subject: subjectIndex.get(p.subject)!, label: p.label, p: p.probabilities })), classes));
    const first = new Map<string, RankPrediction>();
    for (const p of rows) if (!first.has(p.subject)) first.set(p.subject, p);
    subject.push(units([...first.values()].map((p) => ({ subject: subjectIndex.get(p.subject)!, label: p.label, p: p.subjectProbabilities })), classes));
  }
  return { photo, subject };
}

/** Weighted share of units meeting `hit`, averaged over repeats (null when no unit has weight). */
function repeatMean(sets: Units[], w: Float64Array | undefined, value: (u: Units, i: number) => number | null): number | null {
  let sum = 0;
  let count = 0;
  for (const u of sets) {
    let hits = 0;
    let total = 0;
    for (let i = 0; i < u.label.length; i++) {
      const v = value(u, i);
      if (v === null) continue;
      const wi = w ? w[u.subject[i]] : 1;
      hits += wi * v;
      total += wi;
    }
    if (total > 0) { sum += hits / total; count++; }
  }
  return count ? sum / count : null;
}

/** Mean over repeats of class `k`'s one-vs-rest AUC, with per-unit weights of each repeat. */
function classAuc(sets: Units[], k: number, weights: (Float64Array | undefined)[]): number | null {
  let sum = 0;
  let count = 0;
  for (const [r, u] of sets.entries()) {
    const a = auc(u.score[k], u.isClass[k], weights[r], u.order[k]);
    if (a !== null) { sum += a; count++; }
  }
  return count ? sum / count : null;
}

/** Whether a unit counts towards a rate (1), against it (0), or is outside it (null). */
type Hit = (u: Units, i: number) => number | null;
/** Top-k: the true class is among the first `k`. */
const withinTop = (k: number): Hit => (u, i) => (u.rank[i] <= k ? 1 : 0);
/** Sensitivity of class `k`: its units ranked first as it. */
const recalled = (k: number): Hit => (u, i) => (u.label[i] === k ? (u.predicted[i] === k ? 1 : 0) : null);
/** Specificity of class `k`: the other classes' units not ranked first as it. */
const rejected = (k: number): Hit => (u, i) => (u.label[i] !== k ? (u.predicted[i] !== k ? 1 : 0) : null);

/** A level's statistics (top-k, then per class AUC, sensitivity, specificity), under subject weights `w`. */
function levelStats(sets: Units[], classes: number, w?: Float64Array): (number | null)[] {
  const out: (number | null)[] = TOP_K.map((k) => repeatMean(sets, w, withinTop(k)));
  const unitWeights = sets.map((u) => (w ? Float64Array.from(u.subject, (s) => w[s]) : undefined));
  for (let k = 0; k < classes; k++) out.push(classAuc(sets, k, unitWeights), repeatMean(sets, w, recalled(k)), repeatMean(sets, w, rejected(k)));
  return out;
}

/** Units meeting `hit` and units it is defined on, each counted per repeat and averaged over the repeats. */
function repeatCounts(sets: Units[], hit: Hit): { successes: number; total: number } {
  let successes = 0;
  let total = 0;
  for (const u of sets) {
    for (let i = 0; i < u.label.length; i++) {
      const v = hit(u, i);
      if (v === null) continue;
      successes += v / sets.length;
      total += 1 / sets.length;
    }
  }
  return { successes, total };
}

/**
 * The counts behind each of {@link levelStats}' rates, for Wilson's interval; null for an AUC, and
 * for a top-k with k >= classes: that is 1 by construction, exactly, and an interval below 1 would
 * give it an uncertainty it does not have.
 */
function levelCounts(sets: Units[], classes: number): ({ successes: number; total: number } | null)[] {
  const out = TOP_K.map((k) => (k < classes ? repeatCounts(sets, withinTop(k)) : null));
  for (let k = 0; k < classes; k++) out.push(null, repeatCounts(sets, recalled(k)), repeatCounts(sets, rejected(k)));
  return out;
}

/** Point values and intervals of a level's statistics, those of rates widened by Wilson's on their counts. */
function estimates(sets: Units[], classes: number, replicates: Float64Array[]): Estimate[] {
  const point = levelStats(sets, classes);
  const boot = replicates.map((w) => levelStats(sets, classes, w));
  const counts = levelCounts(sets, classes);
  const minDefined = DEFAULTS.evaluate.minDefinedReplicates;
  return point.map((value, j) => {
    const e: Estimate = { value, ci95: replicates.length ? percentileInterval(boot.map((b) => b[j]), 0.95, minDefined) : null };
    const c = counts[j];
    return c ? widenRate(e, c.successes, c.total) : e;
  });
}

/** Counts of true by top-ranked class, averaged over repeats. */
function confusionMatrix(sets: Units[], classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const u of sets) for (let i = 0; i < u.label.length; i++) m[u.label[i]][u.predicted[i]] += 1 / sets.length;
  return m.map((row) => row.map((v) => Math.round(v * 1000) / 1000));
}

/**
 * The ranking metrics of out-of-fold predictions (as {@link crossValidateRanking} makes them, or as
 * read back from `ranking.csv`), with `bootstrap` subject-bootstrap replicates stratified by
 * `strata` (each class's subject ids).
 */
export function rankingMetrics(predictions: readonly RankPrediction[], labels: readonly string[], strata: readonly string[][], bootstrap: number, seed: number): RankingMetrics {
  const K = labels.length;
  const subjectIndex = new Map(strata.flat().map((s, i) => [s, i]));
  const { photo, subject } = levels(predictions, subjectIndex, K);
  let next = 0;
  const indexStrata = strata.map((s) => s.map(() => next++));
  const replicates = subjectBootstrap(indexStrata, bootstrap, mulberry32(deriveSeed(seed, 3, 0x4a4b)), (drawn) => {
    const w = new Float64Array(next);
    for (const s of drawn) w[s]++;
    return w;
  });
  const ph = estimates(photo, K, replicates);
  const sj = estimates(subject, K, replicates);
  const topK = (e: Estimate[]) => Object.fromEntries(TOP_K.map((k, j) => [`top${k}`, e[j]])) as TopK;
  const classLevel = (e: Estimate[], k: number): ClassLevel => ({ auc: e[TOP_K.length + 3 * k], sensitivity: e[TOP_K.length + 3 * k + 1], specificity: e[TOP_K.length + 3 * k + 2] });
  const photosOf = (k: number) => photo[0].label.filter((l) => l === k).length;
  const perClass = Object.fromEntries(labels.map((l, k) => [l, { support: { subjects: strata[k].length, photos: photosOf(k) }, photo: classLevel(ph, k), subject: classLevel(sj, k) }]));
  const curve = (sets: Units[]) => labels.map((_, k) => repeatMean(sets, undefined, withinTop(k + 1))!);
  return { classes: [...labels], photo: topK(ph), subject: topK(sj), perClass, curve: { photo: curve(photo), subject: curve(subject) }, confusion: { photo: confusionMatrix(photo, K), subject: confusionMatrix(subject, K) }, chance: chanceLevels(labels, strata, photosOf), repeats: photo.length, bootstrap };
}

/**
 * Chance top-k (k / classes) and the majority class's top-1: per person the class with the most
 * people, per photo the class with the most photos (ties to the first class).
 */
function chanceLevels(labels: readonly string[], strata: readonly string[][], photosOf: (k: number) => number): RankingMetrics['chance'] {
  const K = labels.length;
  const largest = (size: (k: number) => number) => {
    let major = 0;
    for (let k = 1; k < K; k++) if (size(k) > size(major)) major = k;
    return major;
  };
  const people = (k: number) => strata[k].length;
  const subjects = labels.reduce((a, _, k) => a + people(k), 0);
  const photos = labels.reduce((a, _, k) => a + photosOf(k), 0);
  const bySubject = largest(people);
  const byPhoto = largest(photosOf);
  return {
    uniform: Object.fromEntries(TOP_K.map((k) => [`top${k}`, Math.min(1, k / K)])),
    majority: { class: labels[bySubject], photo: photosOf(byPhoto) / photos, subject: people(bySubject) / subjects, photoClass: labels[byPhoto] },
  };
}
