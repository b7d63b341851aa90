/**
 * `phenoface study`'s messages name photos as the manifest lists them, never by the absolute path
 * the pipeline opened: messages are pasted into tickets, and server paths say where patients' photos live.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { DEFAULTS } from '../../src/config.ts';
import { EmbeddingCache } from '../../src/data/cache.ts';
import { cacheVersion } from '../../src/pipeline/pipeline.ts';
import { memoryIO } from '../support/io.ts';
import { writeStudyData, type StudyData } from './study-fixture.ts';

let dir: string;
let data: StudyData;
let cache: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-study-messages-'));
  cache = path.join(dir, 'cache.sqlite');
  data = await writeStudyData(path.join(dir, 'data'), cache, 3, 1);
  // The first class's photos hold no face, worded as the pipeline words it: by the path it opened.
  const c = EmbeddingCache.open(cache);
  try {
    for (const abs of data.photos.slice(0, 3)) {
      c.put({ sha256: await c.contentHash(abs), backbone: DEFAULTS.embed.backbone, pipelineVersion: cacheVersion(DEFAULTS.embed.backbone) }, { error: { code: 'E_NO_FACE', message: `No face found in ${abs}.` } });
    }
  } finally {
    c.close();
  }
});

describe('phenoface study: photos named as the manifest lists them', () => {
  it('a class left without a usable face names its first photo and that photo\'s error by the manifest path', async () => {
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'data/manifest.csv', '--out', 'out', '--cache', 'cache.sqlite', '--folds', '3', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('"vcfs": 3 photo(s), 3 without a usable face (first: "img/s0/0.png": E_NO_FACE: No face found in img/s0/0.png.)');
    expect(io.stderr).not.toContain(data.root);
  });
});
