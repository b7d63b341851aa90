import { describe, expect, it } from 'vitest';
import { convertTflite, fuseTflitePatterns, transposeData } from '../../../src/runtime/build/convert-tflite.ts';
import { encodeOnnxModel, type OnnxGraph } from '../../../src/runtime/onnx-proto.ts';
import { OnnxModel } from '../../../src/runtime/session.ts';
import type { TfliteGraph } from '../../../src/runtime/build/tflite.ts';
import { GraphBuilder, random, randomArray } from './graph-builder.ts';
import { runReference } from './tflite-reference.ts';

/** NHWC -> ONNX layout with explicit loops ([N,C,H,W], or [N,C,W,H] when `swap`). */
function toOnnxLayout(data: Float32Array, [n, h, w, c]: number[], swap: boolean): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) {
          const dst = swap ? ((b * c + k) * w + x) * h + y : ((b * c + k) * h + y) * w + x;
          out[dst] = data[((b * h + y) * w + x) * c + k];
        }
  return out;
}

function onnxDims(shape: number[], swap: boolean): number[] {
  if (shape.length !== 4) return shape;
  const [n, h, w, c] = shape;
  return swap ? [n, c, w, h] : [n, c, h, w];
}

interface Checked {
  maxError: number;
  onnx: OnnxGraph;
}

/**
 * Converts `graph`, runs it in onnxruntime and compares every output with the reference
 * interpreter on the same random input (`batch` overrides the graph's batch size).
 */
async function check(graph: TfliteGraph, { swap = false, batch, fuse = false, seed = 7 }: { swap?: boolean; batch?: number; fuse?: boolean; seed?: number } = {}): Promise<Checked> {
  const inShape = [...graph.tensors[graph.inputs[0]].shape];
  if (batch) inShape[0] = batch;
  const outputs = Object.fromEntries(graph.outputs.map((t, i) => [graph.tensors[t].name, { name: `y${i}`, dims: onnxDims(graph.tensors[t].shape, swap).map((d, k) => (k === 0 ? 'N' : d)) }]));
  const onnx = convertTflite(fuse ? fuseTflitePatterns(graph) : graph, {
    name: 'test', transposeSpatial: swap,
    input: { name: 'x', dims: onnxDims(inShape, swap).map((d, k) => (k === 0 ? 'N' : d)) },
    outputs,
  });
  const model = await OnnxModel.load(encodeOnnxModel(onnx), { threads: 1 });
  const data = randomArray(inShape.reduce((a, b) => a * b, 1), random(seed), 2);
  const got = await model.run({ x: { data: inShape.length === 4 ? toOnnxLayout(data, inShape, swap) : data, dims: onnxDims(inShape, swap) } });
  await model.dispose();
  const want = runReference(graph, { shape: inShape, data });
  let maxError = 0;
  graph.outputs.forEach((t, i) => {
    const ref = want[graph.tensors[t].name];
    const out = got[`y${i}`];
    expect(out.dims).toEqual(onnxDims(ref.shape, swap));
    const expected = ref.shape.length === 4 ? toOnnxLayout(ref.data, ref.shape, swap) : ref.data;
    for (let k = 0; k < expected.length; k++) maxError = Math.max(maxError, Math.abs(expected[k] - out.data[k]) / (1 + Math.abs(expected[k])));
  });
  return { maxError, onnx };
}

const conv = (padding: string, sh: number, sw: number, activation = 'NONE', dh = 1, dw = 1) => ({ padding, strideH: sh, strideW: sw, activation, dilationH: dh, dilationW: dw });
const TOL = 1e-5;

