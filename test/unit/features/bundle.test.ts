import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle, saveBundle, weightsId, INTENDED_USE, STANDARD_LIMITATIONS } from '../../../src/classify/bundle.ts';
import { trainFinal } from '../../../src/evaluate/crossval.ts';
import { embeddingOnlyModel, FittedFeatureModel, type PhotoInputs } from '../../../src/features/index.ts';
import { loadManifest } from '../../../src/runtime/index.ts';
import { toyBundle } from '../../support/toy-bundle.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

/** Planted 192-D embeddings with region maps that carry the label in one region's columns. */
function study() {
  const d = syntheticStudy({ subjects: 24, photosPerSubject: 2, dim: 192, signal: 2, seed: 21 });
  const inputs: PhotoInputs[] = d.X.map((embedding, i) => ({ embedding, regionMaps: Float32Array.from({ length: 64 }, (_, a) => Math.sin(i * 7.3 + a * 1.7) + (a < 8 ? 1.2 * d.y[i] : 0)) }));
  return { ...d, inputs };
}

describe('a bundle with feature blocks', () => {
  it('round-trips: the loaded feature model scores every photo as the study\'s final model', async () => {
    const d = study();
    const final = trainFinal({ ...d, seed: 2, features: ['embedding', 'regions'] });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'feature-bundle-'));
    const features = final.features!.toJSON();
    await saveBundle(dir, {
      createdAt: '2026-01-01T00:00:00Z', phenofaceVersion: '0.0.0', positive: 'vcfs', negative: 'control',
      classifier: features.classifiers[0] as never, features, thresholds: final.thresholds,
      backbone: { name: 'mobilefacenet', dim: 192, weightsSha256: weightsId(loadManifest().models.mobilefacenet) },
      pipeline: { version: 'test', config: {} },
      training: { summary: {}, datasetHash: 'x'.repeat(64), photosUsed: d.X.length, subjectsUsed: 24, warnings: [] },
      metrics: { subject: {}, photo: {}, byView: {} }, intendedUse: INTENDED_USE, limitations: [...STANDARD_LIMITATIONS],
    });
    const loaded = await loadBundle(dir);
    // v2, so a reader of v1 bundles refuses it rather than score with the first block alone.
    expect(loaded.formatVersion).toBe(2);
    const model = FittedFeatureModel.fromJSON(loaded.features);
    expect(model.features).toEqual(['embedding', 'regions']);
    const want = final.features!.predictProba(d.inputs);
    model.predictProba(d.inputs).forEach((p, i) => expect(p).toBeCloseTo(want[i], 6));
  });

  it('an older bundle without feature blocks still loads and scores with its classifier on the embedding', async () => {
    const loaded = await loadBundle(await toyBundle());
    expect(loaded.features).toBeUndefined();
    expect(loaded.formatVersion).toBe(1);
    const d = syntheticStudy({ subjects: 6, photosPerSubject: 2, dim: 192, signal: 2, seed: 3 });
    expect(embeddingOnlyModel(loaded.model).predictProba(d.X.map((embedding) => ({ embedding })))).toEqual(loaded.model.predictProba(d.X));
  });
});
