import { describe, expect, it } from 'vitest';
import { FittedCentroid, fitCentroidPacked } from '../../../src/classify/centroid.ts';
import { Standardiser, type Packed } from '../../../src/classify/linalg.ts';
import { createClassifier } from '../../../src/classify/registry.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { auc } from '../../../src/evaluate/metrics.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

const packed = (rows: number[][]): Packed => ({ n: rows.length, d: rows[0].length, rows: Float64Array.from(rows.flat()) });

describe('cosine centroid / nearest-neighbour scores', () => {
  // subjects: A (pos, two photos at (1,0)), B (pos, (0.6,0.8)), C (neg, (-1,0)), D (neg, (0,-1))
  const gallery = packed([[1, 0], [1, 0], [0.6, 0.8], [-1, 0], [0, -1]]);
  const y = [1, 1, 1, 0, 0];
  const groups = ['A', 'A', 'B', 'C', 'D'];
  const query = packed([[0, 1]]);
  /** The fitted classifier's score of the query, with an identity standardiser (rows are already unit). */
  const score = (k: number, rows = gallery, labels = y, g = groups) => {
    const model = fitCentroidPacked(rows, labels, g, k);
    const identity = new Standardiser(new Float64Array(2), new Float64Array([1, 1]), true);
    const decision = new FittedCentroid(identity, model, { a: 1, b: 0 }).decision([Float32Array.from(query.rows)])[0];
    expect(decision).toBeCloseTo(createScoreOf(model)(query), 6);
    return decision;
  };
  /** The rule written out: mean of the k best similarities per class, positive minus negative. */
  function createScoreOf(model: ReturnType<typeof fitCentroidPacked>) {
    return (q: Packed) => {
      const sims = Array.from(model.labels, (label, s) => ({ label, sim: q.rows[0] * model.vectors[s * 2] + q.rows[1] * model.vectors[s * 2 + 1] }));
      const top = (label: number) => sims.filter((s) => s.label === label).map((s) => s.sim).sort((a, b) => b - a).slice(0, Math.max(1, model.k));
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      return mean(top(1)) - mean(top(0));
    };
  }

  it('builds one gallery entry per subject and one centroid per class', () => {
    const knn = fitCentroidPacked(gallery, y, groups, 1);
    expect(knn.labels.length).toBe(4);
    expect([...knn.vectors.subarray(0, 2)]).toEqual([1, 0]); // A's two photos make one unit vector
    const centroid = fitCentroidPacked(gallery, y, groups, 0);
    expect(centroid.labels.length).toBe(2);
    const pos = [...centroid.vectors.subarray(0, 2)];
    expect(pos[0]).toBeCloseTo(1.6 / Math.hypot(1.6, 0.8), 12);
    expect(pos[1]).toBeCloseTo(0.8 / Math.hypot(1.6, 0.8), 12);
  });

  it('scores by hand: k = 1, k = 2, centroids', () => {
    expect(score(1)).toBeCloseTo(0.8 - 0, 6); // best positive B (0.8), best negative C (0)
    expect(score(2)).toBeCloseTo((0 + 0.8) / 2 - (0 + -1) / 2, 6);
    expect(score(0)).toBeCloseTo(0.8 / Math.hypot(1.6, 0.8) + Math.SQRT1_2, 6);
    // a third photo of A changes nothing: a subject counts once
    const more = packed([[1, 0], [1, 0], [1, 0], [0.6, 0.8], [-1, 0], [0, -1]]);
    expect(score(2, more, [1, 1, 1, 1, 0, 0], ['A', 'A', 'A', 'B', 'C', 'D'])).toBeCloseTo(score(2), 6);
  });

  it('the fitted classifier applies the same rule on its gallery and separates planted signal', () => {
    const data = syntheticStudy({ subjects: 80, photosPerSubject: 4, dim: 32, signal: 4, seed: 13 });
    const [fold] = groupedStratifiedKFold(data.y, data.subjects, 4, 1);
    const pick = <T>(a: T[], rows: number[]) => rows.map((i) => a[i]);
    const model = createClassifier('centroid').fit(pick(data.X, fold.train), pick(data.y, fold.train), pick(data.subjects, fold.train), {
      seed: 2,
      innerFolds: 3,
      split: groupedStratifiedKFold,
      patience: 1,
    }) as import('../../../src/classify/centroid.ts').FittedCentroid;
    const test = pick(data.X, fold.test);
    const decision = model.decision(test);
    const unit = model.standardiser.pack(test, test.map((_, i) => i));
    // the top-k rule, recomputed on the real gallery for the first rows
    for (let r = 0; r < 3; r++) {
      const u = unit.rows.subarray(r * unit.d, (r + 1) * unit.d);
      const sims = Array.from(model.model.labels, (label, s) => ({ label, sim: u.reduce((acc, v, a) => acc + v * model.model.vectors[s * unit.d + a], 0) }));
      const k = Math.max(1, model.model.k);
      const top = (label: number) => sims.filter((s) => s.label === label).map((s) => s.sim).sort((a, b) => b - a).slice(0, k);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      expect(decision[r]).toBeCloseTo(mean(top(1)) - mean(top(0)), 10);
    }
    expect(auc(model.predictProba(test), pick(data.y, fold.test))!).toBeGreaterThan(0.75);
  });
});
