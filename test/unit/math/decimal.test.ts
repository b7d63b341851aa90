import { describe, expect, it } from 'vitest';
import { parseDecimal, roundedKeepingSum } from '../../../src/math/decimal.ts';

describe('parseDecimal', () => {
  it.each([
    ['0.5', 0.5], ['-3', -3], ['+2', 2], ['.5', 0.5], ['5.', 5], ['1e-6', 1e-6], ['2E3', 2000], [' 20 ', 20], ['1e309', Infinity],
  ])('reads %j as %d', (text, value) => {
    expect(parseDecimal(text)).toBe(value);
  });

  it.each(['0x10', '0X1f', '0b11', '0o17', '', ' ', 'NaN', 'Infinity', '-Infinity', '10abc', '1e', '1.2.3', '--1', '1_000'])('reads %j as NaN', (text) => {
    expect(parseDecimal(text)).toBeNaN();
  });
});

describe('roundedKeepingSum', () => {
  it('rounds shares to the decimals asked so that they still sum to 1, the largest remainders rounded up', () => {
    expect([1, 1, 1].map((v) => Math.round((v / 3) * 1e4) / 1e4).reduce((a, b) => a + b)).toBeCloseTo(0.9999, 12); // one by one
    expect(roundedKeepingSum([1 / 3, 1 / 3, 1 / 3], 4)).toEqual([0.3334, 0.3333, 0.3333]);
    const shares = [0.32925, 0.16705, 0.16635, 0.13265, 0.07615, 0.05465, 0.03865, 0.02745, 0.00775];
    const rounded = roundedKeepingSum(shares, 4);
    expect(Math.round(rounded.reduce((a, b) => a + b) * 1e4)).toBe(1e4);
    for (const [i, r] of rounded.entries()) {
      expect(Math.abs(r - shares[i])).toBeLessThan(1e-4);
      expect(Math.round(r * 1e4)).toBeCloseTo(r * 1e4, 9);
      if (i > 0) expect(r).toBeLessThanOrEqual(rounded[i - 1]);
    }
  });

  it('keeps zeros and an all-zero list as they are', () => {
    expect(roundedKeepingSum([0.5, 0.5, 0], 4)).toEqual([0.5, 0.5, 0]);
    expect(roundedKeepingSum([0, 0, 0], 4)).toEqual([0, 0, 0]);
    expect(roundedKeepingSum([], 4)).toEqual([]);
  });
});
