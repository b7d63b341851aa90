/**
 * The result of the study-level explanation analysis (`explanation.json`): per-photo records and
 * the aggregates over them. The analysis runs in `workflows/study/explanation.ts`; the report's
 * section renders it, so its shape lives here, below both.
 */
import type { View } from '../types.ts';
import type { RegionName } from './regions.ts';

/** A mean with its 95% subject-bootstrap interval. */
export interface MeanCi {
  mean: number | null;
  ci95: [number, number] | null;
  n: number;
}

/** One photo's record in `explanation.json`. */
export interface PhotoRecord {
  path: string;
  subject: string;
  label: string;
  view: View | null;
  /** Out-of-fold verdicts (majority over repeats); null when the photo had no OOF prediction. */
  correct: boolean | null;
  subjectCorrect: boolean | null;
  /** The final model's decision value (logit). */
  score: number;
  /** Region with the largest share; null when the map is empty (no evidence for the positive class anywhere). */
  top: RegionName | null;
  shares: Record<RegionName, number>;
  /** Plain share of heat energy outside the face. */
  outsideEnergy: number;
  /** Score drop per unit area when each region is greyed out. */
  occlusion: Record<RegionName, number>;
  /** Spearman correlation of the regions' occlusion drops (per area) with their Grad-CAM shares. */
  occlusionAgreement: number | null;
  /** Spearman correlation of the 7x7 maps (before ReLU) of each sanity model with the real one. */
  sanity: Record<string, number | null>;
  /** Spearman correlation of the region shares of each sanity model with the real ones. */
  regionSanity: Record<string, number | null>;
  /** Top region under the shuffled-label model. */
  shuffledTop?: RegionName | null;
  /** The 14x14 occlusion map's region shares and top region (final model; shuffled-label model), when one was made. */
  occlusionMap?: MapRegions;
  /** The 14x14 Grad-CAM's region shares and top region (final model; shuffled-label model), when one was made. */
  fineCam?: MapRegions;
  /** The same for HiResCAM on the 14x14 block (gradient times activation per place, summed over channels). */
  fineHiRes?: MapRegions;
  /** The paper's 7x7 Grad-CAM (final model; shuffled-label model), for correctly classified positives. */
  gradcam?: MapRegions;
}

/** One finer map's region shares and top region (final model; shuffled-label model). */
export type MapRegions = { shares: Record<RegionName, number>; top: RegionName | null; shuffledTop?: RegionName | null };

/** How often each region ranked first, over `photos` photos (final model; shuffled-label model). */
export type TopRegionCounts = { photos: number; real: Record<RegionName, number>; shuffled: Record<RegionName, number> | null };

/** One sanity check's outcome. */
export interface SanityResult {
  name: string;
  description: string;
  /** Per-photo Spearman correlation of the maps (real vs randomised), mean and interval over subjects. */
  spearman: MeanCi;
  /** Same for the region-share vectors. */
  regionSpearman: MeanCi;
  /** True when the explanation changed (mean map correlation below the threshold). */
  passed: boolean;
}

/**
 * One check of the explanations, as the report's summary counts it: what was measured, the rule it
 * had to meet, and whether it did (null when it could not be measured, e.g. no photo explained).
 */
export interface ExplanationCheck {
  name: string;
  /** The measured value (a mean over people, with its 95% subject-bootstrap interval when there is one). */
  measured: MeanCi;
  /** Pass when `measured.mean` is below (`max`) or at least (`min`) `threshold`. */
  rule: 'max' | 'min';
  threshold: number;
  passed: boolean | null;
}

/** The study's explanation checks, by outcome (names as in the report's checks table). */
export interface ExplanationChecksSummary {
  total: number;
  failed: string[];
  notMeasured: string[];
}

/** The checks of a study's explanation analysis, counted by outcome. */
export function summariseExplanationChecks(checks: readonly Pick<ExplanationCheck, 'name' | 'passed'>[]): ExplanationChecksSummary {
  return {
    total: checks.length,
    failed: checks.filter((c) => c.passed === false).map((c) => c.name),
    notMeasured: checks.filter((c) => c.passed === null).map((c) => c.name),
  };
}

/**
 * The map behind a study's region analysis: `contrastive`, HiResCAM on the last 14x14 block
 * against the mean map of the sample's control faces (the default: the only map that put the
 * planted region first for >= 80% of correctly classified positives in bench:explain); `hirescam`, without a reference (a sample without
 * controls); `gradcam`, the paper's 7x7 Grad-CAM (a backbone without a finer layer).
 */
export type StudyCam = 'contrastive' | 'hirescam' | 'gradcam';

/** The whole analysis (written as `explanation.json`, shown in the report). */
export interface StudyExplanation {
  contract: 1;
  /** The map behind `regions`, `topRegion`, the mean heat map, the occlusion agreement and the sanity checks. */
  cam: StudyCam;
  method: string;
  backbone: string;
  positive: string;
  negative: string;
  sample: { photos: number; subjects: number; positivePhotos: number; controlPhotos: number; failed: { path: string; error: { code: string; message: string } }[] };
  /** Mean region shares per group (subjects weighted equally) with bootstrap intervals. */
  regions: Record<'positives' | 'controls', Record<RegionName, MeanCi>>;
  /** How often each region ranks first, among correctly classified positive photos (real and shuffled-label model). */
  topRegion: TopRegionCounts;
  /** The same for the 14x14 occlusion maps (made for a subset of those photos). */
  occlusionMapTop: TopRegionCounts | null;
  /** The same for Grad-CAM on the last 14x14 block (made for a subset of those photos). */
  fineCamTop: TopRegionCounts | null;
  /** The same for HiResCAM on the last 14x14 block. */
  fineHiResTop: TopRegionCounts | null;
  /** The same for the paper's 7x7 Grad-CAM. */
  gradcamTop: TopRegionCounts | null;
  /** The occlusion test: drops per region, and their rank agreement with the map's shares, checked against `minAgreement`. */
  occlusion: { dropPerArea: Record<RegionName, MeanCi>; agreement: MeanCi; minAgreement: number; passed: boolean | null };
  outsideFace: { energy: MeanCi; area: number; densityRatio: number | null; threshold: number; warning: string | null };
  sanity: SanityResult[];
  /** Every check with a threshold (sanity checks, occlusion agreement, heat outside the face): the report's summary follows them all. */
  checks: ExplanationCheck[];
  warnings: string[];
  /** Subjects behind the mean heat map (correctly classified positives). */
  meanHeatmapSubjects: number;
  photosDetail: PhotoRecord[];
  /**
   * What part of the final model's score the maps differentiate, when it is not the whole score
   * (a stack of blocks, a second network in the embedding block); see `heatMapScope`.
   */
  scope?: string;
  /** For a model with a linear geometry part: its contributions by region (see {@link StudyGeometryExplanation}). */
  geometry?: StudyGeometryExplanation;
}

/**
 * The geometry part's contributions to the final model's log-odds, by region, on the correctly
 * screened (out of fold) positive photos: in sample, since the final model was fitted on every
 * photo of the study.
 */
export interface StudyGeometryExplanation {
  positive: string;
  /** Photos and people behind the means (those whose geometry the model reads: landmarks and a view it has columns for). */
  photos: number;
  subjects: number;
  /** Mean contribution in log-odds per region (each person's photos averaged, then people), with a subject-bootstrap 95% interval. */
  regions: Partial<Record<RegionName, MeanCi>>;
  /** The share of those photos whose largest contribution is in each region. */
  first: Partial<Record<RegionName, number>>;
}
