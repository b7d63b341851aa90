/**
 * Pixel resampling on typed arrays: area resizing of planar data (the reference definition; MTCNN
 * itself resamples from a summed-area table, `integral.ts`), bilinear affine
 * warps (ArcFace alignment), integer crops with padding, and the interleaved-to-planar conversion
 * networks want. Plain loops over typed arrays, no allocation per pixel.
 */
import { PhenofaceError } from '../errors.ts';
import type { RgbImage } from '../types.ts';

/** A 2x3 affine matrix `[a, b, c, d, e, f]`: `x' = a x + b y + c`, `y' = d x + e y + f`. */
export type Affine = readonly number[];

function checkSize(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new PhenofaceError('E_INPUT', `Invalid ${what}: ${value}. Expected a positive integer.`);
  }
}

/** Throws `E_INPUT` unless `img` has positive integer sides and `width * height * 3` bytes. */
export function assertRgbImage(img: RgbImage, what: string): void {
  checkSize(`${what} width`, img.width);
  checkSize(`${what} height`, img.height);
  if (img.data.length !== img.width * img.height * 3) {
    throw new PhenofaceError('E_INPUT', `Invalid ${what}: ${img.data.length} bytes for ${img.width}x${img.height}. Expected width*height*3 = ${img.width * img.height * 3} (interleaved RGB).`);
  }
}

/**
 * Window bounds of adaptive average pooling, with PyTorch's integer formulas
 * (`aten/src/ATen/native/AdaptiveAveragePooling.cpp`): output `i` averages input
 * `[floor(i*n/m), ceil((i+1)*n/m))`.
 */
function poolWindows(inSize: number, outSize: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(outSize);
  const end = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    start[i] = Math.floor((i * inSize) / outSize);
    end[i] = Math.floor(((i + 1) * inSize + outSize - 1) / outSize);
  }
  return { start, end };
}

/**
 * Resize planar float data (`channels` x `h` x `w`, CHW) to `outH` x `outW` exactly as
 * `torch.nn.functional.interpolate(mode='area')`, which is `adaptive_avg_pool2d`: output pixel
 * `(i, j)` is the mean of input rows `[floor(i*h/outH), ceil((i+1)*h/outH))` and columns
 * `[floor(j*w/outW), ceil((j+1)*w/outW))`. facenet-pytorch's MTCNN (`imresample`) resizes its
 * pyramid levels and its R-Net/O-Net crops this way, so matching it matters for detection parity.
 * Works for downsampling and upsampling (windows of one or two pixels, possibly overlapping).
 *
 * The rectangle mean is separable: each row is pooled along x into a scratch buffer, then the
 * scratch rows are pooled along y, with the per-window reciprocals precomputed. Sums are in
 * float64, so results equal PyTorch's float32 ones to within float32 rounding.
 */
export function resizeAreaCHW(src: Float32Array, channels: number, h: number, w: number, outH: number, outW: number): Float32Array {
  for (const [what, v] of [['channels', channels], ['h', h], ['w', w], ['outH', outH], ['outW', outW]] as const) checkSize(`resizeAreaCHW ${what}`, v);
  if (src.length !== channels * h * w) {
    throw new PhenofaceError('E_INPUT', `resizeAreaCHW: source has ${src.length} values. Expected channels*h*w = ${channels * h * w}.`);
  }
  const cx = poolWindows(w, outW);
  const cy = poolWindows(h, outH);
  const invX = new Float64Array(outW);
  for (let j = 0; j < outW; j++) invX[j] = 1 / (cx.end[j] - cx.start[j]);
  const tmp = new Float64Array(h * outW);
  const acc = new Float64Array(outW);
  const out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const plane = c * h * w;
    // along x: tmp[y][j] = mean of src[y][cx.start[j] .. cx.end[j])
    for (let y = 0; y < h; y++) {
      const row = plane + y * w;
      const trow = y * outW;
      for (let j = 0; j < outW; j++) {
        const e = row + cx.end[j];
        let sum = 0;
        for (let k = row + cx.start[j]; k < e; k++) sum += src[k];
        tmp[trow + j] = sum * invX[j];
      }
    }
    // along y: out[i][j] = mean of tmp[cy.start[i] .. cy.end[i])[j]
    for (let i = 0; i < outH; i++) {
      const s = cy.start[i];
      const e = cy.end[i];
      const inv = 1 / (e - s);
      const orow = c * outH * outW + i * outW;
      acc.fill(0);
      for (let k = s; k < e; k++) {
        const trow = k * outW;
        for (let j = 0; j < outW; j++) acc[j] += tmp[trow + j];
      }
      for (let j = 0; j < outW; j++) out[orow + j] = acc[j] * inv;
    }
  }
  return out;
}

