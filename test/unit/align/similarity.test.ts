import { describe, expect, it } from 'vitest';
import { applyAffine, invertAffine, umeyama } from '../../../src/align/similarity.ts';
import { ARCFACE_TEMPLATE } from '../../../src/align/template.ts';
const alignmentMatrix = (lm: Landmarks5) => umeyama(lm, ARCFACE_TEMPLATE as Landmarks5);
import type { Landmarks5, Point } from '../../../src/types.ts';

describe('umeyama similarity', () => {
  it('recovers a known rotation by 90 degrees, scale 2, translation (5, 7)', () => {
    const src: Point[] = [[0, 0], [1, 0], [0, 1], [3, 2]];
    // x' = -2y + 5, y' = 2x + 7
    const dst = src.map(([x, y]) => [-2 * y + 5, 2 * x + 7] as Point);
    const m = umeyama(src, dst);
    expect(m.map((v) => +v.toFixed(9))).toEqual([0, -2, 5, 2, 0, 7]);
  });
  it('gives the least-squares fit for noisy points (residual orthogonal to the model)', () => {
    const src: Point[] = [[0, 0], [2, 0], [0, 2], [2, 2]];
    const dst: Point[] = [[0.1, 0], [2, 0.1], [0, 2], [2.1, 2]];
    const m = umeyama(src, dst);
    // for a similarity fit, the mean of dst equals the mapped mean of src
    const mapped = src.map((p) => applyAffine(m, p));
    const mean = (ps: Point[], k: 0 | 1) => ps.reduce((s, p) => s + p[k], 0) / ps.length;
    expect(mean(mapped, 0)).toBeCloseTo(mean(dst, 0), 12);
    expect(mean(mapped, 1)).toBeCloseTo(mean(dst, 1), 12);
    expect(m[0]).toBeCloseTo(m[4], 12);
    expect(m[1]).toBeCloseTo(-m[3], 12);
  });
  it('maps the template to itself with the identity', () => {
    const m = alignmentMatrix(ARCFACE_TEMPLATE as Landmarks5);
    expect(m.map((v) => +v.toFixed(9))).toEqual([1, 0, 0, 0, 1, 0]);
  });
  it('inverts', () => {
    const m = umeyama([[0, 0], [1, 0]], [[3, 4], [3, 6]]);
    const inv = invertAffine(m);
    const p = applyAffine(inv, applyAffine(m, [7, -2]));
    expect(p[0]).toBeCloseTo(7, 12);
    expect(p[1]).toBeCloseTo(-2, 12);
  });
  it('refuses degenerate input', () => {
    expect(() => umeyama([[1, 1], [1, 1]], [[0, 0], [1, 1]])).toThrow(/identical/);
  });
});
