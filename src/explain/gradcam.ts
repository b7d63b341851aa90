/**
 * Grad-CAM (Selvaraju et al., ICCV 2017, "Grad-CAM: Visual Explanations from Deep Networks via
 * Gradient-based Localization"): channel weights `alpha_c = mean_ij dS/dF[c,i,j]`, map
 * `ReLU(sum_c alpha_c F_c)`, for the score S the classifier gives the positive class before its
 * sigmoid. Here S is a function of the L2-normalised embedding, and the embedding an affine
 * function of the feature map F (see `head.ts`), so every gradient is exact.
 */
import { PhenofaceError } from '../errors.ts';
import { unitVector } from '../math/vector.ts';
import { featureGradient, throughNormalisation, type CollapsedHead } from './head-gradient.ts';
import type { FeatureGrid } from '../runtime/index.ts';

/** A Grad-CAM of one face on the feature map's grid. */
export interface CamResult {
  width: number;
  height: number;
  /** `sum_c alpha_c F_c` before the ReLU, row-major `height x width`. */
  signed: Float32Array;
  /** `ReLU(signed)`: what is shown. */
  cam: Float32Array;
  /** Grad-CAM's channel weights (empty for HiResCAM). */
  alpha: Float64Array;
}

/**
 * How a map's places are weighted: `gradcam`, Grad-CAM's channel weights `alpha_c = mean_ij G`
 * times the map, `sum_c alpha_c F_c`; `hirescam`, HiResCAM's place-wise product `sum_c G_c * F_c`
 * (Draelos & Carin 2020, "Use HiResCAM instead of Grad-CAM for faithful explanations of
 * convolutional neural networks"), each place's first-order contribution to the score. Grad-CAM's
 * averaging is faithful only under a global-average-pooling head; MobileFaceNet's head is a
 * global depthwise convolution with a weight per place, where HiResCAM is the faithful form.
 */
export type CamWeighting = 'gradcam' | 'hirescam';

/**
 * A class-activation map from a layer's map `F` and the score's exact gradient `G` with respect
 * to it (both `[c, h, w]` row-major). With a `reference` map `R` (HiResCAM only), each place's
 * contribution is measured against it: `sum_c G_c * (F_c - R_c)`, the first-order attribution of
 * `score(F) - score(R)` to the places (the Taylor form of DeepLIFT's reference-based attribution;
 * Shrikumar et al. 2017, Ancona et al. 2018).
 */
export function weightedCam(g: ArrayLike<number>, F: ArrayLike<number>, C: number, H: number, W: number, weighting: CamWeighting, reference?: ArrayLike<number>): CamResult {
  const hw = H * W;
  if (F.length !== C * hw || g.length !== C * hw) throw new RangeError(`weightedCam: ${F.length} map and ${g.length} gradient values, expected ${C}x${H}x${W}`);
  if (reference && (weighting !== 'hirescam' || reference.length !== F.length)) {
    throw new PhenofaceError('E_CONFIG', `A reference map needs HiResCAM and ${F.length} values (got ${weighting}, ${reference.length}).`);
  }
  const alpha = new Float64Array(weighting === 'gradcam' ? C : 0);
  const acc = new Float64Array(hw);
  for (let c = 0; c < C; c++) {
    const o = c * hw;
    if (weighting === 'hirescam') {
      if (reference) for (let k = 0; k < hw; k++) acc[k] += g[o + k] * (F[o + k] - reference[o + k]);
      else for (let k = 0; k < hw; k++) acc[k] += g[o + k] * F[o + k];
      continue;
    }
    let m = 0;
    for (let k = 0; k < hw; k++) m += g[o + k];
    const a = (alpha[c] = m / hw);
    if (a !== 0) for (let k = 0; k < hw; k++) acc[k] += a * F[o + k];
  }
  const signed = Float32Array.from(acc);
  return { width: W, height: H, signed, cam: signed.map((v) => (v > 0 ? v : 0)), alpha };
}

/**
 * Grad-CAM of a score `S(u)` of the unit embedding `u = e / |e|` on the linear head's input map,
 * given the face's feature map `[C, H, W]`, its raw embedding `e` and `gUnit = dS/du` at that `u`.
 * (HiResCAM on this 7x7 map is not offered: without a reference it lights the eyes of every face,
 * and its contrastive form localised planted regions worse than on the 14x14 map; see bench/explain.ts.)
 */
export function gradCam(ch: CollapsedHead, features: ArrayLike<number>, raw: ArrayLike<number>, gUnit: ArrayLike<number>): CamResult {
  const { channels: C, height: H, width: W } = ch.head;
  if (features.length !== C * H * W) throw new RangeError(`gradCam: ${features.length} feature values, expected ${C}x${H}x${W}`);
  return weightedCam(featureGradient(ch, throughNormalisation(raw, gUnit)), features, C, H, W, 'gradcam');
}

/** The L2-normalised copy of a raw embedding, as the classifiers see it. */
export function unitEmbedding(raw: ArrayLike<number>): Float32Array {
  return unitVector(raw);
}

/**
 * Bilinear upsampling of a `w x h` map to `W x H` with clamped edges. Without `grid`, with
 * half-pixel centres (`cv2.resize` INTER_LINEAR, the resize Grad-CAM implementations use; the
 * same taps as `image/overlay.ts`): right for maps made on a regular lattice of the crop, such as
 * occlusion maps. With a network layer's `grid` (`runtime/readFeatureGrid`), each cell is drawn
 * where its receptive field is centred on the input, so heat lands on the part of the face the
 * cell actually saw: a plain resize would draw MobileFaceNet's 7x7 cells 7.5 px up and left of
 * where they look (TensorFlow's SAME padding) and move heat from the nose onto the eyes.
 */
export function upsample(map: ArrayLike<number>, w: number, h: number, W: number, H: number, grid?: FeatureGrid): Float32Array {
  const taps = (n: number, N: number, d: 0 | 1) => Array.from({ length: N }, (_, o) => {
    const at = grid ? (o - grid.offset[d]) / grid.stride[d] : ((o + 0.5) * n) / N - 0.5;
    const s = Math.min(n - 1, Math.max(0, at));
    const i0 = Math.floor(s);
    return [i0, Math.min(n - 1, i0 + 1), s - i0] as const;
  });
  const tx = taps(w, W, 1), ty = taps(h, H, 0);
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const [y0, y1, wy] = ty[y];
    for (let x = 0; x < W; x++) {
      const [x0, x1, wx] = tx[x];
      const top = map[y0 * w + x0] + (map[y0 * w + x1] - map[y0 * w + x0]) * wx;
      const bot = map[y1 * w + x0] + (map[y1 * w + x1] - map[y1 * w + x0]) * wx;
      out[y * W + x] = top + (bot - top) * wy;
    }
  }
  return out;
}

/** Ranks with ties given their average rank (1-based). */
function ranks(v: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const r = new Float64Array(v.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
    for (let k = i; k <= j; k++) r[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/**
 * Spearman's rank correlation (Pearson on average ranks), the similarity measure of Adebayo et
 * al. 2018's sanity checks; null when either input is constant (no ranking to compare).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths ${a.length} and ${b.length} differ`);
  const ra = ranks(a), rb = ranks(b);
  const n = ra.length;
  const ma = ra.reduce((s, v) => s + v, 0) / n, mb = rb.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}
