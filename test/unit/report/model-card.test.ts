/**
 * The model card says what explains each block's part of the score, heads a model with no evidence
 * with a statement saying so, and leaves out a top-k that is 1 by construction.
 */
import { describe, expect, it } from 'vitest';
import { loadBundle, type ModelBundle } from '../../../src/classify/bundle.ts';
import type { ClassifierJSON } from '../../../src/classify/types.ts';
import { modelCard } from '../../../src/report/model-card.ts';
import { toyBundle } from '../../support/toy-bundle.ts';

describe('modelCard', () => {
  it("says in the model card what explains each block's part of the score", async () => {
    const bundle = await loadBundle(await toyBundle());
    const plain = modelCard(bundle);
    expect(plain).toMatch(/## Explanations\n- Heat maps/);
    expect(plain).not.toMatch(/geometryRegions/);
    const fused = modelCard({ ...bundle, features: { features: ['embedding', 'geometry'], stacker: { weights: [1, 1], bias: 0 } } as unknown as ModelBundle['features'] });
    expect(fused).toMatch(/Heat maps[^\n]*\n- `geometryRegions`/);
    const geometryOnly = modelCard({ ...bundle, features: { features: ['geometry'], stacker: null } as unknown as ModelBundle['features'] });
    expect(geometryOnly).not.toMatch(/Heat maps/);
    expect(plain).toMatch(/comes from\.\n/);
    const two = modelCard({ ...bundle, backbone: { ...bundle.backbone, second: { name: 'dlib-resnet', dim: 128, weightsSha256: null } } });
    expect(two).toContain("comes from: mobilefacenet's embedding, with dlib-resnet's held at its training mean.");
  });

  it('says what the model reads, and names the backbone\'s weights only when the model reads something the backbone computes', async () => {
    const bundle = await loadBundle(await toyBundle());
    const blocks = (features: string[]) => ({ features, stacker: features.length > 1 ? { weights: features.map(() => 1), bias: 0 } : null }) as unknown as ModelBundle['features'];
    expect(modelCard(bundle)).toContain("Reads: mobilefacenet's face-recognition embedding.\nClassifier: logistic");
    const geometry = modelCard({ ...bundle, features: blocks(['geometry']) });
    expect(geometry).toContain('Reads: face geometry (landmarks and measurements); no face-recognition embedding.\nClassifier: logistic (one block, geometry).\n');
    expect(geometry).not.toMatch(/mobilefacenet/);
    const regions = modelCard({ ...bundle, features: blocks(['geometry', 'regions']) });
    expect(regions).toContain("Reads: face geometry (landmarks and measurements) and mobilefacenet's mid-level maps pooled in facial regions; no face-recognition embedding.");
    expect(regions).toMatch(/Classifier: logistic \(one classifier per block \(geometry \+ regions\), stacked by logistic regression on their logits\); mobilefacenet weights sha256 [0-9a-f]{12}\.\.\.\./);
    const two = modelCard({ ...bundle, features: blocks(['embedding']), backbone: { ...bundle.backbone, second: { name: 'dlib-resnet', dim: 128, weightsSha256: null } } });
    expect(two).toContain("Reads: mobilefacenet's and dlib-resnet's face-recognition embeddings.");
    expect(two).toContain("with dlib-resnet's 128-D embedding beside its own.");
  });

  it('heads the model card with a no-evidence statement when the AUC interval per person reaches 0.5, and only then', async () => {
    const bundle = await loadBundle(await toyBundle());
    const card = (lo: number) => modelCard({ ...bundle, metrics: { ...bundle.metrics, subject: { auc: { value: 0.68, ci95: [lo, 0.83] } } } });
    const weak = card(0.5);
    expect(weak).toContain("> **No evidence: this model has not been shown to tell people with the condition from people without it, as the model's cross-validated AUC per person (0.68, 95% interval 0.5-0.83) reaches 0.5, chance level. Results from it carry no evidence; do not act on them.**");
    // Above the figures, so no one reads the AUC first.
    expect(weak.indexOf('No evidence')).toBeLessThan(weak.indexOf('## Cross-validated performance'));
    expect(card(0.51)).not.toMatch(/No evidence/);
    expect(modelCard(bundle)).not.toMatch(/No evidence/);
  });

  it('leaves out of the model card a top-k that is 1 by construction (k >= classes)', async () => {
    const bundle = await loadBundle(await toyBundle());
    const ranked = (classes: string[], top3: number) => modelCard({ ...bundle, ranking: {
      classes, classifier: { name: 'ranking', params: { family: 'multinomial' } } as unknown as ClassifierJSON,
      metrics: { subject: { top1: { value: 0.7, ci95: [0.6, 0.8] }, top3: { value: top3, ci95: [top3 === 1 ? 1 : 0.8, 1] } }, chance: { uniform: { top1: 1 / classes.length, top3: Math.min(1, 3 / classes.length) } } },
    } });
    const three = ranked(['control', 'noonan', 'vcfs'], 1);
    expect(three).toContain('- Top-1 per person 0.700 (95% CI 0.600-0.800) (a random ranking: 0.333)\n');
    expect(three).not.toMatch(/top-3/i);
    const four = ranked(['control', 'noonan', 'vcfs', 'williams'], 0.9);
    expect(four).toContain('- Top-1 per person 0.700 (95% CI 0.600-0.800), top-3 0.900 (95% CI 0.800-1.000) (a random ranking: 0.250 and 0.750)\n');
  });
});
