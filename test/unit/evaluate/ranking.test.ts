import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../../src/evaluate/metrics.ts';
import { crossValidateRanking, fuseRanks, informativeTopK, rankingMetrics, rankOf, topClass, type RankPrediction } from '../../../src/evaluate/ranking.ts';
import { groupedClassKFold } from '../../../src/evaluate/splits.ts';
import { rankingEmbeddings } from './ranking-embeddings.ts';

const p = (...v: number[]) => Float64Array.from(v);

describe('rank of the true class', () => {
  it('counts the classes above it, ties going to the lower class index', () => {
    expect(rankOf([0.2, 0.5, 0.3], 1)).toBe(1);
    expect(rankOf([0.2, 0.5, 0.3], 2)).toBe(2);
    expect(rankOf([0.2, 0.5, 0.3], 0)).toBe(3);
    expect(rankOf([0.4, 0.4, 0.2], 1)).toBe(2);
    expect(rankOf([0.4, 0.4, 0.2], 0)).toBe(1);
    expect(topClass([0.4, 0.4, 0.2])).toBe(0);
    expect(topClass([0.1, 0.3, 0.6])).toBe(2);
  });

  it("fuses a person's photos by the mean log-probability", () => {
    const fused = fuseRanks([p(0.5, 0.25, 0.25), p(0.125, 0.5, 0.375), p(0.2, 0.3, 0.5)], ['a', 'a', 'b']);
    // Geometric means: (√(1/16), √(1/8), √(3/32)), renormalised.
    const g = [0.25, Math.sqrt(1 / 8), Math.sqrt(3 / 32)];
    const s = g[0] + g[1] + g[2];
    fused.get('a')!.forEach((v, k) => expect(v).toBeCloseTo(g[k] / s, 12));
    fused.get('b')!.forEach((v, k) => expect(v).toBeCloseTo([0.2, 0.3, 0.5][k], 12));
  });
});

describe('rankingMetrics by hand', () => {
  // Three classes x, y, z; four subjects; one repeat. Photos' probabilities chosen so the ranks are known.
  const row = (path: string, subject: string, label: number, probs: Float64Array, fused: Float64Array): RankPrediction => ({ path, subject, label, repeat: 0, fold: 0, probabilities: probs, subjectProbabilities: fused });
  const preds = [
    row('1', 's1', 0, p(0.7, 0.2, 0.1), p(0.6, 0.3, 0.1)), // rank 1
    row('2', 's1', 0, p(0.3, 0.6, 0.1), p(0.6, 0.3, 0.1)), // rank 2
    row('3', 's2', 1, p(0.1, 0.3, 0.6), p(0.1, 0.3, 0.6)), // rank 2
    row('4', 's3', 2, p(0.5, 0.3, 0.2), p(0.5, 0.3, 0.2)), // rank 3
    row('5', 's4', 1, p(0.2, 0.7, 0.1), p(0.2, 0.7, 0.1)), // rank 1
  ];
  const m = rankingMetrics(preds, ['x', 'y', 'z'], [['s1'], ['s2', 's4'], ['s3']], 0, 1);

  it('gives top-k per photo and per person', () => {
    expect(m.photo.top1.value).toBeCloseTo(2 / 5, 12);
    expect(m.photo.top3.value).toBe(1);
    expect(m.subject.top1.value).toBeCloseTo(2 / 4, 12); // s1 and s4
    // No bootstrap, no interval (only a bootstrap interval is widened, as in the binary metrics);
    // top-3 of three classes is 1 by construction and gets none either way.
    expect(m.photo.top1.ci95).toBeNull();
    expect(m.photo.top3.ci95).toBeNull();
    expect(m.perClass.y.photo.auc.ci95).toBeNull();
    expect(m.curve.photo).toEqual([0.4, 0.8, 1]);
    expect(m.curve.subject).toEqual([0.5, 0.75, 1]);
  });

  it('gives each class its support, sensitivity, specificity and one-vs-rest AUC', () => {
    expect(m.perClass.y.support).toEqual({ subjects: 2, photos: 2 });
    // y photos: 3 (predicted z), 5 (predicted y) -> sensitivity 1/2; others 1, 2, 4 predicted x, y, x -> specificity 2/3.
    expect(m.perClass.y.photo.sensitivity.value).toBeCloseTo(0.5, 12);
    expect(m.perClass.y.photo.specificity.value).toBeCloseTo(2 / 3, 12);
    // P(y): positives 0.3, 0.7; negatives 0.2, 0.6, 0.3 -> pairs won 0.3>0.2, tie 0.3=0.3 (½), 0.7>all three -> (1 + 0.5 + 3)/6.
    expect(m.perClass.y.photo.auc.value).toBeCloseTo(4.5 / 6, 12);
    expect(m.confusion.photo).toEqual([[1, 1, 0], [0, 1, 1], [1, 0, 0]]);
  });

  it('states chance: k / classes and the majority class', () => {
    expect(m.chance.uniform).toEqual({ top1: 1 / 3, top3: 1, top5: 1, top10: 1 });
    // x and y have two photos each: the tie goes to the first class.
    expect(m.chance.majority).toEqual({ class: 'y', photo: 2 / 5, subject: 2 / 4, photoClass: 'x' });
  });

  it('bootstraps subjects within classes: intervals contain the estimate', () => {
    const b = rankingMetrics(preds, ['x', 'y', 'z'], [['s1'], ['s2', 's4'], ['s3']], 200, 1);
    const [lo, hi] = b.photo.top1.ci95!;
    expect(lo).toBeLessThanOrEqual(0.4);
    expect(hi).toBeGreaterThanOrEqual(0.4);
  });
});

