import { describe, expect, it } from 'vitest';
import { fitSvmPacked } from '../../../src/classify/svm.ts';
import { dot, Standardiser, type Packed } from '../../../src/classify/linalg.ts';
import { createClassifier } from '../../../src/classify/registry.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { calibrationBins } from '../../../src/evaluate/metrics.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

const packed = (rows: number[][]): Packed => ({ n: rows.length, d: rows[0].length, rows: Float64Array.from(rows.flat()) });
const margins = (Z: Packed, y: number[], w: Float64Array, b: number) => y.map((label, i) => (label ? 1 : -1) * (dot(Z.rows, i * Z.d, w, 0, Z.d) + b));

describe('fitSvmPacked', () => {
  it('finds the maximum-margin separator of a symmetric toy set', () => {
    // x1 = +1 for positives, -1 for negatives, x2 irrelevant: max margin is w = (1, 0), b = 0.
    const rows = [[1, -1], [1, 0], [1, 1], [-1, -1], [-1, 0], [-1, 1]];
    const y = [1, 1, 1, 0, 0, 0];
    const Z = packed(rows);
    const fit = fitSvmPacked(Z, Float64Array.from(y), 1000, 1);
    expect(fit.weights[0]).toBeCloseTo(1, 2);
    expect(fit.weights[1]).toBeCloseTo(0, 2);
    expect(fit.bias).toBeCloseTo(0, 2);
    // every point on or outside the margin, the support vectors (all of them here) on it
    for (const m of margins(Z, y, fit.weights, fit.bias)) expect(m).toBeCloseTo(1, 2);
  });

  it('accounts for the regularised intercept (LIBLINEAR -B 1) on an asymmetric toy set', () => {
    // positives at x = 2, negatives at 0: min ½(w² + b²) s.t. 2w + b >= 1, -b >= 1 gives w = 1, b = -1
    const Z = packed([[2], [2], [0], [0]]);
    const y = [1, 1, 0, 0];
    const fit = fitSvmPacked(Z, Float64Array.from(y), 1000, 1);
    expect(fit.weights[0]).toBeCloseTo(1, 2);
    expect(fit.bias).toBeCloseTo(-1, 2);
    // geometric margin 2/|w| = the gap between the classes
    expect(2 / Math.abs(fit.weights[0])).toBeCloseTo(2, 2);
  });

  it('trades margin for violations as C falls, and satisfies the KKT conditions', () => {
    const data = syntheticStudy({ subjects: 30, photosPerSubject: 3, dim: 8, signal: 3, seed: 11 });
    const { packed: Z } = Standardiser.fitTransform(data.X, data.X.map((_, i) => i));
    const norms: number[] = [];
    for (const C of [1e-3, 1e-1, 1]) {
      const fit = fitSvmPacked(Z, Float64Array.from(data.y), C, 2);
      norms.push(Math.hypot(...fit.weights, fit.bias));
      const m = margins(Z, data.y, fit.weights, fit.bias);
      m.forEach((mi, i) => {
        // alpha = 0 -> margin >= 1; alpha = C -> margin <= 1; in between -> margin = 1
        if (fit.alpha[i] === 0) expect(mi).toBeGreaterThan(1 - 2e-3);
        else if (fit.alpha[i] === C) expect(mi).toBeLessThan(1 + 2e-3);
        else expect(Math.abs(mi - 1)).toBeLessThan(2e-3);
      });
    }
    expect(norms[0]).toBeLessThan(norms[1]);
    expect(norms[1]).toBeLessThan(norms[2]);
  });
});

describe('svm classifier', () => {
  it('returns Platt-calibrated probabilities that track observed rates on held-out subjects', () => {
    const data = syntheticStudy({ subjects: 240, photosPerSubject: 4, dim: 32, signal: 3, seed: 12 });
    const [fold] = groupedStratifiedKFold(data.y, data.subjects, 2, 3);
    const pick = <T>(a: T[], rows: number[]) => rows.map((i) => a[i]);
    const model = createClassifier('svm').fit(pick(data.X, fold.train), pick(data.y, fold.train), pick(data.subjects, fold.train), {
      seed: 1,
      innerFolds: 3,
      split: groupedStratifiedKFold,
      patience: 1,
    });
    expect(model.toJSON().params.platt).toBeDefined();
    const p = model.predictProba(pick(data.X, fold.test));
    const bins = calibrationBins(p, pick(data.y, fold.test), 5);
    const total = bins.reduce((s, b) => s + b.count, 0);
    const gap = bins.reduce((s, b) => s + (b.count / total) * Math.abs(b.observedRate - b.meanPredicted), 0);
    expect(gap).toBeLessThan(0.1); // expected calibration error
  });
});
