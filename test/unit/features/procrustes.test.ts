import { describe, expect, it } from 'vitest';
import { alignToMean, generalisedProcrustes, normaliseShape, rotateOnto, toShape } from '../../../src/features/procrustes.ts';
import { fitPca, projectPca } from '../../../src/features/pca.ts';
import { frontalFace, jittered, similarity } from './faces.ts';

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('Procrustes alignment', () => {
  const faces = Array.from({ length: 12 }, (_, i) => jittered(frontalFace(), 4, i + 1));
  const fit = generalisedProcrustes(faces.map(toShape));

  it('normalises to zero centroid and unit centroid size', () => {
    const s = normaliseShape(toShape([[1, 1], [3, 1], [3, 5]]));
    expect(s[0] + s[2] + s[4]).toBeCloseTo(0, 12);
    expect(s[1] + s[3] + s[5]).toBeCloseTo(0, 12);
    expect(Math.hypot(...s)).toBeCloseTo(1, 12);
  });

  it('an aligned face does not change when the photo is translated, scaled or rotated', () => {
    const face = jittered(frontalFace(), 4, 99);
    const a = alignToMean(toShape(face), fit.mean);
    const b = alignToMean(toShape(similarity(face, 0.37, -33, 512, -80)), fit.mean);
    expect(maxDiff(a, b)).toBeLessThan(1e-12);
  });

  it('the fitted mean is invariant to similarities applied to the training faces', () => {
    const moved = faces.map((f, i) => similarity(f, 1 + i / 5, 7 * i - 30, 10 * i, -3 * i));
    const other = generalisedProcrustes(moved.map(toShape));
    // Both means are unit-size shapes; they agree up to one rotation of the whole frame.
    expect(maxDiff(rotateOnto(other.mean, fit.mean), fit.mean)).toBeLessThan(1e-8);
  });

  it('rotation recovers a known angle and never reflects', () => {
    const square = normaliseShape(toShape([[0, 0], [2, 0], [2, 1], [0, 1]]));
    const turned = normaliseShape(toShape(similarity([[0, 0], [2, 0], [2, 1], [0, 1]], 1, 40, 0, 0)));
    expect(maxDiff(rotateOnto(turned, square), square)).toBeLessThan(1e-12);
    const mirrored = normaliseShape(toShape([[0, 0], [-2, 0], [-2, 1], [0, 1]]));
    // A mirror image cannot be rotated onto the original: a residual remains.
    expect(maxDiff(rotateOnto(mirrored, square), square)).toBeGreaterThan(0.1);
  });

  it('aligned training faces are closer to the mean than the raw normalised ones', () => {
    const rotated = faces.map((f, i) => similarity(f, 1, 20 * i, 0, 0));
    const g = generalisedProcrustes(rotated.map(toShape));
    const ss = (s: Float64Array) => s.reduce((t, v, i) => t + (v - g.mean[i]) ** 2, 0);
    const before = rotated.map((f) => ss(normaliseShape(toShape(f)))).reduce((a, b) => a + b);
    const after = g.aligned.map(ss).reduce((a, b) => a + b);
    expect(after).toBeLessThan(before / 10);
    expect(g.iterations).toBeLessThan(100);
  });

  it('refuses a shape whose points all coincide, and a shape of another length', () => {
    expect(() => normaliseShape(toShape([[1, 1], [1, 1]]))).toThrow(/centroid size/);
    expect(() => alignToMean(toShape([[0, 0], [1, 1]]), fit.mean)).toThrow(/Expected 68/);
  });
});

describe('PCA', () => {
  it('finds the axis of a line of points and its variance', () => {
    const rows = [-2, -1, 0, 1, 2].map((t) => Float64Array.from([1 + 3 * t, 2 + 4 * t]));
    const pca = fitPca(rows, 0.99);
    expect(pca.components).toHaveLength(1);
    expect(Math.abs(pca.components[0][0])).toBeCloseTo(0.6, 10);
    expect(Math.abs(pca.components[0][1])).toBeCloseTo(0.8, 10);
    // Scores are 5t; their population variance is 25 * 2 = 50.
    expect(pca.variances[0]).toBeCloseTo(50, 8);
    expect(Math.abs(projectPca(pca, Float64Array.from([4, 6]))[0])).toBeCloseTo(5, 10);
  });

  it('keeps the fewest axes that reach the variance fraction', () => {
    const rows: Float64Array[] = [];
    for (let i = 0; i < 40; i++) rows.push(Float64Array.from([10 * Math.sin(i), 3 * Math.cos(i * 1.7), 0.1 * Math.sin(i * 3.1)]));
    expect(fitPca(rows, 0.5).components).toHaveLength(1);
    expect(fitPca(rows, 0.999999).components).toHaveLength(3);
    expect(fitPca(rows, 1, 2).components).toHaveLength(2);
  });

  it('refuses too few rows or a bad fraction', () => {
    expect(() => fitPca([new Float64Array(2)], 0.9)).toThrow(/at least 2/);
    expect(() => fitPca([new Float64Array(2), new Float64Array(2)], 0)).toThrow(/\(0, 1\]/);
  });
});

