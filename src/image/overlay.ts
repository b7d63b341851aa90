/**
 * Heat-map overlays for explanations (Grad-CAM, Selvaraju et al. 2017): a coarse map of any range
 * is upsampled to the photo, normalised to [0, 1] (by its own range, or on a fixed scale shared
 * across photos), coloured, and blended over the photo, the way pytorch-grad-cam's
 * `show_cam_on_image` does, or with only the warm part showing; plus a colour-bar legend.
 */
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';
import { assertRgbImage } from './resample.ts';

/** A single-channel float map, row-major, `width * height` values of any range. */
export interface HeatMap {
  width: number;
  height: number;
  data: Float32Array;
}

/** Colour scales: `jet` (the Grad-CAM paper's and OpenCV's usual one) or `inferno` (perceptually uniform, prints in greyscale). */
export type Colormap = 'jet' | 'inferno';

/** Options of {@link heatmapOverlay}. */
export interface OverlayOptions {
  /** Weight of the colour in the blend, in [0, 1]: `out = (1 - alpha) * photo + alpha * colour`. */
  alpha: number;
  colormap: Colormap;
  /**
   * The heat at the hot end of a fixed scale: `t = v / top`, clamped to [0, 1], so zero heat is the
   * cold end and maps can be compared. Without it, each map is min-max normalised.
   */
  top?: number;
  /**
   * Overlay only the warm part: the colour's weight is `alpha * t`, so where there is no heat the
   * photo shows untouched (the cold colours no longer cover the face).
   */
  warmOnly?: boolean;
}

type Stops = ReadonlyArray<readonly [number, number]>;

/** matplotlib's `_jet_data` (`lib/matplotlib/_cm.py`): per channel, piecewise-linear (position, value). */
const JET: readonly [Stops, Stops, Stops] = [
  [[0, 0], [0.35, 0], [0.66, 1], [0.89, 1], [1, 0.5]],
  [[0, 0], [0.125, 0], [0.375, 1], [0.64, 1], [0.91, 0], [1, 0]],
  [[0, 0.5], [0.11, 1], [0.34, 1], [0.65, 0], [1, 0]],
];

/**
 * matplotlib's `_inferno_data` (`lib/matplotlib/_cm_listed.py`, 256 entries) sampled at entries
 * 0, 8, ..., 248 and 255, as 8-bit RGB. Linear interpolation between them reproduces all 256
 * entries to within 2 levels of 255.
 */
const INFERNO_STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [0, 0, 4], [4, 3, 18], [11, 7, 36], [21, 11, 55], [33, 12, 74], [47, 10, 91], [61, 9, 101], [74, 12, 107],
  [87, 16, 110], [100, 21, 110], [113, 25, 110], [125, 30, 109], [138, 34, 106], [151, 39, 102], [163, 44, 97],
  [176, 49, 91], [188, 55, 84], [199, 62, 76], [210, 70, 68], [219, 80, 59], [228, 90, 49], [235, 102, 40],
  [241, 115, 29], [246, 128, 19], [249, 142, 9], [251, 157, 7], [252, 172, 17], [251, 188, 33], [249, 203, 53],
  [245, 219, 76], [242, 234, 105], [243, 246, 138], [252, 255, 164],
];

function interpolateStops(stops: Stops, t: number): number {
  for (let k = 1; k < stops.length; k++) {
    const [x1, y1] = stops[k];
    if (t <= x1) {
      const [x0, y0] = stops[k - 1];
      return y0 + ((y1 - y0) * (t - x0)) / (x1 - x0);
    }
  }
  return stops[stops.length - 1][1];
}

function buildLut(colour: (t: number) => [number, number, number]): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) lut.set(colour(i / 255).map((v) => Math.round(Math.min(255, Math.max(0, v)))), 3 * i);
  return lut;
}

const LUTS: Readonly<Record<Colormap, Uint8Array>> = Object.freeze({
  jet: buildLut((t) => [0, 1, 2].map((c) => 255 * interpolateStops(JET[c], t)) as [number, number, number]),
  inferno: buildLut((t) => {
    const stops = INFERNO_STOPS.map((_, k) => Math.min(k * 8, 255) / 255);
    return [0, 1, 2].map((c) => interpolateStops(stops.map((x, k) => [x, INFERNO_STOPS[k][c]] as const), t)) as [number, number, number];
  }),
});

/** The 256-entry colour table of a colour scale (`lut[3*i .. 3*i+2]` is the colour of `i / 255`). */
export function colormapLut(colormap: Colormap): Uint8Array {
  const lut = LUTS[colormap];
  if (!lut) throw new PhenofaceError('E_INPUT', `Unknown colormap: ${JSON.stringify(colormap)}. Should be one of: ${Object.keys(LUTS).join(', ')}.`);
  return lut;
}

/** A heat value on a fixed scale whose hot end is `top`: `v / top` clamped to [0, 1] (0 without a positive top). */
export function heatFraction(v: number, top: number): number {
  return top > 0 ? Math.min(1, Math.max(0, v / top)) : 0;
}

/**
 * Blends the colour of `t` (in [0, 1]) over the pixel at byte offset `o` of `base` into `out`:
 * `out = (1 - w) * base + w * colour`, with `w = alpha`, or `alpha * t` when only the warm part
 * is overlaid.
 */
