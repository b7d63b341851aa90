/**
 * Face alignment: the 5 MTCNN landmarks are mapped onto the ArcFace template by a least-squares
 * similarity transform (Umeyama) and the photo is warped bilinearly into a 112x112 crop, exactly as
 * insightface prepares faces for ArcFace-family networks (`norm_crop`).
 */
import { warpAffine } from '../image/index.ts';
import type { AlignedFace, Landmarks5, RgbImage } from '../types.ts';
import { applyAffine, umeyama, type Affine } from './similarity.ts';
import { ALIGNED_SIZE, ARCFACE_TEMPLATE } from './template.ts';

export { umeyama, applyAffine, invertAffine, similarityScale, type Affine } from './similarity.ts';
export { ALIGNED_SIZE, ARCFACE_TEMPLATE } from './template.ts';

/** The matrix mapping image pixels to aligned-crop pixels for these landmarks (default: ArcFace). */
export function alignmentMatrix(landmarks: Landmarks5, template: Readonly<Landmarks5> = ARCFACE_TEMPLATE): Affine {
  return umeyama(landmarks, template as Landmarks5);
}

/**
 * A template given in one crop's frame (`from`: where five reference points sit there), carried into
 * another crop whose reference points sit at `to`, by the least-squares similarity between the two:
 * e.g. a landmark model's ArcFace-space template into another backbone's crop.
 */
export function mapTemplate(template: Readonly<Landmarks5>, from: Readonly<Landmarks5>, to: Readonly<Landmarks5>): Landmarks5 {
  const m = umeyama(from, to);
  return template.map((p) => applyAffine(m, p)) as Landmarks5;
}

/**
 * Warps the face with these landmarks onto a template (default: the 112x112 ArcFace one; each
 * backbone names its own, see `embed/registry.ts`), black outside the photo.
 */
export function alignFace(image: RgbImage, landmarks: Landmarks5, template: Readonly<Landmarks5> = ARCFACE_TEMPLATE, size = ALIGNED_SIZE): AlignedFace {
  const matrix = alignmentMatrix(landmarks, template);
  return { image: warpAffine(image, matrix, size, size), matrix };
}