/**
 * Interleaved RGB bytes to planar (CHW, R then G then B) floats `(x - mean) * scale`, the input
 * layout of every network here. MTCNN (facenet-pytorch) uses `mean = 127.5, scale = 0.0078125`;
 * ArcFace-style backbones `(x - 127.5) / 127.5`. `mean` and `scale` may be per channel `[r, g, b]`.
 */
export function toPlanarFloat(img: RgbImage, mean: number | readonly number[], scale: number | readonly number[]): Float32Array {
  assertRgbImage(img, 'toPlanarFloat image');
  const [m0, m1, m2] = typeof mean === 'number' ? [mean, mean, mean] : mean;
  const [s0, s1, s2] = typeof scale === 'number' ? [scale, scale, scale] : scale;
  if (![m0, m1, m2, s0, s1, s2].every(Number.isFinite)) {
    throw new PhenofaceError('E_INPUT', `toPlanarFloat: mean ${JSON.stringify(mean)} and scale ${JSON.stringify(scale)} must be finite numbers or [r, g, b] triples.`);
  }
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const d = img.data;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    out[i] = (d[p] - m0) * s0;
    out[n + i] = (d[p + 1] - m1) * s1;
    out[2 * n + i] = (d[p + 2] - m2) * s2;
  }
  return out;
}

/**
 * Crop the integer rectangle `[x1, x2) x [y1, y2)` (end-exclusive) of an image; the parts outside
 * the image are zero (black). The result is `(x2 - x1)` x `(y2 - y1)`. Used for MTCNN's R-Net and
 * O-Net crops, whose boxes may extend past the photo's edges.
 */
export function cropPad(img: RgbImage, x1: number, y1: number, x2: number, y2: number): RgbImage {
  assertRgbImage(img, 'cropPad image');
  if (![x1, y1, x2, y2].every(Number.isInteger) || x2 <= x1 || y2 <= y1) {
    throw new PhenofaceError('E_INPUT', `cropPad: invalid rectangle (${x1}, ${y1}, ${x2}, ${y2}). Expected integers with x1 < x2 and y1 < y2.`);
  }
  const outW = x2 - x1;
  const outH = y2 - y1;
  const out = new Uint8Array(outW * outH * 3);
  const sx1 = Math.max(0, x1);
  const sx2 = Math.min(img.width, x2);
  if (sx2 > sx1) {
    for (let y = Math.max(0, y1); y < Math.min(img.height, y2); y++) {
      const from = (y * img.width + sx1) * 3;
      out.set(img.data.subarray(from, from + (sx2 - sx1) * 3), ((y - y1) * outW + (sx1 - x1)) * 3);
    }
  }
  return { width: outW, height: outH, data: out };
}

/** The inverse of an affine matrix, as OpenCV's `invertAffineTransform` computes it. */
export function invertAffine(m: Affine): [number, number, number, number, number, number] {
  const det = m[0] * m[4] - m[1] * m[3];
  if (m.length !== 6 || !m.every(Number.isFinite) || det === 0 || !Number.isFinite(1 / det)) {
    throw new PhenofaceError('E_INPUT', `Affine matrix ${JSON.stringify(m)} is not invertible. Expected six finite numbers [a, b, c, d, e, f] with a*e - b*d != 0.`);
  }
  const a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det;
  return [a, b, -a * m[2] - b * m[5], d, e, -d * m[2] - e * m[5]];
}

