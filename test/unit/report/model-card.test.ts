/**
 * The model card says what explains each block's part of the score (and when the study's checks of
 * its heat maps failed, and what the explanation reference beside it holds), heads a model with no evidence
 * with a statement saying so, leaves out a top-k that is 1 by construction, and states each
 * cross-validated figure as the report does: per person and per photo, with its interval, the
 * PPV and NPV at the study's prevalence, and the permutation test.
 */
import { describe, expect, it } from 'vitest';
import { loadBundle, type ModelBundle } from '../../../src/classify/bundle.ts';
import type { ClassifierJSON } from '../../../src/classify/types.ts';
import { boundPredictiveNote } from '../../../src/evaluate/post-test.ts';
import { modelCard, type CardStudy } from '../../../src/report/model-card.ts';
import { heatMapChecksNote } from '../../../src/explain/heat-scale.ts';
import { referenceCardNote } from '../../../src/explain/reference.ts';
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

  it("says, before its limitations, when the study's checks of the heat maps failed, and what the explanation reference holds", async () => {
    const bundle = await loadBundle(await toyBundle());
    const scale = { backbone: 'mobilefacenet', cam: 'contrastive', top: 1, percentile: 0.99, photos: 20, controlScore: 0 };
    const passed = heatMapChecksNote({ ...scale, checks: [{ name: 'occlusion agreement', passed: true }] }, 'contrastive');
    expect(passed).toBeUndefined();
    expect(modelCard(bundle, undefined, { ...(passed ? { checksNote: passed } : {}) })).not.toContain('## Explanation checks');
    const checksNote = heatMapChecksNote({ ...scale, checks: [{ name: 'occlusion agreement', passed: false }] }, 'contrastive')!;
    const referenceNote = referenceCardNote({ dims: [64, 14, 14], layer: 'L', faces: 40 });
    const card = modelCard(bundle, undefined, { checksNote, referenceNote });
    expect(card).toContain("## Explanation checks\nIn the model's study these maps failed 1 of its 1 checks (occlusion agreement): read the region shares as one method's view, not as established");
    expect(card).toContain('## Explanation reference\n`explain-reference.json` holds the mean 64x14x14 feature map (backbone layer `L`) of 40 control faces');
    expect(card.indexOf('## Explanations')).toBeLessThan(card.indexOf('## Explanation checks'));
    expect(card.indexOf('## Explanation reference')).toBeLessThan(card.indexOf('## Limitations'));
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

  // The demo study's figures (metrics.json), per person and per photo.
  const person = {
    n: { units: 18, positive: 9, negative: 9 },
    auc: { value: 0.9629629629629629, ci95: [0.8518518518518519, 1] },
    sensitivity: { value: 0.8888888888888888, ci95: [0.565000294423344, 1] },
    specificity: { value: 0.8888888888888888, ci95: [0.565000294423344, 1] },
    ppv: { value: 0.001996506114299974, ci95: [0.00032468877418122244, 1] },
    npv: { value: 0.9999687431625669, ci95: [0.999807511282066, 1] },
  };
  const photo = {
    n: { units: 72, positive: 36, negative: 36 },
    auc: { value: 0.9390432098765432, ci95: [0.8100887345679013, 1] },
    sensitivity: { value: 0.8888888888888888, ci95: [0.6666666666666666, 1] },
    specificity: { value: 0.75, ci95: [0.49861111111111134, 1] },
    ppv: { value: 0.0008883213502484524, ci95: [0.0003323825806599042, 1] },
    npv: { value: 0.9999629550737658, ci95: [0.9998328552296465, 1] },
  };
  const study = (p: number, permutations: number | null, prevalence = 1 / 4000): CardStudy => ({
    options: { folds: 4, repeats: 1, prevalence },
    permutation: permutations === null ? null : { p, nulls: new Array<number>(permutations).fill(0.5) },
  });
  const demoCard = async (s?: CardStudy, levels: { subject?: Record<string, unknown>; photo?: Record<string, unknown> } = {}) => {
    const bundle = await loadBundle(await toyBundle());
    return modelCard({
      ...bundle,
      thresholds: { photo: 0.462, subject: 0.461 },
      training: { ...bundle.training, subjectsUsed: 18, photosUsed: 72 },
      metrics: { ...bundle.metrics, subject: levels.subject ?? person, photo: levels.photo ?? photo },
    }, s);
  };

  it('splits the training data by class, in people and in photos', async () => {
    expect(await demoCard()).toContain('## Training data\n18 people (9 vcfs, 9 control) and 72 photos (36 vcfs, 36 control), all of them in the cross-validation above');
  });

  it("gives sensitivity and specificity as the report's percentages with 95% intervals, per person and per photo, each at its threshold", async () => {
    const card = await demoCard(study(1 / 21, 20));
    expect(card).toContain("- Per person: 18 people (9 vcfs, 9 control); a person's score is the mean of their photos' scores\n  - AUC 0.963 (95% CI 0.852-1.000)\n  - Sensitivity 88.9% (95% CI 56.5%-100.0%), specificity 88.9% (95% CI 56.5%-100.0%): each outer fold's model at the threshold its own training folds chose, as this model's 0.461 was chosen on all the data\n");
    expect(card).toContain("- Per photo: 72 photos (36 vcfs, 36 control)\n  - AUC 0.939 (95% CI 0.810-1.000)\n  - Sensitivity 88.9% (95% CI 66.7%-100.0%), specificity 75.0% (95% CI 49.9%-100.0%): each outer fold's model at the threshold its own training folds chose, as this model's 0.462 was chosen on all the data\n");
    expect(card).not.toMatch(/0\.889/);
    // A rate without an interval (a study with --bootstrap 0) says it has none.
    const bare = await demoCard(undefined, { subject: { ...person, sensitivity: { value: 0.8888888888888888, ci95: null } } });
    expect(bare).toContain('Sensitivity 88.9% (no 95% CI), specificity 88.9% (95% CI 56.5%-100.0%)');
    // An interval of one value (an AUC of 1 in every resample) says it is not a certainty, as the report does.
    const separated = await demoCard(undefined, { subject: { ...person, auc: { value: 1, ci95: [1, 1] } } });
    expect(separated).toContain('  - AUC 1.000 (95% CI 1.000-1.000; every resample alike, not a certainty: Every subject-bootstrap resample gave this same value');
  });

  it('says the figures are the study\'s own cross-validation on its own people, not an external validation', async () => {
    const card = await demoCard(study(1 / 21, 20));
    expect(card).toContain("## Cross-validated performance\nThese are the study's own cross-validated figures on its own 18 people, not an external validation: each person was scored by a model trained without them (subject-grouped 4-fold cross-validation, 1 repeat), but all of them come from the data this model was trained on");
  });

  it('gives the PPV and NPV at the study\'s prevalence with their intervals, as the report prints them', async () => {
    const card = await demoCard(study(1 / 21, 20));
    expect(card).toContain("  - PPV 0.20% (95% CI 0.032%-100.0%), NPV 99.9969% (95% CI 99.981%-100.0%) at a prevalence of 1 in 4,000 (`--prevalence`), by Bayes' rule from that sensitivity and specificity\n");
    expect(card).toContain('  - PPV 0.089% (95% CI 0.033%-100.0%), NPV 99.9963% (95% CI 99.983%-100.0%) at a prevalence of 1 in 4,000');
    expect(await demoCard(study(1 / 21, 20, 0.3))).toContain('at a prevalence of 30% (`--prevalence`)');
    // Without the study's prevalence (a card drawn from model.json alone) no PPV is given rather than one at an unstated prevalence.
    expect(await demoCard()).not.toMatch(/PPV/);
  });

  it('marks a PPV or NPV of exactly 1 or 0 as not a certainty, with its interval or the lack of one', async () => {
    const card = await demoCard(study(1 / 21, 20), { subject: { ...person, ppv: { value: 1, ci95: [0.4, 1] }, npv: { value: 0, ci95: null } } });
    expect(card).toContain('  - PPV not 100% (95% CI 40.0%-100.0%), NPV not 0% (no 95% CI) at a prevalence of 1 in 4,000');
    expect(card).toContain(`\n  - ${boundPredictiveNote('ppv', 1, true)}\n  - ${boundPredictiveNote('npv', 0, false)}\n`);
    expect(card).not.toMatch(/PPV 1\.000|PPV 100\.0%|NPV 0\.0%/);
  });

  it('gives the permutation test\'s p-value, saying when it is the smallest the test can give', async () => {
    const floor = await demoCard(study(1 / 21, 20));
    expect(floor).toContain('- Permutation test (labels permuted between people, the whole cross-validation re-run for each permutation; statistic: AUC per person): p = 0.0476 against 20 permutations (no permutation reached it: the smallest p that 20 permutations can give)\n');
    const above = await demoCard(study(0.2, 20));
    expect(above).toContain('p = 0.2000 against 20 permutations\n');
    expect(above).not.toMatch(/smallest p/);
    expect(await demoCard(study(1, null))).toContain('statistic: AUC per person): not run (`--permutations 0`)\n');
  });
});
