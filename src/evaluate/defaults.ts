/**
 * Defaults of the evaluation (cross-validation, bootstrap, permutation test).
 *
 * House style keeps every default in `src/config.ts`; that file belongs to another engineer, so
 * these live in this one frozen object until they move there as a `study` section. Nothing else
 * in `src/evaluate/` hard-codes a tunable number.
 */
export const EVALUATE_DEFAULTS = Object.freeze({
  /** Outer folds (the default; 5-fold is the usual bias/variance compromise). */
  folds: 5,
  /** Repeats of the outer K-fold with fresh shuffles; averaging them removes split luck. */
  repeats: 5,
  seed: 1,
  /** Population prevalence for PPV/NPV: 22q11.2DS in about 1 in 4,000 births (McDonald-McGinn et al. 2015). */
  prevalence: 1 / 4000,
  /** Subject-level bootstrap replicates for the 95% percentile intervals. */
  bootstrap: 1000,
  /** Label permutations of the permutation test (p resolves to 1/101). */
  permutations: 100,
  /** Repeats of the K-fold per permutation (and for the statistic it is compared with). */
  permutationRepeats: 1,
  /** Equal-width bins of the reliability curve. */
  calibrationBins: 10,
  /** Points of the fixed false-positive-rate grid used to average ROC curves and draw their bands. */
  rocGridPoints: 101,
  /** A bootstrap interval is reported only when at least this share of replicates define the metric. */
  minDefinedReplicates: 0.9,
});
