/**
 * Heat-map overlays of an explanation: on the 112x112 aligned face, and warped back onto the
 * original photo through the inverse of the alignment matrix, each with a colour bar on its right
 * (top = hottest). Zero heat is the scale's cold end; the hot end is `top`, a value shared across
 * photos (the study's scale, `heat-scale.ts`), or without it the hottest place of each photo
 * (Grad-CAM's `show_cam_on_image` convention). By default only the warm part is overlaid: the
 * colour's weight grows with the heat, so where there is no evidence the face shows untouched.
 */
import { blendHeat, colorbar, colormapLut, encodePng, heatFraction, type Colormap } from '../image/index.ts';
import type { AlignedFace, RgbImage } from '../types.ts';
import { DEFAULTS } from '../config.ts';
import { heatPeak } from './heat-scale.ts';

/** How overlays look. */
export interface OverlayStyle {
  /** Weight of the colour at the hot end: `out = (1 - alpha) * photo + alpha * colour`. */
  alpha: number;
  colormap: Colormap;
  /** Overlay only the warm part: the colour's weight is `alpha` times the heat's place on the scale. */
  warmOnly: boolean;
  /** The heat at the scale's hot end, shared across photos (default: each map's own largest value). */
  top?: number;
}

const style = (s: Partial<OverlayStyle> = {}): OverlayStyle => ({
  alpha: s.alpha ?? DEFAULTS.explain.overlay.alpha,
  colormap: s.colormap ?? DEFAULTS.explain.overlay.colormap,
  warmOnly: s.warmOnly ?? DEFAULTS.explain.overlay.warmOnly,
  ...(s.top !== undefined ? { top: s.top } : {}),
});

/** A copy of `img` with a colour bar (as tall as the image, 1/16 of its width, min 6 px) after a 2 px white gap; `warmOnly` fades the bar to white at its cold end, as the overlay fades to the photo. */
export function withColorbar(img: RgbImage, colormap: Colormap, warmOnly = false): RgbImage {
  const barW = Math.max(6, Math.round(img.width / 16)), gap = 2;
  const bar = colorbar(Math.max(2, img.height), colormap, barW, warmOnly);
  const W = img.width + gap + barW;
  const out = new Uint8Array(W * img.height * 3).fill(255);
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(3 * y * img.width, 3 * (y + 1) * img.width), 3 * y * W);
    out.set(bar.data.subarray(3 * y * barW, 3 * (y + 1) * barW), 3 * (y * W + img.width + gap));
  }
  return { width: W, height: img.height, data: out };
}

/** The aligned face with the heat (same size as the face, row-major) blended over it, plus a colour bar. */
export function alignedOverlay(face: RgbImage, heat: ArrayLike<number>, opts: Partial<OverlayStyle> = {}): RgbImage {
  const { alpha, colormap, warmOnly, top = heatPeak(heat) } = style(opts);
  if (heat.length !== face.width * face.height) throw new RangeError(`alignedOverlay: ${heat.length} heat values for a ${face.width}x${face.height} face`);
  const lut = colormapLut(colormap);
  const out = new Uint8Array(face.data.length);
  for (let i = 0; i < heat.length; i++) blendHeat(out, face.data, 3 * i, heatFraction(heat[i], top), lut, alpha, warmOnly);
  return withColorbar({ width: face.width, height: face.height, data: out }, colormap, warmOnly);
}

/**
 * The photo with the heat of its aligned face warped back onto it: each photo pixel inside the
 * aligned crop's footprint samples the heat bilinearly at `matrix · (x, y)` (integer coordinates are
 * pixel centres, as in `warpAffine`); pixels outside the crop are left as they are. `matrix` maps
 * THIS image's pixels to aligned pixels (for a photo shrunk at decode, scale the matrix first).
 */
export function photoOverlay(photo: RgbImage, matrix: AlignedFace['matrix'], heat: ArrayLike<number>, size: number, opts: Partial<OverlayStyle> = {}): RgbImage {
  const { alpha, colormap, warmOnly, top = heatPeak(heat) } = style(opts);
  if (heat.length !== size * size) throw new RangeError(`photoOverlay: ${heat.length} heat values for a ${size}x${size} crop`);
  const lut = colormapLut(colormap);
  const [a, b, c, d, e, f] = matrix;
  const det = a * e - b * d;
  // The crop's footprint in the photo: the inverse images of its corners bound the pixels to visit.
  const inv = (x: number, y: number) => [(e * (x - c) - b * (y - f)) / det, (-d * (x - c) + a * (y - f)) / det];
  const corners = [[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]].map(([x, y]) => inv(x, y));
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0])))), x1 = Math.min(photo.width - 1, Math.ceil(Math.max(...corners.map((p) => p[0]))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1])))), y1 = Math.min(photo.height - 1, Math.ceil(Math.max(...corners.map((p) => p[1]))));
  const out = Uint8Array.from(photo.data);
  const at = (ix: number, iy: number) => heat[Math.min(size - 1, Math.max(0, iy)) * size + Math.min(size - 1, Math.max(0, ix))];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const ax = a * x + b * y + c, ay = d * x + e * y + f;
      if (ax < -0.5 || ay < -0.5 || ax > size - 0.5 || ay > size - 0.5) continue;
      const fx = Math.floor(ax), fy = Math.floor(ay), wx = ax - fx, wy = ay - fy;
      const v = (1 - wy) * ((1 - wx) * at(fx, fy) + wx * at(fx + 1, fy)) + wy * ((1 - wx) * at(fx, fy + 1) + wx * at(fx + 1, fy + 1));
      blendHeat(out, photo.data, 3 * (y * photo.width + x), heatFraction(v, top), lut, alpha, warmOnly);
    }
  }
  return withColorbar({ width: photo.width, height: photo.height, data: out }, colormap, warmOnly);
}

/** A PNG data URL of an image (for the web app and the self-contained report). */
export async function pngDataUrl(img: RgbImage): Promise<string> {
  return `data:image/png;base64,${(await encodePng(img)).toString('base64')}`;
}