describe('rankingMetrics: a rate of 0 or 1', () => {
  // Three classes of three people with two photos each, every photo and person ranked right in
  // repeat 0; in repeat 1 one photo of a1 is ranked b.
  const labels = ['a', 'b', 'c'];
  const strata = labels.map((l) => [1, 2, 3].map((n) => `${l}${n}`));
  const right = (k: number) => p(...labels.map((_, j) => (j === k ? 0.8 : 0.1)));
  const preds = (repeats: number): RankPrediction[] => strata.flatMap((subjects, k) => subjects.flatMap((subject) => [0, 1].flatMap((photo) => Array.from({ length: repeats }, (_, repeat) => {
    const wrong = repeat === 1 && subject === 'a1' && photo === 0;
    return { path: `${subject}/${photo}`, subject, label: k, repeat, fold: 0, probabilities: wrong ? right(1) : right(k), subjectProbabilities: right(k) };
  }))));
  const m = rankingMetrics(preds(1), labels, strata, 200, 1);

  it("keeps an interval below 1 for a sensitivity, specificity or top-1 of 1: Wilson's on the counts", () => {
    expect(m.perClass.a.subject.sensitivity).toEqual({ value: 1, ci95: wilsonInterval(3, 3) });
    expect(m.perClass.a.subject.specificity).toEqual({ value: 1, ci95: wilsonInterval(6, 6) });
    expect(m.perClass.c.photo.sensitivity).toEqual({ value: 1, ci95: wilsonInterval(6, 6) });
    expect(m.perClass.c.photo.specificity).toEqual({ value: 1, ci95: wilsonInterval(12, 12) });
    expect(m.subject.top1).toEqual({ value: 1, ci95: wilsonInterval(9, 9) });
    expect(m.photo.top1).toEqual({ value: 1, ci95: wilsonInterval(18, 18) });
    expect(m.subject.top1.ci95![0]).toBeLessThan(0.8);
  });

  it('leaves a top-k of k >= classes, 1 by construction, and an AUC their bootstrap intervals', () => {
    for (const k of ['top3', 'top5', 'top10'] as const) expect(m.subject[k]).toEqual({ value: 1, ci95: [1, 1] });
    expect(m.perClass.a.subject.auc).toEqual({ value: 1, ci95: [1, 1] });
  });

  it('widens by the counts averaged over repeats', () => {
    const two = rankingMetrics(preds(2), labels, strata, 200, 1);
    expect(two.photo.top1.value).toBeCloseTo((1 + 17 / 18) / 2, 12);
    const w = wilsonInterval(17.5, 18)!;
    expect(two.photo.top1.ci95![0]).toBeLessThanOrEqual(w[0]);
    expect(two.photo.top1.ci95![1]).toBe(1);
    const sensitivity = wilsonInterval(5.5, 6)!;
    expect(two.perClass.a.photo.sensitivity.ci95![0]).toBeLessThanOrEqual(sensitivity[0]);
  });
});

