/**
 * Grad-CAM's gradients are exact: checked against central finite differences (float64) through
 * the classifiers (logistic, SVM, centroid k = 0 and kNN k > 0), through the L2 normalisation and
 * the linear head (a random small one, and MobileFaceNet's real one read from the built model,
 * whose JS forward must also reproduce the ONNX embedding from the ONNX feature map).
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/index.ts';
import type { FittedClassifier } from '../../../src/classify/types.ts';
import { Backbone } from '../../../src/embed/index.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { classifierScorer, Explainer } from '../../../src/explain/explainer.ts';
import { gradCam, unitEmbedding } from '../../../src/explain/gradcam.ts';
import { collapseHead, featureGradient, headEmbedding, throughNormalisation, type CollapsedHead } from '../../../src/explain/head-gradient.ts';
import { modelPath, readLinearHead, type LinearHead } from '../../../src/runtime/index.ts';
import type { RgbImage } from '../../../src/types.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

/** Deterministic uniform numbers in [-1, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

const fit = (name: string, grid: number[], X: Float32Array[], y: number[], groups: string[]): FittedClassifier =>
  createClassifier(name, { grid }).fit(X, y, groups, { seed: 3, innerFolds: 3, split: groupedStratifiedKFold, grid });

/** Central difference of f along direction v at x (float64 copies of x). */
function directional(f: (x: Float64Array) => number, x: ArrayLike<number>, v: ArrayLike<number>, h: number): number {
  const plus = Float64Array.from(x, (a, i) => a + h * v[i]);
  const minus = Float64Array.from(x, (a, i) => a - h * v[i]);
  return (f(plus) - f(minus)) / (2 * h);
}

const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

describe('decisionGradient of the classifiers', () => {
  const data = syntheticStudy({ subjects: 40, photosPerSubject: 3, dim: 24, signal: 4, seed: 5 });
  const cases: [string, number[]][] = [['logistic', [1]], ['svm', [0.1]], ['centroid', [0]], ['centroid', [3]]];
  for (const [name, grid] of cases) {
    it(`${name} ${JSON.stringify(grid)}: matches finite differences of decision() in random directions`, () => {
      const model = fit(name, grid, data.X, data.y, data.subjects);
      const r = rng(11);
      for (let t = 0; t < 5; t++) {
        const x = data.X[t * 17];
        const g = model.decisionGradient!(x);
        expect(g.length).toBe(24);
        const v = Float64Array.from({ length: 24 }, r);
        // float32 inputs to decision(): a step large enough to beat rounding, small enough to stay linear
        const fd = directional((z) => model.decision!([Float32Array.from(z)])[0], x, v, 1e-3);
        expect(Math.abs(fd - dotp(g, v))).toBeLessThan(2e-3 * (1 + Math.abs(fd)));
      }
      // probability is increasing in the decision value
      const [p1, p2] = model.predictProba([data.X[0], data.X[1]]);
      const [d1, d2] = model.decision!([data.X[0], data.X[1]]);
      expect(Math.sign(p1 - p2)).toBe(Math.sign(d1 - d2));
    });
  }

  it('the kNN gradient is the neighbours\' direction, not the centroids\' (k = 3 differs from k = 0)', () => {
    const k0 = fit('centroid', [0], data.X, data.y, data.subjects).decisionGradient!(data.X[5]);
    const k3 = fit('centroid', [3], data.X, data.y, data.subjects).decisionGradient!(data.X[5]);
    expect(Math.abs(dotp(k0, k3)) / Math.sqrt(dotp(k0, k0) * dotp(k3, k3))).toBeLessThan(0.999);
  });
});

/** A random linear head with C channels on an HxW map and `dims` 1x1 layers. */
function randomHead(C: number, H: number, W: number, dims: number[], seed: number): LinearHead {
  const r = rng(seed);
  const arr = (n: number, s = 0.5) => Float32Array.from({ length: n }, () => r() * s);
  let inputs = C;
  const dense = dims.map((out) => {
    const layer = { weight: arr(out * inputs, 1 / Math.sqrt(inputs)), bias: arr(out), inputs, outputs: out };
    inputs = out;
    return layer;
  });
  return { channels: C, height: H, width: W, depthwise: arr(C * H * W), depthwiseBias: arr(C), dense, dim: inputs };
}

