/**
 * Forward and backward passes of a backbone's tail (`runtime/readGraphTail`: convolutions with
 * folded batch norm, PReLU, residual additions) on one face, in plain JS with float64
 * accumulation: the reference the tests hold onnxruntime's forward tensors and its backward pass
 * (`runtime/loadTailBackward`) to. Reverse-mode differentiation of exactly these operators (Conv
 * backward-data is the transposed convolution with the same weights; PReLU's derivative is 1 or
 * its slope by the sign of its input; an addition passes the gradient to both inputs), itself
 * tested against finite differences.
 */
import { PhenofaceError } from '../../../src/errors.ts';
import type { GraphTail, TailConv } from '../../../src/runtime/index.ts';
import type { Feature, TailActivations } from '../../../src/explain/tail-tensors.ts';

function convGeometry(node: TailConv, x: Feature) {
  const [O, I, kh, kw] = node.weightDims;
  const [sy, sx] = node.strides;
  let top: number, left: number, oh: number, ow: number;
  if (node.pads === 'SAME_UPPER') {
    oh = Math.ceil(x.h / sy);
    ow = Math.ceil(x.w / sx);
    top = Math.floor(Math.max(0, (oh - 1) * sy + kh - x.h) / 2);
    left = Math.floor(Math.max(0, (ow - 1) * sx + kw - x.w) / 2);
  } else {
    const [t, l, b, r] = node.pads;
    top = t;
    left = l;
    oh = Math.floor((x.h + t + b - kh) / sy) + 1;
    ow = Math.floor((x.w + l + r - kw) / sx) + 1;
  }
  const depthwise = node.group === x.c && I === 1 && O === x.c;
  const dense = node.group === 1 && I === x.c && kh === 1 && kw === 1 && sy === 1 && sx === 1 && top === 0 && left === 0;
  if (!depthwise && !dense) throw new PhenofaceError('E_MODEL', `Tail convolution ${node.output}: group ${node.group}, weight [${node.weightDims}] on ${x.c} channels. Supported: 1x1 (group 1) and depthwise.`);
  return { O, kh, kw, sy, sx, top, left, oh, ow, depthwise };
}

function conv(node: TailConv, x: Feature): Feature {
  const g = convGeometry(node, x);
  const { O, oh, ow } = g;
  const out = new Float32Array(O * oh * ow);
  const hw = x.h * x.w;
  if (!g.depthwise) {
    const acc = new Float64Array(hw);
    for (let o = 0; o < O; o++) {
      acc.fill(node.bias[o]);
      for (let i = 0; i < x.c; i++) {
        const wgt = node.weight[o * x.c + i];
        for (let p = 0, s = i * hw; p < hw; p++) acc[p] += wgt * x.data[s + p];
      }
      out.set(acc, o * hw);
    }
    return { c: O, h: oh, w: ow, data: out };
  }
  const { kh, kw, sy, sx, top, left } = g;
  for (let c = 0; c < O; c++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let s = node.bias[c];
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sy - top + ky;
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sx - left + kx;
            if (ix < 0 || ix >= x.w) continue;
            s += node.weight[(c * kh + ky) * kw + kx] * x.data[(c * x.h + iy) * x.w + ix];
          }
        }
        out[(c * oh + oy) * ow + ox] = s;
      }
    }
  }
  return { c: O, h: oh, w: ow, data: out };
}

/** Gradient of a convolution's input given its output's gradient `gy` (backward-data). */
function convBackward(node: TailConv, x: Feature, gy: Float64Array): Float64Array {
  const g = convGeometry(node, x);
  const gx = new Float64Array(x.c * x.h * x.w);
  const hw = x.h * x.w;
  if (!g.depthwise) {
    for (let o = 0; o < g.O; o++) {
      for (let i = 0; i < x.c; i++) {
        const wgt = node.weight[o * x.c + i];
        if (wgt === 0) continue;
        for (let p = 0, d = i * hw, s = o * hw; p < hw; p++) gx[d + p] += wgt * gy[s + p];
      }
    }
    return gx;
  }
  const { kh, kw, sy, sx, top, left, oh, ow } = g;
  for (let c = 0; c < g.O; c++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const go = gy[(c * oh + oy) * ow + ox];
        if (go === 0) continue;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sy - top + ky;
          if (iy < 0 || iy >= x.h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sx - left + kx;
            if (ix < 0 || ix >= x.w) continue;
            gx[(c * x.h + iy) * x.w + ix] += node.weight[(c * kh + ky) * kw + kx] * go;
          }
        }
      }
    }
  }
  return gx;
}

/** Runs the tail on one face's map at `tail.input`; returns every tensor (the output under `tail.output`). */
export function tailForward(tail: GraphTail, input: Feature): TailActivations {
  const acts: TailActivations = new Map([[tail.input, input]]);
  const get = (name: string) => {
    const t = acts.get(name);
    if (!t) throw new PhenofaceError('E_MODEL', `Tail tensor "${name}" is used before it is computed.`);
    return t;
  };
  for (const node of tail.nodes) {
    if (node.op === 'Conv') acts.set(node.output, conv(node, get(node.input)));
    else if (node.op === 'PRelu') {
      const x = get(node.input);
      const hw = x.h * x.w;
      const data = Float32Array.from(x.data, (v, i) => (v > 0 ? v : node.slope[Math.floor(i / hw)] * v));
      acts.set(node.output, { ...x, data });
    } else {
      const a = get(node.inputs[0]), b = get(node.inputs[1]);
      acts.set(node.output, { ...a, data: Float32Array.from(a.data, (v, i) => v + b.data[i]) });
    }
  }
  return acts;
}

/**
 * Gradient of a score with respect to the tail's input map, given the forward pass's tensors and
 * the gradient `gOut` at the tail's output (`[c, h, w]`, e.g. `head.featureGradient`).
 */
export function tailBackward(tail: GraphTail, acts: TailActivations, gOut: ArrayLike<number>): Float64Array {
  const grads = new Map<string, Float64Array>([[tail.output, Float64Array.from(gOut)]]);
  const add = (name: string, g: Float64Array) => {
    const cur = grads.get(name);
    if (!cur) grads.set(name, g);
    else for (let i = 0; i < g.length; i++) cur[i] += g[i];
  };
  for (let k = tail.nodes.length - 1; k >= 0; k--) {
    const node = tail.nodes[k];
    const gy = grads.get(node.output);
    if (!gy) continue; // does not reach the output
    if (node.op === 'Conv') add(node.input, convBackward(node, acts.get(node.input)!, gy));
    else if (node.op === 'PRelu') {
      const x = acts.get(node.input)!;
      const hw = x.h * x.w;
      // Plain loops: typed-array `from` with a mapping function is several times slower in V8.
      const gx = new Float64Array(gy.length);
      for (let c = 0, i = 0; c < x.c; c++) {
        const a = node.slope[c];
        for (let p = 0; p < hw; p++, i++) gx[i] = x.data[i] > 0 ? gy[i] : a * gy[i];
      }
      add(node.input, gx);
    } else {
      add(node.inputs[0], gy.slice());
      add(node.inputs[1], gy.slice());
    }
  }
  const g = grads.get(tail.input);
  if (!g) throw new PhenofaceError('E_MODEL', `The tail's output does not depend on "${tail.input}".`);
  return g;
}
