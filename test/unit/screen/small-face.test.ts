/**
 * A face too small to measure (`measurements.minFaceSidePx`) is screened, but gets no measurements
 * and a warning saying why, and does not enter the person's: at that size the photo's resolution
 * alone moves the measurements by over half the spread between people (bench:face-size).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { Screener } from '../../../src/workflows/screen/screener.ts';
import { runStudy } from '../../../src/workflows/study/study.ts';
import { QUICK_STUDY, writeStudyData } from '../../cli/study-fixture.ts';

const ready = existsSync(modelPath('mobilefacenet'));
if (!ready) console.log('screen/small-face.test.ts: skipped, the models are not built (npm install builds them)');

const sample = () => path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo', 'sample1.jpg');

describe.skipIf(!ready)('screening a face too small to measure', () => {
  it('screens it without measurements, says why, and measures the person from their other photos', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-small-face-'));
    const cache = path.join(dir, 'cache.sqlite');
    const data = await writeStudyData(path.join(dir, 'data'), cache, 12, 2);
    await runStudy({ source: data.manifest, out: path.join(dir, 'study'), cache, ...QUICK_STUDY, features: ['embedding'], explain: false });
    const screener = await Screener.load(path.join(dir, 'study', 'model'));
    try {
      const large = await screener.screen([{ name: 'large.jpg', path: sample() }]);
      const box = large.photos[0].box!;
      expect(large.photos[0].measurements?.length).toBeGreaterThan(0);
      const min = DEFAULTS.measurements.minFaceSidePx;
      // The photo scaled so that its face's shorter side is well under the minimum.
      const meta = await sharp(sample()).metadata();
      const bytes = await sharp(sample()).resize(Math.round((meta.width! * (min - 20)) / Math.min(box.width, box.height))).jpeg({ quality: 95 }).toBuffer();
      const both = await screener.screen([{ name: 'large.jpg', path: sample() }, { name: 'small.jpg', bytes }]);
      const small = both.photos[1];
      expect(small.probability).toBeTypeOf('number');
      expect(small.measurements).toBeUndefined();
      expect(small.warnings!.join('\n')).toMatch(new RegExp(`face too small to measure \\(\\d+ px across; the measurements need ${min} px`));
      expect(both.photos[0].warnings!.join('\n')).not.toContain('too small to measure');
      // The person's measurements are the large photo's alone.
      expect(both.subject.measurements!.every((m) => m.photos === 1)).toBe(true);
      expect(both.subject.measurements).toEqual(large.subject.measurements);
    } finally {
      await screener.close();
    }
  }, 120_000);
});
