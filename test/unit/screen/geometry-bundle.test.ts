/**
 * A study asked for `embedding+geometry` writes a bundle whose fused model carries the geometry
 * block, and `screen` loads it, computes the dense landmarks the block reads, and scores a photo:
 * a bundle fitted on 68 points screens with the face mesh's 70; `screen --embeddings` refuses it,
 * as records carry no landmarks.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBundle } from '../../../src/classify/bundle.ts';
import { FittedFeatureModel } from '../../../src/features/index.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { screenEmbeddings } from '../../../src/workflows/screen/embeddings.ts';
import { Screener } from '../../../src/workflows/screen/screener.ts';
import { runStudy } from '../../../src/workflows/study/study.ts';
import { QUICK_STUDY, writeStudyData } from '../../cli/study-fixture.ts';

const ready = existsSync(modelPath('mobilefacenet'));
if (!ready) console.log('geometry-bundle.test.ts: the screening case is skipped, the models are not built (npm install builds them)');

describe('a study with --features embedding+geometry', () => {
  it('fails with a coded error when the photos cannot fit the geometry block', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-geometry-few-'));
    const cache = path.join(dir, 'cache.sqlite');
    // 4 people per class of 2 photos: each outer training fold holds fewer frontal photos than the block needs.
    const data = await writeStudyData(path.join(dir, 'data'), cache, 4, 2);
    await expect(runStudy({ source: data.manifest, out: path.join(dir, 'study'), cache, ...QUICK_STUDY, features: ['embedding', 'geometry'] })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('cannot supply the "geometry" features') });
  });

  it.skipIf(!ready)('writes a bundle that screen loads and scores a photo with', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-geometry-'));
    const cache = path.join(dir, 'cache.sqlite');
    const data = await writeStudyData(path.join(dir, 'data'), cache, 12, 2);
    await runStudy({ source: data.manifest, out: path.join(dir, 'study'), cache, ...QUICK_STUDY, features: ['embedding', 'geometry'] });
    const model = path.join(dir, 'study', 'model');
    expect(FittedFeatureModel.fromJSON((await loadBundle(model)).features).features).toEqual(['embedding', 'geometry']);
    const screener = await Screener.load(model);
    try {
      const pkg = path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
      const result = await screener.screen([{ name: 'a.jpg', path: path.join(pkg, 'demo', 'sample1.jpg') }]);
      // The fixture's landmarks are synthetic, so a real face may score at either extreme: the check is that it scores.
      expect(result.subject.probability).toBeGreaterThanOrEqual(0);
      expect(result.subject.probability).toBeLessThanOrEqual(1);
      // The fixture's bundle was fitted on 68 points; the default face mesh places 70: the block reads
      // the first 68, and the nasal bridge width, which its norms lack, is not listed: every listed one has a z.
      const geometry = (await loadBundle(model)).features!.blocks.find((b) => b.name === 'geometry')!.params as { groups: { shape: { mean: number[] } }[] };
      expect(geometry.groups[0].shape.mean).toHaveLength(136);
      const measurements = result.photos[0].measurements ?? [];
      expect(measurements.find((m) => m.name === 'nasal-bridge-width')).toBeUndefined();
      expect(measurements.length).toBeGreaterThan(0);
      expect(measurements.every((m) => Number.isFinite(m.z))).toBe(true);
    } finally {
      await screener.close();
    }
    // The contract: `screen --embeddings` scores only an embedding-only model; records carry no
    // landmarks for the geometry block, so such a model is refused with a coded error, not scored without it.
    const records = path.join(dir, 'person.jsonl');
    writeFileSync(records, JSON.stringify({ contract: 1, path: 'a.jpg', error: { code: 'E_NO_FACE', message: 'No face found.' } }) + '\n');
    await expect(screenEmbeddings(model, records)).rejects.toMatchObject({ code: 'E_BUNDLE', message: expect.stringContaining('geometry features, which come from the photos') });
  }, 120_000);
});
