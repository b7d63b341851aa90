/**
 * Defaults of the classifiers.
 *
 * House style keeps every default in `src/config.ts`; that file belongs to another engineer, so
 * these live in this one frozen object until they move there as a `classify` section. Nothing
 * else in `src/classify/` hard-codes a tunable number.
 */
export const CLASSIFY_DEFAULTS = Object.freeze({
  /** The classifier a study uses unless told otherwise. */
  classifier: 'logistic',
  /** Folds of the inner subject-grouped CV that picks the hyperparameter and fits calibration. */
  innerFolds: 3,
  /**
   * The inner CV walks each grid from strongest to weakest regularisation and stops after this
   * many values in a row fail to improve the best log-loss: log-loss against log C is unimodal in
   * practice, and the weakly regularised fits it skips are the slowest to solve.
   */
  patience: 1,
  /**
   * Logistic regression C (scikit-learn convention: ½‖w‖² + C·Σ loss), log-spaced. On 128-512-D
   * standardised embeddings of a few hundred subjects the optimum sits around 1e-3..1e-1.
   * `fixed` is the label-free value the permutation test uses.
   */
  logistic: Object.freeze({ grid: Object.freeze([1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]), fixed: 1e-2 }),
  /** Linear SVM C (½‖w‖² + C·Σ hinge), log-spaced, and its fixed value for the permutation test. */
  svm: Object.freeze({ grid: Object.freeze([1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10]), fixed: 1e-3 }),
  /**
   * Nearest-neighbour k of the cosine classifier, smoothest first; 0 means the class centroids.
   * Each training subject is one gallery entry (the mean of its photos).
   */
  centroid: Object.freeze({ grid: Object.freeze([0, 25, 10, 5, 3, 1]), fixed: 0 }),
});
