/**
 * `screen` explains a model's geometry part: every photo of a model with a linear geometry part
 * gets `geometryRegions` (each region's contribution to its log-odds) and `geometryNote`; a model
 * that leaves the embedding out ranks regions by those contributions instead of a heat map; one
 * with neither embedding nor geometry still cannot be explained. Such models say what they read
 * (`model.reads`), not only the backbone installed with them.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FeatureName } from '../../../src/features/index.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { dataUrlExplainer, fileExplainer } from '../../../src/workflows/screen/explainer.ts';
import { photoInputs, Screener } from '../../../src/workflows/screen/screener.ts';
import { runStudy } from '../../../src/workflows/study/study.ts';
import { QUICK_STUDY, writeStudyData } from '../../cli/study-fixture.ts';

const ready = existsSync(modelPath('mobilefacenet'));
if (!ready) console.log('screen/geometry-explanation.test.ts: skipped, the models are not built (npm install builds them)');

const logit = (p: number) => Math.log(p / (1 - p));
const sample = () => path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');

/** A quick study on the fixture's people learning from `features` (explained as `explain` says); returns its model folder. */
async function study(features: FeatureName[], explain: { maxPhotos: number } | false = false): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `phenoface-geoexp-${features.join('-')}-`));
  const cache = path.join(dir, 'cache.sqlite');
  const data = await writeStudyData(path.join(dir, 'data'), cache, 12, 2);
  await runStudy({ source: data.manifest, out: path.join(dir, 'study'), cache, ...QUICK_STUDY, features, explain });
  return path.join(dir, 'study', 'model');
}

describe.skipIf(!ready)('screen with a geometry part', () => {
  it('adds each region\'s contribution to the log-odds, largest first, summing to the geometry part of the logit', async () => {
    const screener = await Screener.load(await study(['embedding', 'geometry']));
    try {
      const [photo] = (await screener.screen([{ name: 'a.jpg', path: sample() }])).photos;
      const regions = photo.geometryRegions!;
      expect(regions.map((r) => r.name).sort()).toEqual(['chin-jaw', 'forehead-glabella', 'malar-left', 'malar-right', 'perinasal', 'perioral', 'periorbital-left', 'periorbital-right']);
      regions.slice(1).forEach((r, i) => expect(r.contribution).toBeLessThanOrEqual(regions[i].contribution));
      regions.forEach((r) => expect(Math.round(r.contribution * 1e4) / 1e4).toBe(r.contribution));
      expect(photo.geometryNote).toMatch(/log-odds.*mean face.*positive = towards "vcfs"/);
      // What a log-odds is, for a clinician: no unexplained jargon.
      expect(photo.geometryNote).toContain("log-odds (the natural logarithm of the score's odds, p/(1-p): +0.69 doubles the odds, -0.69 halves them)");
      // The sum is the geometry block's share of the model's logit, less its share at the mean face.
      const model = screener.features;
      const k = model.features.indexOf('geometry');
      const { block, classifier } = model.parts[k];
      const row = photoInputs(await screener.pipeline.embedFile(sample()));
      const part = model.stacker!.weights[k] * (logit(model.blockProbabilities([row])[k][0]) - logit(classifier.predictProba([new Float32Array(block.dim)])[0]));
      expect(regions.reduce((s, r) => s + r.contribution, 0)).toBeCloseTo(part, 3);
    } finally {
      await screener.close();
    }
  }, 120_000);

  it('ranks regions by geometry for a model without the embedding: shares of the positive contributions, no heat map files; so does the report', async () => {
    const modelDir = await study(['geometry'], { maxPhotos: 4 });
    // The study's report ranks regions by geometry too, saying it is the final model's, in sample.
    const report = readFileSync(path.join(modelDir, '..', 'report.html'), 'utf8');
    expect(report).toContain('so no heat maps were computed');
    expect(report).toMatch(/id="geometry-contributions".*correctly screened vcfs photos/s);
    expect(report).toContain('In sample:');
    const screener = await Screener.load(modelDir);
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'phenoface-geoexp-maps-')), 'maps');
    try {
      const explain = await fileExplainer(screener, dir);
      const result = await screener.screen([{ name: 'a.jpg', path: sample() }], { explain });
      const reads = 'face geometry (landmarks and measurements); no face-recognition embedding';
      expect(result.model).toMatchObject({ backbone: 'mobilefacenet', features: ['geometry'], reads });
      expect(screener.info()).toMatchObject({ features: ['geometry'], reads });
      expect(readFileSync(path.join(modelDir, 'MODEL_CARD.md'), 'utf8')).toContain(`Reads: ${reads}.`);
      const [photo] = result.photos;
      expect(photo.cam).toBe('geometry');
      expect(photo.heatmap).toBeUndefined();
      expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
      const positive = photo.geometryRegions!.filter((g) => g.contribution > 0);
      const total = positive.reduce((s, g) => s + g.contribution, 0);
      expect(photo.regions!.map((r) => r.name)).toEqual(photo.geometryRegions!.map((g) => g.name));
      for (const r of photo.regions!) {
        const g = photo.geometryRegions!.find((x) => x.name === r.name)!;
        expect(r.share).toBeCloseTo(g.contribution > 0 ? g.contribution / total : 0, 3);
      }
      // Rounded to 4 decimals so that they still sum to 1 (one by one, they can sum to 0.9999 or 1.0001).
      if (total > 0) expect(Math.round(photo.regions!.reduce((s, r) => s + r.share, 0) * 1e4)).toBe(1e4);
      // Below the photo threshold a region is where the score comes from, not a finding: no HPO terms.
      const above = photo.probability! >= screener.bundle.thresholds.photo;
      expect(photo.regions!.every((r) => (r.hpo !== undefined) === above)).toBe(true);
      // A region that does not push towards the positive class relates to no finding.
      expect(photo.regions!.filter((r) => r.share === 0).every((r) => !r.hpo?.length)).toBe(true);
    } finally {
      await screener.close();
    }
  }, 120_000);

  it('a model with neither the embedding nor geometry is screened without explanations, saying why', async () => {
    const screener = await Screener.load(await study(['regions']));
    try {
      expect(screener.geometry).toBeUndefined();
      const maps = path.join(mkdtempSync(path.join(os.tmpdir(), 'phenoface-geoexp-none-')), 'maps');
      const pkg = path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
      for (const explain of [await fileExplainer(screener, maps), dataUrlExplainer(screener)]) {
        const result = await screener.screen([{ name: 'a.jpg', path: path.join(pkg, 'demo', 'sample1.jpg') }], { explain });
        expect(result.photos[0].probability).toBeGreaterThanOrEqual(0);
        expect(result.photos[0].regions).toBeUndefined();
        expect(result.model).toMatchObject({ features: ['regions'], reads: "mobilefacenet's mid-level maps pooled in facial regions; no face-recognition embedding" });
        expect(result.model.warnings).toContainEqual(expect.stringMatching(/^This model learns from regions alone.*no heat map or region ranking can explain its scores\.$/));
      }
      expect(existsSync(maps)).toBe(false); // nothing to write, no folder
    } finally {
      await screener.close();
    }
  }, 120_000);
});
