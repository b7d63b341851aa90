import { describe, expect, it } from 'vitest';
import { solveLinear } from '../../../src/math/linear.ts';

describe('solveLinear', () => {
  it('solves every right-hand side of a system that needs row swaps', () => {
    // a[0][0] = 0: without partial pivoting the first step divides by zero.
    const a = [[0, 2, 1], [1, 1, 1], [4, -1, 3]];
    const x = [[1, -2], [2, 0.5], [-1, 3]];
    const b = a.map((row) => [0, 1].map((j) => row.reduce((s, v, k) => s + v * x[k][j], 0)));
    const got = solveLinear(a, b)!;
    got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(x[i][j], 12)));
    expect(a[0]).toEqual([0, 2, 1]); // inputs untouched
  });

  it('returns undefined for a singular system', () => {
    expect(solveLinear([[1, 2], [2, 4]], [[1], [2]])).toBeUndefined();
  });
});