/** Score S(F) = w · normalise(head(F)) + b in float64. */
function scoreOf(head: LinearHead, w: Float64Array) {
  return (F: Float64Array) => {
    const e = headEmbedding(head, F);
    const n = Math.sqrt(dotp(e, e));
    return dotp(w, e) / n + 0.3;
  };
}

/** Checks dS/dF (and Grad-CAM's alpha) of S = w·u against finite differences; returns the worst relative error. */
function checkHead(ch: CollapsedHead, F: ArrayLike<number>, w: Float64Array, seed: number, probes = 20): number {
  const { head } = ch;
  const raw = headEmbedding(head, F);
  const grad = featureGradient(ch, throughNormalisation(raw, w));
  const S = scoreOf(head, w);
  const r = rng(seed);
  const scale = Math.sqrt(dotp(F, F) / F.length) || 1;
  let worst = 0;
  for (let t = 0; t < probes; t++) {
    const v = Float64Array.from({ length: F.length }, r);
    const fd = directional(S, F, v, 1e-4 * scale);
    const an = dotp(grad, v);
    worst = Math.max(worst, Math.abs(fd - an) / (Math.abs(an) + 1e-8 * Math.sqrt(dotp(grad, grad))));
  }
  // Grad-CAM's alpha_c = mean_ij dS/dF[c,i,j] is S's derivative along "add 1/HW to every cell of channel c"
  const cam = gradCam(ch, F, raw, w);
  const hw = head.height * head.width;
  for (let t = 0; t < 10; t++) {
    const c = Math.floor(((r() + 1) / 2) * head.channels);
    const v = Float64Array.from({ length: F.length }, (_, i) => (Math.floor(i / hw) === c ? 1 / hw : 0));
    const fd = directional(S, F, v, 1e-4 * scale);
    worst = Math.max(worst, Math.abs(fd - cam.alpha[c]) / (Math.abs(fd) + 1e-6 * Math.sqrt(dotp(grad, grad))));
  }
  return worst;
}

/** dS/de for S = w · e/|e| (the unit-embedding gradient w carried through the normalisation). */
function throughNorm(e: Float64Array, w: Float64Array): Float64Array {
  const n = Math.sqrt(dotp(e, e));
  const along = dotp(w, e) / n;
  return Float64Array.from(w, (wi, i) => (wi - (along * e[i]) / n) / n);
}

describe('feature-map gradient through the linear head', () => {
  it('a random GDC + two 1x1 layers head: analytic dS/dF and alpha match finite differences', () => {
    const head = randomHead(16, 3, 3, [12, 8], 7);
    const ch = collapseHead(head);
    const r = rng(9);
    const F = Float64Array.from({ length: 16 * 9 }, () => Math.max(0, r() + 0.3));
    const w = Float64Array.from({ length: 8 }, r);
    expect(checkHead(ch, F, w, 1)).toBeLessThan(1e-5);
  });

  it('a wrong head (a kernel entry changed) is caught by the same check', () => {
    const head = randomHead(16, 3, 3, [12, 8], 7);
    const ch = collapseHead(head);
    const wrong = { ...ch, head: { ...head, depthwise: head.depthwise.map((v, i) => (i === 5 ? v + 1 : v)) } };
    const r = rng(9);
    const F = Float64Array.from({ length: 16 * 9 }, () => Math.max(0, r() + 0.3));
    const w = Float64Array.from({ length: 8 }, r);
    // the score uses the true head, the gradient the wrong one
    const raw = headEmbedding(head, F);
    const grad = featureGradient(wrong, throughNorm(raw, w));
    const v = Float64Array.from({ length: F.length }, (_, i) => (i === 5 ? 1 : 0));
    const fd = directional(scoreOf(head, w), F, v, 1e-4);
    expect(Math.abs(fd - dotp(grad, v))).toBeGreaterThan(1e-3);
  });
});

