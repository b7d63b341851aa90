/**
 * A deliberately naive TFLite interpreter (NHWC, float32, loops straight from the TFLite kernel
 * definitions) used as the ground truth the ONNX conversions are checked against. Slow and
 * obvious on purpose: it shares no code with the converter.
 */
import { floatData, int32Data, type TfliteGraph, type TfliteOperator } from '../../../src/runtime/build/tflite.ts';

export interface RefTensor {
  shape: number[];
  data: Float32Array;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function activate(v: number, act: unknown): number {
  if (act === 'RELU') return Math.max(0, v);
  if (act === 'RELU6') return Math.min(6, Math.max(0, v));
  if (act === 'RELU_N1_TO_1') return Math.min(1, Math.max(-1, v));
  if (act === 'TANH') return Math.tanh(v);
  return v;
}

/** Output size and leading padding of TF's SAME/VALID along one axis. */
function window(inSize: number, k: number, stride: number, dilation: number, padding: unknown): [number, number] {
  const eff = (k - 1) * dilation + 1;
  if (padding === 'VALID') return [Math.floor((inSize - eff) / stride) + 1, 0];
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + eff - inSize, 0);
  return [out, Math.floor(total / 2)];
}

function conv(x: RefTensor, w: RefTensor, b: Float32Array | undefined, o: TfliteOperator, depthwise: boolean): RefTensor {
  const [n, h, wd, c] = x.shape;
  const [, kh, kw] = w.shape;
  const outC = w.shape[depthwise ? 3 : 0];
  const mult = outC / c;
  const dh = (o.options.dilationH as number) ?? 1;
  const dw = (o.options.dilationW as number) ?? 1;
  const [oh, ph] = window(h, kh, o.options.strideH as number, dh, o.options.padding);
  const [ow, pw] = window(wd, kw, o.options.strideW as number, dw, o.options.padding);
  const out = new Float32Array(n * oh * ow * outC);
  for (let b0 = 0; b0 < n; b0++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let oc = 0; oc < outC; oc++) {
          let s = b ? b[oc] : 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * (o.options.strideH as number) - ph + i * dh;
              const ix = xx * (o.options.strideW as number) - pw + j * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              const base = ((b0 * h + iy) * wd + ix) * c;
              if (depthwise) {
                s += x.data[base + Math.floor(oc / mult)] * w.data[(i * kw + j) * outC + oc];
              } else {
                for (let ic = 0; ic < c; ic++) s += x.data[base + ic] * w.data[((oc * kh + i) * kw + j) * c + ic];
              }
            }
          out[((b0 * oh + y) * ow + xx) * outC + oc] = activate(s, o.options.activation);
        }
  return { shape: [n, oh, ow, outC], data: out };
}

function pool(x: RefTensor, o: TfliteOperator, max: boolean): RefTensor {
  const [n, h, wd, c] = x.shape;
  const kh = o.options.filterH as number;
  const kw = o.options.filterW as number;
  const [oh, ph] = window(h, kh, o.options.strideH as number, 1, o.options.padding);
  const [ow, pw] = window(wd, kw, o.options.strideW as number, 1, o.options.padding);
  const out = new Float32Array(n * oh * ow * c);
  for (let b0 = 0; b0 < n; b0++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let ch = 0; ch < c; ch++) {
          let acc = max ? -Infinity : 0;
          let count = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const iy = y * (o.options.strideH as number) - ph + i;
              const ix = xx * (o.options.strideW as number) - pw + j;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              const v = x.data[((b0 * h + iy) * wd + ix) * c + ch];
              acc = max ? Math.max(acc, v) : acc + v;
              count++;
            }
          out[((b0 * oh + y) * ow + xx) * c + ch] = activate(max ? acc : acc / count, o.options.activation);
        }
  return { shape: [n, oh, ow, c], data: out };
}

/** NumPy-style broadcasting of a binary function. */
function broadcast(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const sa = pad(a.shape);
  const sb = pad(b.shape);
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const out = new Float32Array(size(shape));
  const idx = new Array(rank).fill(0);
  for (let k = 0; k < out.length; k++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < rank; i++) {
      ia = ia * sa[i] + (sa[i] === 1 ? 0 : idx[i]);
      ib = ib * sb[i] + (sb[i] === 1 ? 0 : idx[i]);
    }
    out[k] = f(a.data[ia], b.data[ib]);
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < shape[i]) break;
      idx[i] = 0;
    }
  }
  return { shape, data: out };
}

function reduce(x: RefTensor, axesIn: number[], keep: boolean, kind: 'max' | 'sum' | 'mean'): RefTensor {
  const rank = x.shape.length;
  const axes = axesIn.map((a) => (a < 0 ? a + rank : a));
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float32Array(size(kept)).fill(kind === 'max' ? -Infinity : 0);
  const idx = new Array(rank).fill(0);
  for (let k = 0; k < x.data.length; k++) {
    let o = 0;
    for (let i = 0; i < rank; i++) o = o * kept[i] + (axes.includes(i) ? 0 : idx[i]);
    out[o] = kind === 'max' ? Math.max(out[o], x.data[k]) : out[o] + x.data[k];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < x.shape[i]) break;
      idx[i] = 0;
    }
  }
  if (kind === 'mean') {
    const n = axes.reduce((s, a) => s * x.shape[a], 1);
    for (let i = 0; i < out.length; i++) out[i] /= n;
  }
  return { shape: keep ? kept : x.shape.filter((_, i) => !axes.includes(i)), data: out };
}

