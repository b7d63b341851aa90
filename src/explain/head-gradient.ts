/**
 * The embedding head above Grad-CAM's layer, in JS: MobileFaceNet's global depthwise convolution
 * and 1x1 convolutions (read from the built model by `runtime/readLinearHead`). The head is
 * linear, `e = A·vec(F) + b`, with `A[k, (c,i,j)] = M[k,c]·K[c,i,j]` where `M = W_n···W_1` and `K`
 * the depthwise kernel, so the gradient of any score `S(e)` with respect to the feature map is
 * `dS/dF[c,i,j] = (gᵀM)_c · K[c,i,j]` with `g = dS/de`: exact, and one 192x512 product per photo.
 */
import type { LinearHead } from '../runtime/index.ts';

/** A head with its 1x1 layers multiplied out. */
export interface CollapsedHead {
  head: LinearHead;
  /** `M = W_n···W_1`, row-major `[dim, channels]`. */
  M: Float64Array;
}

/** Multiplies out the head's 1x1 layers once (M = W_n···W_1). */
export function collapseHead(head: LinearHead): CollapsedHead {
  const C = head.channels;
  // Start from the identity on the channels and apply each layer on the left.
  let M = new Float64Array(C * C);
  for (let c = 0; c < C; c++) M[c * C + c] = 1;
  let rows = C;
  for (const layer of head.dense) {
    const next = new Float64Array(layer.outputs * C);
    for (let o = 0; o < layer.outputs; o++) {
      for (let j = 0; j < layer.inputs; j++) {
        const w = layer.weight[o * layer.inputs + j];
        if (w === 0) continue;
        for (let c = 0, src = j * C, dst = o * C; c < C; c++) next[dst + c] += w * M[src + c];
      }
    }
    M = next;
    rows = layer.outputs;
  }
  if (rows !== head.dim) throw new RangeError(`collapseHead: ${rows} rows, head dim ${head.dim}`);
  return { head, M };
}

/** The raw (not normalised) embedding of a feature map `[C, H, W]` through the head, in float64. */
export function headEmbedding(head: LinearHead, features: ArrayLike<number>): Float64Array {
  const { channels: C, height: H, width: W } = head;
  const hw = H * W;
  if (features.length !== C * hw) throw new RangeError(`headEmbedding: ${features.length} feature values, expected ${C}x${H}x${W}`);
  let v = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = head.depthwiseBias[c];
    for (let k = 0, o = c * hw; k < hw; k++) s += head.depthwise[o + k] * features[o + k];
    v[c] = s;
  }
  for (const layer of head.dense) {
    const out = new Float64Array(layer.outputs);
    for (let o = 0; o < layer.outputs; o++) {
      let s = layer.bias[o];
      for (let j = 0, r = o * layer.inputs; j < layer.inputs; j++) s += layer.weight[r + j] * v[j];
      out[o] = s;
    }
    v = out;
  }
  return v;
}

/**
 * Gradient of `S(e / |e|)` with respect to the raw embedding `e`, given `gUnit = dS/du` at
 * `u = e / |e|`: the L2 normalisation's Jacobian `(I - u uᵀ) / |e|` applied to it.
 */
export function throughNormalisation(raw: ArrayLike<number>, gUnit: ArrayLike<number>): Float64Array {
  let n2 = 0;
  for (let i = 0; i < raw.length; i++) n2 += raw[i] * raw[i];
  const norm = Math.sqrt(n2) || 1;
  let along = 0;
  for (let i = 0; i < raw.length; i++) along += (gUnit[i] * raw[i]) / norm;
  return Float64Array.from(gUnit, (g, i) => (g - along * (raw[i] / norm)) / norm);
}

/** Per-channel factors `(gᵀM)_c` of the feature-map gradient, given `g = dS/de` (raw embedding). */
export function channelFactors(ch: CollapsedHead, g: ArrayLike<number>): Float64Array {
  const { M, head } = ch;
  const C = head.channels;
  const out = new Float64Array(C);
  for (let k = 0; k < head.dim; k++) {
    const gk = g[k];
    if (gk === 0) continue;
    for (let c = 0, o = k * C; c < C; c++) out[c] += gk * M[o + c];
  }
  return out;
}

/** The full gradient `dS/dF[c,i,j] = (gᵀM)_c · K[c,i,j]`, `[C, H, W]` (for checks; Grad-CAM needs only its spatial means). */
export function featureGradient(ch: CollapsedHead, g: ArrayLike<number>): Float64Array {
  const { channels: C, height: H, width: W, depthwise } = ch.head;
  const f = channelFactors(ch, g);
  const hw = H * W;
  return Float64Array.from({ length: C * hw }, (_, i) => f[Math.floor(i / hw)] * depthwise[i]);
}
