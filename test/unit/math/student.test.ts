import { describe, expect, it } from 'vitest';
import { tQuantile975 } from '../../../src/math/student.ts';

describe('tQuantile975', () => {
  it('gives the tabled t(0.975) for a few degrees of freedom', () => {
    expect([1, 2, 3, 9, 30].map(tQuantile975)).toEqual([12.7062, 4.3027, 3.1824, 2.2622, 2.0423]);
  });

  it('follows the t distribution beyond the table, towards the normal 1.96', () => {
    // R: qt(0.975, c(31, 40, 60, 120, 1e6))
    const expected = [2.039513, 2.021075, 2.000298, 1.979930, 1.959966];
    [31, 40, 60, 120, 1e6].forEach((df, i) => expect(tQuantile975(df)).toBeCloseTo(expected[i], 4));
  });
});
