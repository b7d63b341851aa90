import { describe, expect, it } from 'vitest';
import { applyPlatt, fitPlatt } from '../../../src/classify/platt.ts';
import { CLASSIFIER_NAMES, classifierFromJSON, createClassifier } from '../../../src/classify/registry.ts';
import { mulberry32 } from '../../../src/math/random.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { hasCode } from '../../../src/errors.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

describe('Platt scaling', () => {
  it('recovers the sigmoid that generated the labels', () => {
    const rng = mulberry32(9);
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const s = rng() * 6 - 3;
      scores.push(s);
      labels.push(rng() < 1 / (1 + Math.exp(-(2 * s - 1))) ? 1 : 0);
    }
    const platt = fitPlatt(scores, labels);
    expect(platt.a).toBeCloseTo(2, 1);
    expect(platt.b).toBeCloseTo(-1, 1);
    expect(applyPlatt(platt, 0.5)).toBeCloseTo(1 / (1 + Math.exp(-(platt.a * 0.5 + platt.b))), 12);
  });

  it('stays finite on separable scores (Platt targets) and refuses one class', () => {
    const platt = fitPlatt([-2, -1, 1, 2], [0, 0, 1, 1]);
    expect(Number.isFinite(platt.a) && platt.a > 0).toBe(true);
    expect(applyPlatt(platt, 2)).toBeLessThan(1);
    expect(() => fitPlatt([1, 2], [1, 1])).toThrow(/Should hold both classes/);
  });
});

describe('classifier registry', () => {
  const data = syntheticStudy({ subjects: 30, photosPerSubject: 3, dim: 16, signal: 3, seed: 21 });
  const opts = { seed: 3, innerFolds: 3, split: groupedStratifiedKFold, patience: 1 };

  it('round-trips every family through JSON with identical predictions', () => {
    for (const name of CLASSIFIER_NAMES) {
      const model = createClassifier(name).fit(data.X, data.y, data.subjects, opts);
      const restored = classifierFromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      expect(restored.name).toBe(name);
      expect(restored.hyper).toEqual(model.hyper);
      expect(restored.predictProba(data.X)).toEqual(model.predictProba(data.X));
    }
  });

  it('names the allowed set for an unknown classifier and refuses malformed records', () => {
    expect(() => createClassifier('forest')).toThrow('Unsupported classifier: "forest". Should be one of: logistic, svm, centroid.');
    const good = createClassifier('logistic').fit(data.X, data.y, data.subjects, opts).toJSON();
    const bad: unknown[] = [
      null,
      { ...good, kind: 'other' },
      { ...good, version: 2 },
      { ...good, name: 'forest' },
      { ...good, dim: 0 },
      { ...good, params: { ...good.params, weights: [1, 2] } },
      { ...good, params: { ...good.params, bias: 'x' } },
      { ...good, params: { ...good.params, standardiser: { mean: [], scale: [] } } },
      { ...createClassifier('svm').fit(data.X, data.y, data.subjects, opts).toJSON(), params: { ...good.params } },
    ];
    for (const record of bad) {
      let err: unknown;
      try {
        classifierFromJSON(record);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'E_BUNDLE')).toBe(true);
    }
  });
});
