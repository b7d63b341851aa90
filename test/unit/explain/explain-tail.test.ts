/**
 * Grad-CAM's finer layer: the backbone tail read from ONNX and run in JS reproduces onnxruntime's
 * output, its backward pass matches finite differences (toy tail, every input element), and on
 * the built MobileFaceNet the 14x14 gradient gives the score's directional derivatives.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { featureGridOf, graphTailOf, loadTailBackward, modelPath, readFeatureGrid } from '../../../src/runtime/index.ts';
import { encodeOnnxModel, type OnnxGraph, type OnnxNode } from '../../../src/runtime/onnx-proto.ts';
import { OnnxModel } from '../../../src/runtime/session.ts';
import type { Feature } from '../../../src/explain/tail-tensors.ts';
import { tailBackward, tailForward } from './js-tail.ts';
import type { Explainer, FineForward } from '../../../src/explain/explainer.ts';
import { random, randomArray } from '../runtime/graph-builder.ts';

/**
 * MobileFaceNet's tail in miniature: stem conv -> "mid" (6x6, the finer layer), then a stride-2
 * bottleneck (1x1 expand + PReLU, 3x3 depthwise SAME_UPPER stride 2 + PReLU, 1x1 project), a
 * residual bottleneck (Add) and a 1x1 conv + PReLU -> "features" (3x3).
 */
function toyGraph(): OnnxGraph {
  const rnd = random(7);
  const initializers: OnnxGraph['initializers'] = [];
  const nodes: OnnxNode[] = [];
  const c = (name: string, dims: number[], scale = 0.5) => {
    initializers.push({ name, dims, data: randomArray(dims.reduce((a, b) => a * b, 1), rnd, scale) });
    return name;
  };
  const conv = (x: string, out: string, w: number[], group: number, stride: number, same: boolean) => {
    nodes.push({ op: 'Conv', name: out, inputs: [x, c(`${out}/w`, w), c(`${out}/b`, [w[0]], 0.2)], outputs: [out], attributes: {
      kernel_shape: { ints: [w[2], w[3]] }, strides: { ints: [stride, stride] }, dilations: { ints: [1, 1] }, group: { i: group }, ...(same ? { auto_pad: { s: 'SAME_UPPER' } } : {}),
    } });
    return out;
  };
  const prelu = (x: string, ch: number) => {
    nodes.push({ op: 'PRelu', name: `${x}/act`, inputs: [x, c(`${x}/slope`, [1, ch, 1, 1], 0.5)], outputs: [`${x}/act`] });
    return `${x}/act`;
  };
  const mid = conv('image', 'mid', [4, 2, 3, 3], 1, 1, true);
  const e1 = prelu(conv(mid, 'b1/expand', [8, 4, 1, 1], 1, 1, false), 8);
  const d1 = prelu(conv(e1, 'b1/dw', [8, 1, 3, 3], 8, 2, true), 8);
  const p1 = conv(d1, 'b1/project', [4, 8, 1, 1], 1, 1, false);
  const e2 = prelu(conv(p1, 'b2/expand', [6, 4, 1, 1], 1, 1, false), 6);
  const d2 = prelu(conv(e2, 'b2/dw', [6, 1, 3, 3], 6, 1, true), 6);
  const p2 = conv(d2, 'b2/project', [4, 6, 1, 1], 1, 1, false);
  nodes.push({ op: 'Add', name: 'b2/add', inputs: [p2, p1], outputs: ['b2/add'] });
  const f = conv('b2/add', 'last', [5, 4, 1, 1], 1, 1, false);
  nodes.push({ op: 'PRelu', name: 'features', inputs: [f, c('last/slope', [1, 5, 1, 1], 0.5)], outputs: ['features'] });
  return {
    name: 'toy', nodes, initializers,
    inputs: [{ name: 'image', dims: [1, 2, 6, 6] }],
    outputs: [{ name: 'features', dims: [1, 5, 3, 3] }, { name: 'mid', dims: [1, 4, 6, 6] }],
  };
}

