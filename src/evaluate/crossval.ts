/**
 * The study's numerical core: repeated subject-grouped, class-stratified K-fold cross-validation
 * of a classifier on cached embeddings, with photo- and subject-level metrics, subject-level
 * bootstrap intervals, per-view and per-subgroup results, the majority-class baseline and a
 * permutation test; and `trainFinal`, the model fitted on all data for the bundle.
 *
 * How repeats are combined: every metric is computed on one repeat's pooled out-of-fold
 * predictions (each photo predicted once, by the fold model that never saw its subject), then
 * averaged over the repeats; ROC curves are averaged vertically on a fixed FPR grid. So a
 * `score`-style check recomputes e.g. AUC per `repeat` from `predictions.csv` and takes the mean.
 * Bootstrap intervals resample subjects (stratified by class) once per replicate and recompute
 * the same repeat-averaged metric on the same resampled subjects in every repeat.
 *
 * Thresholds: each fold fixes its own decision thresholds on its training data, by Youden's J on
 * the inner out-of-fold probabilities (photo level) and on their per-subject fusion (subject
 * level); test photos never influence them.
 *
 * Permutation test: each permutation shuffles labels between subjects and re-runs the outer CV
 * from scratch (new stratified splits, standardisation, fits), `permutationRepeats` times; the
 * statistic is the repeat-averaged subject AUC. To keep 100 permutations affordable the
 * hyperparameter is fixed at the classifier's `fixedValue` instead of tuned by the inner CV, and
 * the observed statistic is recomputed the same way on the real labels (the first
 * `permutationRepeats` splits of the study, or splits of their own when the test runs
 * `permutationFolds`, fewer than the study's folds). The value is set before any label is seen, so the
 * test stays exact; it asks whether the embeddings carry label information a fixed-C model can
 * find, not how good the tuned model is (that is the cross-validated AUC and its interval).
 */
