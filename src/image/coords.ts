/**
 * Coordinates between the pixel grids of one photo: the full-size EXIF-oriented photo (the CLI
 * contract's coordinates), its decoded copy (shrunk when over `maxSidePx`; see
 * {@link DecodedImage.scale}) and reduced copies made for a quicker search. Boxes, landmarks and
 * the alignment matrix cross between grids in several places; one mapping keeps them in step.
 *
 * A {@link GridMap} multiplies coordinates by a factor per axis. Two conventions are in use:
 * - corner-aligned (`centred: false`): `x' = x * k`, pixel edges map to pixel edges. This is how
 *   detections and landmarks move between the decoded copy and the full-size photo.
 * - centre-aligned (`centred: true`): `x' = (x + 0.5) * k - 0.5`, pixel centres map to pixel
 *   centres, as a bilinear resize samples them (`cv2.resize`, sharp). This is how faces found
 *   in a reduced copy are placed on the copy they were reduced from.
 * Sizes (box width and height) scale by `k` in both.
 */
import type { Box, Face, Landmarks5, Point } from '../types.ts';
import type { DecodedImage } from './decode.ts';

/** A mapping from one pixel grid of a photo to another: target = source * k per axis (see module doc). */
export interface GridMap {
  kx: number;
  ky: number;
  centred: boolean;
}

/** Full-size photo -> decoded copy: `x * scale` on both axes (corner-aligned). */
export function toDecoded(img: Pick<DecodedImage, 'scale'>): GridMap {
  return { kx: img.scale, ky: img.scale, centred: false };
}

/** Decoded copy -> full-size photo: `x * (1 / scale)` on both axes (corner-aligned). */
export function toOriginal(img: Pick<DecodedImage, 'scale'>): GridMap {
  const k = 1 / img.scale;
  return { kx: k, ky: k, centred: false };
}

/**
 * From a grid of size `from` to one of size `to`, with each axis's own ratio of sizes (exact on
 * both axes where `scale` is exact only on the longer side).
 */
export function betweenSizes(from: { width: number; height: number }, to: { width: number; height: number }, centred: boolean): GridMap {
  return { kx: to.width / from.width, ky: to.height / from.height, centred };
}

function mapX(m: GridMap, x: number): number {
  return m.centred ? (x + 0.5) * m.kx - 0.5 : x * m.kx;
}

function mapY(m: GridMap, y: number): number {
  return m.centred ? (y + 0.5) * m.ky - 0.5 : y * m.ky;
}

/** A point in the target grid. */
export function mapPoint(m: GridMap, [x, y]: readonly [number, number]): Point {
  return [mapX(m, x), mapY(m, y)];
}

/** Five landmarks in the target grid. */
export function mapLandmarks(m: GridMap, landmarks: Landmarks5): Landmarks5 {
  return landmarks.map((p) => mapPoint(m, p)) as Landmarks5;
}

/** A box in the target grid: its corner mapped as a point, its size scaled. */
export function mapBox(m: GridMap, b: Box): Box {
  return { x: mapX(m, b.x), y: mapY(m, b.y), width: b.width * m.kx, height: b.height * m.ky };
}

/** A detection (box, score, landmarks) in the target grid; pose and view are not carried over. */
export function mapFace(m: GridMap, f: Face): Face {
  return { box: mapBox(m, f.box), score: f.score, landmarks5: mapLandmarks(m, f.landmarks5) };
}

/** A 2x3 affine matrix, row-major `[a, b, c, d, e, f]`: `x' = a x + b y + c`, `y' = d x + e y + f`. */
export type Matrix2x3 = [number, number, number, number, number, number];

/**
 * A matrix that maps decoded pixels (to an aligned crop, say) as one that maps full-size pixels:
 * its linear part times `scale` (a full-size pixel is `scale` decoded pixels).
 */
export function affineToOriginal(m: readonly number[], img: Pick<DecodedImage, 'scale'>): Matrix2x3 {
  const s = img.scale;
  return [m[0] * s, m[1] * s, m[2], m[3] * s, m[4] * s, m[5]];
}

/** A matrix that maps full-size pixels as one that maps decoded pixels: its linear part over `scale`. */
export function affineToDecoded(m: readonly number[], img: Pick<DecodedImage, 'scale'>): Matrix2x3 {
  const s = img.scale;
  return [m[0] / s, m[1] / s, m[2], m[3] / s, m[4] / s, m[5]];
}
