/** Public API of the evaluation: splits, metrics, bootstrap, permutation test and the study runner. */
export {
  crossValidate,
  trainFinal,
  type Estimate,
  type FinalModel,
  type FoldReport,
  type GroupMetrics,
  type LevelMetrics,
  type OofPrediction,
  type PermutationResult,
  type RocBand,
  type StudyData,
  type CrossValidationOptions,
  type CrossValidationResult,
} from './crossval.ts';
export { checkFolds, groupedStratifiedKFold, repeatedGroupedStratifiedKFold, subjectLabels } from './splits.ts';
export {
  ascendingOrder,
  auc,
  brier,
  calibrationBins,
  confusion,
  fuseBySubject,
  logLoss,
  predictiveValues,
  rates,
  rocCurve,
  summariseScores,
  tprAtFpr,
  youdenThreshold,
  type CalibrationBin,
  type Confusion,
  type FusedScores,
  type Rates,
  type RocCurve,
  type ScoreSummary,
} from './metrics.ts';
export { percentileInterval, pointwiseBand, quantile, stratifiedSubjectWeights, subjectBootstrap } from './bootstrap.ts';
export { permutationPValue, permuteSubjectLabels } from './permutation.ts';
export { checkSeed, deriveSeed, mulberry32, shuffleInPlace, type Rng } from '../math/random.ts';
