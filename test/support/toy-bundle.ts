/** A small real model bundle for screening tests: a logistic classifier on planted 192-D embeddings, for MobileFaceNet. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { saveBundle, weightsId, INTENDED_USE, STANDARD_LIMITATIONS, type BundleMetrics, type ModelBundle } from '../../src/classify/bundle.ts';
import { createClassifier } from '../../src/classify/index.ts';
import { groupedStratifiedKFold } from '../../src/evaluate/splits.ts';
import { loadManifest } from '../../src/runtime/index.ts';
import { syntheticStudy } from '../unit/evaluate/synthetic-embeddings.ts';

/**
 * Writes the bundle to a new temporary folder and returns the folder; `metrics` as a study would
 * save them. `direction` replaces the classifier's weights: a logistic model on raw embeddings whose
 * decision is `weights · x + bias`. `ranking` makes it a ranking bundle.
 */
export async function toyBundle(metrics: BundleMetrics = { subject: {}, photo: {}, byView: {} }, thresholds = { photo: 0.5, subject: 0.5 }, direction?: { weights: number[]; bias: number }, ranking?: ModelBundle['ranking']): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'toy-bundle-'));
  const d = syntheticStudy({ subjects: 20, photosPerSubject: 2, dim: 192, signal: 3, seed: 2 });
  const model = createClassifier('logistic', { grid: [1] }).fit(d.X, d.y, d.subjects, { seed: 1, innerFolds: 3, split: groupedStratifiedKFold, grid: [1] });
  const json = model.toJSON();
  const classifier = direction
    ? { ...json, params: { ...json.params, standardiser: { mean: new Array(192).fill(0), scale: new Array(192).fill(1), unit: false }, weights: direction.weights, bias: direction.bias } }
    : json;
  await saveBundle(dir, {
    createdAt: '2026-01-01T00:00:00Z', phenofaceVersion: '0.0.0', positive: 'vcfs', negative: 'control',
    classifier, thresholds,
    backbone: { name: 'mobilefacenet', dim: 192, weightsSha256: weightsId(loadManifest().models.mobilefacenet) },
    pipeline: { version: 'test', config: {} },
    training: { summary: {}, datasetHash: 'x'.repeat(64), photosUsed: 40, subjectsUsed: 20, warnings: [] },
    metrics, intendedUse: INTENDED_USE, limitations: [...STANDARD_LIMITATIONS],
    ...(ranking ? { ranking } : {}),
  });
  return dir;
}
