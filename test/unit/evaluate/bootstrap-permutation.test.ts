import { describe, expect, it } from 'vitest';
import { percentileInterval, pointwiseBand, quantile, stratifiedSubjectWeights } from '../../../src/evaluate/bootstrap.ts';
import { auc } from '../../../src/evaluate/metrics.ts';
import { permutationFloorNote, permutationPValue, permuteSubjectLabels } from '../../../src/evaluate/permutation.ts';
import { deriveSeed, mulberry32, type Rng } from '../../../src/math/random.ts';

function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Standard normal CDF via erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

describe('percentile intervals', () => {
  it('interpolates quantiles like R type 7 and drops undefined replicates', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20], 0.25)).toBe(12.5);
    const values = Array.from({ length: 101 }, (_, i) => i / 100);
    const [lo, hi] = percentileInterval(values, 0.95, 0.9)!;
    expect(lo).toBeCloseTo(0.025, 12);
    expect(hi).toBeCloseTo(0.975, 12);
    expect(percentileInterval([...values, null], 0.95, 0.9)).toEqual([lo, hi]);
    expect(percentileInterval([0.5, null, null], 0.95, 0.9)).toBeNull();
    const band = pointwiseBand([Float64Array.of(0, 1), Float64Array.of(1, 3), Float64Array.of(2, 2)], 0.5)!;
    expect(band.lower).toEqual([0.5, 1.5]);
    expect(band.upper).toEqual([1.5, 2.5]);
  });

  it('draws subjects with replacement within each class, reproducibly', () => {
    const classes = [0, 0, 0, 1, 1, 0, 1];
    const reps = stratifiedSubjectWeights(classes, 50, 3);
    for (const w of reps) {
      expect(classes.reduce((s, c, i) => s + (c === 1 ? w[i] : 0), 0)).toBe(3);
      expect(classes.reduce((s, c, i) => s + (c === 0 ? w[i] : 0), 0)).toBe(4);
    }
    expect(stratifiedSubjectWeights(classes, 50, 3)).toEqual(reps);
    expect(stratifiedSubjectWeights(classes, 50, 4)).not.toEqual(reps);
  });

  it("draws only a group's members, within their classes, when given them", () => {
    const classes = Uint8Array.from([1, 0, 1, 1, 0, 0, 0]);
    const members = [0, 2, 4, 5]; // two of each class
    for (const w of stratifiedSubjectWeights(classes, 50, 3, members)) {
      expect([1, 3, 6].map((s) => w[s])).toEqual([0, 0, 0]);
      expect(w[0] + w[2]).toBe(2);
      expect(w[4] + w[5]).toBe(2);
    }
  });

  it('covers the true AUC of clustered data at about the nominal rate, where a photo bootstrap does not', () => {
    // score = delta*y + subject effect + photo noise; true photo-level AUC = Phi(delta / sqrt(2(su² + se²)))
    const delta = 1;
    const su = 1;
    const se = 0.5;
    const truth = phi(delta / Math.sqrt(2 * (su * su + se * se)));
    const trials = 60;
    let subjectCovers = 0;
    let photoCovers = 0;
    for (let t = 0; t < trials; t++) {
      const rng = mulberry32(deriveSeed(100, t));
      const score: number[] = [];
      const label: number[] = [];
      const subject: number[] = [];
      const subjectClass: number[] = [];
      for (let s = 0; s < 60; s++) {
        const y = s % 2;
        subjectClass.push(y);
        const u = gaussian(rng) * su;
        for (let p = 0; p < 6; p++) {
          score.push(delta * y + u + gaussian(rng) * se);
          label.push(y);
          subject.push(s);
        }
      }
      const interval = (unitClass: number[], unitOf: (i: number) => number) => {
        const values = stratifiedSubjectWeights(unitClass, 300, deriveSeed(7, t)).map((w) => auc(score, label, score.map((_, i) => w[unitOf(i)])));
        return percentileInterval(values, 0.95, 0.9)!;
      };
      const [sLo, sHi] = interval(subjectClass, (i) => subject[i]);
      const [pLo, pHi] = interval(label, (i) => i);
      if (sLo <= truth && truth <= sHi) subjectCovers++;
      if (pLo <= truth && truth <= pHi) photoCovers++;
    }
    expect(subjectCovers / trials).toBeGreaterThanOrEqual(0.85);
    expect(photoCovers / trials).toBeLessThan(0.75);
  });
});

describe('permutation test', () => {
  it('permutes labels between subjects, keeping each subject whole and the class counts', () => {
    const groups = ['a', 'a', 'b', 'c', 'c', 'c', 'd', 'e'];
    const y = [1, 1, 0, 1, 1, 1, 0, 0];
    const seen = new Set<string>();
    for (let p = 0; p < 40; p++) {
      const permuted = permuteSubjectLabels(y, groups, mulberry32(p));
      const bySubject = new Map<string, Set<number>>();
      groups.forEach((g, i) => bySubject.set(g, (bySubject.get(g) ?? new Set()).add(permuted[i])));
      expect([...bySubject.values()].every((labels) => labels.size === 1)).toBe(true);
      expect([...bySubject.values()].filter((labels) => labels.has(1)).length).toBe(2);
      seen.add(permuted.join(''));
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(permuteSubjectLabels(y, groups, mulberry32(1))).toEqual(permuteSubjectLabels(y, groups, mulberry32(1)));
  });

  it('counts the observed labelling among the permutations', () => {
    expect(permutationPValue(0.9, [0.5, 0.95, 0.6])).toBe(0.5);
    expect(permutationPValue(0.9, [0.5, 0.6, 0.9])).toBe(0.5); // ties count against
    expect(permutationPValue(0.99, Array(99).fill(0.5))).toBe(0.01);
  });

  it('says a p at its floor, 1/(permutations + 1), is the smallest the test can give, and only then', () => {
    expect(permutationFloorNote(permutationPValue(0.99, Array(99).fill(0.5)), 99)).toBe(' (no permutation reached it: the smallest p that 99 permutations can give)');
    expect(permutationFloorNote(1 / 21, 20)).toContain('the smallest p that 20 permutations can give');
    expect(permutationFloorNote(permutationPValue(0.9, [0.5, 0.95, 0.6]), 3)).toBe('');
  });
});
