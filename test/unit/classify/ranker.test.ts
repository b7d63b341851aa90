import { describe, expect, it } from 'vitest';
import { fitGalleryPacked, galleryScores } from '../../../src/classify/gallery.ts';
import { fitMultinomialPacked, softmaxInPlace } from '../../../src/classify/multinomial.ts';
import { crossEntropy, fitRanker, FittedRanker } from '../../../src/classify/ranker.ts';
import type { Packed } from '../../../src/classify/linalg.ts';
import { groupedClassKFold } from '../../../src/evaluate/splits.ts';
import { rankingEmbeddings } from '../evaluate/ranking-embeddings.ts';

const packed = (rows: number[][]): Packed => ({ n: rows.length, d: rows[0].length, rows: Float64Array.from(rows.flat()) });
const argmax = (p: ArrayLike<number>) => Array.from(p).indexOf(Math.max(...Array.from(p)));

describe('softmax and cross-entropy', () => {
  it('normalises without overflow and returns log-sum-exp', () => {
    const z = Float64Array.from([1000, 1000 + Math.log(3)]);
    const lse = softmaxInPlace(z);
    expect(z[0]).toBeCloseTo(0.25, 12);
    expect(z[1]).toBeCloseTo(0.75, 12);
    expect(lse).toBeCloseTo(1000 + Math.log(4), 9);
  });

  it('is -log of the true class probability, by hand', () => {
    // Row 0: scores (0, ln 3) -> p = (1/4, 3/4), truth 1; row 1: equal scores, truth 0 -> p = 1/2.
    const loss = crossEntropy(Float64Array.from([0, Math.log(3), 2, 2]), [1, 0], 2, 1);
    expect(loss).toBeCloseTo((-Math.log(0.75) - Math.log(0.5)) / 2, 12);
    // Temperature 0.5 doubles the scores: row 0 -> p1 = 9/10.
    expect(crossEntropy(Float64Array.from([0, Math.log(3)]), [1], 2, 0.5)).toBeCloseTo(-Math.log(0.9), 12);
  });
});

describe('multinomial logistic regression', () => {
  it('separates three classes and satisfies the optimality condition', () => {
    const rows = [[2, 0], [2.2, 0.1], [0, 2], [0.1, 2.2], [-2, -2], [-2.1, -1.9]];
    const y = Int32Array.from([0, 0, 1, 1, 2, 2]);
    const Z = packed(rows);
    const C = 10;
    const m = fitMultinomialPacked(Z, y, 3, C);
    const probs = rows.map((r) => {
      const z = Float64Array.from([0, 1, 2], (k) => m.weights[2 * k] * r[0] + m.weights[2 * k + 1] * r[1] + m.bias[k]);
      softmaxInPlace(z);
      return z;
    });
    probs.forEach((p, i) => expect(argmax(p)).toBe(y[i]));
    // Stationarity of ½‖W‖² + C·Σ CE: w_k = C·Σ_i (1[y_i = k] - p_ik)·x_i.
    for (let k = 0; k < 3; k++) {
      for (let a = 0; a < 2; a++) {
        const g = rows.reduce((s, r, i) => s + ((y[i] === k ? 1 : 0) - probs[i][k]) * r[a], 0);
        expect(m.weights[2 * k + a]).toBeCloseTo(C * g, 2);
      }
    }
  });

  it('shrinks to the class frequencies under strong regularisation', () => {
    const Z = packed([[1, 0], [0, 1], [1, 1], [0, 0]]);
    const m = fitMultinomialPacked(Z, Int32Array.from([0, 0, 0, 1]), 2, 1e-8);
    const p = Float64Array.from(m.bias);
    softmaxInPlace(p);
    expect(p[0]).toBeCloseTo(0.75, 3);
  });
});