import { availableParallelism } from 'node:os';
import { checkRows } from '../classify/linalg.ts';
import { createClassifier } from '../classify/registry.ts';
import type { Classifier, FittedClassifier, IndexFold, Selection } from '../classify/types.ts';
import { DEFAULTS, VIEWS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { nameMap, type View } from '../types.ts';
import { percentileInterval, pointwiseBand, stratifiedSubjectWeights } from './bootstrap.ts';
import type { FoldContext, FoldOutcome, FoldTask } from './fold-task.ts';
import {
  ascendingOrder,
  auc,
  calibrationBins,
  checkPrevalence,
  fuseBySubject,
  predictiveValues,
  rates,
  summariseScores,
  widenRate,
  youdenThreshold,
  type CalibrationBin,
  type Confusion,
} from './metrics.ts';
import { permutationPValue, permuteSubjectLabels } from './permutation.ts';
import { FoldPool } from './fold-pool.ts';
import { availableFeatures, embeddingClassifier, featuresLabel, fitFeatureModel, installedFeatures, type FittedFeatureModel, type FeatureName, type FeatureRequest, type FeatureSelection, type PhotoInputs } from '../features/index.ts';
import { checkSeed, deriveSeed, mulberry32 } from '../math/random.ts';
import { checkFolds, groupedStratifiedKFold, repeatedGroupedStratifiedKFold, subjectLabels } from './splits.ts';

/** The data of a study: one row per photo. */
export interface StudyData {
  /** L2-normalised embeddings, all of one dimension. */
  X: readonly Float32Array[];
  /** 1 = positive class (e.g. vcfs), 0 = negative. One label per subject. */
  y: readonly number[];
  subjects: readonly string[];
  /** Photo ids (the manifest's `path`), unique. */
  photoIds: readonly string[];
  /** View of each photo, when known. */
  views?: readonly (View | null | undefined)[];
  /**
   * Subgroup columns (e.g. `sex`, `ancestry`, `source`, binned `age`): a category per photo, or
   * null/undefined when unknown (left out of that column's groups). Bin numeric columns first.
   */
  subgroups?: Readonly<Record<string, readonly (string | null | undefined)[]>>;
  /** Each photo's inputs for the feature blocks (default: its embedding `X` alone). */
  inputs?: readonly PhotoInputs[];
}

/** How to run a study; every field has a default in `DEFAULTS.evaluate` / `DEFAULTS.classify`. */
export interface CrossValidationOptions {
  classifier?: Classifier;
  folds?: number;
  repeats?: number;
  seed?: number;
  /** Population prevalence for PPV/NPV. */
  prevalence?: number;
  /** Bootstrap replicates (0 = no intervals). */
  bootstrap?: number;
  /** Permutations of the permutation test (0 = no test). */
  permutations?: number;
  /** K-fold repeats per permutation. */
  permutationRepeats?: number;
  /** Outer folds of the permutation test (at most `folds`, which it is when fewer). */
  permutationFolds?: number;
  innerFolds?: number;
  patience?: number;
  calibrationBins?: number;
  rocGridPoints?: number;
  /** Share of bootstrap replicates that must define a metric for its interval to be reported. */
  minDefinedReplicates?: number;
  /**
   * Whose people `bySubgroup`'s intervals resample. `study` (the default): the study's replicates,
   * drawn from all subjects stratified by class, so that subgroups are compared on the same draws.
   * `within`: each subgroup's own people, stratified by class within it, with its own seed: what a
   * subgroup that stands for a population of its own needs (a held-out site), since study-wide draws
   * leave a subgroup holding two of some twenty people of a class without either in about one
   * replicate in eight, and its AUC then gets no interval. A subgroup with fewer than `groupBootstrapMinPerClass`
   * people of a class it holds gets no bootstrap, and so no intervals.
   */
  subgroupBootstrap?: 'study' | 'within';
  /** With `subgroupBootstrap: 'within'`: people of each class present a subgroup needs for its bootstrap. */
  groupBootstrapMinPerClass?: number;
  /** Worker threads besides this one (default: one per extra core). */
  workers?: number;
  /**
   * Learn from feature blocks (`auto`, or the blocks to fuse) instead of the classifier on the
   * embeddings alone; every block is then also evaluated on the same outer folds.
   */
  features?: FeatureRequest;
  /**
   * Called as each fit finishes (an outer fold of the study or of a permutation, in any order),
   * with the fits done and the fits in all: the bulk of a study's time, to show progress by.
   */
  onProgress?: (done: number, total: number) => void;
  /**
   * The outer splits, one array of folds per repeat, instead of `repeats` grouped stratified
   * K-folds (e.g. one fold per site for leave-one-site-out). Each must keep a subject's photos in
   * one fold, and their count must equal `repeats`.
   */
  splits?: IndexFold[][];
}

/** A point estimate with its 95% subject-bootstrap percentile interval (null when undefined). */
export interface Estimate {
  value: number | null;
  ci95: [number, number] | null;
}

/** A repeat-averaged ROC curve on the FPR grid, with its pointwise 95% bootstrap band. */
export interface RocBand {
  fpr: number[];
  tpr: number[];
  lower: number[] | null;
  upper: number[] | null;
}

/** Metrics at one level (photos or subjects) of one group of photos. */
export interface LevelMetrics {
  /** Units (photos or subjects) evaluated per repeat, and how many are positive / negative. */
  n: { units: number; positive: number; negative: number };
  auc: Estimate;
  accuracy: Estimate;
  balancedAccuracy: Estimate;
  sensitivity: Estimate;
  specificity: Estimate;
  /** At the `prevalence` option, by Bayes' rule from sensitivity and specificity. */
  ppv: Estimate;
  npv: Estimate;
  brier: Estimate;
  /** Counts averaged over repeats (so they sum to `n.units`; fractional with several repeats). */
  confusion: Confusion;
  /** Each repeat's counts (integers: every unit is predicted once per repeat, out of fold, summed over the folds). */
  confusionByRepeat: Confusion[];
  roc: RocBand | null;
  /** Reliability curve of each unit's out-of-fold probability averaged over the repeats (one point per unit, so counts are units). */
  calibration: CalibrationBin[];
}

/** Photo- and subject-level metrics of one group of photos. */
export interface GroupMetrics {
  photo: LevelMetrics;
  subject: LevelMetrics;
}

/** One out-of-fold prediction (a row of the contract's `predictions.csv`). */
export interface OofPrediction {
  path: string;
  subject: string;
  label: number;
  view: View | null;
  repeat: number;
  fold: number;
  probability: number;
}

/** What one outer fold did. */
export interface FoldReport {
  repeat: number;
  fold: number;
  trainPhotos: number;
  testPhotos: number;
  trainSubjects: number;
  testSubjects: number;
  hyper: Record<string, number>;
  selection?: Selection;
  /** Decision thresholds fixed on the training data (Youden's J on inner out-of-fold probabilities). */
  thresholds: { photo: number; subject: number };
  /** The blocks the fold's model learnt from (with feature blocks). */
  features?: FeatureName[];
  /** How `auto` chose them, from the inner CV of the fold's training rows only. */
  featureSelection?: FeatureSelection;
}

/** One representation's cross-validated AUCs, on the same outer folds as every other. */
export interface RepresentationResult {
  /** The blocks (several: stacked). */
  features: FeatureName[];
  /** `embedding`, `embedding+regions`... */
  label: string;
  photo: Estimate;
  subject: Estimate;
  byView: Partial<Record<View, { photo: Estimate; subject: Estimate }>>;
  /** Outer folds whose inner CV chose it (with `auto`). */
  chosenInFolds: number;
}

/** Every candidate representation side by side, and what was asked. */
export interface FeatureComparison {
  /** `auto` or the blocks asked for. */
  request: string;
  /** The blocks every photo could supply. */
  available: FeatureName[];
  representations: RepresentationResult[];
  /** Outer folds of the study (the denominator of `chosenInFolds`). */
  folds: number;
}

/** The permutation test's outcome. */
export interface PermutationResult {
  /** The statistic: subject-level AUC, averaged over `repeats` K-fold repeats. */
  statistic: 'subject-auc';
  /** Its value on the real labels (same procedure as the permutations: fixed hyperparameter). */
  observed: number;
  /** Its value under each permutation. */
  nulls: number[];
  p: number;
  repeats: number;
  /** Outer folds of each of those repeats (`permutationFolds`). */
  folds: number;
  /** The fixed hyperparameter used throughout the test, chosen before seeing labels. */
  hyper: Record<string, number>;
}

/** The result of {@link crossValidate}. */
export interface CrossValidationResult {
  classifier: string;
  options: Required<Omit<CrossValidationOptions, 'classifier' | 'workers' | 'onProgress' | 'splits' | 'features' | 'subgroupBootstrap' | 'groupBootstrapMinPerClass'>>;
  predictions: OofPrediction[];
  folds: FoldReport[];
  photo: LevelMetrics;
  subject: LevelMetrics;
  byView: Partial<Record<View, GroupMetrics>>;
  bySubgroup: Record<string, Record<string, GroupMetrics>>;
  /**
   * The majority-class baseline: every photo (subject) scored with its training folds' share of
   * positive photos (subjects) and called positive when that share is >= 0.5. Point values only.
   */
  baseline: GroupMetrics;
  permutation: PermutationResult | null;
  /** With feature blocks: every representation on the same outer folds, and how often each was chosen. */
  features?: FeatureComparison;
}

/**
 * The scores, labels, thresholds and subjects of one set of units (photos or subjects) in one
 * repeat, sorted by descending score (as {@link summariseScores} needs).
 */
interface RepeatSet {
  score: Float64Array;
  label: Uint8Array;
  threshold: Float64Array;
  /** Index of each unit's subject, for bootstrap weights. */
  subject: Int32Array;
  /** Each unit's position before sorting (the same unit has the same position in every repeat). */
  unit: Int32Array;
}

function repeatSet(score: ArrayLike<number>, label: ArrayLike<number>, threshold: ArrayLike<number>, subject: ArrayLike<number>): RepeatSet {
  const order = ascendingOrder(score).reverse();
  return {
    unit: Int32Array.from(order),
    score: Float64Array.from(order, (i) => score[i]),
    label: Uint8Array.from(order, (i) => label[i]),
    threshold: Float64Array.from(order, (i) => threshold[i]),
    subject: Int32Array.from(order, (i) => subject[i]),
  };
}

type Resolved = Required<Omit<CrossValidationOptions, 'classifier' | 'onProgress' | 'splits' | 'features'>> & { classifier: Classifier; features?: FeatureRequest };

function resolveOptions(o: CrossValidationOptions): Resolved {
  const d = DEFAULTS.evaluate;
  const r: Resolved = {
    classifier: o.classifier ?? createClassifier(DEFAULTS.classify.classifier),
    folds: o.folds ?? d.folds,
    repeats: o.repeats ?? d.repeats,
    seed: checkSeed(o.seed ?? d.seed),
    prevalence: o.prevalence ?? d.prevalence,
    bootstrap: o.bootstrap ?? d.bootstrap,
    permutations: o.permutations ?? d.permutations,
    permutationRepeats: o.permutationRepeats ?? d.permutationRepeats,
    permutationFolds: Math.min(o.permutationFolds ?? d.permutationFolds, o.folds ?? d.folds),
    innerFolds: o.innerFolds ?? DEFAULTS.classify.innerFolds,
    patience: o.patience ?? DEFAULTS.classify.patience,
    calibrationBins: o.calibrationBins ?? d.calibrationBins,
    rocGridPoints: o.rocGridPoints ?? d.rocGridPoints,
    minDefinedReplicates: o.minDefinedReplicates ?? d.minDefinedReplicates,
    subgroupBootstrap: o.subgroupBootstrap ?? 'study',
    groupBootstrapMinPerClass: o.groupBootstrapMinPerClass ?? d.groupBootstrapMinPerClass,
    workers: o.workers ?? defaultWorkers(),
    ...(o.features ? { features: o.features } : {}),
  };
  checkFolds(r.folds);
  checkFolds(r.permutationFolds, 'permutationFolds');
  checkFolds(r.innerFolds, 'innerFolds');
  checkPrevalence(r.prevalence);
  const counts: [string, number, number][] = [
    ['repeats', r.repeats, 1],
    ['permutationRepeats', r.permutationRepeats, 1],
    ['bootstrap', r.bootstrap, 0],
    ['permutations', r.permutations, 0],
    ['patience', r.patience, 0],
    ['calibrationBins', r.calibrationBins, 1],
    ['rocGridPoints', r.rocGridPoints, 2],
    ['workers', r.workers, 0],
    ['groupBootstrapMinPerClass', r.groupBootstrapMinPerClass, 1],
  ];
  for (const [name, value, min] of counts) {
    if (!Number.isInteger(value) || value < min) {
      throw new PhenofaceError('E_CONFIG', `Invalid ${name}: ${JSON.stringify(value)}. Should be an integer >= ${min}.`);
    }
  }
  if (r.permutationRepeats > r.repeats) {
    throw new PhenofaceError('E_CONFIG', `Invalid permutationRepeats: ${r.permutationRepeats}. Should be at most repeats (${r.repeats}).`);
  }
  return r;
}

/** One worker per core beyond this thread's. */
function defaultWorkers(): number {
  return Math.max(0, availableParallelism() - 1);
}

function checkData(data: StudyData): void {
  const n = data.X.length;
  checkRows(data.X);
  const columns: [string, readonly unknown[] | undefined][] = [
    ['y', data.y],
    ['subjects', data.subjects],
    ['photoIds', data.photoIds],
    ['views', data.views],
    ...Object.entries(data.subgroups ?? {}).map(([k, v]): [string, readonly unknown[]] => [`subgroups.${k}`, v]),
  ];
  for (const [name, column] of columns) {
    if (column !== undefined && column.length !== n) {
      throw new PhenofaceError('E_INPUT', `Study column "${name}" has ${column.length} entries. Should have one per embedding (${n}).`);
    }
  }
  subjectLabels(data.y, data.subjects);
  const seen = new Set<string>();
  for (const id of data.photoIds) {
    if (seen.has(id)) throw new PhenofaceError('E_INPUT', `Photo id "${id}" appears twice. Should be unique.`);
    seen.add(id);
  }
  data.views?.forEach((v, i) => {
    if (v != null && !VIEWS.includes(v)) {
      throw new PhenofaceError('E_INPUT', `Invalid view at row ${i}: ${JSON.stringify(v)}. Should be one of: ${VIEWS.join(', ')}.`);
    }
  });
}

/** Metrics averaged over repeats; PPV and NPV follow from the averaged rates ({@link predictiveEstimates}). */
const METRIC_KEYS = ['auc', 'accuracy', 'balancedAccuracy', 'sensitivity', 'specificity', 'brier'] as const;

/** Metric values of a level averaged over repeats; `tpr` is the vertically averaged ROC curve. */
interface Measured {
  values: Record<(typeof METRIC_KEYS)[number], number | null>;
  confusion: Confusion;
  confusionByRepeat: Confusion[];
  tpr: Float64Array | null;
}

/**
 * Metric values of a level averaged over repeats (a metric undefined in a repeat is left out of
 * its mean), optionally under subject weights. Plain loops: this runs once per bootstrap
 * replicate per group and level.
 */
function measure(sets: RepeatSet[], grid: Float64Array, subjectWeights?: Float64Array): Measured {
  const sum = Object.fromEntries(METRIC_KEYS.map((k) => [k, 0])) as Record<(typeof METRIC_KEYS)[number], number>;
  const count = { ...sum };
  const conf: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const byRepeat: Confusion[] = [];
  const curve = new Float64Array(grid.length);
  const scratch = new Float64Array(grid.length);
  let curves = 0;
  for (const set of sets) {
    const m = summariseScores(set.score, set.label, set.threshold, set.subject, subjectWeights, grid, scratch);
    const r = rates(m.confusion);
    const values = [m.auc, r.accuracy, r.balancedAccuracy, r.sensitivity, r.specificity, m.brier];
    values.forEach((v, k) => {
      if (v === null) return;
      sum[METRIC_KEYS[k]] += v;
      count[METRIC_KEYS[k]]++;
    });
    byRepeat.push(m.confusion);
    conf.tp += m.confusion.tp / sets.length;
    conf.fp += m.confusion.fp / sets.length;
    conf.tn += m.confusion.tn / sets.length;
    conf.fn += m.confusion.fn / sets.length;
    if (m.tpr) {
      for (let g = 0; g < grid.length; g++) curve[g] += m.tpr[g];
      curves++;
    }
  }
  for (let g = 0; g < grid.length; g++) curve[g] /= curves;
  const values = Object.fromEntries(METRIC_KEYS.map((k) => [k, count[k] ? sum[k] / count[k] : null])) as Measured['values'];
  return { values, confusion: conf, confusionByRepeat: byRepeat, tpr: curves ? curve : null };
}

/** Point estimates, bootstrap intervals, ROC band and calibration of one level. */
function levelMetrics(sets: RepeatSet[], r: Resolved, grid: Float64Array, replicates: Float64Array[]): LevelMetrics {
  const point = measure(sets, grid);
  const boot = replicates.map((w) => measure(sets, grid, w));
  const estimate = (k: keyof Measured['values']): Estimate => ({
    value: point.values[k],
    ci95: replicates.length ? percentileInterval(boot.map((b) => b.values[k]), 0.95, r.minDefinedReplicates) : null,
  });
  const bootCurves = boot.map((b) => b.tpr).filter((t): t is Float64Array => t !== null);
  const band = bootCurves.length >= r.minDefinedReplicates * replicates.length ? pointwiseBand(bootCurves, 0.95) : null;
  const first = sets[0];
  const positive = first.label.reduce((s, v) => s + v, 0);
  const mean = meanOverRepeats(sets);
  const c = point.confusion;
  const rate = (k: 'accuracy' | 'sensitivity' | 'specificity', successes: number, total: number): Estimate => widenRate(estimate(k), successes, total);
  const sensitivity = rate('sensitivity', c.tp, c.tp + c.fn);
  const specificity = rate('specificity', c.tn, c.tn + c.fp);
  return {
    n: { units: first.label.length, positive, negative: first.label.length - positive },
    auc: estimate('auc'),
    accuracy: rate('accuracy', c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
    balancedAccuracy: estimate('balancedAccuracy'),
    sensitivity,
    specificity,
    ...predictiveEstimates(sensitivity, specificity, r.prevalence),
    brier: estimate('brier'),
    confusion: point.confusion,
    confusionByRepeat: point.confusionByRepeat,
    roc: point.tpr ? { fpr: [...grid], tpr: [...point.tpr], lower: band?.lower ?? null, upper: band?.upper ?? null } : null,
    calibration: calibrationBins(mean.score, mean.label, r.calibrationBins),
  };
}

/**
 * Each unit's out-of-fold probability averaged over the repeats, with its label: one prediction
 * per unit for the reliability curve, whose bins then count units rather than units times repeats.
 */
function meanOverRepeats(sets: RepeatSet[]): { score: Float64Array; label: Uint8Array } {
  const n = sets[0].label.length;
  const score = new Float64Array(n);
  const label = new Uint8Array(n);
  for (const set of sets) {
    for (let k = 0; k < n; k++) {
      score[set.unit[k]] += set.score[k] / sets.length;
      label[set.unit[k]] = set.label[k];
    }
  }
  return { score, label };
}

/**
 * PPV and NPV at the stated prevalence, by Bayes' rule from the pooled sensitivity and specificity
 * (the means over repeats, i.e. the rates of the summed counts) rather than as a mean of per-repeat
 * ratios, which repeats without a false positive (PPV 100%) would dominate. Both are monotone in
 * sensitivity and specificity, so the interval is PPV (NPV) at the lower and upper ends of their
 * 95% intervals (each already the wider of the subject-bootstrap interval and Wilson's, see
 * {@link widenRate}). Taking both ends together makes the interval conservative (coverage >= 95%).
 */
function predictiveEstimates(sensitivity: Estimate, specificity: Estimate, prevalence: number): { ppv: Estimate; npv: Estimate } {
  const point = predictiveValues(sensitivity.value, specificity.value, prevalence);
  const sens = sensitivity.ci95;
  const spec = specificity.ci95;
  if (!sens || !spec) return { ppv: { value: point.ppv, ci95: null }, npv: { value: point.npv, ci95: null } };
  const low = predictiveValues(sens[0], spec[0], prevalence);
  const high = predictiveValues(sens[1], spec[1], prevalence);
  const interval = (a: number | null, b: number | null): [number, number] | null => (a === null || b === null ? null : [Math.min(a, b), Math.max(a, b)]);
  return { ppv: { value: point.ppv, ci95: interval(low.ppv, high.ppv) }, npv: { value: point.npv, ci95: interval(low.npv, high.npv) } };
}

/** Per-repeat predictions of every photo: probability, fold, and the fold's thresholds. */
interface RepeatPredictions {
  probability: Float64Array;
  fold: Int32Array;
  photoThreshold: Float64Array;
  subjectThreshold: Float64Array;
}

/**
 * Photo- and subject-level sets of the photos in `rows`, one per repeat. A subject's score fuses
 * its photos among `rows`, unless `subjectScore` gives one per row (the baseline's).
 */
function groupSets(
  rows: number[],
  repeats: RepeatPredictions[],
  y: readonly number[],
  subjectIndex: Int32Array,
  subjects: readonly string[],
  subjectScore?: Float64Array[],
) {
  const photo: RepeatSet[] = [];
  const subject: RepeatSet[] = [];
  repeats.forEach((rep, r) => {
    const score = rows.map((i) => rep.probability[i]);
    const label = rows.map((i) => y[i]);
    photo.push(repeatSet(score, label, rows.map((i) => rep.photoThreshold[i]), rows.map((i) => subjectIndex[i])));
    const fused = fuseBySubject(score, label, rows.map((i) => subjects[i]));
    const firstRow = new Map<string, number>();
    for (const i of rows) if (!firstRow.has(subjects[i])) firstRow.set(subjects[i], i);
    const rowOf = fused.subjects.map((s) => firstRow.get(s)!);
    const fusedScore = subjectScore ? rowOf.map((i) => subjectScore[r][i]) : fused.probability;
    subject.push(repeatSet(fusedScore, fused.label, rowOf.map((i) => rep.subjectThreshold[i]), rowOf.map((i) => subjectIndex[i])));
  });
  return { photo, subject };
}

/** Subject-level AUC of each repeat's fused out-of-fold probabilities, averaged. */
function subjectAuc(probabilities: Float64Array[], y: readonly number[], subjects: readonly string[]): number {
  const values = probabilities.map((p) => {
    const fused = fuseBySubject(p, y, subjects);
    return auc(fused.probability, fused.label)!; // every subject, both classes
  });
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Fold tasks of `repeats` K-fold splits (as arrays of folds) with labels `y`. */
function makeTasks(splits: { train: number[]; test: number[] }[][], y: readonly number[], seedOf: (r: number, f: number) => number, fixed: boolean): FoldTask[] {
  const labels = Uint8Array.from(y);
  return splits.flatMap((folds, r) =>
    folds.map((fold, f) => ({ train: Int32Array.from(fold.train), test: Int32Array.from(fold.test), y: labels, seed: seedOf(r, f), fixed })),
  );
}

/** Photo and subject thresholds by Youden's J on inner out-of-fold probabilities of training rows. */
function thresholdsFrom(oof: Float64Array, yTrain: readonly number[], subjectsTrain: readonly string[]): { photo: number; subject: number } {
  const fused = fuseBySubject(oof, yTrain, subjectsTrain);
  return { photo: youdenThreshold(oof, yTrain), subject: youdenThreshold(fused.probability, fused.label) };
}

/**
 * The bootstrap replicates of one subgroup's own people (stratified by class among them; see
 * `subgroupBootstrap`), or none when a class it holds has fewer than `groupBootstrapMinPerClass` people.
 */
function withinGroupReplicates(rows: readonly number[], subjectIndex: Int32Array, subjectClass: Uint8Array, r: Resolved, seed: number): Float64Array[] {
  const members = [...new Set(rows.map((i) => subjectIndex[i]))].sort((a, b) => a - b);
  const perClass = [0, 0];
  for (const s of members) perClass[subjectClass[s]]++;
  if (perClass.some((n) => n > 0 && n < r.groupBootstrapMinPerClass)) return [];
  return stratifiedSubjectWeights(subjectClass, r.bootstrap, seed, members);
}

/** Labels of the seed streams, so that no two uses of the study seed draw the same numbers. */
const STREAM = { fit: 1, permutation: 2, bootstrap: 3, final: 4 } as const;

/**
 * Runs a study: repeated subject-grouped stratified K-fold CV with nested hyperparameter choice,
 * metrics with subject-bootstrap intervals, per view and subgroup, the majority-class baseline,
 * and a permutation test. Deterministic given `seed` (also across worker counts).
 */
export async function crossValidate(input: StudyData & CrossValidationOptions): Promise<CrossValidationResult> {
  checkData(input);
  const r = resolveOptions(input);
  const { X, y, subjects } = input;
  const splits = input.splits ?? repeatedGroupedStratifiedKFold(y, subjects, r.folds, r.repeats, r.seed);
  if (splits.length !== r.repeats) throw new PhenofaceError('E_CONFIG', `Invalid splits: ${splits.length} repeats given. Should be as many as repeats (${r.repeats}).`);

  // All fits in one batch so the pool stays busy: the study's first, then the permutation test's.
  const tasks = makeTasks(splits, y, (rep, f) => deriveSeed(r.seed, STREAM.fit, rep, f), false);
  const mainCount = tasks.length;
  const permSplits: { y: number[]; splits: IndexFold[][] }[] = [];
  if (r.permutations > 0) {
    // The statistic the permutations are compared with comes from the same procedure on the real
    // labels: the study's own first splits when the test has the study's folds.
    const observedSplits = r.permutationFolds === r.folds ? splits.slice(0, r.permutationRepeats) : repeatedGroupedStratifiedKFold(y, subjects, r.permutationFolds, r.permutationRepeats, r.seed);
    permSplits.push({ y: [...y], splits: observedSplits });
    for (let p = 0; p < r.permutations; p++) {
      const permuted = permuteSubjectLabels(y, subjects, mulberry32(deriveSeed(r.seed, STREAM.permutation, p)));
      const seed = deriveSeed(r.seed, STREAM.permutation, p, 1);
      permSplits.push({ y: permuted, splits: repeatedGroupedStratifiedKFold(permuted, subjects, r.permutationFolds, r.permutationRepeats, seed) });
    }
    permSplits.forEach((perm, p) => tasks.push(...makeTasks(perm.splits, perm.y, (rep, f) => deriveSeed(r.seed, STREAM.permutation, p, rep, f + 2), true)));
  }
  const ctx = { X, subjects, classifier: r.classifier, innerFolds: r.innerFolds, patience: r.patience, ...featureContext(input, r) };
  const pool = new FoldPool(ctx, tasks, r.workers, input.onProgress);
  try {
    return await summariseCrossValidation(input, r, splits, tasks, mainCount, permSplits, pool);
  } finally {
    await pool.close();
  }
}

/** The fold context's feature blocks, when the study learns from them. */
function featureContext(input: StudyData, r: Resolved): Pick<FoldContext, 'features'> {
  if (!r.features) return {};
  const inputs = studyInputs(input);
  return { features: { request: r.features, available: availableFeatures(inputs, installedFeatures()), inputs } };
}

/** Each photo's inputs for the feature blocks: `inputs`, else the embedding and view alone. */
function studyInputs(input: StudyData): readonly PhotoInputs[] {
  const inputs = input.inputs ?? input.X.map((embedding, i) => ({ embedding, ...(input.views?.[i] ? { view: input.views[i]! } : {}) }));
  if (inputs.length !== input.X.length) throw new PhenofaceError('E_INPUT', `Study inputs have ${inputs.length} rows. Should have one per embedding (${input.X.length}).`);
  return inputs;
}

/** Per-repeat predictions, fold reports and the prediction rows, from the study's fold outcomes. */
function collectRepeats(input: StudyData, splits: IndexFold[][], tasks: FoldTask[], outcomes: FoldOutcome[]) {
  const { y, subjects } = input;
  const n = y.length;
  const repeats: RepeatPredictions[] = [];
  const folds: FoldReport[] = [];
  const predictions: OofPrediction[] = [];
  const subjectsIn = (rows: number[]) => new Set(rows.map((i) => subjects[i])).size;
  let t = 0;
  splits.forEach((foldsOfRepeat, rep) => {
    const out: RepeatPredictions = {
      probability: new Float64Array(n),
      fold: new Int32Array(n),
      photoThreshold: new Float64Array(n),
      subjectThreshold: new Float64Array(n),
    };
    foldsOfRepeat.forEach((fold, f) => {
      const outcome = outcomes[t];
      const train = tasks[t++].train;
      const thresholds = thresholdsFrom(outcome.innerOof!, Array.from(train, (i) => y[i]), Array.from(train, (i) => subjects[i]));
      fold.test.forEach((i, j) => {
        out.probability[i] = outcome.probabilities[j];
        out.fold[i] = f;
        out.photoThreshold[i] = thresholds.photo;
        out.subjectThreshold[i] = thresholds.subject;
      });
      folds.push({
        repeat: rep,
        fold: f,
        trainPhotos: fold.train.length,
        testPhotos: fold.test.length,
        trainSubjects: subjectsIn(fold.train),
        testSubjects: subjectsIn(fold.test),
        hyper: outcome.hyper,
        ...(outcome.selection ? { selection: outcome.selection } : {}),
        thresholds,
        ...(outcome.features ? { features: outcome.features } : {}),
        ...(outcome.featureSelection ? { featureSelection: outcome.featureSelection } : {}),
      });
    });
    repeats.push(out);
    for (let i = 0; i < n; i++) {
      const view = input.views?.[i] ?? null;
      predictions.push({ path: input.photoIds[i], subject: subjects[i], label: y[i], view, repeat: rep, fold: out.fold[i], probability: out.probability[i] });
    }
  });
  return { repeats, folds, predictions };
}

/**
 * Majority-class baseline predictions: per fold, the training photos' (subjects') positive share
 * as every test photo's (subject's) score, cut at 0.5.
 */
function baselinePredictions(splits: IndexFold[][], y: readonly number[], subjects: readonly string[]) {
  const n = y.length;
  const share = (rows: number[], unit: (i: number) => string) => {
    const labelOf = new Map(rows.map((i) => [unit(i), y[i]]));
    return [...labelOf.values()].reduce((a, b) => a + b, 0) / labelOf.size;
  };
  const photo: RepeatPredictions[] = [];
  const subject: Float64Array[] = [];
  for (const foldsOfRepeat of splits) {
    const out = { probability: new Float64Array(n), fold: new Int32Array(n), photoThreshold: new Float64Array(n).fill(0.5), subjectThreshold: new Float64Array(n).fill(0.5) };
    const subjectShare = new Float64Array(n);
    for (const fold of foldsOfRepeat) {
      const photoShare = share(fold.train, (i) => String(i));
      const perSubject = share(fold.train, (i) => subjects[i]);
      for (const i of fold.test) {
        out.probability[i] = photoShare;
        subjectShare[i] = perSubject;
      }
    }
    photo.push(out);
    subject.push(subjectShare);
  }
  return { photo, subject };
}

/** The subject-AUC permutation test from the fixed-hyperparameter fold outcomes. */
function permutationTest(
  r: Resolved,
  subjects: readonly string[],
  permSplits: { y: number[]; splits: IndexFold[][] }[],
  outcomes: FoldOutcome[],
): PermutationResult {
  const n = subjects.length;
  const perPermutation = r.permutationFolds * r.permutationRepeats;
  const statistic = (p: number) => {
    const probabilities = permSplits[p].splits.map((foldsOfRepeat, rep) => {
      const prob = new Float64Array(n);
      foldsOfRepeat.forEach((fold, f) => fold.test.forEach((i, j) => (prob[i] = outcomes[p * perPermutation + rep * r.permutationFolds + f].probabilities[j])));
      return prob;
    });
    return subjectAuc(probabilities, permSplits[p].y, subjects);
  };
  const observed = statistic(0);
  const nulls = Array.from({ length: r.permutations }, (_, p) => statistic(p + 1));
  return { statistic: 'subject-auc', observed, nulls, p: permutationPValue(observed, nulls), repeats: r.permutationRepeats, folds: r.permutationFolds, hyper: outcomes[0].hyper };
}

/**
 * Everything after the fits: thresholds, predictions, metrics with bootstrap intervals (computed
 * while the pool's workers carry on with the permutation fits), baseline, permutation test.
 */
async function summariseCrossValidation(
  input: StudyData,
  r: Resolved,
  splits: IndexFold[][],
  tasks: FoldTask[],
  mainCount: number,
  permSplits: { y: number[]; splits: IndexFold[][] }[],
  pool: FoldPool,
): Promise<CrossValidationResult> {
  const { y, subjects } = input;
  const labels = subjectLabels(y, subjects);
  const subjectIds = new Map([...labels.keys()].map((s, k) => [s, k]));
  const subjectIndex = Int32Array.from(subjects, (s) => subjectIds.get(s)!);
  const mainOutcomes = await pool.until(mainCount);
  const { repeats, folds, predictions } = collectRepeats(input, splits, tasks, mainOutcomes);

  const grid = Float64Array.from({ length: r.rocGridPoints }, (_, g) => g / (r.rocGridPoints - 1));
  const subjectClass = Uint8Array.from(labels.values());
  const replicates = stratifiedSubjectWeights(subjectClass, r.bootstrap, deriveSeed(r.seed, STREAM.bootstrap));
  const groupOf = (reps: RepeatPredictions[], weights = replicates) => (rows: number[]): GroupMetrics => {
    const sets = groupSets(rows, reps, y, subjectIndex, subjects);
    return { photo: levelMetrics(sets.photo, r, grid, weights), subject: levelMetrics(sets.subject, r, grid, weights) };
  };
  const group = groupOf(repeats);
  const all = Array.from({ length: y.length }, (_, i) => i);
  const overall = group(all);
  const byView: Partial<Record<View, GroupMetrics>> = {};
  for (const view of input.views ? VIEWS : []) {
    const rows = all.filter((i) => input.views![i] === view);
    if (rows.length > 0) byView[view] = group(rows);
  }
  const bySubgroup = nameMap<Record<string, GroupMetrics>>();
  Object.entries(input.subgroups ?? {}).forEach(([column, values], c) => {
    bySubgroup[column] = nameMap();
    const categories = [...new Set(values.filter((v): v is string => v != null))].sort();
    categories.forEach((category, k) => {
      const rows = all.filter((i) => values[i] === category);
      const own = r.subgroupBootstrap === 'within' ? withinGroupReplicates(rows, subjectIndex, subjectClass, r, deriveSeed(r.seed, STREAM.bootstrap, c, k)) : replicates;
      bySubgroup[column][category] = groupOf(repeats, own)(rows);
    });
  });

  const base = baselinePredictions(splits, y, subjects);
  const baselineSets = groupSets(all, base.photo, y, subjectIndex, subjects, base.subject);
  // Point values only: the baseline is a reference line, and its intervals would cost a fifth of the bootstrap.
  const baseline = { photo: levelMetrics(baselineSets.photo, r, grid, []), subject: levelMetrics(baselineSets.subject, r, grid, []) };

  const permutation = r.permutations > 0 ? permutationTest(r, subjects, permSplits, (await pool.until(tasks.length)).slice(mainCount)) : null;
  const features = r.features ? compareRepresentations(input, r.features, splits, tasks.slice(0, mainCount), mainOutcomes, repeats, groupOf) : undefined;
  const { classifier, workers, features: _request, subgroupBootstrap: _scope, groupBootstrapMinPerClass: _min, ...options } = r;
  void workers;
  return { classifier: classifier.name, options, predictions, folds, photo: overall.photo, subject: overall.subject, byView, bySubgroup, baseline, permutation, ...(features ? { features } : {}) };
}

/**
 * Every candidate representation's AUCs (overall and per view, with subject-bootstrap intervals)
 * from its outer-fold predictions, which every fold made for every candidate on the same test rows;
 * and how many folds' inner CV chose each.
 */
function compareRepresentations(
  input: StudyData,
  request: FeatureRequest,
  splits: readonly IndexFold[][],
  tasks: readonly FoldTask[],
  outcomes: readonly FoldOutcome[],
  repeats: readonly RepeatPredictions[],
  groupOf: (reps: RepeatPredictions[]) => (rows: number[]) => GroupMetrics,
): FeatureComparison {
  const first = outcomes[0].candidates ?? [];
  // Task t belongs to the repeat whose folds it falls in (repeats may have different fold counts).
  const repeatOf = Int32Array.from(splits.flatMap((folds, k) => folds.map(() => k)));
  const all = Array.from({ length: input.y.length }, (_, i) => i);
  const representations = first.map((cand, c): RepresentationResult => {
    const reps = repeats.map((rep, k) => {
      const probability = new Float64Array(rep.probability.length);
      for (let t = 0; t < outcomes.length; t++) {
        if (repeatOf[t] !== k) continue;
        // Fold t's test rows, in the order its probabilities were given.
        const rows = tasks[t].test;
        outcomes[t].candidates![c].probabilities.forEach((p, j) => (probability[rows[j]] = p));
      }
      return { ...rep, probability };
    });
    const group = groupOf(reps);
    const overall = group(all);
    const byView: RepresentationResult['byView'] = {};
    for (const view of input.views ? VIEWS : []) {
      const rows = all.filter((i) => input.views![i] === view);
      if (rows.length > 0) {
        const g = group(rows);
        byView[view] = { photo: g.photo.auc, subject: g.subject.auc };
      }
    }
    const label = featuresLabel(cand.features);
    const chosenInFolds = outcomes.filter((o) => o.features && featuresLabel(o.features) === label).length;
    return { features: cand.features, label, photo: overall.photo.auc, subject: overall.subject.auc, byView, chosenInFolds };
  });
  const available = availableFeatures(studyInputs(input), installedFeatures());
  return { request: featuresLabel(request), available, representations, folds: outcomes.length };
}

/** The model for the bundle, with the decision thresholds it should be used with. */
export interface FinalModel {
  /**
   * The classifier on raw embeddings: the model itself, or with feature blocks the embedding's part
   * of it ({@link embeddingClassifier}), absent when the chosen blocks leave the embedding out.
   */
  model?: FittedClassifier;
  /** With feature blocks: the model over them (what the bundle records and `screen` uses). */
  features?: FittedFeatureModel;
  /** Youden's J thresholds on the inner out-of-fold probabilities of all the data. */
  thresholds: { photo: number; subject: number };
  hyper: Record<string, number>;
  selection?: Selection;
}

/**
 * Fits the classifier on all the data (hyperparameter by inner grouped CV, as in each outer fold)
 * and fixes its thresholds on the inner out-of-fold probabilities, for the model bundle. With
 * `features`, the blocks are chosen and fused by the same inner CV as in each outer fold. Its
 * expected performance is the cross-validated one from {@link crossValidate}.
 */
export function trainFinal(input: Pick<StudyData, 'X' | 'y' | 'subjects' | 'inputs' | 'views'> & Pick<CrossValidationOptions, 'classifier' | 'seed' | 'innerFolds' | 'patience' | 'features'>): FinalModel {
  const { X, y, subjects } = input;
  checkRows(X);
  subjectLabels(y, subjects);
  const r = resolveOptions({ classifier: input.classifier, seed: input.seed, innerFolds: input.innerFolds, patience: input.patience, workers: 0 });
  const fit = { seed: deriveSeed(r.seed, STREAM.final), innerFolds: r.innerFolds, split: groupedStratifiedKFold, patience: r.patience };
  if (input.features) {
    const inputs = studyInputs(input as StudyData);
    const { model } = fitFeatureModel(inputs, y, subjects, r.classifier, { ...fit, request: input.features, available: availableFeatures(inputs, installedFeatures()) });
    const embedding = embeddingClassifier(model);
    return { features: model, ...(embedding ? { model: embedding } : {}), thresholds: thresholdsFrom(model.innerOof!, y, subjects), hyper: model.hyper };
  }
  const model = r.classifier.fit(X, y, subjects, fit);
  return {
    model,
    thresholds: thresholdsFrom(model.innerOof!, y, subjects),
    hyper: { ...model.hyper },
    ...(model.selection ? { selection: model.selection } : {}),
  };
}