describe('backbone tail (Grad-CAM finer layer)', () => {
  it('reads the tail and runs it in JS as onnxruntime does (SAME_UPPER stride 2, PReLU, residual Add)', async () => {
    const graph = toyGraph();
    const tail = graphTailOf(graph, 'toy', 'mid');
    expect(tail.nodes.map((n) => n.op)).toEqual(['Conv', 'PRelu', 'Conv', 'PRelu', 'Conv', 'Conv', 'PRelu', 'Conv', 'PRelu', 'Conv', 'Add', 'Conv', 'PRelu']);
    const model = await OnnxModel.load(encodeOnnxModel(graph), { threads: 1 });
    const out = await model.run({ image: { data: randomArray(72, random(3), 2), dims: [1, 2, 6, 6] } });
    await model.dispose();
    const got = tailForward(tail, { c: 4, h: 6, w: 6, data: out.mid.data }).get('features')!;
    expect([got.c, got.h, got.w]).toEqual([5, 3, 3]);
    got.data.forEach((v, i) => expect(v).toBeCloseTo(out.features.data[i], 5));
  });

  it('refuses operators it cannot differentiate, naming the node', () => {
    const graph = toyGraph();
    graph.nodes[2] = { ...graph.nodes[2], op: 'Sigmoid', inputs: [graph.nodes[2].inputs[0]] };
    expect(() => graphTailOf(graph, 'toy', 'mid')).toThrow(/is Sigmoid/);
  });

  it('runs the backward pass in onnxruntime as the JS one does (ConvTranspose per convolution, gated PReLU, summed residuals), at the input and inside', async () => {
    const tail = graphTailOf(toyGraph(), 'toy', 'mid');
    const x: Feature = { c: 4, h: 6, w: 6, data: randomArray(144, random(5), 1.5) };
    const acts = tailForward(tail, x);
    const r = randomArray(45, random(9), 1);
    const backward = await loadTailBackward(tail, [4, 6, 6], ['mid', 'b2/add'], { threads: 1 });
    try {
      expect(backward.reads.length).toBe(5); // the PReLU inputs
      const g = await backward.run(r, acts);
      const js = tailBackward(tail, acts, r);
      g.mid.forEach((v, i) => expect(v).toBeCloseTo(js[i], 4));
      // Inside the tail: the gradient at the residual sum is the JS tail's from there.
      const inner = graphTailOf(toyGraph(), 'toy', 'b2/add');
      const jsInner = tailBackward(inner, tailForward(inner, acts.get('b2/add')!), r);
      g['b2/add'].forEach((v, i) => expect(v).toBeCloseTo(jsInner[i], 4));
      await expect(backward.run(r, new Map())).rejects.toMatchObject({ code: 'E_MODEL' });
    } finally {
      await backward.dispose();
    }
  });

  it('places each map\'s cells where their receptive fields are centred (SAME_UPPER stride 2 shifts them by half a stride)', () => {
    const graph = toyGraph();
    // 'mid': 3x3 stride 1 SAME, centred; 'features': after a 3x3 stride-2 SAME_UPPER depthwise (pad 0
    // before, 1 after), cell i covers input rows 2i..2i+2, centred on 2i + 1 (a plain resize says 2i + 0.5).
    expect(featureGridOf(graph, 'toy', 'mid')).toEqual({ stride: [1, 1], offset: [0, 0] });
    expect(featureGridOf(graph, 'toy', 'features')).toEqual({ stride: [2, 2], offset: [1, 1] });
    // Explicit pads: a 3x3 stride-2 convolution with pads [1, 0, 1, 0] centres cell i on 2i (rows) and 2i + 1 (columns).
    const explicit: OnnxGraph = { ...graph, nodes: graph.nodes.map((n) => (n.name === 'b1/dw' ? { ...n, attributes: { ...n.attributes, auto_pad: { s: 'NOTSET' }, pads: { ints: [1, 0, 1, 0] } } } : n)) };
    expect(featureGridOf(explicit, 'toy', 'b1/dw')).toEqual({ stride: [2, 2], offset: [0, 1] });
  });

  it('gives the exact gradient: backward pass equals central finite differences for every input element', () => {
    const tail = graphTailOf(toyGraph(), 'toy', 'mid');
    const x: Feature = { c: 4, h: 6, w: 6, data: randomArray(144, random(5), 1.5) };
    const r = randomArray(45, random(9), 1);
    const score = (data: Float32Array) => tailForward(tail, { ...x, data }).get('features')!.data.reduce((s, v, i) => s + v * r[i], 0);
    const g = tailBackward(tail, tailForward(tail, x), r);
    const h = 1e-3;
    let worst = 0, scale = 0;
    for (let i = 0; i < x.data.length; i++) {
      const up = Float32Array.from(x.data), down = Float32Array.from(x.data);
      up[i] += h;
      down[i] -= h;
      worst = Math.max(worst, Math.abs((score(up) - score(down)) / (2 * h) - g[i]));
      scale = Math.max(scale, Math.abs(g[i]));
    }
    expect(scale).toBeGreaterThan(0.01);
    expect(worst / scale).toBeLessThan(2e-3);
  });
});

