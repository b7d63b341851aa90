/**
 * The loader on a real data set: CFP (250 people x 14 photos, read-only in ../shared/data) with
 * labels assigned at random per subject, as the study's no-signal leakage benchmark uses it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetHash, loadDataset } from '../../../src/data/manifest.ts';
import { tempDir, writeManifest } from './fixtures.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cfp = path.resolve(repo, '../shared/data/cfp-dev');
const present = existsSync(path.join(cfp, 'labels.csv'));
if (!present) console.warn(`shared-data.test.ts: skipped, ${cfp} is absent (the shared data sets are not on this machine)`);

describe.skipIf(!present)('loadDataset on shared CFP data', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('loads 3,500 photos of 250 subjects from a manifest written elsewhere, with root pointing at the data', async () => {
    const lines = readFileSync(path.join(cfp, 'labels.csv'), 'utf8').trim().split('\n').slice(1);
    const rows = lines.map((l) => {
      const [file, id, , pose] = l.split(',');
      return `${file},${id},${Number(id) % 2 === 0 ? 'vcfs' : 'control'},${pose}`;
    });
    const manifest = writeManifest(tmp.dir, ['path,subject,label,view', ...rows]);
    const t0 = performance.now();
    const ds = await loadDataset(manifest, { root: cfp });
    const ms = performance.now() - t0;
    expect(ds.summary.total).toEqual({ subjects: 250, photos: 3500 });
    expect(ds.summary.byView).toEqual({ frontal: { subjects: 250, photos: 2500 }, profile: { subjects: 250, photos: 1000 } });
    expect(ds.summary.byClass.vcfs.subjects + ds.summary.byClass.control.subjects).toBe(250);
    expect(ms).toBeLessThan(10_000);
    const t1 = performance.now();
    expect(await datasetHash(ds)).toMatch(/^[0-9a-f]{64}$/);
    console.log(`cfp-dev: loadDataset ${ms.toFixed(0)} ms, datasetHash ${(performance.now() - t1).toFixed(0)} ms for 3,500 photos`);
  });
});
