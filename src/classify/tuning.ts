/**
 * The fitting procedure every classifier shares: choose the hyperparameter by an inner
 * subject-grouped CV, calibrate on the inner out-of-fold scores, then refit on all the rows given.
 * Each inner fold standardises with its own training rows, so nothing about a validation subject
 * (not even its mean) reaches the model that scores it.
 *
 * Criterion: mean photo-level log-loss of the inner out-of-fold probabilities (for score-based
 * classifiers, after a Platt sigmoid fitted on those same scores). Log-loss is a proper scoring
 * rule, so it rewards both ranking and calibration, and it varies smoothly with the
 * hyperparameter where AUC, on a few dozen subjects, is flat and noisy. Ties go to the earlier
 * grid value (the grids run from strongest to weakest regularisation).
 */
import { PhenofaceError } from '../errors.ts';
import { logLoss } from './loss.ts';
import { allRows, checkRows, Standardiser, type Packed } from './linalg.ts';
import { applyPlatt, fitPlatt, type Platt } from './platt.ts';
import type { Classifier, FitOptions, FittedClassifier, Selection } from './types.ts';

/** One classifier's solver on standardised, packed rows. */
export interface GridSolver<M> {
  /** Scale standardised rows to unit length (cosine classifiers). */
  unitRows: boolean;
  /** Scores are already probabilities; otherwise a Platt sigmoid maps them. */
  probabilistic: boolean;
  /** Fits at hyperparameter `value`; `warm` is the model at the previous grid value on the same rows. */
  fit(Z: Packed, y: Float64Array, groups: readonly string[], value: number, warm: M | undefined, seed: number): M;
  /** Decision scores (probabilities when `probabilistic`) of the rows of `Z`. */
  score(model: M, Z: Packed): Float64Array;
}

/** What {@link fitTuned} learnt. */
export interface Tuned<M> {
  standardiser: Standardiser;
  model: M;
  value: number;
  platt?: Platt;
  selection?: Selection;
  innerOof?: Float64Array;
}

/** Checks the rows, labels and subject ids given to `fit`; returns the dimension. */
export function checkTrainingData(X: readonly Float32Array[], y: readonly number[], groups: readonly string[]): number {
  const d = checkRows(X, undefined, false);
  if (y.length !== X.length || groups.length !== X.length) {
    throw new PhenofaceError('E_INPUT', `Training data differ in length: ${X.length} embeddings, ${y.length} labels, ${groups.length} subject ids. Should be one of each per photo.`);
  }
  let nPos = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) throw new PhenofaceError('E_INPUT', `Invalid label at row ${i}: ${JSON.stringify(y[i])}. Should be 0 or 1.`);
    nPos += y[i];
  }
  if (nPos === 0 || nPos === y.length) {
    throw new PhenofaceError('E_INPUT', `Training data hold only class ${y[0]} (${y.length} rows). Should hold both classes.`);
  }
  return d;
}

function checkGrid(grid: readonly number[], hyperName: string): void {
  if (grid.length === 0 || grid.some((v) => !Number.isFinite(v))) {
    throw new PhenofaceError('E_CONFIG', `Invalid ${hyperName} grid: ${JSON.stringify(grid)}. Should be a non-empty list of finite numbers.`);
  }
}

/** Smallest number of subjects in a class. */
function minSubjectsPerClass(y: readonly number[], groups: readonly string[]): number {
  const sets = [new Set<string>(), new Set<string>()];
  for (let i = 0; i < y.length; i++) sets[y[i]].add(groups[i]);
  return Math.min(sets[0].size, sets[1].size);
}

/**
 * People of each class a training set must hold: the inner grouped CV that tunes a classifier and
 * fixes its thresholds needs a person of each class in each of at least two folds. The study and
 * its site validation check it before fitting, so that they can name the class or site.
 */
export const MIN_INNER_CV_SUBJECTS = 2;

/**
 * Inner grouped CV over `grid`: returns the log-loss per value tried and the out-of-fold scores at
 * the chosen value. The grid is walked in order with warm starts, and the walk stops once
 * `patience` values in a row fail to beat the best. The number of inner folds drops to the
 * smallest class's subject count when that is lower (never below 2).
 */