export function blendHeat(out: Uint8Array, base: ArrayLike<number>, o: number, t: number, lut: Uint8Array, alpha: number, warmOnly = false): void {
  const k = 3 * Math.round(255 * t);
  const w = warmOnly ? alpha * t : alpha;
  for (let c = 0; c < 3; c++) out[o + c] = Math.round((1 - w) * base[o + c] + w * lut[k + c]);
}

/** To [0, 1]: on the fixed scale `top` when given, else min-max (a constant map becomes all zeros: it shows no place as hotter). */
function normalise(heat: HeatMap, top?: number): Float32Array {
  const { data } = heat;
  if (!(Number.isInteger(heat.width) && Number.isInteger(heat.height) && heat.width >= 1 && heat.height >= 1) || data.length !== heat.width * heat.height) {
    throw new PhenofaceError('E_INPUT', `Invalid heat map: ${data.length} values for ${heat.width}x${heat.height}. Expected width*height values with positive integer sides.`);
  }
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) throw new PhenofaceError('E_INPUT', `Invalid heat map: value ${v} at index ${i}. Expected finite numbers.`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(data.length);
  if (top !== undefined) for (let i = 0; i < data.length; i++) out[i] = heatFraction(data[i], top);
  else if (hi > lo) for (let i = 0; i < data.length; i++) out[i] = (data[i] - lo) / (hi - lo);
  return out;
}

/** Source positions and weights of bilinear resizing with half-pixel centres (`cv2.resize` INTER_LINEAR). */
function linearTaps(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w1: Float32Array } {
  const i0 = new Int32Array(outSize), i1 = new Int32Array(outSize), w1 = new Float32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const s = Math.min(inSize - 1, Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5));
    i0[o] = Math.floor(s);
    i1[o] = Math.min(inSize - 1, i0[o] + 1);
    w1[o] = s - i0[o];
  }
  return { i0, i1, w1 };
}

/**
 * Blend a heat map over a photo: the map (any size and range, e.g. a 7x7 Grad-CAM) is normalised
 * to [0, 1] by its min and max (or on the fixed scale `top`), upsampled bilinearly to the photo's
 * size (half-pixel centres, as `cv2.resize`, edges clamped), coloured with `colormap`, and blended:
 * `out = (1 - alpha) * photo + alpha * colour` (see {@link OverlayOptions.warmOnly}).
 */
export function heatmapOverlay(base: RgbImage, heat: HeatMap, opts: Partial<OverlayOptions> = {}): RgbImage {
  const alpha = opts.alpha ?? 0.5;
  const lut = colormapLut(opts.colormap ?? 'jet');
  if (!(alpha >= 0 && alpha <= 1)) throw new PhenofaceError('E_INPUT', `Invalid overlay alpha: ${alpha}. Expected a number in [0, 1].`);
  assertRgbImage(base, 'heatmapOverlay base image');
  const { width: W, height: H } = base;
  if (opts.top !== undefined && !(opts.top > 0)) throw new PhenofaceError('E_INPUT', `Invalid overlay scale top: ${opts.top}. Expected a positive heat value.`);
  const h01 = normalise(heat, opts.top);
  const tx = linearTaps(heat.width, W), ty = linearTaps(heat.height, H);
  const out = new Uint8Array(W * H * 3);
  const hw = heat.width;
  for (let y = 0, o = 0; y < H; y++) {
    const r0 = ty.i0[y] * hw, r1 = ty.i1[y] * hw, wy = ty.w1[y];
    for (let x = 0; x < W; x++, o += 3) {
      const a = tx.i0[x], b = tx.i1[x], wx = tx.w1[x];
      const top = h01[r0 + a] + (h01[r0 + b] - h01[r0 + a]) * wx;
      const bot = h01[r1 + a] + (h01[r1 + b] - h01[r1 + a]) * wx;
      blendHeat(out, base.data, o, top + (bot - top) * wy, lut, alpha, opts.warmOnly);
    }
  }
  return { width: W, height: H, data: out };
}

/**
 * A vertical colour-bar legend `widthPx` x `heightPx`: the top row is the colour of 1 (hottest),
 * the bottom of 0. With `warmOnly`, each colour is blended over white by its value, as a warm-only
 * overlay blends it over the photo, so the bottom (no heat) is white.
 */
export function colorbar(heightPx: number, colormap: Colormap = 'jet', widthPx = 16, warmOnly = false): RgbImage {
  if (!(Number.isInteger(heightPx) && heightPx >= 2 && Number.isInteger(widthPx) && widthPx >= 1)) {
    throw new PhenofaceError('E_INPUT', `Invalid colorbar size ${widthPx}x${heightPx}. Expected integers, width >= 1 and height >= 2.`);
  }
  const lut = colormapLut(colormap);
  const data = new Uint8Array(widthPx * heightPx * 3);
  const white = [255, 255, 255];
  const colour = new Uint8Array(3);
  for (let y = 0; y < heightPx; y++) {
    blendHeat(colour, white, 0, (heightPx - 1 - y) / (heightPx - 1), lut, 1, warmOnly);
    for (let x = 0; x < widthPx; x++) data.set(colour, 3 * (y * widthPx + x));
  }
  return { width: widthPx, height: heightPx, data };
}
