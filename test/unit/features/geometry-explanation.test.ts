/**
 * The geometry part of a feature model as an explanation: each region's contribution to the
 * model's logit, which must add up to the part's logit less its value at the training-mean face.
 */
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/index.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { fitFeatureModel, geometryExplanation, type FittedFeatureModel, type PhotoInputs } from '../../../src/features/index.ts';
import { plantedNoseStudy } from './faces.ts';

const fit = { seed: 1, innerFolds: 3, split: groupedStratifiedKFold, patience: 1 };
const logit = (p: number) => Math.log(p / (1 - p));

/** Each row's sum of region contributions, and what it must equal: the part's logit less the mean face's. */
function sums(model: FittedFeatureModel, rows: readonly PhotoInputs[]) {
  const k = model.features.indexOf('geometry');
  const explain = geometryExplanation(model)!;
  const { block, classifier } = model.parts[k];
  const weight = model.stacker ? model.stacker.weights[k] : 1;
  const atMean = logit(classifier.predictProba([new Float32Array(block.dim)])[0]);
  const probs = model.blockProbabilities(rows)[k];
  return rows.map((row, i) => ({
    total: explain(row)!.reduce((s, r) => s + r.contribution, 0),
    expected: weight * (logit(probs[i]) - atMean),
  }));
}

describe('geometryExplanation', () => {
  const d = plantedNoseStudy();

  it.each(['logistic', 'svm'])('sums to the geometry part of the logit less its value at the mean face (%s, stacked with the embedding)', (name) => {
    const { model } = fitFeatureModel(d.rows, d.y, d.subjects, createClassifier(name), { ...fit, request: ['embedding', 'geometry'], available: ['embedding', 'geometry'] });
    const k = model.features.indexOf('geometry');
    expect(model.stacker!.weights[k]).toBeGreaterThan(0);
    const rows = [d.rows[0], d.rows[4], d.rows[50], d.rows[95]];
    for (const { total, expected } of sums(model, rows)) {
      expect(Math.abs(expected)).toBeGreaterThan(1e-3);
      expect(total).toBeCloseTo(expected, 6);
    }
  });

  it('for a geometry-only model, the sum is the whole logit less the mean face\'s, and the nose leads on a planted nose', () => {
    const { model } = fitFeatureModel(d.rows, d.y, d.subjects, createClassifier('logistic'), { ...fit, request: ['geometry'], available: ['embedding', 'geometry'] });
    expect(model.stacker).toBeNull();
    const explain = geometryExplanation(model)!;
    const atMean = logit(model.parts[0].classifier.predictProba([new Float32Array(model.parts[0].block.dim)])[0]);
    const positives = d.rows.filter((_, i) => d.y[i] === 1);
    positives.slice(0, 3).forEach((row) => {
      const total = explain(row)!.reduce((s, r) => s + r.contribution, 0);
      expect(total).toBeCloseTo(logit(model.predictProba([row])[0]) - atMean, 6);
    });
    const noseFirst = positives.filter((row) => [...explain(row)!].sort((a, b) => b.contribution - a.contribution)[0].region === 'perinasal').length;
    expect(noseFirst / positives.length).toBeGreaterThan(0.5);
  });

  it('is undefined without a geometry part or with a classifier that is not linear, and for a photo the block imputes', () => {
    const embeddingOnly = fitFeatureModel(d.rows, d.y, d.subjects, createClassifier('logistic'), { ...fit, request: ['embedding'], available: ['embedding', 'geometry'] }).model;
    expect(geometryExplanation(embeddingOnly)).toBeUndefined();
    const centroid = fitFeatureModel(d.rows, d.y, d.subjects, createClassifier('centroid'), { ...fit, request: ['geometry'], available: ['embedding', 'geometry'] }).model;
    expect(geometryExplanation(centroid)).toBeUndefined();
    const { model } = fitFeatureModel(d.rows, d.y, d.subjects, createClassifier('logistic'), { ...fit, request: ['geometry'], available: ['embedding', 'geometry'] });
    const explain = geometryExplanation(model)!;
    expect(explain({ embedding: d.rows[0].embedding })).toBeUndefined();
    expect(explain({ ...d.rows[0], view: 'profile' })).toBeUndefined();
  });
});