function innerCV<M>(
  X: readonly Float32Array[],
  y: readonly number[],
  groups: readonly string[],
  grid: readonly number[],
  hyperName: string,
  opts: FitOptions,
  solver: GridSolver<M>,
): { selection: Selection; oofScores: Float64Array } {
  const k = Math.min(opts.innerFolds, minSubjectsPerClass(y, groups));
  if (k < MIN_INNER_CV_SUBJECTS) {
    throw new PhenofaceError('E_INPUT', `Cannot run the inner CV: a class has ${k} subject(s) in the training data. Should have at least ${MIN_INNER_CV_SUBJECTS} per class.`);
  }
  const folds = opts.split(y, groups, k, opts.seed).map((fold) => {
    const { standardiser, packed } = Standardiser.fitTransform(X, fold.train, solver.unitRows);
    return {
      test: fold.test,
      trainZ: packed,
      testZ: standardiser.pack(X, fold.test),
      yTrain: Float64Array.from(fold.train, (i) => y[i]),
      gTrain: fold.train.map((i) => groups[i]),
      model: undefined as M | undefined,
    };
  });
  const patience = opts.patience ?? Infinity;
  const losses: number[] = [];
  let best = { loss: Infinity, index: 0, scores: new Float64Array(0) };
  for (let g = 0; g < grid.length && g - best.index <= patience; g++) {
    const scores = new Float64Array(y.length);
    for (const fold of folds) {
      fold.model = solver.fit(fold.trainZ, fold.yTrain, fold.gTrain, grid[g], fold.model, opts.seed);
      const s = solver.score(fold.model, fold.testZ);
      fold.test.forEach((row, j) => (scores[row] = s[j]));
    }
    losses.push(logLoss(solver.probabilistic ? scores : calibrate(fitPlatt(scores, y), scores), y));
    if (losses[g] < best.loss) best = { loss: losses[g], index: g, scores };
  }
  return {
    selection: { hyperName, grid: grid.slice(0, losses.length), logLoss: losses, chosen: grid[best.index], innerFolds: k },
    oofScores: best.scores,
  };
}

const calibrate = (platt: Platt, scores: Float64Array): Float64Array => scores.map((s) => applyPlatt(platt, s));

/**
 * The shared fitting procedure: inner CV (when tuning, calibrating or keeping inner OOF
 * probabilities), Platt scaling for score-based solvers, then a refit on all rows with a
 * standardiser fitted on them.
 */
export function fitTuned<M>(
  X: readonly Float32Array[],
  y: readonly number[],
  groups: readonly string[],
  opts: FitOptions,
  hyperName: string,
  defaultGrid: readonly number[],
  solver: GridSolver<M>,
): Tuned<M> {
  checkTrainingData(X, y, groups);
  const grid = opts.grid ?? defaultGrid;
  checkGrid(grid, hyperName);
  let value = grid[0];
  const tuned: Partial<Tuned<M>> = {};
  if (grid.length > 1 || !solver.probabilistic || opts.keepInnerOof !== false) {
    const inner = innerCV(X, y, groups, grid, hyperName, opts, solver);
    value = inner.selection.chosen;
    if (grid.length > 1) tuned.selection = inner.selection;
    if (solver.probabilistic) tuned.innerOof = inner.oofScores;
    else {
      tuned.platt = fitPlatt(inner.oofScores, y);
      tuned.innerOof = calibrate(tuned.platt, inner.oofScores);
    }
  }
  const { standardiser, packed } = Standardiser.fitTransform(X, allRows(X.length), solver.unitRows);
  const model = solver.fit(packed, Float64Array.from(y), groups, value, undefined, opts.seed);
  return { ...tuned, standardiser, model, value };
}

/**
 * A classifier family built from a {@link GridSolver}: `fit` runs {@link fitTuned} and wraps what
 * it learnt into the family's fitted form.
 */
export class TunedClassifier<M> implements Classifier {
  constructor(
    readonly name: string,
    readonly hyperName: string,
    readonly grid: readonly number[],
    readonly fixedValue: number,
    private readonly solver: GridSolver<M>,
    private readonly wrap: (tuned: Tuned<M>) => FittedClassifier,
  ) {}

  fit(X: readonly Float32Array[], y: readonly number[], groups: readonly string[], opts: FitOptions): FittedClassifier {
    return this.wrap(fitTuned(X, y, groups, opts, this.hyperName, this.grid, this.solver));
  }
}
