/**
 * Per-photo explanations: Grad-CAM heat maps with exact gradients, facial-region importance with
 * HPO terms, overlays and the sanity checks' randomised models. The study-level analysis and the
 * screening explainers compose these in `workflows/` (study/explanation.ts, screen/explainer.ts),
 * and the report section lives in `report/`: this stage does not re-export them, since its
 * dependencies point down.
 */
export { classifierScorer, Explainer, rankedRegions, type FaceExplanation, type FaceForward, type OcclusionResult, type Scorer } from './explainer.ts';
export { gradCam, spearman, unitEmbedding, upsample, type CamResult } from './gradcam.ts';
export { channelFactors, collapseHead, featureGradient, headEmbedding, throughNormalisation, type CollapsedHead } from './head-gradient.ts';
export { alignedOverlay, photoOverlay, pngDataUrl, withColorbar, type OverlayStyle } from './overlay.ts';
export { evidenceHeat, heatPeak, heatScaleFor, type HeatScaleUsed, type MapEvidence, type StudyHeatScale } from './heat-scale.ts';
export { HEAT_SCALE_FILE, loadHeatScale, saveHeatScale } from './heat-scale-file.ts';
export { POOLED_REGIONS, poolInRegions, REGION_HPO, REGION_NAMES, regionMasks, regionPooling, regionScores, type RegionMasks, type RegionName, type RegionPooling, type RegionScore } from './regions.ts';
export { randomisedHead, randomScorer } from './sanity.ts';
export { heatMapScope } from './scope.ts';

