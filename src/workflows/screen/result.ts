/**
 * Result types of screening one person's photos (`phenoface screen`, `POST /api/screen`), shaped
 * as the CLI contract's `screen --json` output plus added fields.
 */
import type { RegionShare } from '../../explain/regions.ts';
import type { Box, Landmarks5, Pose, View } from '../../types.ts';

export type { RegionShare };

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
  /** Plain-language quality warnings ("profile photo: accuracy is lower"). */
  warnings?: string[];
  /** Regions of the explanation map, ranked by share. */
  regions?: RegionShare[];
  /** The map behind `regions` and the heatmaps: `contrastive`, `hirescam`, `gradcam` or `gradcam-14x14` (see `screen --cam`). */
  cam?: string;
  /** Heatmap overlay: a file path (CLI with --explain) or a data URL (server). */
  heatmap?: string;
  /** Heatmap on the 112x112 aligned face (data URL or path), when produced. */
  heatmapAligned?: string;
  error?: { code: string; message: string };
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
    /** 95% interval of the fused probability from the spread of the photos (undefined with one photo). */
    interval?: [number, number];
  };
  photos: ScreenPhoto[];
  model: { id: string; backbone: string; positive: string; negative: string };
  disclaimer: string;
}