const built = existsSync(modelPath('mobilefacenet'));
describe.skipIf(!built)('MobileFaceNet: the real head and the ONNX model', () => {
  /** A face-sized test card: smooth colour ramps and an oval, so activations are varied. */
  function card(seed: number): RgbImage {
    const data = new Uint8Array(112 * 112 * 3);
    for (let y = 0; y < 112; y++) for (let x = 0; x < 112; x++) {
      const inside = ((x - 56) / 40) ** 2 + ((y - 60) / 50) ** 2 < 1;
      const o = 3 * (y * 112 + x);
      data[o] = inside ? 180 + ((x * seed) % 50) : 40 + y;
      data[o + 1] = inside ? 130 + ((y * 3) % 40) : 60;
      data[o + 2] = inside ? 110 : 90 + x;
    }
    return { width: 112, height: 112, data };
  }

  it('JS head on the ONNX features reproduces the ONNX embedding; dS/dF and alpha match finite differences', async () => {
    const backbone = await Backbone.load('mobilefacenet', { threads: 2 });
    try {
      const head = readLinearHead('mobilefacenet');
      const ch = collapseHead(head);
      const out = await backbone.forward([card(3), card(7)]);
      const r = rng(4);
      for (const o of out) {
        expect(o.featureDims).toEqual([512, 7, 7]);
        const e = headEmbedding(head, o.features!);
        const scale = Math.max(...Array.from(o.raw, Math.abs));
        for (let i = 0; i < 192; i++) expect(Math.abs(e[i] - o.raw[i])).toBeLessThan(1e-4 * scale);
        // the classifier sees the unit embedding: the same as the Backbone's own embed()
        const w = Float64Array.from({ length: 192 }, r);
        expect(checkHead(ch, o.features!, w, 2, 10)).toBeLessThan(1e-4);
      }
      // the whole chain: classifier decision(normalise(head(F))) against Grad-CAM's gradient
      const data = syntheticStudy({ subjects: 30, photosPerSubject: 2, dim: 192, signal: 4, seed: 8 });
      for (const [name, grid] of [['logistic', [1]], ['centroid', [3]]] as const) {
        const model = fit(name, [...grid], data.X, data.y, data.subjects);
        const scorer = classifierScorer(model);
        const F = out[0].features!;
        const raw = headEmbedding(head, F);
        const grad = featureGradient(ch, throughNormalisation(raw, scorer.gradient(unitEmbedding(raw))));
        const S = (G: Float64Array) => model.decision!([unitEmbedding(headEmbedding(head, G))])[0];
        for (let t = 0; t < 5; t++) {
          const v = Float64Array.from({ length: F.length }, r);
          const an = dotp(grad, v);
          const fd = directional(S, F, v, 2e-3);
          expect(Math.abs(fd - an)).toBeLessThan(1e-2 * Math.abs(an) + 1e-4);
        }
      }
      // occlusion map: each cell is the score drop when a grey square covers it, checked for one cell by hand
      const explainer = Explainer.create(backbone);
      const face = card(5);
      const [fw0] = await explainer.forward([face]);
      const similarity = { name: 'self', score: (u: Float32Array) => dotp(u, fw0.unit), gradient: () => fw0.unit };
      const [m] = await explainer.occlusionMap(face, [similarity], { grid: 7 });
      expect([m.cam.width, m.cam.height, m.heat.length]).toEqual([7, 7, 112 * 112]);
      const covered = Uint8Array.from(face.data);
      for (let y = 24; y < 56; y++) for (let x = 40; x < 72; x++) covered.fill(128, 3 * (y * 112 + x), 3 * (y * 112 + x) + 3); // cell (row 2, col 3): centre (56, 40), square of 32
      const [fw1] = await explainer.forward([{ width: 112, height: 112, data: covered }]);
      expect(m.cam.signed[2 * 7 + 3]).toBeCloseTo(1 - dotp(fw1.unit, fw0.unit), 5);
      expect(Math.min(...m.cam.signed)).toBeGreaterThan(-1e-6); // hiding part of a face never makes it more like itself
      const [emb] = await backbone.embed([card(3)]);
      const u = unitEmbedding(out[0].raw);
      for (let i = 0; i < 192; i++) expect(emb.vector[i]).toBeCloseTo(u[i], 5);
    } finally {
      await backbone.dispose();
    }
  }, 60_000);
});
