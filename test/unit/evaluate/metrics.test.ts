import { describe, expect, it } from 'vitest';
import {
  auc,
  brier,
  calibrationBins,
  confusion,
  fuseBySubject,
  logLoss,
  predictiveValues,
  rates,
  rocCurve,
  tprAtFpr,
  youdenThreshold,
} from '../../../src/evaluate/metrics.ts';
import { hasCode } from '../../../src/errors.ts';

/** AUC by brute force over all positive/negative pairs, ties 1/2: the definition itself. */
function pairwiseAuc(scores: number[], labels: number[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = 0; j < scores.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      sum += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return sum / pairs;
}

describe('auc', () => {
  it('matches hand-computed values without and with ties', () => {
    // pairs (pos, neg): (0.35, 0.1) 1, (0.35, 0.4) 0, (0.8, 0.1) 1, (0.8, 0.4) 1 -> 3/4
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    // pos {0.5, 0.8}, neg {0.5, 0.2}: (0.5,0.5) 1/2, (0.5,0.2) 1, (0.8,*) 1+1 -> 3.5/4
    expect(auc([0.5, 0.5, 0.2, 0.8], [1, 0, 0, 1])).toBe(0.875);
    // all tied: 1/2
    expect(auc([0.3, 0.3, 0.3], [1, 0, 1])).toBe(0.5);
    expect(auc([0.9, 0.1], [0, 1])).toBe(0);
  });

  it('treats a weight of 2 as the row counted twice', () => {
    // pos 0.5 (w 2): vs neg 0.5 -> 2 * 1/2, vs 0.2 -> 2; pos 0.8: 2 -> 5 / (3 * 2)
    expect(auc([0.5, 0.5, 0.2, 0.8], [1, 0, 0, 1], [2, 1, 1, 1])).toBeCloseTo(5 / 6, 12);
    expect(auc([0.5, 0.5, 0.2, 0.8, 0.5], [1, 0, 0, 1, 1])).toBeCloseTo(5 / 6, 12);
  });

  it('agrees with the pairwise definition on random tied data', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(rand() * 40);
      const scores = Array.from({ length: n }, () => Math.round(rand() * 6) / 6);
      const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rand() < 0.4 ? 1 : 0));
      expect(auc(scores, labels)).toBeCloseTo(pairwiseAuc(scores, labels), 12);
    }
  });

  it('is null when a class is missing', () => {
    expect(auc([0.1, 0.2], [1, 1])).toBeNull();
    expect(rocCurve([0.1, 0.2], [0, 0])).toBeNull();
  });
});

describe('rocCurve and tprAtFpr', () => {
  it('draws one diagonal step for tied scores and has the AUC as its area', () => {
    const roc = rocCurve([0.5, 0.5, 0.2, 0.8], [1, 0, 0, 1])!;
    expect(roc.fpr).toEqual([0, 0, 0.5, 1]);
    expect(roc.tpr).toEqual([0, 0.5, 1, 1]);
    expect(roc.thresholds).toEqual([Infinity, 0.8, 0.5, 0.2]);
    let area = 0;
    for (let j = 1; j < roc.fpr.length; j++) area += ((roc.fpr[j] - roc.fpr[j - 1]) * (roc.tpr[j] + roc.tpr[j - 1])) / 2;
    expect(area).toBeCloseTo(0.875, 12);
    // at FPR 0 the curve has already climbed to 0.5; half-way along the tied step at 0.25
    expect([...tprAtFpr(roc, [0, 0.25, 0.5, 1])]).toEqual([0.5, 0.75, 1, 1]);
  });
});

