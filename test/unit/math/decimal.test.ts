import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../../../src/math/decimal.ts';

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
