import { describe, expect, it } from 'vitest';
import { groupedStratifiedKFold, repeatedGroupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { deriveSeed, mulberry32 } from '../../../src/math/random.ts';
import { hasCode } from '../../../src/errors.ts';

/** A random data set: subjects with 1-8 photos, labels per subject, rows in random order. */
function dataset(seed: number, subjectsPerClass: [number, number]) {
  const rng = mulberry32(seed);
  const rows: { subject: string; label: number }[] = [];
  for (const label of [0, 1]) {
    for (let s = 0; s < subjectsPerClass[label]; s++) {
      const photos = 1 + Math.floor(rng() * 8);
      for (let p = 0; p < photos; p++) rows.push({ subject: `c${label}s${s}`, label });
    }
  }
  rows.sort(() => rng() - 0.5);
  return { y: rows.map((r) => r.label), groups: rows.map((r) => r.subject) };
}

describe('groupedStratifiedKFold', () => {
  it('never puts one subject in two folds, covers every row once, and balances classes (over seeds)', () => {
    for (let seed = 0; seed < 60; seed++) {
      const rng = mulberry32(deriveSeed(seed, 99));
      const k = 2 + Math.floor(rng() * 5);
      const counts: [number, number] = [k + Math.floor(rng() * 30), k + Math.floor(rng() * 30)];
      const { y, groups } = dataset(seed, counts);
      const folds = groupedStratifiedKFold(y, groups, k, seed);
      expect(folds).toHaveLength(k);
      const foldOfSubject = new Map<string, number>();
      const seen = new Int32Array(y.length);
      folds.forEach((fold, f) => {
        const test = new Set(fold.test);
        expect(fold.train.some((i) => test.has(i))).toBe(false);
        expect(fold.train.length + fold.test.length).toBe(y.length);
        for (const i of fold.test) {
          seen[i]++;
          const before = foldOfSubject.get(groups[i]);
          expect(before === undefined || before === f).toBe(true);
          foldOfSubject.set(groups[i], f);
        }
        // no subject of the test fold appears in its training rows
        const testSubjects = new Set(fold.test.map((i) => groups[i]));
        expect(fold.train.some((i) => testSubjects.has(groups[i]))).toBe(false);
      });
      expect([...seen].every((c) => c === 1)).toBe(true);
      for (const label of [0, 1]) {
        const perFold = folds.map((fold) => new Set(fold.test.filter((i) => y[i] === label).map((i) => groups[i])).size);
        expect(Math.max(...perFold) - Math.min(...perFold)).toBeLessThanOrEqual(1);
        expect(Math.min(...perFold)).toBeGreaterThanOrEqual(1);
      }
      const sizes = folds.map((fold) => new Set(fold.test.map((i) => groups[i])).size);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic in the seed and independent of row order', () => {
    const { y, groups } = dataset(3, [12, 9]);
    const subjectsOf = (folds: ReturnType<typeof groupedStratifiedKFold>, g: string[]) =>
      folds.map((fold) => [...new Set(fold.test.map((i) => g[i]))].sort().join(','));
    const a = subjectsOf(groupedStratifiedKFold(y, groups, 3, 42), groups);
    expect(subjectsOf(groupedStratifiedKFold(y, groups, 3, 42), groups)).toEqual(a);
    expect(subjectsOf(groupedStratifiedKFold(y, groups, 3, 43), groups)).not.toEqual(a);
    const reversed = { y: [...y].reverse(), groups: [...groups].reverse() };
    expect(subjectsOf(groupedStratifiedKFold(reversed.y, reversed.groups, 3, 42), reversed.groups)).toEqual(a);
  });

  it('draws different splits in each repeat', () => {
    const { y, groups } = dataset(5, [20, 20]);
    const repeats = repeatedGroupedStratifiedKFold(y, groups, 5, 3, 1);
    expect(repeats).toHaveLength(3);
    expect(repeats[0][0].test).not.toEqual(repeats[1][0].test);
  });

  it('refuses a class with fewer subjects than folds, bad fold counts and two-label subjects', () => {
    const { y, groups } = dataset(1, [10, 3]);
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return hasCode(e, 'E_INPUT') ? 'E_INPUT' : hasCode(e, 'E_CONFIG') ? 'E_CONFIG' : String(e);
      }
      return 'no error';
    };
    expect(codeOf(() => groupedStratifiedKFold(y, groups, 4, 0))).toBe('E_INPUT');
    expect(() => groupedStratifiedKFold(y, groups, 4, 0)).toThrow(/Class 1 has 3 subject\(s\), fewer than folds=4/);
    expect(codeOf(() => groupedStratifiedKFold(y, groups, 1, 0))).toBe('E_CONFIG');
    expect(codeOf(() => groupedStratifiedKFold(y, groups, 2.5, 0))).toBe('E_CONFIG');
    expect(codeOf(() => groupedStratifiedKFold([0, 1, 0, 1], ['a', 'a', 'b', 'c'], 2, 0))).toBe('E_INPUT');
    expect(codeOf(() => groupedStratifiedKFold([0, 2], ['a', 'b'], 2, 0))).toBe('E_INPUT');
    expect(codeOf(() => repeatedGroupedStratifiedKFold(y, groups, 2, 0, 0))).toBe('E_CONFIG');
  });
});
