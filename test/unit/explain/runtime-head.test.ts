/**
 * The runtime pieces Grad-CAM stands on: the converter emits a requested intermediate tensor as an
 * extra output (NCHW), built models decode back to their weights, and the linear head read from
 * them reproduces the ONNX embedding from the feature map.
 */
import { describe, expect, it } from 'vitest';
import { convertTflite } from '../../../src/runtime/build/convert-tflite.ts';
import { linearHeadOf } from '../../../src/runtime/linear-head.ts';
import { decodeOnnxModel, encodeOnnxModel, type OnnxGraph } from '../../../src/runtime/onnx-proto.ts';
import { OnnxModel } from '../../../src/runtime/session.ts';
import { GraphBuilder, random, randomArray } from '../runtime/graph-builder.ts';
import { runReference } from '../runtime/tflite-reference.ts';
import { headEmbedding } from '../../../src/explain/head-gradient.ts';

/** A MobileFaceNet-shaped toy: conv -> PReLU (the "features") -> 3x3 GDC -> 1x1 -> 1x1 -> reshape. */
function toyHead(extra: 'RELU' | 'NONE' = 'NONE') {
  const g = new GraphBuilder(random(21));
  const x = g.value([1, 6, 6, 2]);
  const c = g.op('CONV_2D', [x, g.constant([4, 3, 3, 2]), g.constant([4])], [1, 3, 3, 4], { padding: 'SAME', strideH: 2, strideW: 2, activation: 'NONE', dilationH: 1, dilationW: 1 });
  const f = g.op('PRELU', [c, g.constant([4])], [1, 3, 3, 4]);
  g.tensors[f].name = 'net/features';
  const d = g.op('DEPTHWISE_CONV_2D', [f, g.constant([1, 3, 3, 4]), g.constant([4])], [1, 1, 1, 4], { padding: 'VALID', strideH: 1, strideW: 1, depthMultiplier: 1, activation: extra, dilationH: 1, dilationW: 1 });
  const p1 = g.op('CONV_2D', [d, g.constant([5, 1, 1, 4]), g.constant([5])], [1, 1, 1, 5], { padding: 'VALID', strideH: 1, strideW: 1, activation: 'NONE', dilationH: 1, dilationW: 1 });
  const p2 = g.op('CONV_2D', [p1, g.constant([3, 1, 1, 5]), g.constant([3])], [1, 1, 1, 3], { padding: 'SAME', strideH: 1, strideW: 1, activation: 'NONE', dilationH: 1, dilationW: 1 });
  const e = g.op('RESHAPE', [p2, g.int32([1, 3])], [1, 3], { newShape: [1, 3] });
  g.tensors[e].name = 'emb';
  const graph = g.graph(x, [e]);
  const onnx = convertTflite(graph, {
    name: 'toy', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 2, 6, 6] },
    outputs: { emb: { name: 'embedding', dims: ['N', 3] }, 'net/features': { name: 'features', dims: ['N', 4, 3, 3] } },
  });
  return { graph, onnx, features: f };
}

const nhwcToNchw = (d: Float32Array, [, h, w, c]: number[]) => Float32Array.from({ length: d.length }, (_, o) => {
  const x = o % w, y = Math.floor(o / w) % h, k = Math.floor(o / (w * h)) % c, b = Math.floor(o / (w * h * c));
  return d[((b * h + y) * w + x) * c + k];
});

describe('convertTflite: intermediate tensors as extra outputs', () => {
  it('emits the requested activation after the graph outputs, in NCHW, equal to the reference', async () => {
    const { graph, onnx, features } = toyHead();
    expect(onnx.outputs.map((o) => o.name)).toEqual(['embedding', 'features']);
    const model = await OnnxModel.load(encodeOnnxModel(onnx), { threads: 1 });
    const input = randomArray(72, random(3), 2);
    const got = await model.run({ image: { data: nhwcToNchw(input, [1, 6, 6, 2]), dims: [1, 2, 6, 6] } });
    await model.dispose();
    const ref = runReference({ ...graph, outputs: [...graph.outputs, features] }, { shape: [1, 6, 6, 2], data: input });
    const want = nhwcToNchw(ref['net/features'].data, [1, 3, 3, 4]);
    expect(got.features.dims).toEqual([1, 4, 3, 3]);
    want.forEach((v, i) => expect(got.features.data[i]).toBeCloseTo(v, 5));
    ref.emb.data.forEach((v, i) => expect(got.embedding.data[i]).toBeCloseTo(v, 5));
  });

  it('refuses a requested name that is no activation of the graph, naming it', () => {
    const { graph } = toyHead();
    expect(() => convertTflite(graph, { name: 't', transposeSpatial: false, input: { name: 'image', dims: ['N', 2, 6, 6] }, outputs: { emb: { name: 'embedding', dims: ['N', 3] }, 'no/such': { name: 'f', dims: [1] } } }))
      .toThrow(/"no\/such", which is neither a TFLite output nor an activation/);
  });
});

describe('decodeOnnxModel', () => {
  it('reads back what encodeOnnxModel wrote: nodes, attributes, initialisers, dims, metadata', () => {
    const { onnx } = toyHead();
    const g: OnnxGraph = { ...onnx, metadata: { source: 'toy' }, doc: 'a toy' };
    const back = decodeOnnxModel(encodeOnnxModel(g));
    expect(back.name).toBe('toy');
    expect(back.doc).toBe('a toy');
    expect(back.metadata).toEqual({ source: 'toy' });
    expect(back.inputs).toEqual(g.inputs);
    expect(back.outputs).toEqual(g.outputs);
    expect(back.nodes).toEqual(g.nodes.map((n) => ({ ...n })));
    expect(back.initializers.map((t) => [t.name, t.dims, [...t.data]])).toEqual(g.initializers.map((t) => [t.name, t.dims, [...t.data]]));
  });

  it('throws E_MODEL on bytes that are not a model', () => {
    expect(() => decodeOnnxModel(Uint8Array.from([0x3a, 0xff, 0xff]))).toThrow(expect.objectContaining({ code: 'E_MODEL' }));
  });
});

describe('linearHeadOf', () => {
  it('reads the GDC + 1x1 head; the JS head reproduces the ONNX embedding from the ONNX features', async () => {
    const { onnx } = toyHead();
    const head = linearHeadOf(decodeOnnxModel(encodeOnnxModel(onnx)), 'toy');
    expect([head.channels, head.height, head.width, head.dim]).toEqual([4, 3, 3, 3]);
    expect(head.dense.map((d) => [d.outputs, d.inputs])).toEqual([[5, 4], [3, 5]]);
    const model = await OnnxModel.load(encodeOnnxModel(onnx), { threads: 1 });
    const out = await model.run({ image: { data: randomArray(144, random(4), 2), dims: [2, 2, 6, 6] } });
    await model.dispose();
    for (let b = 0; b < 2; b++) {
      const e = headEmbedding(head, out.features.data.subarray(b * 36, (b + 1) * 36));
      e.forEach((v, i) => expect(v).toBeCloseTo(out.embedding.data[b * 3 + i], 5));
    }
  });

  it('refuses a head with a non-linearity, with E_MODEL naming the node', () => {
    const { onnx } = toyHead('RELU');
    expect(() => linearHeadOf(onnx, 'toy')).toThrow(/Model "toy" has no linear head.*Relu/);
  });
});