describe('cosine gallery', () => {
  it('scores by centroid (k = 0) and by the k nearest subjects, by hand', () => {
    // Unit rows: subject a1 (class 0) two photos along x, subject a2 (class 0) along y, subject b1 (class 1) along -x.
    const Z = packed([[1, 0], [1, 0], [0, 1], [-1, 0]]);
    const y = Int32Array.from([0, 0, 0, 1]);
    const groups = ['a1', 'a1', 'a2', 'b1'];
    const centroid = fitGalleryPacked(Z, y, groups, 2, 0);
    const out = new Float64Array(2);
    // Class 0 centroid: mean of subjects (1,0) and (0,1), normalised -> (1,1)/√2.
    galleryScores(centroid, [1, 0], 0, out);
    expect(out[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(out[1]).toBeCloseTo(-1, 12);
    const nearest = fitGalleryPacked(Z, y, groups, 2, 1);
    galleryScores(nearest, [0.6, 0.8], 0, out);
    expect(out[0]).toBeCloseTo(0.8, 12); // a2 is nearer than a1 (0.6)
    expect(out[1]).toBeCloseTo(-0.6, 12);
    const two = fitGalleryPacked(Z, y, groups, 3, 2);
    galleryScores(two, [0.6, 0.8], 0, new Float64Array(3)).forEach((v, c) => expect(v).toBeCloseTo([0.7, -0.6, -1][c], 12));
  });
});

describe('fitRanker', () => {
  const data = rankingEmbeddings({ labels: ['a', 'b', 'c', 'd'], subjectsPerClass: 12, photos: 3, dim: 32, signal: 4, seed: 3 });
  const train = data.X.map((_, i) => i).filter((i) => !data.subjects[i].endsWith('-0') && !data.subjects[i].endsWith('-1'));
  const test = data.X.map((_, i) => i).filter((i) => !train.includes(i));
  const opts = { seed: 1, innerFolds: 3, split: groupedClassKFold, patience: 1 };

  for (const classifier of ['multinomial', 'gallery', 'auto'] as const) {
    it(`${classifier}: ranks held-out subjects' true class first, with probabilities summing to 1`, () => {
      const r = fitRanker(train.map((i) => data.X[i]), train.map((i) => data.classes[i]), train.map((i) => data.subjects[i]), data.labels, { ...opts, classifier });
      const P = r.rank(test.map((i) => data.X[i]));
      const hits = P.filter((p, j) => argmax(p) === data.classes[test[j]]).length;
      expect(hits / test.length).toBeGreaterThan(0.6); // chance 0.25
      for (const p of P) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      const sel = r.rankSelection!;
      expect(sel.chosen.logLoss).toBe(Math.min(...sel.candidates.map((c) => c.logLoss)));
      if (classifier !== 'auto') expect(new Set(sel.candidates.map((c) => c.family))).toEqual(new Set([classifier]));
      else expect(new Set(sel.candidates.map((c) => c.family))).toEqual(new Set(['multinomial', 'gallery']));
      // Round trip through the bundle's JSON gives the same probabilities.
      const back = FittedRanker.fromJSON(JSON.parse(JSON.stringify(r.toJSON())));
      expect(back.family).toBe(r.family);
      back.rank(test.map((i) => data.X[i])).forEach((p, j) => p.forEach((v, k) => expect(v).toBeCloseTo(P[j][k], 9)));
    });
  }

  it('compares rows by direction: scaling an embedding changes neither the fit nor its ranking', () => {
    const fit = (k: number) => fitRanker(train.map((i) => data.X[i].map((v) => v * k)), train.map((i) => data.classes[i]), train.map((i) => data.subjects[i]), data.labels, { ...opts, classifier: 'multinomial' });
    const a = fit(1).rank([data.X[test[0]]])[0];
    const b = fit(7).rank([data.X[test[0]].map((v) => v * 0.3)])[0];
    a.forEach((v, k) => expect(b[k]).toBeCloseTo(v, 6));
  });

  it('refuses an unknown classifier and classes out of range', () => {
    expect(() => fitRanker(data.X, data.classes, data.subjects, data.labels, { ...opts, classifier: 'forest' as never })).toThrow(/Should be one of: auto, multinomial, gallery/);
    expect(() => fitRanker(data.X, data.classes.map(() => 9), data.subjects, data.labels, opts)).toThrow(/Invalid class at row 0/);
  });

  it('rejects a malformed bundle record with E_BUNDLE', () => {
    expect(() => FittedRanker.fromJSON({ kind: 'phenoface-classifier', version: 1, name: 'ranking', dim: 2, hyper: {}, params: { family: 'forest' } })).toThrow(expect.objectContaining({ code: 'E_BUNDLE' }));
  });

  it('rejects, naming the field, a record whose temperature, neighbours or class names no fit writes', () => {
    // Each would still rank: a temperature of 0 gives every class a probability of NaN (null in
    // the JSON), a negative one ranks the classes upside down, k = 0.5 takes no neighbour (every
    // class 1/K), k = -1 all but the nearest, and a repeated name lists one class twice.
    const fit = (classifier: 'multinomial' | 'gallery') => fitRanker(train.map((i) => data.X[i]), train.map((i) => data.classes[i]), train.map((i) => data.subjects[i]), data.labels, { ...opts, classifier }).toJSON();
    const gallery = fit('gallery');
    const multinomial = fit('multinomial');
    const edited = (json: typeof gallery, params: Record<string, unknown>) => ({ ...json, params: { ...json.params, ...params } });
    const model = gallery.params.model as Record<string, unknown>;
    const cases: [string, unknown, RegExp][] = [
      ['temperature 0', edited(gallery, { temperature: 0 }), /temperature/],
      ['temperature -1', edited(multinomial, { temperature: -1 }), /temperature/],
      ['k 0.5', edited(gallery, { model: { ...model, k: 0.5 } }), /model\.k/],
      ['k -1', edited(gallery, { model: { ...model, k: -1 } }), /model\.k/],
      ['labels repeated', edited(multinomial, { labels: ['a', 'b', 'b', 'd'] }), /labels/],
      ['label empty', edited(multinomial, { labels: ['a', 'b', '', 'd'] }), /labels/],
    ];
    for (const [what, json, message] of cases) {
      expect(() => FittedRanker.fromJSON(json as never), what).toThrow(expect.objectContaining({ code: 'E_BUNDLE', message: expect.stringMatching(message) }));
    }
    expect(FittedRanker.fromJSON(gallery).labels).toEqual(data.labels);
  });
});
