/**
 * Result types of screening one person's photos (`phenoface screen`, `POST /api/screen`), shaped
 * as the CLI contract's `screen --json` output plus added fields.
 */
import type { RegionShare } from '../../explain/regions.ts';
import type { HeatScaleUsed } from '../../explain/heat-scale.ts';
import type { Measurement, SubjectMeasurement } from '../../features/measurements.ts';
import type { Box, Landmarks5, Pose, View } from '../../types.ts';

export type { HeatScaleUsed, RegionShare, Measurement, SubjectMeasurement };

/** One photo's screening result, or its error. */
export interface ScreenPhoto {
  path: string;
  /** Positive-class probability for this photo alone. */
  probability?: number;
  view?: View;
  pose?: Pose;
  box?: Box;
  landmarks5?: Landmarks5;
  width?: number;
  height?: number;
  /** Plain-language quality warnings, and advice on the photo's view from the model's per-view results. */
  warnings?: string[];
  /** Regions of the explanation map, ranked by share. */
  regions?: RegionShare[];
  /**
   * The map behind `regions` and the heatmaps: `contrastive`, `hirescam`, `gradcam` or
   * `gradcam-14x14` (see `screen --cam`); or `geometry` for a model without the embedding, whose
   * regions are its geometry contributions' positive parts as shares (no heat maps).
   */
  cam?: string;
  /**
   * The heatmaps' colour scale: `basis` `study` (shared across photos, from the study's
   * positive-class photos) or `photo` (this photo's own; older bundles), its hot end `top`, this
   * photo's `peak` as a fraction of it, and a sentence saying so.
   */
  heatScale?: HeatScaleUsed;
  /** Heatmap overlay: a file path (CLI with --explain) or a data URL (server). */
  heatmap?: string;
  /** Heatmap on the 112x112 aligned face (data URL or path), when produced. */
  heatmapAligned?: string;
  /**
   * The anthropometric panel the photo's view supports, each with its z against the study's
   * controls in that view (not population norms) and HPO terms beyond the threshold.
   */
  measurements?: Measurement[];
  /**
   * For a model with a linear geometry part: each facial region's contribution to this photo's
   * log-odds through the face's geometry, relative to the mean face of the study's photos
   * (positive = towards the positive class), largest first.
   */
  geometryRegions?: GeometryRegion[];
  /** What `geometryRegions` are, in one sentence. */
  geometryNote?: string;
  error?: { code: string; message: string };
}

/** One facial region's contribution to a photo's log-odds through the model's geometry part. */
export interface GeometryRegion {
  /** Region name, e.g. `perinasal`. */
  name: string;
  /** In log-odds units (natural log), rounded to 4 decimals; positive = towards the positive class. */
  contribution: number;
}

