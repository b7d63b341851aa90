/** A screening call's meaning, by hand: the figures a clinician is shown follow from sensitivity, specificity and prevalence. */
import { describe, expect, it } from 'vitest';
import { chanceRangeEndNote, noEvidenceStatement, postTest } from '../../../src/evaluate/post-test.ts';
import { hasCode } from '../../../src/errors.ts';

describe('postTest', () => {
  it('gives about 0.3% for a positive call at 1 in 4,000 (sensitivity 81.5%, specificity 92.6%)', () => {
    const p = postTest(true, { value: 0.815 }, { value: 0.926 }, 1 / 4000);
    expect(p.likelihoodRatio).toBeCloseTo(0.815 / 0.074, 10); // LR+ = 11.0
    const odds = (1 / 3999) * (0.815 / 0.074);
    expect(p.chance).toBeCloseTo(odds / (1 + odds), 12);
    expect(p.chance!).toBeGreaterThan(0.0027);
    expect(p.chance!).toBeLessThan(0.0028);
    expect(p.ppv).toBe(p.chance);
    expect(p.chanceRange).toBeNull();
  });

  it('gives the residual chance of a negative call through LR-', () => {
    const p = postTest(false, { value: 0.8 }, { value: 0.9 }, 0.1);
    expect(p.likelihoodRatio).toBeCloseTo(0.2 / 0.9, 12);
    const odds = (0.1 / 0.9) * (0.2 / 0.9);
    expect(p.chance).toBeCloseTo(odds / (1 + odds), 12);
    expect(p.chance).toBeCloseTo(1 - p.npv!, 12);
  });

  it('spans the chance over the rates\' intervals, and says LR+ is unbounded at specificity 1', () => {
    const p = postTest(true, { value: 0.8, ci95: [0.6, 0.95] }, { value: 1, ci95: [0.88, 1] }, 0.01);
    expect(p.likelihoodRatio).toBeNull();
    expect(p.chance).toBe(1);
    expect(p.chanceRange![0]).toBeCloseTo((0.6 * 0.01) / (0.6 * 0.01 + 0.12 * 0.99), 12);
    expect(p.chanceRange![1]).toBe(1);
  });

  it('gives the likelihood ratio\'s range over the rates\' intervals, the range the chance range is taken over', () => {
    const pos = postTest(true, { value: 0.8, ci95: [0.6, 0.9] }, { value: 0.9, ci95: [0.8, 0.96] }, 0.01);
    expect(pos.likelihoodRatioRange![0]).toBeCloseTo(0.6 / 0.2, 12);
    expect(pos.likelihoodRatioRange![1]).toBeCloseTo(0.9 / 0.04, 12);
    const odds = (lr: number) => (0.01 / 0.99) * lr;
    expect(pos.chanceRange![0]).toBeCloseTo(odds(3) / (1 + odds(3)), 12);
    expect(pos.chanceRange![1]).toBeCloseTo(odds(22.5) / (1 + odds(22.5)), 12);
    const neg = postTest(false, { value: 0.8, ci95: [0.6, 0.9] }, { value: 0.9, ci95: [0.8, 0.96] }, 0.01);
    expect(neg.likelihoodRatioRange![0]).toBeCloseTo(0.1 / 0.96, 12);
    expect(neg.likelihoodRatioRange![1]).toBeCloseTo(0.4 / 0.8, 12);
    // A specificity interval reaching 1 leaves LR+ unbounded above; a sensitivity one reaching 1 puts LR- at 0.
    const unbounded = postTest(true, { value: 0.8, ci95: [0.6, 0.9] }, { value: 0.95, ci95: [0.85, 1] }, 0.01).likelihoodRatioRange!;
    expect(unbounded[0]).toBeCloseTo(4, 12);
    expect(unbounded[1]).toBeNull();
    expect(postTest(false, { value: 0.95, ci95: [0.85, 1] }, { value: 0.8, ci95: [0.6, 0.9] }, 0.01).likelihoodRatioRange![0]).toBe(0);
    expect(postTest(true, { value: 0.8 }, { value: 0.9 }, 0.01).likelihoodRatioRange).toBeNull();
  });

  it('refuses a bad prevalence and a model without validated rates', () => {
    expect(() => postTest(true, { value: 0.8 }, { value: 0.9 }, 0)).toThrow(/prevalence/);
    try {
      postTest(true, { value: null }, { value: 0.9 }, 0.01);
      expect.unreachable();
    } catch (err) {
      expect(hasCode(err, 'E_BUNDLE')).toBe(true);
    }
  });

  it('says why a chance range ends at 100% (positive call) or 0% (negative call), and only then', () => {
    const pos = postTest(true, { value: 0.8, ci95: [0.6, 0.9] }, { value: 0.95, ci95: [0.85, 1] }, 1 / 4000);
    expect(pos.chanceRange![1]).toBe(1);
    expect(chanceRangeEndNote(true, pos.chanceRange)).toMatch(/^The upper end is 100% because the specificity's 95% interval reaches 100%/);
    const neg = postTest(false, { value: 0.95, ci95: [0.85, 1] }, { value: 0.8, ci95: [0.6, 0.9] }, 0.3);
    expect(neg.chanceRange![0]).toBe(0);
    expect(chanceRangeEndNote(false, neg.chanceRange)).toMatch(/^The lower end is 0% because the sensitivity's 95% interval reaches 100%/);
    expect(chanceRangeEndNote(true, [0.001, 0.2])).toBe('');
    expect(chanceRangeEndNote(true, null)).toBe('');
  });
});

describe('noEvidenceStatement', () => {
  it('says an AUC interval reaching 0.5 reaches it, and one wholly below 0.5 lies below it (never that it reaches 0.5)', () => {
    expect(noEvidenceStatement({ value: 0.58, ci95: [0.45, 0.71] })).toContain('(0.58, 95% interval 0.45-0.71) reaches 0.5, chance level.');
    const below = noEvidenceStatement({ value: 0.19, ci95: [0.05, 0.4] })!;
    expect(below).toContain('(0.19, 95% interval 0.05-0.4) lies below 0.5, chance level: the model ranks people the wrong way round.');
    expect(below).not.toContain('reaches 0.5');
    expect(noEvidenceStatement({ value: 0.8, ci95: [0.62, 0.93] })).toBeUndefined();
  });
});
