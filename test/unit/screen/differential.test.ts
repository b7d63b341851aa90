/**
 * A ranking bundle's screening carries a ranked differential: every class the model knows, most
 * probable first, fused over the person's photos as the study fused them, with a note saying what
 * it and the binary fields mean. A binary bundle has none.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleChecksum, bundleId, loadBundle } from '../../../src/classify/bundle.ts';
import { fitRanker } from '../../../src/classify/ranker.ts';
import { groupedClassKFold } from '../../../src/evaluate/splits.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { differentialOf, Screener } from '../../../src/workflows/screen/screener.ts';
import { toyBundle } from '../../support/toy-bundle.ts';
import { rankingEmbeddings } from '../evaluate/ranking-embeddings.ts';

const labels = ['control', 'noonan', 'vcfs'];
const data = rankingEmbeddings({ labels, subjectsPerClass: 8, photos: 2, dim: 192, signal: 6, seed: 4 });
const ranker = fitRanker(data.X, data.classes, data.subjects, labels, { classifier: 'gallery', seed: 1, innerFolds: 3, split: groupedClassKFold });
const ranking = { classes: labels, classifier: ranker.toJSON(), metrics: {} };

describe('differentialOf', () => {
  it("ranks the classes for one person's embeddings, fused, most probable first", async () => {
    const bundle = await loadBundle(await toyBundle(undefined, undefined, undefined, ranking));
    expect(bundle.ranker?.labels).toEqual(labels);
    const noonan = data.X.filter((_, i) => data.classes[i] === 1).slice(0, 2);
    const { differential, differentialNote } = differentialOf(bundle, noonan);
    expect(differential!.map((d) => d.label).sort()).toEqual([...labels].sort());
    expect(differential![0].label).toBe('noonan');
    for (let i = 1; i < differential!.length; i++) expect(differential![i].probability).toBeLessThanOrEqual(differential![i - 1].probability);
    expect(differential!.reduce((a, d) => a + d.probability, 0)).toBeCloseTo(1, 3);
    expect(differentialNote).toContain('"vcfs" against all the other classes pooled');
  });

  it('gives no differential, nor its notes, when no photo could be screened (the contract says so)', async () => {
    const bundle = await loadBundle(await toyBundle(undefined, undefined, undefined, ranking));
    expect(differentialOf(bundle, [], null)).toEqual({});
  });

  it('says the probabilities follow the study\'s mix of classes, and when this person\'s call and differential disagree', async () => {
    const metrics = { perClass: { control: { support: { subjects: 30 } }, noonan: { support: { subjects: 8 } }, vcfs: { support: { subjects: 12 } } }, subject: { top1: { value: 0.8, ci95: [0.7, 0.9] } }, chance: { majority: { subject: 0.6 } } };
    const bundle = await loadBundle(await toyBundle(undefined, undefined, undefined, { ...ranking, metrics }));
    const noonan = data.X.filter((_, i) => data.classes[i] === 1).slice(0, 2);
    const above = differentialOf(bundle, noonan, 'vcfs');
    expect(above.differentialNote).toContain("following the study's mix of classes (the study held 30 control, 8 noonan, 12 vcfs people), not how common each condition is");
    expect(above.differentialNote).toContain('Here they do: the call is above the threshold, yet "noonan", not "vcfs", is ranked first.');
    expect(above.differentialEvidenceNote).toBeUndefined(); // top-1 0.70-0.90 clears the majority's 0.60
    const below = differentialOf(bundle, noonan, bundle.negative);
    expect(below.differentialNote).not.toContain('Here they do');
  });

  it('says a differential carries no evidence when its top-1 interval does not clear naming the most common class', async () => {
    const metrics = { subject: { top1: { value: 0.498, ci95: [0.392, 0.6] } }, chance: { majority: { subject: 0.471 } } };
    const bundle = await loadBundle(await toyBundle(undefined, undefined, undefined, { ...ranking, metrics }));
    const { differentialEvidenceNote } = differentialOf(bundle, [data.X[0]], null);
    expect(differentialEvidenceNote).toBe('This differential carries no evidence: in cross-validation its first class was right for 49.8% of people (95% interval 39.2%-60.0%), which does not clear the 47.1% of always naming the most common class. Do not act on it.');
  });

  it('refuses, naming the field, a ranking bundle whose ranker and classes disagree or whose figures are out of range, though its id and checksum were recomputed', async () => {
    const dir = await toyBundle(undefined, undefined, undefined, ranking);
    const file = path.join(dir, 'model.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    const params = saved.ranking.classifier.params;
    const cases: [string, (b: typeof saved) => void, RegExp][] = [
      // The differential would name a class that `model.classes` does not list, and leave out one it does.
      ['ranker renamed', (b) => (b.ranking.classifier.params = { ...params, labels: ['control', 'noonan', 'williams'] }), /ranking\.classifier.*labels/],
      ['classes renamed', (b) => (b.ranking.classes = ['control', 'williams', 'vcfs']), /ranking\.classifier.*labels/],
      ['positive not ranked', (b) => (b.positive = 'williams'), /"positive" is "williams"; expected one of the ranked classes/],
      // Quoted as percentages in the differential's notes ("right for NaN% of people", "500.0%").
      ['top-1 a word', (b) => (b.ranking.metrics = { subject: { top1: { value: 'abc', ci95: [0.1, 0.2] } }, chance: { majority: { subject: 0.5 } } }), /ranking\.metrics\.subject\.top1/],
      ['top-1 above 1', (b) => (b.ranking.metrics = { subject: { top1: { value: 5, ci95: [3, 7] } } }), /ranking\.metrics\.subject\.top1/],
      ['majority above 1', (b) => (b.ranking.metrics = { chance: { majority: { subject: 37.5 } } }), /ranking\.metrics\.chance\.majority\.subject/],
      ['people negative', (b) => (b.ranking.metrics = { perClass: { control: { support: { subjects: -4 } } } }), /ranking\.metrics\.perClass\.control\.support\.subjects/],
    ];
    for (const [what, edit, message] of cases) {
      const b = JSON.parse(JSON.stringify(saved));
      edit(b);
      b.id = bundleId(b);
      delete b.checksum;
      b.checksum = bundleChecksum(b);
      writeFileSync(file, JSON.stringify(b));
      await expect(loadBundle(dir), what).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringMatching(message) });
    }
  });

  it('is absent for a binary bundle', async () => {
    const bundle = await loadBundle(await toyBundle());
    expect(differentialOf(bundle, [data.X[0]])).toEqual({});
  });
});

const ready = existsSync(modelPath('mobilefacenet'));
if (!ready) console.log('differential.test.ts: the Screener case is skipped, the models are not built (npm install builds them)');
const pkg = ready ? path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')) : '';

describe.skipIf(!ready)('Screener with a ranking bundle', () => {
  it('adds the differential and the classes to the result', async () => {
    const screener = await Screener.load(await toyBundle(undefined, undefined, undefined, ranking));
    try {
      const result = await screener.screen([{ name: 'a.jpg', path: path.join(pkg, 'demo', 'sample1.jpg') }]);
      expect(result.differential).toHaveLength(3);
      expect(result.model.classes).toEqual(labels);
      expect(result.subject.probability).not.toBeNull();
    } finally {
      await screener.close();
    }
  }, 60_000);
});