/**
 * Warp an image by the affine matrix `m`, which maps SOURCE pixel coordinates to DESTINATION ones
 * (as `cv2.warpAffine` without `WARP_INVERSE_MAP`), into an `outW` x `outH` image, sampling the
 * source bilinearly at the inverse-mapped position of each destination pixel.
 *
 * Conventions follow OpenCV, which insightface's `norm_crop` uses to align faces to the ArcFace
 * 112x112 template: integer coordinates are pixel CENTRES (pixel `(i, j)` is the point `x = j,
 * y = i`; no half-pixel shift), and source pixels outside the image take the value `fill`, blended
 * in by the bilinear weights (`BORDER_CONSTANT`, `borderValue = fill`). Values are rounded to the
 * nearest integer. OpenCV 4.10 and older quantise positions to 1/32 pixel and weights to 1/32768;
 * this computes both in float64, so outputs may differ from theirs by a grey level at edges.
 */
export function warpAffine(img: RgbImage, m: Affine, outW: number, outH: number, fill = 0): RgbImage {
  assertRgbImage(img, 'warpAffine image');
  checkSize('warpAffine outW', outW);
  checkSize('warpAffine outH', outH);
  if (!(Number.isInteger(fill) && fill >= 0 && fill <= 255)) {
    throw new PhenofaceError('E_INPUT', `Invalid warpAffine fill: ${fill}. Expected an integer in [0, 255].`);
  }
  const [ia, ib, ic, id, ie, iF] = invertAffine(m);
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(outW * outH * 3);
  const v = new Float64Array(12); // the 2x2 neighbourhood, 3 channels each, for border pixels
  for (let y = 0, o = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++, o += 3) {
      const sx = ia * x + ib * y + ic;
      const sy = id * x + ie * y + iF;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        const p = 3 * (y0 * w + x0);
        const q = p + 3 * w;
        for (let c = 0; c < 3; c++) {
          out[o + c] = Math.round(w00 * data[p + c] + w01 * data[p + 3 + c] + w10 * data[q + c] + w11 * data[q + 3 + c]);
        }
      } else if (x0 + 1 < 0 || y0 + 1 < 0 || x0 >= w || y0 >= h) {
        out[o] = out[o + 1] = out[o + 2] = fill;
      } else {
        for (let k = 0; k < 4; k++) {
          const xx = x0 + (k & 1);
          const yy = y0 + (k >> 1);
          const inside = xx >= 0 && yy >= 0 && xx < w && yy < h;
          const p = 3 * (yy * w + xx);
          for (let c = 0; c < 3; c++) v[3 * k + c] = inside ? data[p + c] : fill;
        }
        for (let c = 0; c < 3; c++) out[o + c] = Math.round(w00 * v[c] + w01 * v[3 + c] + w10 * v[6 + c] + w11 * v[9 + c]);
      }
    }
  }
  return { width: outW, height: outH, data: out };
}

/**
 * The image turned clockwise by `quarterTurns` quarter turns (0-3): a lossless re-indexing of the
 * pixels, for asking whether a face is found more surely with the photo turned (a photo whose
 * orientation tag was lost shows its face on its side or upside down).
 */
export function rotateQuarterTurns(img: RgbImage, quarterTurns: number): RgbImage {
  assertRgbImage(img, 'rotateQuarterTurns image');
  const k = ((Math.round(quarterTurns) % 4) + 4) % 4;
  if (k === 0) return { width: img.width, height: img.height, data: img.data.slice() };
  const { width: w, height: h, data } = img;
  const ow = k === 2 ? w : h;
  const oh = k === 2 ? h : w;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Clockwise: a quarter turn sends (x, y) to (h - 1 - y, x); a half turn to (w - 1 - x, h - 1 - y).
      const [nx, ny] = k === 1 ? [h - 1 - y, x] : k === 2 ? [w - 1 - x, h - 1 - y] : [y, w - 1 - x];
      const from = (y * w + x) * 3;
      const to = (ny * ow + nx) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return { width: ow, height: oh, data: out };
}
