/** Public API of the classifiers: the interface, the registry, the three families and their solvers. */
export type { Classifier, ClassifierJSON, FitOptions, FittedClassifier, GroupSplitter, IndexFold, Selection } from './types.ts';
export { CLASSIFIER_NAMES, classifierFromJSON, createClassifier, isRegistered, type ClassifierOptions } from './registry.ts';
export { logisticClassifier, logisticFromJSON, fitLogisticPacked } from './logistic.ts';
export { svmClassifier, svmFromJSON, fitSvmPacked } from './svm.ts';
export { centroidClassifier, FittedCentroid, fitCentroidPacked } from './centroid.ts';
export { TunedClassifier, fitTuned, type GridSolver, type Tuned } from './tuning.ts';
export { FittedLinear, type LinearModel } from './linear.ts';
export { Standardiser, type Packed } from './linalg.ts';
export { fitPlatt, applyPlatt, type Platt } from './platt.ts';
export { logLoss } from './loss.ts';
export { lbfgs, type LbfgsOptions, type LbfgsResult } from './lbfgs.ts';
export { fitRanker, FittedRanker, crossEntropy, RANKER_CHOICES, RANKER_FAMILIES, type RankerChoice, type RankerFamily, type RankerFitOptions, type RankCandidate, type RankSelection } from './ranker.ts';
export { fitMultinomialPacked, softmaxInPlace, softmaxLogits, type SoftmaxModel } from './multinomial.ts';
export { fitGalleryPacked, galleryScores, type GalleryModel } from './gallery.ts';
