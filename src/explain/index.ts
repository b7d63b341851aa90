/**
 * Explanations (issue 4): Grad-CAM heat maps with exact gradients, facial-region importance with
 * HPO terms, overlays, the study-level analysis with the occlusion test and sanity checks, and the
 * explainers `screen --explain` and the web app use.
 */
export { EXPLAIN_DEFAULTS } from '../config.ts';
export { classifierScorer, Explainer, rankedRegions, type FaceExplanation, type FaceForward, type OcclusionResult, type Scorer } from './explainer.ts';
export { gradCam, spearman, unitEmbedding, upsample, type CamResult } from './gradcam.ts';
export { channelFactors, collapseHead, featureGradient, headEmbedding, throughNormalisation, type CollapsedHead } from './head-gradient.ts';
export { alignedOverlay, photoOverlay, pngDataUrl, withColorbar, type OverlayStyle } from './overlay.ts';
export { REGION_HPO, REGION_NAMES, regionMasks, regionScores, type RegionMasks, type RegionName, type RegionScore } from './regions.ts';
export { randomisedHead, randomScorer } from './sanity.ts';
export { dataUrlExplainer, fileExplainer, type ScreenExplainOptions } from '../workflows/screen/explainer.ts';
export { explainStudy, oofCorrectness, samplePhotos, summarise, type PhotoRecord, type SanityResult, type StudyExplainInput, type StudyExplainOptions, type StudyExplanation, type StudyPhoto } from '../workflows/study/explanation.ts';
export { explanationSection } from '../report/explanation.ts';