const built = existsSync(modelPath('mobilefacenet'));

/** Runs `fn` with an explainer of the built MobileFaceNet, its finer layer loaded, and frees both after. */
async function withExplainer(fn: (ex: Explainer) => Promise<void>): Promise<void> {
  const { Explainer: E } = await import('../../../src/explain/explainer.ts');
  const { Backbone } = await import('../../../src/embed/index.ts');
  const backbone = await Backbone.load('mobilefacenet', { threads: 1 });
  const ex = E.create(backbone);
  try {
    await ex.loadFineLayer();
    await fn(ex);
  } finally {
    await ex.dispose();
    await backbone.dispose();
  }
}
describe.skipIf(!built)('MobileFaceNet 14x14 Grad-CAM', () => {
  it('draws each cell where it looks: a small mark on the face moves the cells centred on it (measured, not assumed)', async () => {
    await withExplainer(async (ex) => {
      const fine = readFeatureGrid('mobilefacenet', 'MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_5/Add');
      expect(fine).toEqual({ stride: [8, 8], offset: [7, 7] });
      expect(readFeatureGrid('mobilefacenet', 'MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_4/Add')).toEqual({ stride: [4, 4], offset: [3, 3] });
      expect(ex.grid).toEqual({ stride: [16, 16], offset: [15, 15] });
      // A face without structure of its own (grey and noise), so nothing but the mark draws the change.
      const rnd = random(5);
      const face = { width: 112, height: 112, data: Uint8Array.from({ length: 112 * 112 * 3 }, () => Math.round(128 + 40 * rnd())) };
      const base = await ex.forwardFine(face);
      // Centroid (in cells) of the squared change of a map when a 2x2 mark centred on (cx, cy) is inverted.
      const centroid = (a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number) => {
        let sx = 0, sy = 0, sw = 0;
        for (let k = 0; k < a.length; k++) {
          const d = (b[k] - a[k]) ** 2, p = k % (h * w);
          sx += d * (p % w); sy += d * Math.floor(p / w); sw += d;
        }
        return [sx / sw, sy / sw];
      };
      // Per layer and axis, the mean error (in cells) of the grid's prediction over nine marks.
      const layers = [
        { name: '14x14', grid: fine, n: 14, map: (f: FineForward) => f.fine.data },
        { name: '7x7', grid: ex.grid, n: 7, map: (f: FineForward) => f.features },
      ];
      const err = layers.map(() => [0, 0]), centred = layers.map(() => [0, 0]);
      const marks = [31.5, 55.5, 79.5].flatMap((cy) => [35.5, 55.5, 75.5].map((cx) => [cx, cy]));
      for (const [cx, cy] of marks) {
        const marked = { ...face, data: face.data.slice() };
        for (let y = cy - 0.5; y <= cy + 0.5; y++) for (let x = cx - 0.5; x <= cx + 0.5; x++) for (let c = 0; c < 3; c++) marked.data[(y * 112 + x) * 3 + c] ^= 0x80;
        const ff = await ex.forwardFine(marked);
        layers.forEach((l, k) => {
          const [mx, my] = centroid(l.map(base), l.map(ff), l.n, l.n);
          err[k][0] += (mx - (cx - l.grid.offset[1]) / l.grid.stride[1]) / marks.length;
          err[k][1] += (my - (cy - l.grid.offset[0]) / l.grid.stride[0]) / marks.length;
          // what a centred resize assumes: cell i at (i + 0.5) * stride - 0.5
          centred[k][0] += (mx - (cx + 0.5 - l.grid.stride[1] / 2) / l.grid.stride[1]) / marks.length;
          centred[k][1] += (my - (cy + 0.5 - l.grid.stride[0] / 2) / l.grid.stride[0]) / marks.length;
        });
      }
      // The learned weights move a cell's effective centre off its receptive field's geometric centre
      // by up to a third of a cell (measured: 0.08-0.31), but the grid stays closer than a centred
      // resize (mean 0.22 vs 0.36 cells; the centred resize is off by up to 0.64 cells along x).
      const mean = (m: number[][]) => m.flat().reduce((a, v) => a + Math.abs(v), 0) / m.flat().length;
      layers.forEach((l, k) => { for (const axis of [0, 1]) expect(Math.abs(err[k][axis]), `${l.name} axis ${axis}`).toBeLessThan(0.35); });
      expect(mean(err)).toBeLessThan(mean(centred) - 0.05);
    });
  }, 60_000);

  it('its JS tail reproduces the model\'s 7x7 features; the onnxruntime backward pass equals the JS one and gives the score\'s directional derivatives', async () => {
    const { classifierScorer } = await import('../../../src/explain/explainer.ts');
    const { headEmbedding } = await import('../../../src/explain/head-gradient.ts');
    const { unitEmbedding } = await import('../../../src/explain/gradcam.ts');
    await withExplainer(async (ex) => {
      const rnd = random(11);
      const face = { width: 112, height: 112, data: Uint8Array.from({ length: 112 * 112 * 3 }, (_, i) => Math.round(128 + 90 * Math.sin(i / 700) + 30 * rnd())) };
      const ff = await ex.forwardFine(face);
      const { tailForward: jsForward } = await import('./js-tail.ts');
      const tailOf = (ex as unknown as { fineLayer: { tail: Parameters<typeof jsForward>[0] } }).fineLayer.tail;
      const jsActs = jsForward(tailOf, ff.fine);
      const js = jsActs.get('features')!.data;
      let diff = 0, max = 0;
      js.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - ff.features[i])); max = Math.max(max, Math.abs(v)); });
      expect(diff / max).toBeLessThan(1e-5);
      // The tensors the backward pass reads come from onnxruntime's run; the JS forward gives the same.
      expect(ff.acts.size).toBeGreaterThan(5);
      for (const [name, t] of ff.acts) {
        const j = jsActs.get(name)!.data;
        let d = 0, m = 0;
        j.forEach((v, i) => { d = Math.max(d, Math.abs(v - t.data[i])); m = Math.max(m, Math.abs(v)); });
        expect(d / m, name).toBeLessThan(1e-5);
      }
      const w = randomArray(192, random(4), 1);
      const scorer = classifierScorer({ name: 'linear', decision: (X: Float32Array[]) => X.map((u) => u.reduce((s, v, i) => s + v * w[i], 0)), decisionGradient: () => w } as never);
      // onnxruntime's backward pass (the one in use) equals the JS reverse-mode pass.
      const { tailBackward: back, tailForward: fwd } = await import('./js-tail.ts');
      const { featureGradient, throughNormalisation } = await import('../../../src/explain/head-gradient.ts');
      const raw = headEmbedding(ex.head.head, js);
      const g = await ex.fineGradient(ff, scorer);
      const jsG = back(tailOf, jsActs, featureGradient(ex.head, throughNormalisation(raw, scorer.gradient(unitEmbedding(raw)))));
      expect(g.length).toBe(jsG.length);
      let gd = 0, gm = 0;
      jsG.forEach((v, i) => { gd = Math.max(gd, Math.abs(v - g[i])); gm = Math.max(gm, Math.abs(v)); });
      expect(gd / gm).toBeLessThan(1e-4);
      const e = await ex.explainFine(ff, scorer, 'gradcam', undefined, g);
      expect([e.cam.width, e.cam.height]).toEqual([14, 14]);
      // Both maps are drawn on their layers' grids (see the test above), not by a centred resize.
      const { upsample } = await import('../../../src/explain/gradcam.ts');
      expect(Array.from(e.heat)).toEqual(Array.from(upsample(e.cam.cam, 14, 14, 112, 112, { stride: [8, 8], offset: [7, 7] })));
      const coarse = ex.explainForward(ff, scorer);
      expect(Array.from(coarse.heat)).toEqual(Array.from(upsample(coarse.cam.cam, 7, 7, 112, 112, { stride: [16, 16], offset: [15, 15] })));
      // S(F14) through the JS tail and head; its derivative along random directions vs the gradient in use.
      const S = (data: Float32Array) => scorer.score(unitEmbedding(headEmbedding(ex.head.head, fwd(tailOf, { ...ff.fine, data }).get('features')!.data)));
      // HiResCAM's places sum to the gradient's inner product with the map (each place's first-order contribution).
      const hires = await ex.explainFine(ff, scorer, 'hirescam', undefined, g);
      const inner = g.reduce((t, v, i) => t + v * ff.fine.data[i], 0);
      expect(hires.cam.signed.reduce((t, v) => t + v, 0)).toBeCloseTo(inner, 3);
      expect(e.cam.signed.reduce((t, v) => t + v, 0)).not.toBeCloseTo(inner, 3);
      // Along the gradient itself (derivative |g|) and along random directions (a wrong gradient errs by ~|g|).
      const gNorm = Math.hypot(...g);
      for (let k = 0; k < 4; k++) {
        const d = k === 0 ? Float32Array.from(g) : randomArray(g.length, random(20 + k), 1);
        const n = Math.hypot(...d);
        const up = Float32Array.from(ff.fine.data, (v, i) => v + (0.3 * d[i]) / n);
        const down = Float32Array.from(ff.fine.data, (v, i) => v - (0.3 * d[i]) / n);
        const fd = (S(up) - S(down)) / 0.6;
        const an = g.reduce((s, v, i) => s + (v * d[i]) / n, 0);
        expect(Math.abs(fd - an)).toBeLessThan(3e-3 * gNorm); // float32 gradient, float64 differences
      }
      // Contrastive HiResCAM: against a reference map R its places sum to the first-order change of
      // the score from R to this face's map (tested with R a small step away, where first order is exact
      // to ~1e-4), and against the face's own map it is empty (nothing differs).
      const d = randomArray(g.length, random(31), 1);
      const dn = Math.hypot(...d);
      const ref = Float32Array.from(ff.fine.data, (v, i) => v - (0.05 * d[i]) / dn);
      const contrast = await ex.explainFine(ff, scorer, 'hirescam', ref, g);
      expect(contrast.cam.signed.reduce((t, v) => t + v, 0)).toBeCloseTo(S(ff.fine.data) - S(ref), 3);
      const none = await ex.explainFine(ff, scorer, 'hirescam', ff.fine.data);
      expect(Math.max(...none.cam.cam)).toBe(0);
      expect(none.regions.every((r) => r.share === 0)).toBe(true);
      await expect(ex.explainFine(ff, scorer, 'gradcam', ref, g)).rejects.toThrow(/HiResCAM/);
      await expect(ex.explainFine(ff, scorer, 'hirescam', ref.subarray(1), g)).rejects.toThrow(/values/);
    });
  }, 60_000);
});
