import { describe, expect, it } from 'vitest';
import { ageSubgroups } from '../../../src/data/age.ts';

describe('ageSubgroups', () => {
  const edges = [2, 6, 12, 18];
  it('puts ages in years into bands, each from one edge up to the next, empty cells staying empty', () => {
    expect(ageSubgroups(['0', '1.99', '2', '5.9', '6', '11', '12', '17.999', '18', '80', undefined, ' '], edges)).toEqual([
      '0 to <2 years', '0 to <2 years', '2 to <6 years', '2 to <6 years', '6 to <12 years', '6 to <12 years',
      '12 to <18 years', '12 to <18 years', '18+ years', '18+ years', undefined, undefined,
    ]);
  });
  it('keeps the values as written when any is not a number of years: words, ranges, negatives, NaN', () => {
    for (const odd of ['child', '2-5', '-1', 'Infinity', '0x10']) {
      expect(ageSubgroups(['3', odd, undefined], edges), odd).toEqual(['3', odd, undefined]);
    }
    expect(ageSubgroups([undefined, undefined], edges)).toEqual([undefined, undefined]);
  });
  it('bands the numeric ages beside cells that say the age is not known, which stay as written', () => {
    const unknown = ['NA', 'n/a', 'NaN', 'null', 'None', 'unknown', 'Not known', 'missing', '?', '-', '.', ' NA '];
    for (const u of unknown) expect(ageSubgroups(['3', u, '20', undefined], edges), u).toEqual(['2 to <6 years', u, '18+ years', undefined]);
    expect(ageSubgroups(['NA', 'unknown'], edges)).toEqual(['NA', 'unknown']);
    expect(ageSubgroups(['3', 'NA', 'adult'], edges)).toEqual(['3', 'NA', 'adult']);
  });
});
