/**
 * The MTCNN image pyramid (facenet-pytorch `detect_face`): P-Net sees a 12 px window, so a face of
 * `minFaceSizePx` needs scale `12 / minFaceSizePx`; each further level shrinks by `scaleFactor`
 * until the shorter side drops below 12 px. Level sizes are `int(h * scale + 1)` as in the reference.
 */

/** One pyramid level: the scale and the resized image size. */
export interface PyramidLevel {
  scale: number;
  height: number;
  width: number;
}

/**
 * Pyramid levels for an image of `height` x `width`.
 * `maxFaceScale` (optional, from `detect.minFaceRatio`) drops the largest levels: with a lower bound
 * on face size relative to the photo, levels whose scale exceeds `12 / (ratio * shorter side)` could
 * only find faces smaller than that bound. This is where the pyramid's cost is (a 2048 px photo's
 * first level is 1229 px).
 */
export function pyramidLevels(height: number, width: number, minFaceSizePx: number, scaleFactor: number, minFaceRatio = 0): PyramidLevel[] {
  const m = 12 / minFaceSizePx;
  let minl = Math.min(height, width) * m;
  let scale = m;
  const smallestFacePx = minFaceRatio > 0 ? minFaceRatio * Math.min(height, width) : 0;
  // A level at scale s searches faces of about 12 / s px; keep levels whose faces are >= the bound
  // (with one level of slack, since P-Net responds to faces up to ~1.4x its window).
  const maxScale = smallestFacePx > 0 ? (12 / smallestFacePx) / scaleFactor : Infinity;
  const levels: PyramidLevel[] = [];
  while (minl >= 12) {
    if (scale <= maxScale) {
      levels.push({ scale, height: Math.trunc(height * scale + 1), width: Math.trunc(width * scale + 1) });
    }
    scale *= scaleFactor;
    minl *= scaleFactor;
  }
  return levels;
}