describe('convertTflite: each operator matches the TFLite semantics', () => {
  for (const swap of [false, true]) {
    const layout = swap ? 'transposed layout' : 'NCHW layout';

    it(`CONV_2D SAME stride 2 on odd, non-square input with a non-square kernel (pads at the end like TF), ${layout}`, async () => {
      const g = new GraphBuilder(random(1));
      const x = g.value([1, 9, 7, 3]);
      const y = g.op('CONV_2D', [x, g.constant([4, 3, 2, 3]), g.constant([4])], [1, 5, 4, 4], conv('SAME', 2, 2, 'RELU'));
      expect((await check(g.graph(x, [y]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`CONV_2D VALID with dilation and unequal strides, RELU6 fused, ${layout}`, async () => {
      const g = new GraphBuilder(random(2));
      const x = g.value([2, 11, 10, 2]);
      const y = g.op('CONV_2D', [x, g.constant([3, 3, 2, 2], undefined, 3), g.constant([3])], [2, 3, 9, 3], conv('VALID', 3, 1, 'RELU6', 2, 1));
      expect((await check(g.graph(x, [y]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`DEPTHWISE_CONV_2D with depth multiplier 2, SAME stride 2, ${layout}`, async () => {
      const g = new GraphBuilder(random(3));
      const x = g.value([1, 8, 7, 3]);
      const y = g.op('DEPTHWISE_CONV_2D', [x, g.constant([1, 3, 2, 6]), g.constant([6])], [1, 4, 4, 6], { ...conv('SAME', 2, 2), depthMultiplier: 2 });
      expect((await check(g.graph(x, [y]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`MAX_POOL_2D SAME 3x3/2 and AVERAGE_POOL_2D SAME 2x3/2 (padding excluded), ${layout}`, async () => {
      const g = new GraphBuilder(random(4));
      const x = g.value([1, 9, 6, 2]);
      const m = g.op('MAX_POOL_2D', [x], [1, 5, 3, 2], { padding: 'SAME', strideH: 2, strideW: 2, filterH: 3, filterW: 3, activation: 'NONE' });
      const a = g.op('AVERAGE_POOL_2D', [x], [1, 5, 3, 2], { padding: 'SAME', strideH: 2, strideW: 2, filterH: 2, filterW: 3, activation: 'NONE' });
      expect((await check(g.graph(x, [m, a]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`FULLY_CONNECTED on a non-square [N,H,W,C] map flattens in NHWC order without a Transpose, ${layout}`, async () => {
      const g = new GraphBuilder(random(5));
      const x = g.value([1, 3, 2, 4]);
      const y = g.op('FULLY_CONNECTED', [x, g.constant([5, 24]), g.constant([5])], [1, 5], { activation: 'RELU', keepNumDims: false });
      const { maxError, onnx } = await check(g.graph(x, [y]), { swap, batch: 3 });
      expect(maxError).toBeLessThan(TOL);
      expect(onnx.nodes.map((n) => n.op)).toEqual(['Flatten', 'Gemm', 'Relu']);
    });

    it(`RESHAPE of a map with H, W > 1 goes back to NHWC order; a fixed batch becomes dynamic, ${layout}`, async () => {
      const g = new GraphBuilder(random(6));
      const x = g.value([2, 2, 3, 4]);
      const y = g.op('RESHAPE', [x, g.int32([2, 24])], [2, 24], { newShape: [2, 24] });
      const { maxError, onnx } = await check(g.graph(x, [y]), { swap, batch: 5 });
      expect(maxError).toBe(0);
      expect(onnx.nodes.map((n) => n.op)).toEqual(['Transpose', 'Reshape']);
    });

    it(`RESHAPE [N,1,1,C] -> [N,C] needs no Transpose, ${layout}`, async () => {
      const g = new GraphBuilder(random(7));
      const x = g.value([2, 1, 1, 6]);
      const y = g.op('RESHAPE', [x], [2, 6], { newShape: [2, 6] });
      const { maxError, onnx } = await check(g.graph(x, [y]), { swap, batch: 3 });
      expect(maxError).toBe(0);
      expect(onnx.nodes.map((n) => n.op)).toEqual(['Reshape']);
    });

    it(`SOFTMAX over channels, PRELU with per-channel slopes, ${layout}`, async () => {
      const g = new GraphBuilder(random(8));
      const x = g.value([1, 4, 5, 3]);
      const p = g.op('PRELU', [x, g.constant([3])], [1, 4, 5, 3]);
      const s = g.op('SOFTMAX', [p], [1, 4, 5, 3], { beta: 1 });
      expect((await check(g.graph(x, [s]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`ADD/SUB/MUL/DIV with constants on either side and between activations, fused activations, ${layout}`, async () => {
      const g = new GraphBuilder(random(9));
      const x = g.value([1, 3, 4, 2]);
      const a = g.op('MUL', [g.constant([2]), x], [1, 3, 4, 2], { activation: 'NONE' });
      const b = g.op('SUB', [g.constant([2]), a], [1, 3, 4, 2], { activation: 'RELU' });
      const c = g.op('ADD', [b, x], [1, 3, 4, 2], { activation: 'NONE' });
      const d = g.op('DIV', [c, g.constant([1, 1, 1, 2], [2, -4])], [1, 3, 4, 2], { activation: 'TANH' });
      expect((await check(g.graph(x, [d]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`unary ops and reductions over spatial and channel axes, ${layout}`, async () => {
      const g = new GraphBuilder(random(10));
      const x = g.value([2, 3, 4, 5]);
      const u = ['RELU', 'RELU6', 'NEG', 'ABS', 'EXP', 'LOGISTIC', 'TANH'].reduce((t, op) => g.op(op, [t], [2, 3, 4, 5]), x);
      const m = g.op('REDUCE_MAX', [u, g.int32([-1])], [2, 3, 4, 1], { keepDims: true });
      const s = g.op('SUM', [u, g.int32([1, 2])], [2, 1, 1, 5], { keepDims: true });
      const mean = g.op('MEAN', [u, g.int32([1, 2])], [2, 5], { keepDims: false });
      expect((await check(g.graph(x, [m, s, mean]), { swap })).maxError).toBeLessThan(TOL);
    });

    it(`PAD with zeros on channels and at the end of H and W (dlib ResNet's shortcut), ${layout}`, async () => {
      const g = new GraphBuilder(random(13));
      const x = g.value([2, 3, 4, 2]);
      const y = g.op('PAD', [x, g.int32([0, 0, 1, 2, 0, 1, 0, 3])], [2, 6, 5, 5]);
      expect((await check(g.graph(x, [y]), { swap })).maxError).toBe(0);
    });
  }

  it('FULLY_CONNECTED on a 2-D input, softmax with beta, without a bias', async () => {
    const g = new GraphBuilder(random(11));
    const x = g.value([1, 6]);
    const y = g.op('FULLY_CONNECTED', [x, g.constant([3, 6]), -1], [1, 3], { activation: 'NONE', keepNumDims: false });
    const s = g.op('SOFTMAX', [y], [1, 3], { beta: 0.5 });
    expect((await check(g.graph(x, [s]), { batch: 4 })).maxError).toBeLessThan(TOL);
  });

  it('emits an intermediate activation asked for as an extra output, in the ONNX layout, after the graph outputs', async () => {
    const g = new GraphBuilder(random(14));
    const x = g.value([1, 3, 2, 4]);
    const conv1 = g.op('CONV_2D', [x, g.constant([5, 1, 1, 4]), g.constant([5])], [1, 3, 2, 5], conv('SAME', 1, 1, 'RELU'));
    const y = g.op('FULLY_CONNECTED', [conv1, g.constant([2, 30]), g.constant([2])], [1, 2], { activation: 'NONE', keepNumDims: false });
    const graph = g.graph(x, [y]);
    const onnx = convertTflite(graph, {
      name: 't', transposeSpatial: false, input: { name: 'x', dims: ['N', 4, 3, 2] },
      outputs: { [g.tensors[y].name]: { name: 'y', dims: ['N', 2] }, [g.tensors[conv1].name]: { name: 'features', dims: ['N', 5, 3, 2] } },
    });
    expect(onnx.outputs.map((o) => o.name)).toEqual(['y', 'features']);
    const model = await OnnxModel.load(encodeOnnxModel(onnx), { threads: 1 });
    const data = randomArray(24, random(3));
    const got = await model.run({ x: { data: toOnnxLayout(data, [1, 3, 2, 4], false), dims: [1, 4, 3, 2] } });
    await model.dispose();
    const want = runReference({ ...graph, outputs: [y, conv1] }, { shape: [1, 3, 2, 4], data });
    expect(got.features.dims).toEqual([1, 5, 3, 2]);
    expect(Math.max(...toOnnxLayout(want[g.tensors[conv1].name].data, [1, 3, 2, 5], false).map((v, i) => Math.abs(v - got.features.data[i])))).toBeLessThan(TOL);
    expect(() => convertTflite(graph, { name: 't', transposeSpatial: false, input: { name: 'x', dims: ['N', 4, 3, 2] }, outputs: { [g.tensors[y].name]: { name: 'y', dims: ['N', 2] }, nope: { name: 'n', dims: [] } } }))
      .toThrow(/asks for output "nope"/);
  });

  it('refuses an unsupported operator with E_MODEL naming it', () => {
    const g = new GraphBuilder(random(12));
    const x = g.value([1, 4]);
    const y = g.op('LSTM', [x], [1, 4]);
    expect(() => convertTflite(g.graph(x, [y]), { name: 't', transposeSpatial: false, input: { name: 'x', dims: [1, 4] }, outputs: { [g.tensors[y].name]: { name: 'y', dims: [1, 4] } } }))
      .toThrow(/Unsupported TFLite operator LSTM.*Should be one of: CONV_2D/);
  });
});

describe('fuseTflitePatterns', () => {
  /** MTCNN's exported PReLU: relu(x) + alpha * -relu(-x). */
  function preluNegChain(g: GraphBuilder, x: number, shape: number[]): number {
    const r = g.op('RELU', [x], shape);
    const n = g.op('NEG', [x], shape);
    const r1 = g.op('RELU', [n], shape);
    const n1 = g.op('NEG', [r1], shape);
    const m = g.op('MUL', [g.constant([shape[3]]), n1], shape, { activation: 'NONE' });
    return g.op('ADD', [r, m], shape, { activation: 'NONE' });
  }

  it('folds relu(x) + a * -relu(-x) and the exp/sum softmax into PRelu and Softmax, same numbers', async () => {
    const g = new GraphBuilder(random(20));
    const shape = [1, 5, 4, 2];
    const x = g.value(shape);
    const p = preluNegChain(g, x, shape);
    const max = g.op('REDUCE_MAX', [p, g.int32([3])], [1, 5, 4, 1], { keepDims: true });
    const sub = g.op('SUB', [p, max], shape, { activation: 'NONE' });
    const e = g.op('EXP', [sub], shape);
    const sum = g.op('SUM', [e, g.int32([3])], [1, 5, 4, 1], { keepDims: true });
    const y = g.op('DIV', [e, sum], shape, { activation: 'NONE' });
    const graph = g.graph(x, [y]);
    expect(fuseTflitePatterns(graph).operators.map((o) => o.op)).toEqual(['PRELU', 'SOFTMAX']);
    for (const swap of [false, true]) {
      const { maxError, onnx } = await check(graph, { swap, fuse: true });
      expect(maxError).toBeLessThan(TOL);
      expect(onnx.nodes.map((n) => n.op)).toEqual(['PRelu', 'Softmax']);
    }
  });

  it("folds MobileFaceNet's relu(x) + c * (x - |x|) into PRelu with slope 2c, same numbers", async () => {
    const g = new GraphBuilder(random(21));
    const shape = [2, 3, 3, 4];
    const x = g.value(shape);
    const r = g.op('RELU', [x], shape);
    const a = g.op('ABS', [x], shape);
    const s = g.op('SUB', [x, a], shape, { activation: 'NONE' });
    const m = g.op('MUL', [s, g.constant([4])], shape, { activation: 'NONE' });
    const y = g.op('ADD', [m, r], shape, { activation: 'NONE' });
    const { maxError, onnx } = await check(g.graph(x, [y]), { fuse: true });
    expect(maxError).toBeLessThan(TOL);
    expect(onnx.nodes.map((n) => n.op)).toEqual(['PRelu']);
  });

  it('leaves a chain alone when an intermediate tensor is used elsewhere', () => {
    const g = new GraphBuilder(random(22));
    const shape = [1, 2, 2, 3];
    const x = g.value(shape);
    const y = preluNegChain(g, x, shape);
    const relu = g.tensors.findIndex((_, i) => g.operators[0].outputs[0] === i);
    const graph = g.graph(x, [y, relu]); // the first RELU is also a graph output
    expect(fuseTflitePatterns(graph).operators.map((o) => o.op)).toEqual(graph.operators.map((o) => o.op));
  });
});

describe('transposeData', () => {
  it('matches numpy transpose on a 2x3x4 tensor', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i);
    const out = transposeData(data, [2, 3, 4], [2, 0, 1]);
    // out[k][i][j] = data[i][j][k]
    expect(out[0 * 6 + 1 * 3 + 2]).toBe(data[1 * 12 + 2 * 4 + 0]);
    expect(out[3 * 6 + 0 * 3 + 1]).toBe(data[0 * 12 + 1 * 4 + 3]);
    expect([...out.slice(0, 6)]).toEqual([0, 4, 8, 12, 16, 20]);
  });
});
