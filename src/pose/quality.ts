/**
 * Quality checks of a face, reported as flags with plain-language reasons rather than hidden
 * filters: a clinician decides what to do with a blurry or cut-off photo, Phenoface only tells.
 */
import type { QualityConfig } from '../config.ts';
import type { Face, RgbImage } from '../types.ts';

/** The quality problems, in the order a face's warnings give them. */
export const QUALITY_FLAGS = ['turned', 'small', 'cut-off', 'low-confidence', 'not-frontal', 'blurry'] as const;

/** A quality problem. */
export type QualityFlag = (typeof QUALITY_FLAGS)[number];

/**
 * The measures a flag's warning quotes when they are known: the turn that stands the face upright
 * (`Face.turned`), the shorter side of the face box, the detector's score.
 */
export interface QualityMeasures {
  turned?: 90 | 180 | 270;
  faceSidePx?: number;
  score?: number;
}

/** Quality of one face: the flags raised, why, and the measures behind them. */
export interface Quality {
  flags: QualityFlag[];
  warnings: string[];
  /** Shorter side of the face box, px. */
  faceSidePx: number;
  /** Variance of the Laplacian of the aligned face's luminance (higher = sharper); undefined without it. */
  sharpness?: number;
}

/**
 * Variance of the 4-neighbour Laplacian of the luminance (Pech-Pacheco et al. 2000), the usual
 * blur measure; computed on the 112x112 aligned face so it is comparable across photo sizes.
 */
export function laplacianVariance(img: RgbImage): number {
  const { width: w, height: h, data } = img;
  const lum = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) lum[i] = 0.299 * data[3 * i] + 0.587 * data[3 * i + 1] + 0.114 * data[3 * i + 2];
  let sum = 0, sum2 = 0, n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const v = lum[i - 1] + lum[i + 1] + lum[i - w] + lum[i + w] - 4 * lum[i];
      sum += v; sum2 += v * v; n++;
    }
  }
  if (n === 0) return 0;
  const mean = sum / n;
  return sum2 / n - mean * mean;
}

/**
 * The warning for a face the orientation check found on its side or upside down: `turned` is the
 * clockwise turn that stands it upright (`Face.turned`); without it (a record that gives only the
 * flag) the warning says so without the turn.
 */
export function turnedWarning(turned?: 90 | 180 | 270): string {
  const looks = turned === undefined ? 'on its side or upside down' : turned === 180 ? 'upside down' : 'turned on its side';
  const found = turned === undefined ? 'turned' : `turned ${turned} degrees clockwise`;
  return `the face looks ${looks}: it is found more surely with the photo ${found} (its orientation tag may be missing); turn the photo upright and screen it again`;
}

/**
 * The plain-language warnings of a face's quality flags, in {@link QUALITY_FLAGS} order, each flag
 * once, quoting the measures that are given: one wording whether the flags were just measured
 * (photo screening) or read from `embed`'s record (`screen --embeddings`). `not-frontal` has none:
 * how much the view matters is the model's to say (its per-view results), not this check's.
 */
export function qualityWarnings(flags: readonly QualityFlag[], measures: QualityMeasures = {}): string[] {
  const { turned, faceSidePx, score } = measures;
  const text: Record<QualityFlag, string | undefined> = {
    'turned': turnedWarning(turned),
    'small': `face is small${faceSidePx === undefined ? '' : ` (${Math.round(faceSidePx)} px)`}: details are lost; use a closer photo`,
    'cut-off': 'face is partly outside the photo',
    'low-confidence': `detector is unsure this is a face${score === undefined ? '' : ` (score ${score.toFixed(2)})`}`,
    'not-frontal': undefined,
    'blurry': 'photo looks blurry',
  };
  return QUALITY_FLAGS.flatMap((f) => (flags.includes(f) && text[f] !== undefined ? [text[f]] : []));
}

/**
 * Flags a face's quality problems; `aligned` (the 112x112 crop) enables the blur check. A face
 * with `turned` (the orientation check's finding, `pipeline/orientation.ts`) is on its side or
 * upside down, and was aligned and scored from points the detector guessed.
 */
export function assessQuality(face: Face, imageWidth: number, imageHeight: number, cfg: QualityConfig, aligned?: RgbImage): Quality {
  const flags: QualityFlag[] = [];
  if (face.turned) flags.push('turned');
  const side = Math.min(face.box.width, face.box.height);
  if (side < cfg.minFaceSidePx) flags.push('small');
  const b = face.box;
  const outside = Math.max(0, -b.x) + Math.max(0, -b.y) + Math.max(0, b.x + b.width - imageWidth) + Math.max(0, b.y + b.height - imageHeight);
  if (outside > 0.15 * (b.width + b.height)) flags.push('cut-off');
  if (face.score < cfg.minScore) flags.push('low-confidence');
  if (face.view && face.view !== 'frontal') flags.push('not-frontal');
  let sharpness: number | undefined;
  if (aligned) {
    sharpness = laplacianVariance(aligned);
    if (sharpness < cfg.minSharpness) flags.push('blurry');
  }
  const warnings = qualityWarnings(flags, { ...(face.turned ? { turned: face.turned } : {}), faceSidePx: side, score: face.score });
  return { flags, warnings, faceSidePx: side, sharpness };
}
