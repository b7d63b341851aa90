/**
 * Area resizing by summed-area tables (Crow, "Summed-area tables for texture mapping", SIGGRAPH 1984).
 *
 * MTCNN resamples one photo many times with area interpolation: a dozen pyramid levels, then
 * hundreds of R-Net and O-Net crops. Pooling each from the pixels reads the whole photo once per
 * level; with one table of running sums per photo, every output pixel is four look-ups whatever its
 * window size. The table is built straight from the interleaved 8-bit pixels, so its sums are exact
 * integers and each output is the exact window mean rounded once to float32, the values
 * {@link resizeAreaCHW} gives (which rounds a little more along the way).
 */
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';
import { assertRgbImage } from './resample.ts';

/**
 * Running sums of an RGB image: `sums[3 * (y * (width + 1) + x) + c]` is the sum of channel `c` over
 * pixels `[0, x) x [0, y)`, for `0 <= x <= width`, `0 <= y <= height` (row 0 and column 0 are zero).
 * Int32 when every sum fits (images up to 8.4 MP, which covers `image.maxSidePx` up to 2896): half
 * the memory of Float64, and twice as fast to build and read; Float64 (exact to 3.5e13 pixels) above.
 */
export interface IntegralImage {
  width: number;
  height: number;
  sums: Int32Array | Float64Array;
}

/** Largest pixel count whose channel sums all fit an Int32 (255 per pixel). */
const INT32_MAX_PIXELS = Math.floor(0x7fffffff / 255);

/** Builds the summed-area table of an interleaved RGB image (one pass, `(w + 1) * (h + 1) * 3` sums). */
export function integralImage(img: RgbImage): IntegralImage {
  assertRgbImage(img, 'integralImage image');
  const { width: w, height: h, data } = img;
  const stride = 3 * (w + 1);
  const size = stride * (h + 1);
  const sums = w * h <= INT32_MAX_PIXELS ? new Int32Array(size) : new Float64Array(size);
  for (let y = 0; y < h; y++) {
    let r = 0, g = 0, b = 0;
    let p = 3 * y * w;
    let above = y * stride + 3; // (x + 1, y)
    let o = above + stride; // (x + 1, y + 1)
    for (let x = 0; x < w; x++, p += 3, above += 3, o += 3) {
      r += data[p];
      g += data[p + 1];
      b += data[p + 2];
      sums[o] = sums[above] + r;
      sums[o + 1] = sums[above + 1] + g;
      sums[o + 2] = sums[above + 2] + b;
    }
  }
  return { width: w, height: h, sums };
}

/** Where and how {@link resizeAreaFromIntegral} writes. */
export interface AreaResizeOptions {
  /** Subtracted from each mean before `scale` (default 0). */
  mean?: number;
  /** Multiplies each centred mean (default 1). */
  scale?: number;
  /** Output array to write into (default: a new one of `3 * outH * outW`). */
  out?: Float32Array;
  /** Index in `out` of the first value (default 0). */
  offset?: number;
}

/**
 * Area-resizes the window `[x0, x0 + w) x [y0, y0 + h)` of the image behind `ii` to `outW` x `outH`,
 * as planar float RGB (CHW) `(mean - opts.mean) * opts.scale`. Windows are those of
 * `torch.nn.functional.interpolate(mode='area')` (adaptive average pooling) on the cropped window:
 * output `(i, j)` averages rows `y0 + [floor(i*h/outH), ceil((i+1)*h/outH))` and columns likewise,
 * exactly as {@link resizeAreaCHW} on the crop; facenet-pytorch's MTCNN resizes its pyramid levels
 * and its R-Net/O-Net crops this way.
 *
 * @throws PhenofaceError `E_INPUT` when the window leaves the image or a size is not a positive integer.
 */
export function resizeAreaFromIntegral(
  ii: IntegralImage, x0: number, y0: number, w: number, h: number, outW: number, outH: number, opts: AreaResizeOptions = {},
): Float32Array {
  for (const [what, v] of [['w', w], ['h', h], ['outW', outW], ['outH', outH]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new PhenofaceError('E_INPUT', `Invalid resizeAreaFromIntegral ${what}: ${v}. Expected a positive integer.`);
  }
  if (!Number.isInteger(x0) || !Number.isInteger(y0) || x0 < 0 || y0 < 0 || x0 + w > ii.width || y0 + h > ii.height) {
    throw new PhenofaceError('E_INPUT', `resizeAreaFromIntegral: window (${x0}, ${y0}) ${w}x${h} is not inside the ${ii.width}x${ii.height} image. Expected integer bounds within it.`);
  }
  const mean = opts.mean ?? 0;
  const scale = opts.scale ?? 1;
  const offset = opts.offset ?? 0;
  const plane = outH * outW;
  const out = opts.out ?? new Float32Array(offset + 3 * plane);
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * plane > out.length) {
    throw new PhenofaceError('E_INPUT', `resizeAreaFromIntegral: ${3 * plane} values at offset ${offset} do not fit an output of ${out.length}. Expected offset + 3*outH*outW <= out.length.`);
  }
  const stride = 3 * (ii.width + 1);
  // Column windows as table offsets of their left and right edges, with their widths.
  const left = new Int32Array(outW);
  const right = new Int32Array(outW);
  const cols = new Float64Array(outW);
  for (let j = 0; j < outW; j++) {
    const s = Math.floor((j * w) / outW);
    const e = Math.floor(((j + 1) * w + outW - 1) / outW);
    left[j] = 3 * (x0 + s);
    right[j] = 3 * (x0 + e);
    cols[j] = e - s;
  }
  const s = ii.sums;
  for (let i = 0; i < outH; i++) {
    const ys = Math.floor((i * h) / outH);
    const ye = Math.floor(((i + 1) * h + outH - 1) / outH);
    const top = (y0 + ys) * stride;
    const bottom = (y0 + ye) * stride;
    const rows = ye - ys;
    let o = offset + i * outW;
    for (let j = 0; j < outW; j++, o++) {
      const a = top + left[j], b = top + right[j], c = bottom + left[j], d = bottom + right[j];
      const area = rows * cols[j];
      out[o] = (Math.fround((s[d] - s[b] - s[c] + s[a]) / area) - mean) * scale;
      out[o + plane] = (Math.fround((s[d + 1] - s[b + 1] - s[c + 1] + s[a + 1]) / area) - mean) * scale;
      out[o + 2 * plane] = (Math.fround((s[d + 2] - s[b + 2] - s[c + 2] + s[a + 2]) / area) - mean) * scale;
    }
  }
  return out;
}
