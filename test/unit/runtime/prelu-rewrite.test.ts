/**
 * The Conv -> PRelu rewrite: it gives the PRelu graph's outputs (onnxruntime, up to rounding), and
 * leaves alone the pairs it must not or need not touch (a slope above 1, a large fan-in, a Conv
 * whose output is also read elsewhere).
 */
import { describe, expect, it } from 'vitest';
import { encodeOnnxModel, type OnnxGraph, type OnnxNode } from '../../../src/runtime/onnx-proto.ts';
import { rewriteConvPrelu } from '../../../src/runtime/prelu-rewrite.ts';
import { OnnxModel } from '../../../src/runtime/session.ts';
import { random, randomArray } from './graph-builder.ts';

/** image [N, 3, 12, 12] -> 3x3 Conv (8 channels) -> PRelu (given slopes) -> 1x1 Conv (4 channels) -> PRelu -> out. */
function graph(slopes: number[], opts: { alsoExpose?: boolean } = {}): OnnxGraph {
  const rnd = random(3);
  const nodes: OnnxNode[] = [
    { op: 'Conv', name: 'c1', inputs: ['image', 'w1', 'b1'], outputs: ['z1'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
    { op: 'PRelu', name: 'p1', inputs: ['z1', 'a1'], outputs: ['y1'] },
    { op: 'Conv', name: 'c2', inputs: ['y1', 'w2', 'b2'], outputs: ['z2'], attributes: { kernel_shape: { ints: [1, 1] } } },
    { op: 'PRelu', name: 'p2', inputs: ['z2', 'a2'], outputs: ['out'] },
  ];
  return {
    name: 'toy',
    nodes,
    initializers: [
      { name: 'w1', dims: [8, 3, 3, 3], data: randomArray(216, rnd) },
      { name: 'b1', dims: [8], data: randomArray(8, rnd, 0.3) },
      { name: 'a1', dims: [1, 8, 1, 1], data: Float32Array.from(slopes) },
      { name: 'w2', dims: [4, 8, 1, 1], data: randomArray(32, rnd) },
      { name: 'b2', dims: [4], data: randomArray(4, rnd, 0.3) },
      { name: 'a2', dims: [1, 4, 1, 1], data: Float32Array.from([0.2, -0.1, 0.5, 0.9]) },
    ],
    inputs: [{ name: 'image', dims: ['N', 3, 12, 12] }],
    outputs: [{ name: 'out', dims: ['N', 4, 12, 12] }, ...(opts.alsoExpose ? [{ name: 'z1', dims: ['N', 8, 12, 12] }] : [])],
  };
}

async function run(g: OnnxGraph, data: Float32Array): Promise<Float32Array> {
  const model = await OnnxModel.load(encodeOnnxModel(g), { threads: 1 });
  try {
    return (await model.run({ image: { data, dims: [2, 3, 12, 12] } })).out.data;
  } finally {
    await model.dispose();
  }
}

describe('rewriteConvPrelu', () => {
  it('rewrites a Conv -> PRelu pair with slopes <= 1 (negative, zero and 1 included) and keeps the outputs', async () => {
    const g = graph([0.25, -0.6, 0, 1, 0.9, -0.05, 0.5, 0.01]);
    const { graph: r, rewritten } = rewriteConvPrelu(g);
    // Both pairs qualify: fan-in 27 and 8.
    expect(rewritten).toBe(2);
    expect(r.nodes.some((n) => n.op === 'PRelu')).toBe(false);
    expect(r.nodes.filter((n) => n.op === 'Conv')).toHaveLength(4);
    expect(r.initializers.some((i) => i.name === 'a1')).toBe(false);
    const x = randomArray(2 * 3 * 12 * 12, random(9), 2);
    const [want, got] = await Promise.all([run(g, x), run(r, x)]);
    let diff = 0, max = 0;
    want.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - got[i])); max = Math.max(max, Math.abs(v)); });
    expect(max).toBeGreaterThan(0.5);
    expect(diff / max).toBeLessThan(1e-5);
    // The input graph is not modified.
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv', 'PRelu', 'Conv', 'PRelu']);
  });

  it('leaves a pair alone when a slope exceeds 1, the fan-in is large, or the Conv output is read elsewhere', () => {
    expect(rewriteConvPrelu(graph([0.25, -0.6, 0, 1.3, 0.9, -0.05, 0.5, 0.01])).rewritten).toBe(1); // only the second pair
    expect(rewriteConvPrelu(graph([0.25, -0.6, 0, 1, 0.9, -0.05, 0.5, 0.01]), 8).rewritten).toBe(1); // fan-in 27 > 8
    expect(rewriteConvPrelu(graph([0.25, -0.6, 0, 1, 0.9, -0.05, 0.5, 0.01]), 4).rewritten).toBe(0);
    const exposed = graph([0.25, -0.6, 0, 1, 0.9, -0.05, 0.5, 0.01], { alsoExpose: true });
    expect(rewriteConvPrelu(exposed).graph.nodes.filter((n) => n.op === 'PRelu').map((n) => n.name)).toEqual(['p1']);
  });
});
