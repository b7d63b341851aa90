/**
 * What a study learns from. A photo offers up to three representations of its face, each a
 * feature block: the identity embedding of a face-recognition network; the face's geometry
 * (Procrustes-aligned dense landmarks and a named anthropometric panel, as dysmorphologists
 * measure faces: Farkas 1994, Kruszka et al. 2017); and region-pooled mid-level maps of the
 * backbone (local by construction). Every data-dependent step of a block (Procrustes mean, PCA,
 * standardisation) is fitted on training rows only, so cross-validation around it stays honest.
 */
import type { Point, View } from '../types.ts';

/** The representations a study can learn from. */
export const FEATURE_NAMES = ['embedding', 'geometry', 'regions'] as const;

/** One representation's name. */
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** What the pipeline gives the feature blocks for one photo. */
export interface PhotoInputs {
  /** The L2-normalised identity embedding. */
  embedding: Float32Array;
  /** The L2-normalised embedding of the second network (`features.secondBackbone`), when the pipeline computed it. */
  secondEmbedding?: Float32Array;
  /** The chosen face's 68 points in the iBUG-300W order, in image pixels (absent without a face or landmark model). */
  landmarks68?: readonly Point[];
  /** The photo's view (the manifest's, else the estimated one). */
  view?: View;
  /** The backbone's mid-level maps pooled inside each facial region (see `features/regions`). */
  regionMaps?: Float32Array;
}

/** A representation before fitting: the recipe. */
export interface FeatureBlock {
  readonly name: FeatureName;
  /** Learns every data-dependent step from the training rows only. */
  fit(train: readonly PhotoInputs[]): FittedBlock;
}

/** A representation fitted on training rows. */
export interface FittedBlock {
  readonly name: FeatureName;
  /** Length of the vectors {@link transform} returns. */
  readonly dim: number;
  /**
   * One standardised vector per row (zero mean, unit variance on the training rows); a value the
   * photo cannot supply (e.g. a bilateral width in a profile) is imputed as 0, the training mean.
   */
  transform(rows: readonly PhotoInputs[]): Float32Array[];
  /** A plain-JSON form that the block's `fromJSON` restores (written into the model bundle). */
  toJSON(): FeatureBlockJSON;
}

/** The serialised form of a fitted block. */
export interface FeatureBlockJSON {
  kind: 'phenoface-feature-block';
  version: 1;
  name: FeatureName;
  dim: number;
  params: Record<string, unknown>;
}

/** One candidate representation's inner cross-validated figure, as the choice saw it. */
export interface CandidateScore {
  /** The blocks (one, or several fused by stacking). */
  features: FeatureName[];
  /** Mean photo log-loss of its inner out-of-fold probabilities on the training rows. */
  logLoss: number;
}

/** How `auto` chose: every candidate's inner figure and the rule's outcome. */
export interface FeatureSelection {
  candidates: CandidateScore[];
  /** The candidate taken (the stack of every block, unless a smaller one was clearly better). */
  chosen: FeatureName[];
  /**
   * The blocks the model learns from: those of `chosen` its combiner gave a positive weight (absent
   * in models fitted before blocks were dropped, whose model learns from all of `chosen`).
   */
  kept?: FeatureName[];
  /** Folds of the inner subject-grouped CV the figures come from. */
  innerFolds: number;
  /**
   * The log-loss gain (nats per photo) a smaller candidate needed over the stack of every block
   * (`features.fusionMinGain`); in models fitted before that rule, the gain a fusion needed over
   * the best single block.
   */
  minGain: number;
}

/** The stacked fusion's combiner: `logit p = bias + sum_k weights[k] * logit p_k` over the blocks' probabilities. */
export interface Stacker {
  weights: number[];
  bias: number;
}

/** The serialised feature model: fitted blocks, one classifier per block, the combiner and the choice. */
export interface FeatureModelJSON {
  kind: 'phenoface-feature-model';
  version: 1;
  features: FeatureName[];
  blocks: FeatureBlockJSON[];
  /** One `ClassifierJSON` per block, in `features` order. */
  classifiers: unknown[];
  /** Null for a single block. */
  stacker: Stacker | null;
  selection?: FeatureSelection;
}
