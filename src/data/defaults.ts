/**
 * Defaults of the data layer (manifests, embedding cache, leakage guards, progress).
 *
 * House style keeps every default in `src/config.ts`; that file belongs to another engineer, so
 * these live in this one frozen object until they move there as a `data` section. Nothing else
 * in `src/data/` hard-codes a tunable number.
 */
export const DATA_DEFAULTS = Object.freeze({
  /** The two classes of the CLI contract's manifest, positive first (Baek et al. 2025: VCFS vs controls). */
  classes: Object.freeze(['vcfs', 'control'] as const),
  /** Photos embedded at once. One: onnxruntime already spreads one photo over the cores. */
  concurrency: 1,
  /** Files hashed at once before embedding (I/O bound, so more than the embedding concurrency). */
  hashConcurrency: 4,
  /** A manifest error lists at most this many problems in its message (all are in `details`). */
  maxListedProblems: 20,
  /** Cosine above which two different files are treated as the same photo (re-encoded, resized). */
  nearDuplicateCosine: 0.995,
  /**
   * Two subject ids are flagged as one person when their centroid cosine reaches the median minus
   * this many robust standard deviations of the split-half centroid cosines within subjects
   * (`leakage.ts`): 3, the usual outlier fence, so few real subjects fall below it.
   */
  identityRobustK: 3,
  /** Same-person pairs must also be mutual nearest subjects (cuts look-alike false alarms ~6x on CFP). */
  identityMutualNearest: true,
  /** Calibrating the identity threshold needs at least this many subjects with two or more photos. */
  identityMinCalibrationSubjects: 5,
  /**
   * Fallback identity threshold (centroid cosine) when calibration is impossible. MobileFaceNet on
   * CFP (60 people): impostor centroid cosines reached 0.737, split-half ones had median 0.886.
   */
  identityAbsoluteCosine: 0.75,
  /** Without a terminal, the progress reporter prints a line every this fraction of the work... */
  progressStepFraction: 0.05,
  /** ...or every this many seconds, whichever comes first... */
  progressIntervalSec: 10,
  /** ...but never more often than this (a phase over in a second prints its last line only). */
  progressMinIntervalSec: 1,
});