describe('thresholded metrics', () => {
  it('counts a confusion matrix with per-row thresholds and weights', () => {
    const c = confusion([0.9, 0.4, 0.6, 0.1], [1, 1, 0, 0], [0.5, 0.3, 0.7, 0.5], [1, 2, 1, 3]);
    expect(c).toEqual({ tp: 3, fn: 0, fp: 0, tn: 4 });
    const r = rates(confusion([0.9, 0.4, 0.6, 0.1], [1, 1, 0, 0], 0.5));
    expect(r).toEqual({ accuracy: 0.5, balancedAccuracy: 0.5, sensitivity: 0.5, specificity: 0.5 });
    expect(rates({ tp: 2, fn: 0, fp: 0, tn: 0 }).specificity).toBeNull();
  });

  it('gives PPV and NPV at a prevalence by Bayes rule', () => {
    const { ppv, npv } = predictiveValues(0.9, 0.9, 1 / 4000);
    expect(ppv).toBeCloseTo(0.000225 / (0.000225 + 0.1 * 0.99975), 12);
    expect(npv).toBeCloseTo(0.899775 / (0.899775 + 0.000025), 12);
    // at prevalence 1/2 with sens = spec, PPV = sens
    expect(predictiveValues(0.8, 0.8, 0.5).ppv).toBeCloseTo(0.8, 12);
    expect(() => predictiveValues(0.8, 0.8, 0)).toThrow(/prevalence: 0/);
  });

  it('places the Youden threshold between scores, preferring the higher one on ties', () => {
    // J by threshold: 0.7 -> 1/3, 0.6 -> 2/3, 0.4 -> 1/3, 0.3 -> 2/3 (tie, not taken) ...
    expect(youdenThreshold([0.1, 0.2, 0.3, 0.4, 0.6, 0.7], [0, 0, 1, 0, 1, 1])).toBeCloseTo(0.5, 12);
    // perfect separation: between the classes
    expect(youdenThreshold([0.2, 0.9, 0.3, 0.8], [0, 1, 0, 1])).toBeCloseTo(0.55, 12);
    let err: unknown;
    try {
      youdenThreshold([0.2, 0.3], [1, 1]);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INPUT')).toBe(true);
  });
});

describe('probability scores', () => {
  it('computes Brier and log-loss', () => {
    expect(brier([0.9, 0.2], [1, 0])).toBeCloseTo(0.025, 12);
    expect(brier([0.9, 0.2], [1, 0], [3, 1])).toBeCloseTo((3 * 0.01 + 0.04) / 4, 12);
    expect(logLoss([0.5, 0.5], [1, 0])).toBeCloseTo(Math.LN2, 12);
  });

  it('bins a reliability curve', () => {
    const bins = calibrationBins([0.05, 0.15, 0.12, 0.95, 1], [0, 1, 0, 1, 1], 10);
    expect(bins.map((b) => b.count)).toEqual([1, 2, 2]);
    expect(bins[1].meanPredicted).toBeCloseTo(0.135, 12);
    expect(bins[1].observedRate).toBe(0.5);
    expect(bins[2].lower).toBe(0.9);
    expect(bins[2].observedRate).toBe(1);
    expect(bins.map((b) => b.positives)).toEqual([0, 1, 2]);
    // Wilson 95% intervals (z = 1.96), by hand: 1 of 2 -> 0.0945-0.9055; 2 of 2 -> 0.3424-1, not certainty.
    expect(bins[1].ci95![0]).toBeCloseTo(0.094531, 5);
    expect(bins[1].ci95![1]).toBeCloseTo(0.905469, 5);
    expect(bins[2].ci95![0]).toBeCloseTo(0.342380, 5);
    expect(bins[2].ci95![1]).toBe(1);
  });

  it('fuses photos to subjects by their mean probability', () => {
    const fused = fuseBySubject([0.2, 0.9, 0.4], [0, 1, 0], ['a', 'b', 'a']);
    expect(fused.subjects).toEqual(['a', 'b']);
    expect(fused.probability[0]).toBeCloseTo(0.3, 12);
    expect([...fused.label]).toEqual([0, 1]);
    expect([...fused.photos]).toEqual([2, 1]);
    expect(() => fuseBySubject([0.2, 0.4], [0, 1], ['a', 'a'])).toThrow(/Subject "a" has two labels/);
  });
});

describe('summariseScores (the bootstrap fast path)', () => {
  it('equals auc, rocCurve + tprAtFpr, confusion and brier under subject weights with ties', async () => {
    const { summariseScores, ascendingOrder, confusion: conf } = await import('../../../src/evaluate/metrics.ts');
    let seed = 11;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const grid = Float64Array.from({ length: 21 }, (_, g) => g / 20);
    for (let trial = 0; trial < 30; trial++) {
      const n = 6 + Math.floor(rand() * 50);
      const subjects = 2 + Math.floor(rand() * 10);
      const score = Float64Array.from({ length: n }, () => Math.round(rand() * 8) / 8);
      const subject = Int32Array.from({ length: n }, () => Math.floor(rand() * subjects));
      const subjectLabel = Array.from({ length: subjects }, (_, s) => (s < 2 ? s : rand() < 0.5 ? 1 : 0));
      const label = Uint8Array.from(subject, (s) => subjectLabel[s]);
      const threshold = Float64Array.from({ length: n }, () => 0.25 + rand() * 0.5);
      const sw = Float64Array.from({ length: subjects }, () => Math.floor(rand() * 3));
      const w = Float64Array.from(subject, (s) => sw[s]);
      const desc = ascendingOrder(score).reverse();
      const sorted = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => a.map((_, k) => a[desc[k]]) as T;
      const got = summariseScores(sorted(score), sorted(label), sorted(threshold), sorted(subject), sw, grid);
      const expectedAuc = auc(score, label, w);
      expect(got.auc === null).toBe(expectedAuc === null);
      if (expectedAuc !== null) expect(got.auc).toBeCloseTo(expectedAuc, 12);
      const roc = rocCurve(score, label, w);
      if (roc) [...tprAtFpr(roc, grid)].forEach((t, g) => expect(got.tpr![g]).toBeCloseTo(t, 12));
      else expect(got.tpr).toBeNull();
      const c = conf(score, label, threshold, w);
      expect(got.confusion.tp).toBeCloseTo(c.tp, 12);
      expect(got.confusion.fp).toBeCloseTo(c.fp, 12);
      expect(got.confusion.tn).toBeCloseTo(c.tn, 12);
      expect(got.confusion.fn).toBeCloseTo(c.fn, 12);
      const b = brier(score, label, w);
      if (b === null) expect(got.brier).toBeNull();
      else expect(got.brier).toBeCloseTo(b, 12);
    }
  });
});
