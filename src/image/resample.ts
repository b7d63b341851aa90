/**
 * Pixel resampling on typed arrays: area resizing (for the MTCNN pyramid and crops), bilinear
 * affine warps (for alignment), and the interleaved-to-planar conversion networks want.
 */
import type { RgbImage } from '../types.ts';

/** Window bounds of adaptive average pooling: output i averages input [floor(i*n/m), ceil((i+1)*n/m)). */
function windows(inSize: number, outSize: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(outSize), end = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    start[i] = Math.floor((i * inSize) / outSize);
    end[i] = Math.ceil(((i + 1) * inSize) / outSize);
  }
  return { start, end };
}

/**
 * Resizes planar float data (`channels` x `h` x `w`) to `outH` x `outW` exactly as
 * `torch.nn.functional.interpolate(mode='area')`, i.e. adaptive average pooling, which
 * facenet-pytorch's MTCNN uses for its pyramid and crops (its README shows a bilinear pyramid
 * costs parity). The rectangle mean is separable, so rows are pooled first, then columns.
 */
export function resizeAreaCHW(src: Float32Array, channels: number, h: number, w: number, outH: number, outW: number): Float32Array {
  const cx = windows(w, outW), cy = windows(h, outH);
  const tmp = new Float64Array(h * outW);
  const out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const base = c * h * w;
    for (let y = 0; y < h; y++) {
      const row = base + y * w;
      for (let x = 0; x < outW; x++) {
        const s = cx.start[x], e = cx.end[x];
        let acc = 0;
        for (let k = s; k < e; k++) acc += src[row + k];
        tmp[y * outW + x] = acc / (e - s);
      }
    }
    const obase = c * outH * outW;
    for (let y = 0; y < outH; y++) {
      const s = cy.start[y], e = cy.end[y], inv = 1 / (e - s);
      const orow = obase + y * outW;
      for (let x = 0; x < outW; x++) {
        let acc = 0;
        for (let k = s; k < e; k++) acc += tmp[k * outW + x];
        out[orow + x] = acc * inv;
      }
    }
  }
  return out;
}

/**
 * Interleaved RGB bytes to planar (CHW) floats `(x - mean) * scale`, the layout of every
 * network here.
 */
export function toPlanarFloat(img: RgbImage, mean: number, scale: number): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    out[i] = (d[3 * i] - mean) * scale;
    out[n + i] = (d[3 * i + 1] - mean) * scale;
    out[2 * n + i] = (d[3 * i + 2] - mean) * scale;
  }
  return out;
}

/**
 * Warps an image by the affine matrix `m` (`[a, b, c, d, e, f]`, mapping SOURCE pixel coordinates to
 * DESTINATION ones) into an `outW` x `outH` image, sampling bilinearly. Integer coordinates are pixel
 * centres (OpenCV's convention, as in the `cv2.warpAffine` insightface aligns with); samples
 * outside the source blend with `fill` (OpenCV's BORDER_CONSTANT).
 */
export function warpAffine(img: RgbImage, m: readonly number[], outW: number, outH: number, fill = 0): RgbImage {
  const det = m[0] * m[4] - m[1] * m[3];
  if (!Number.isFinite(det) || det === 0) throw new RangeError('warpAffine: singular matrix');
  // inverse: destination -> source
  const ia = m[4] / det, ib = -m[1] / det, id = -m[3] / det, ie = m[0] / det;
  const ic = -(ia * m[2] + ib * m[5]), iff = -(id * m[2] + ie * m[5]);
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = ia * x + ib * y + ic;
      const sy = id * x + ie * y + iff;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      const o = 3 * (y * outW + x);
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
        const p = 3 * (y0 * w + x0), q = p + 3 * w;
        for (let c = 0; c < 3; c++) {
          const top = data[p + c] + (data[p + 3 + c] - data[p + c]) * fx;
          const bot = data[q + c] + (data[q + 3 + c] - data[q + c]) * fx;
          out[o + c] = Math.round(top + (bot - top) * fy);
        }
      } else {
        for (let c = 0; c < 3; c++) {
          const px = (xx: number, yy: number) => (xx >= 0 && yy >= 0 && xx < w && yy < h ? data[3 * (yy * w + xx) + c] : fill);
          const top = px(x0, y0) + (px(x0 + 1, y0) - px(x0, y0)) * fx;
          const bot = px(x0, y0 + 1) + (px(x0 + 1, y0 + 1) - px(x0, y0 + 1)) * fx;
          out[o + c] = Math.round(top + (bot - top) * fy);
        }
      }
    }
  }
  return { width: outW, height: outH, data: out };
}
