/**
 * PPV and NPV follow from the study's own pooled sensitivity and specificity by Bayes' rule, and
 * their intervals stay open when a count is zero (no false positive in a repeat or in all of them).
 */
import { describe, expect, it } from 'vitest';
import { crossValidate } from '../../../src/evaluate/crossval.ts';
import { predictiveValues, rateInterval, wilsonInterval } from '../../../src/evaluate/metrics.ts';
import { syntheticStudy, type SyntheticStudy } from './synthetic-embeddings.ts';

const study = (d: SyntheticStudy) => ({ X: d.X, y: d.y, subjects: d.subjects, photoIds: d.photoIds, views: d.views, subgroups: {} });

describe('wilsonInterval', () => {
  it('matches the textbook values and stays open at zero and full counts', () => {
    const [lo, hi] = wilsonInterval(8, 10)!;
    expect(lo).toBeCloseTo(0.4902, 4); // Wilson 95% for 8/10
    expect(hi).toBeCloseTo(0.9433, 4);
    const [lo0, hi0] = wilsonInterval(30, 30)!;
    expect(hi0).toBeCloseTo(1, 12);
    expect(lo0).toBeCloseTo(0.8865, 4);
    expect(wilsonInterval(0, 30)![0]).toBe(0);
    expect(wilsonInterval(0, 30)![1]).toBeGreaterThan(0.1);
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('puts the bound at an observed 0 or 1 exactly there, whatever the count (rounding missed it by ~1e-17)', () => {
    for (const n of [1, 3, 7, 12, 1000]) {
      expect(wilsonInterval(0, n)![0]).toBe(0);
      expect(wilsonInterval(n, n)![1]).toBe(1);
    }
  });
});

describe('crossValidate: predictive values', () => {
  const prevalence = 1 / 4000;
  for (const [name, signal] of [['a modest signal', 1.2], ['a strong signal (repeats without false positives)', 6]] as const) {
    it(`derives PPV/NPV from the reported sensitivity and specificity: ${name}`, async () => {
      const d = syntheticStudy({ subjects: 40, photosPerSubject: 3, dim: 64, signal, seed: 71 });
      const r = await crossValidate({ ...study(d), folds: 4, repeats: 3, seed: 2, bootstrap: 100, permutations: 0, workers: 0, prevalence });
      for (const level of [r.photo, r.subject]) {
        const expected = predictiveValues(level.sensitivity.value, level.specificity.value, prevalence);
        expect(level.ppv.value).toBeCloseTo(expected.ppv!, 12);
        expect(level.npv.value).toBeCloseTo(expected.npv!, 12);
        const [lo, hi] = level.ppv.ci95!;
        expect(lo).toBeLessThanOrEqual(level.ppv.value!);
        expect(hi).toBeGreaterThanOrEqual(level.ppv.value!);
        expect(lo).toBeLessThan(hi); // never "100% to 100%"
        // The lower end is PPV at the lower ends of sensitivity's and specificity's intervals, at most.
        expect(lo).toBeLessThanOrEqual(predictiveValues(level.sensitivity.ci95![0], level.specificity.ci95![0], prevalence).ppv! + 1e-12);
      }
    });
  }

  it('gives a rate of 0 or 1 an open interval: the bootstrap widened to Wilson on the counts', async () => {
    const d = syntheticStudy({ subjects: 40, photosPerSubject: 3, dim: 64, signal: 20, seed: 71 });
    const r = await crossValidate({ ...study(d), folds: 4, repeats: 3, seed: 2, bootstrap: 100, permutations: 0, workers: 0, prevalence });
    const c = r.subject.confusion;
    expect(r.subject.specificity.value).toBe(1); // no false positive: the bootstrap alone reads [1, 1]
    const [lo, hi] = r.subject.specificity.ci95!;
    expect(hi).toBe(1);
    expect(lo).toBeLessThanOrEqual(wilsonInterval(c.tn, c.tn + c.fp)![0]);
    expect(lo).toBeLessThan(0.95);
    for (const level of [r.photo, r.subject]) {
      for (const [rate, k, n] of [[level.sensitivity, level.confusion.tp, level.confusion.tp + level.confusion.fn], [level.specificity, level.confusion.tn, level.confusion.tn + level.confusion.fp]] as const) {
        const w = wilsonInterval(k, n)!;
        expect(rate.ci95![0]).toBeLessThanOrEqual(w[0]);
        expect(rate.ci95![1]).toBeGreaterThanOrEqual(w[1]);
        expect(rateInterval(rate.ci95, k, n)).toEqual(rate.ci95); // already widened: screen's re-widening changes nothing
      }
    }
  });
});
