/**
 * Defaults of the explanation stage (kept beside the stage, as `classify/defaults.ts` and
 * `evaluate/defaults.ts` are; `config.ts` holds the pipeline's). Where a number comes from a
 * paper, the comment says which.
 */
export const EXPLAIN_DEFAULTS = Object.freeze({
  overlay: Object.freeze({
    /** Colour weight of overlays (pytorch-grad-cam's `show_cam_on_image` uses 0.5; a little less keeps the face readable). */
    alpha: 0.45,
    /** The Grad-CAM paper's colour scale. */
    colormap: 'jet' as const,
  }),
  /**
   * Grad-CAM's finer layer per backbone (issue 4's 14x14 option): the output of MobileFaceNet's
   * last 14x14 bottleneck (Chen et al. 2018, Table 1: the sixth of the 14x14 stage's residual
   * blocks, 128 channels), the last map before the stride-2 block that makes the 7x7 one.
   */
  fineLayer: Object.freeze({ mobilefacenet: 'MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_5/Add' } as Record<string, string>),
  /** Grey that occluded regions are filled with: the input normalisation's zero ((x - 127.5) / 128 ~ 0). */
  occlusionGrey: 128,
  study: Object.freeze({
    /** At most this many photos are explained in a study (keeps `study` fast; ~0.1-0.2 s per photo). */
    maxPhotos: 200,
    /** At most this many photos per subject, so the sample spreads over subjects. */
    maxPhotosPerSubject: 2,
    /**
     * Correctly classified positive photos of the sample that also get a 14x14 occlusion map
     * (196 forward passes, ~3 s each on 2 cores), for the final and the shuffled-label model.
     * On planted sets it finds the planted region where 7x7 Grad-CAM does not (see bench/explain.ts).
     */
    occlusionMapPhotos: 30,
    /** Subject bootstrap replicates of the region-share intervals. */
    bootstrap: 1000,
    /** Seed of the sample, the bootstrap and the randomised models. */
    seed: 1,
    /**
     * Sanity checks (Adebayo et al., NeurIPS 2018, "Sanity Checks for Saliency Maps"): an
     * explanation whose mean Spearman rank correlation with that of a randomised or
     * shuffled-label model is at least this high "does not change" and is flagged. Adebayo et al.
     * call a method insensitive when its maps stay highly rank-correlated (their Fig. 2-4); 0.5 is a
     * moderate correlation, so a flag means the randomised model's map still resembles the real one.
     */
    sanityMaxSpearman: 0.5,
    /**
     * Heat per pixel outside the face relative to inside it at or above which the report warns of
     * shortcut learning. A flat map gives 1, and the 7x7 Grad-CAM cells of MobileFaceNet are broad
     * (on planted sets with identical backgrounds the ratio is about 1.0), so only clearly more
     * heat outside the face than on it (1.5x) is flagged.
     */
    outsideFaceDensityWarn: 1.5,
  }),
});