/** A whole screening: per-photo results fused into one subject-level probability. */
export interface ScreenResult {
  contract: 1;
  subject: {
    /** Fused positive-class probability (mean over usable photos' probabilities). */
    probability: number | null;
    /** `positive` class name when probability >= the model's threshold, else the negative class. */
    label: string | null;
    threshold: number;
    /** Number of photos that contributed. */
    photos: number;
    /** Why `probability` and `label` are null: no photo could be screened (`E_NO_USABLE_PHOTO`). */
    error?: { code: 'E_NO_USABLE_PHOTO'; message: string };
    /** 95% interval of the fused probability from the spread of the photos (undefined with one photo). */
    interval?: [number, number];
    /** Why `interval` is missing (one photo) or a single value (photos that scored alike). */
    intervalNote?: string;
    /** The prevalence (pre-test chance) that `ppv` and `chance` assume; `screen --prevalence`. */
    prevalence?: number;
    /** The model's cross-validated sensitivity per person at `threshold`. */
    sensitivity?: number;
    /** The model's cross-validated specificity per person at `threshold`. */
    specificity?: number;
    /** 95% intervals of `sensitivity` and `specificity`, those `chanceRange` is taken over. */
    sensitivityCi95?: [number, number];
    specificityCi95?: [number, number];
    /** Likelihood ratio of this call: LR+ for a positive call, LR- for a negative one; null when unbounded (specificity 1). */
    likelihoodRatio?: number | null;
    /** `likelihoodRatio` over the 95% intervals of sensitivity and specificity (the range `chanceRange` follows); the upper end null when unbounded. */
    likelihoodRatioRange?: [number, number | null];
    /** Why `likelihoodRatio` is null. */
    likelihoodRatioNote?: string;
    /** Present when the call carries no evidence (a likelihood ratio on the wrong side of 1, or an AUC interval reaching 0.5), saying so. */
    evidenceNote?: string;
    /** PPV of a positive call at `prevalence` (Bayes' rule from sensitivity and specificity). */
    ppv?: number | null;
    /** Present on a call below the threshold, saying that `ppv` is a positive call's and that this call's chance is `chance`. */
    ppvNote?: string;
    /** The chance of the condition given this call at `prevalence`: PPV when positive, 1 - NPV when negative. */
    chance?: number | null;
    /** `chance` over the 95% intervals of sensitivity and specificity. */
    chanceRange?: [number, number];
    /** Present when `chance` is exactly 0 or 1 (a validated rate of 1), saying to read `chanceRange` instead. */
    chanceNote?: string;
    /**
     * Present when the person was screened from fewer photos than the study's people had on average:
     * the per-person rates are of people scored from all their photos, and this gives the per-photo rates beside them.
     */
    photosNote?: string;
    /** The person's measurements: means over their photos of each value and each z. */
    measurements?: SubjectMeasurement[];
    /** Whom the z-scores compare with (the study's controls, not population norms). */
    measurementsNote?: string;
  };
  photos: ScreenPhoto[];
  /**
   * A ranking model's differential: every class it was trained on with its probability for this
   * person (the usable photos' class probabilities fused by their mean log-probability), most
   * probable first. Absent for a binary model or when no photo is usable.
   */
  differential?: DifferentialEntry[];
  /** What `differential` and the binary `subject` fields each mean, for a ranking model. */
  differentialNote?: string;
  /** Present when the differential's cross-validated top-1 per person does not clear naming the most common class, saying it carries no evidence. */
  differentialEvidenceNote?: string;
  /**
   * `warnings`: why the model's scores may not hold here (trained on photos processed by another
   * pipeline version). `heatMapScope`: what part of the score the heat maps differentiate, when
   * some photo's regions come from one and it is not the whole score (`explain/scope.ts`).
   * `heatMapChecks`: the study's checks of the map drawn that failed or could not be measured, when
   * some photo's regions come from it (`explain/heat-scale.ts` `heatMapChecksNote`).
   * `synthetic`: the model is a demonstration trained on planted photos; its result means nothing
   * about the person. `features`: the feature blocks the model scores with (`embedding`, `geometry`,
   * `regions`); `reads`: the same in words, since `backbone` names the network installed with the
   * model even when it does not read that network's embedding. `photoThreshold`: the model's
   * threshold for one photo, below which a photo's regions carry no HPO terms and are worded as
   * what little raises its score, not as where it comes from.
   */
  model: { id: string; backbone: string; photoThreshold?: number; features?: string[]; reads?: string; positive: string; negative: string; synthetic?: true; classes?: string[]; warnings?: string[]; heatMapScope?: string; heatMapChecks?: string };
  disclaimer: string;
}

/** One class of a ranked differential. */
export interface DifferentialEntry {
  label: string;
  probability: number;
}

/**
 * Whether a photo's `regions` rank a heat map (not the geometry's contributions): the rankings that
 * carry `REGION_RANKING_NOTE`, in the CLI's text and the web app.
 */
export function regionsFromHeatMap(photo: Pick<ScreenPhoto, 'regions' | 'cam'>): boolean {
  return Boolean(photo.regions?.length) && photo.cam !== 'geometry';
}

/**
 * Whether a photo scored below the model's photo threshold (`model.photoThreshold`), where its
 * region shares are worded as what little raises the score, not as where the score comes from
 * (the CLI's line and the web app's card alike). False without a threshold or a score.
 */
export function belowPhotoThreshold(photo: Pick<ScreenPhoto, 'probability'>, photoThreshold: number | undefined): boolean {
  return photoThreshold !== undefined && photo.probability !== undefined && photo.probability < photoThreshold;
}