const UNARY: Record<string, (v: number) => number> = {
  RELU: (v) => Math.max(0, v),
  RELU6: (v) => Math.min(6, Math.max(0, v)),
  NEG: (v) => -v,
  ABS: (v) => Math.abs(v),
  EXP: (v) => Math.exp(v),
  LOGISTIC: (v) => 1 / (1 + Math.exp(-v)),
  TANH: (v) => Math.tanh(v),
};
const BINARY: Record<string, (a: number, b: number) => number> = {
  ADD: (a, b) => a + b,
  SUB: (a, b) => a - b,
  MUL: (a, b) => a * b,
  DIV: (a, b) => a / b,
};

/** Runs a TFLite graph on its NHWC input; returns every graph output by tensor name. */
export function runReference(graph: TfliteGraph, input: RefTensor): Record<string, RefTensor> {
  const values = new Map<number, RefTensor>();
  const get = (i: number): RefTensor => {
    const v = values.get(i);
    if (v) return v;
    const t = graph.tensors[i];
    return { shape: t.shape, data: t.type === 'int32' ? Float32Array.from(int32Data(t)) : floatData(t) };
  };
  values.set(graph.inputs[0], input);
  for (const o of graph.operators) {
    const x = get(o.inputs[0]);
    let y: RefTensor;
    if (o.op === 'CONV_2D' || o.op === 'DEPTHWISE_CONV_2D') {
      y = conv(x, get(o.inputs[1]), o.inputs[2] >= 0 ? get(o.inputs[2]).data : undefined, o, o.op === 'DEPTHWISE_CONV_2D');
    } else if (o.op === 'MAX_POOL_2D' || o.op === 'AVERAGE_POOL_2D') {
      y = pool(x, o, o.op === 'MAX_POOL_2D');
    } else if (o.op === 'FULLY_CONNECTED') {
      const w = get(o.inputs[1]);
      const [units, depth] = w.shape;
      const batch = x.data.length / depth;
      const bias = o.inputs[2] >= 0 ? get(o.inputs[2]).data : undefined;
      const data = new Float32Array(batch * units);
      for (let b = 0; b < batch; b++)
        for (let u = 0; u < units; u++) {
          let s = bias ? bias[u] : 0;
          for (let k = 0; k < depth; k++) s += x.data[b * depth + k] * w.data[u * depth + k];
          data[b * units + u] = activate(s, o.options.activation);
        }
      y = { shape: [batch, units], data };
    } else if (o.op === 'RESHAPE') {
      const shape = o.inputs[1] >= 0 ? Array.from(get(o.inputs[1]).data) : [...(o.options.newShape as number[])];
      // As TFLite does after ResizeInputTensor: a fixed batch follows the actual input batch.
      shape[0] = x.shape[0];
      const known = shape.reduce((s, d) => (d === -1 ? s : s * d), 1);
      y = { shape: shape.map((d) => (d === -1 ? x.data.length / known : d)), data: x.data };
    } else if (o.op === 'SOFTMAX') {
      const c = x.shape[x.shape.length - 1];
      const data = new Float32Array(x.data.length);
      for (let r = 0; r < x.data.length; r += c) {
        const row = Array.from(x.data.subarray(r, r + c), (v) => v * (o.options.beta as number));
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        e.forEach((v, i) => (data[r + i] = v / s));
      }
      y = { shape: x.shape, data };
    } else if (o.op === 'PRELU') {
      y = broadcast(x, get(o.inputs[1]), (v, a) => (v >= 0 ? v : a * v));
    } else if (UNARY[o.op]) {
      y = { shape: x.shape, data: x.data.map(UNARY[o.op]) };
    } else if (BINARY[o.op]) {
      const r = broadcast(x, get(o.inputs[1]), BINARY[o.op]);
      y = { shape: r.shape, data: r.data.map((v) => activate(v, o.options.activation)) };
    } else if (o.op === 'REDUCE_MAX' || o.op === 'SUM' || o.op === 'MEAN') {
      const kind = o.op === 'REDUCE_MAX' ? 'max' : o.op === 'SUM' ? 'sum' : 'mean';
      y = reduce(x, Array.from(get(o.inputs[1]).data), o.options.keepDims === true, kind);
    } else if (o.op === 'PAD') {
      const pads = Array.from(get(o.inputs[1]).data);
      const shape = x.shape.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
      const data = new Float32Array(size(shape));
      const idx = new Array(x.shape.length).fill(0);
      for (let k = 0; k < x.data.length; k++) {
        let o2 = 0;
        for (let i = 0; i < shape.length; i++) o2 = o2 * shape[i] + idx[i] + pads[2 * i];
        data[o2] = x.data[k];
        for (let i = x.shape.length - 1; i >= 0; i--) {
          if (++idx[i] < x.shape[i]) break;
          idx[i] = 0;
        }
      }
      y = { shape, data };
    } else {
      throw new Error(`reference interpreter: no ${o.op}`);
    }
    values.set(o.outputs[0], y);
  }
  return Object.fromEntries(graph.outputs.map((i) => [graph.tensors[i].name, values.get(i)!]));
}
