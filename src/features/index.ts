/**
 * What a study learns from: the feature blocks (embedding, region-pooled maps, geometry), their
 * registry and the `--features` request, and the classifier over blocks with its honest choice.
 */
export type { CandidateScore, FeatureBlock, FeatureBlockJSON, FeatureModelJSON, FeatureName, FeatureSelection, FittedBlock, PhotoInputs, Stacker } from './types.ts';
export { FEATURE_NAMES } from './types.ts';
export { embeddingBlock, featureBlock, featuresLabel, fittedBlockFromJSON, installedFeatures, parseFeatures, regionsBlock, secondEmbeddingDim, type BlockEntry, type FeatureRequest } from './registry.ts';
export { embeddingClassifier, embeddingOnlyModel, geometryExplanation, type GeometryExplanation, fitFeatureModel, FittedFeatureModel, predictAll, type FeatureFit, type FeatureFitOptions, type ModelPart } from './fusion.ts';
export { availableFeatures, packInputs, unpackInputs, type PackedInputs } from './transfer.ts';