describe('rankingMetrics: the majority class', () => {
  it('is, per photo, the class with the most photos, and per person the class with the most people', () => {
    // control 24 people x 1 photo, vcfs 12 x 3, other 12 x 6: most people are controls, most photos are "other".
    const labels = ['control', 'vcfs', 'other'];
    const sizes = [[24, 1], [12, 3], [12, 6]];
    const strata = sizes.map(([people], k) => Array.from({ length: people }, (_, i) => `${labels[k]}${i}`));
    const preds: RankPrediction[] = strata.flatMap((subjects, k) => subjects.flatMap((subject) => Array.from({ length: sizes[k][1] }, (_, photo) => ({
      path: `${subject}/${photo}`, subject, label: k, repeat: 0, fold: 0, probabilities: p(0.5, 0.3, 0.2), subjectProbabilities: p(0.5, 0.3, 0.2),
    }))));
    const m = rankingMetrics(preds, labels, strata, 0, 1);
    expect(m.chance.majority.class).toBe('control');
    expect(m.chance.majority.subject).toBeCloseTo(24 / 48, 12);
    expect(m.chance.majority.photoClass).toBe('other');
    expect(m.chance.majority.photo).toBeCloseTo(72 / 132, 12);
  });
});

describe('informativeTopK', () => {
  it('keeps top-1 and each k below the number of classes', () => {
    expect(informativeTopK(3)).toEqual([1]);
    expect(informativeTopK(4)).toEqual([1, 3]);
    expect(informativeTopK(10)).toEqual([1, 3, 5]);
    expect(informativeTopK(11)).toEqual([1, 3, 5, 10]);
  });
});

describe('groupedClassKFold', () => {
  it('keeps subjects whole and spreads every class over the folds', () => {
    const d = rankingEmbeddings({ labels: ['a', 'b', 'c'], subjectsPerClass: 7, photos: 2, dim: 4, signal: 0, seed: 1 });
    const folds = groupedClassKFold(d.classes, d.subjects, 3, 5);
    const seen = new Map<string, number>();
    folds.forEach((f, k) => {
      for (const i of f.test) {
        expect(seen.get(d.subjects[i]) ?? k).toBe(k);
        seen.set(d.subjects[i], k);
      }
      for (let c = 0; c < 3; c++) {
        const n = new Set(f.test.filter((i) => d.classes[i] === c).map((i) => d.subjects[i])).size;
        expect([2, 3]).toContain(n);
      }
    });
    expect(seen.size).toBe(21);
  });
});

describe('crossValidateRanking', () => {
  it('finds planted classes far above chance, and nothing without a signal', () => {
    const labels = ['a', 'b', 'c'];
    const run = (signal: number) => crossValidateRanking({ ...rankingEmbeddings({ labels, subjectsPerClass: 10, photos: 2, dim: 16, signal, seed: 2 }), folds: 3, repeats: 2, bootstrap: 100, seed: 1, classifier: 'gallery' });
    const found = run(6);
    expect(found.predictions).toHaveLength(120);
    expect(found.metrics.subject.top1.value).toBeGreaterThan(0.8);
    expect(found.metrics.subject.top1.ci95![0]).toBeGreaterThan(1 / 3);
    const none = run(0);
    expect(none.metrics.subject.top1.ci95![0]).toBeLessThan(1 / 3 + 0.05);
    expect(none.metrics.subject.top1.value).toBeLessThan(0.6);
  });

  it('needs two subjects per class', () => {
    const d = rankingEmbeddings({ labels: ['a', 'b', 'c'], subjectsPerClass: 3, photos: 1, dim: 4, signal: 1, seed: 2 });
    const keep = d.X.map((_, i) => i).filter((i) => d.subjects[i] !== 'c-1' && d.subjects[i] !== 'c-2');
    const pick = <T,>(a: T[]) => keep.map((i) => a[i]);
    expect(() => crossValidateRanking({ X: pick(d.X), classes: pick(d.classes), labels: d.labels, subjects: pick(d.subjects), photoIds: pick(d.photoIds), folds: 2 })).toThrow(/"c" \(1 subject\) has fewer than 2 subjects/);
  });
});
