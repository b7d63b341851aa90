/**
 * The classifier interface shared by every classifier (the deepface habit: one interface, a
 * registry keyed by name). Classifiers see only embeddings, labels and subject ids; everything
 * a classifier learns, including its hyperparameters and its probability calibration, is
 * learnt from the rows it is given, so that cross-validation around it stays honest.
 */

/** Row indices of one train/test split. */
export interface IndexFold {
  train: number[];
  test: number[];
}

/**
 * Splits rows into `k` subject-grouped, class-stratified folds. Injected into {@link FitOptions}
 * so that `classify/` need not import `evaluate/` (which sits above it); `evaluate/splits.ts`
 * provides the implementation (`groupedStratifiedKFold`).
 */
export type GroupSplitter = (y: readonly number[], groups: readonly string[], k: number, seed: number) => IndexFold[];

/** How to fit. */
export interface FitOptions {
  /** Seed of the inner splits and of any randomised solver. */
  seed: number;
  /** Folds of the inner subject-grouped CV that chooses the hyperparameter and fits the calibration. */
  innerFolds: number;
  /** The inner splitter (`groupedStratifiedKFold` from `evaluate/`). */
  split: GroupSplitter;
  /**
   * Hyperparameter values to choose from; defaults to the classifier's grid. One value fixes the
   * hyperparameter (no tuning).
   */
  grid?: readonly number[];
  /**
   * Keep the inner out-of-fold probabilities (`innerOof`), needed to fix a decision threshold.
   * Default true. With a single grid value and `false`, `logistic` skips the inner CV entirely.
   */
  keepInnerOof?: boolean;
  /**
   * Stop walking the grid after this many values in a row fail to improve the inner log-loss
   * (default: walk the whole grid).
   */
  patience?: number;
}

/** A classifier family, e.g. L2 logistic regression; `fit` returns a trained model. */
export interface Classifier {
  /** Registry name: `logistic`, `svm`, `centroid`. */
  readonly name: string;
  /** What the hyperparameter is (e.g. `C`, `k`). */
  readonly hyperName: string;
  /** The grid searched by the inner CV. */
  readonly grid: readonly number[];
  /**
   * The hyperparameter value used when tuning is switched off (the permutation test). It is fixed
   * in advance, not learnt from the labels, so a test built on it stays exact.
   */
  readonly fixedValue: number;
  /**
   * Fits on `X` (one L2-normalised embedding per row), `y` (1 = positive class, 0 = negative) and
   * `groups` (subject id per row; the inner CV never splits a subject).
   */
  fit(X: readonly Float32Array[], y: readonly number[], groups: readonly string[], opts: FitOptions): FittedClassifier;
}

/** The inner CV's record: the criterion (mean photo log-loss) at each grid value tried. */
export interface Selection {
  hyperName: string;
  /** The grid values tried, in order (a prefix of the grid when the walk stopped early). */
  grid: number[];
  logLoss: number[];
  chosen: number;
  innerFolds: number;
}

/** A trained model. */
export interface FittedClassifier {
  readonly name: string;
  /** Embedding dimension it was trained on. */
  readonly dim: number;
  /** The chosen hyperparameter value(s), e.g. `{ C: 0.01 }`. */
  readonly hyper: Readonly<Record<string, number>>;
  /** How the hyperparameter was chosen; absent when it was fixed. */
  readonly selection?: Selection;
  /**
   * Calibrated out-of-fold probabilities of the training rows from the inner CV at the chosen
   * hyperparameter (in training-row order); the honest basis for a decision threshold. Not serialised.
   */
  readonly innerOof?: Float64Array;
  /** Probability of the positive class, one per row. */
  predictProba(X: readonly Float32Array[]): number[];
  /**
   * The positive-class score before the probability map (logit of logistic regression, SVM or
   * centroid score before Platt's sigmoid), one per row; probability is increasing in it.
   */
  decision?(X: readonly Float32Array[]): number[];
  /**
   * Gradient of {@link decision} with respect to the embedding `x` (what Grad-CAM back-propagates,
   * Selvaraju et al. 2017: the score before the softmax/sigmoid).
   */
  decisionGradient?(x: Float32Array): Float32Array;
  /** A plain-JSON form that `classifierFromJSON` restores. */
  toJSON(): ClassifierJSON;
}

/** The serialised form of a fitted classifier (written into the model bundle). */
export interface ClassifierJSON {
  kind: 'phenoface-classifier';
  /** Format version of this record. */
  version: 1;
  name: string;
  dim: number;
  hyper: Record<string, number>;
  /** Classifier-specific parameters (weights, standardiser, calibration...). */
  params: Record<string, unknown>;
}

/** The record of a fitted classifier: its name, dimension and hyperparameters, and its own `params`. */
export function classifierJSON(c: Pick<FittedClassifier, 'name' | 'dim' | 'hyper'>, params: Record<string, unknown>): ClassifierJSON {
  return { kind: 'phenoface-classifier', version: 1, name: c.name, dim: c.dim, hyper: { ...c.hyper }, params };
}
