import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../../../src/data/cache.ts';
import { embedDataset, type EmbedProgress } from '../../../src/data/embed-dataset.ts';
import { loadDataset, type Dataset } from '../../../src/data/manifest.ts';
import { PhenofaceError } from '../../../src/errors.ts';
import type { Face } from '../../../src/types.ts';
import { tempDir, writeImages, writeManifest } from './fixtures.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const face: Face = { box: { x: 1, y: 2, width: 5, height: 6 }, score: 0.9, landmarks5: [[1, 1], [2, 1], [1.5, 2], [1, 3], [2, 3]], view: 'oblique' };

/** A fake pipeline: a 4-d embedding derived from the file's bytes; counts its calls. */
function fakeEmbedder(fail: Record<string, PhenofaceError | Error> = {}) {
  const calls: string[] = [];
  const embedOne = async (absPath: string) => {
    calls.push(path.basename(absPath));
    const e = fail[path.basename(absPath)];
    if (e) throw e;
    const d = createHash('sha256').update(readFileSync(absPath)).digest();
    return { face, embedding: new Float32Array([d[0], d[1], d[2], d[3]]), landmarks68: [[d[4], d[5]], [d[6], d[7]]] as [number, number][] };
  };
  return { calls, embedOne };
}

let tmp: { dir: string; cleanup: () => void };
let dataset: Dataset;
let cacheFile: string;
const names = ['p0.png', 'p1.png', 'p2.png', 'p3.png', 'p4.png', 'p5.png', 'p6.png', 'p7.png'];

beforeEach(async () => {
  tmp = tempDir();
  const root = path.join(tmp.dir, 'data');
  await writeImages(root, names);
  const manifest = writeManifest(root, ['path,subject,label,view', ...names.map((n, i) => `${n},s${i >> 1},${i < 4 ? 'vcfs' : 'control'},${i === 0 ? 'frontal' : ''}`)]);
  dataset = await loadDataset(manifest, {});
  cacheFile = path.join(tmp.dir, 'cache.sqlite');
});
afterEach(() => tmp.cleanup());

const opts = { pipelineVersion: 'test-1', backbone: 'fake' };

describe('embedDataset', () => {
  it('embeds every photo once; a re-run takes all from the cache and calls the pipeline zero times', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    const first = fakeEmbedder();
    const run1 = await embedDataset(dataset, { ...opts, cache, embedOne: first.embedOne });
    expect(first.calls).toEqual(names);
    expect(run1.counts).toEqual({ total: 8, cached: 0, computed: 8, failed: 0 });
    expect(run1.results.map((r) => r.view)).toEqual(['frontal', ...Array(7).fill('oblique')]); // manifest view wins
    const second = fakeEmbedder();
    const run2 = await embedDataset(dataset, { ...opts, cache, embedOne: second.embedOne });
    expect(second.calls).toEqual([]);
    expect(run2.counts).toEqual({ total: 8, cached: 8, computed: 0, failed: 0 });
    expect(run2.results.map((r) => Array.from(r.embedding!))).toEqual(run1.results.map((r) => Array.from(r.embedding!)));
    expect(run2.results.every((r) => r.cached && r.face!.score === 0.9)).toBe(true);
    // The dense landmarks come with each result, computed or cached.
    expect(run1.results.every((r) => r.landmarks68?.length === 2)).toBe(true);
    expect(run2.results.map((r) => r.landmarks68)).toEqual(run1.results.map((r) => r.landmarks68));
    expect([...run2.contentHashes.keys()]).toEqual(dataset.items.map((i) => i.absPath));
    // Another pipeline version misses the cache.
    const third = fakeEmbedder();
    await embedDataset(dataset, { ...opts, pipelineVersion: 'test-2', cache, embedOne: third.embedOne });
    expect(third.calls).toHaveLength(8);
    cache.close();
  });

  it('resumes after an interrupted run: the second run calls the pipeline only for the photos left', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    const controller = new AbortController();
    const first = fakeEmbedder();
    const run1 = await embedDataset(dataset, {
      ...opts,
      cache,
      embedOne: async (p) => {
        const out = await first.embedOne(p);
        if (first.calls.length === 3) controller.abort();
        return out;
      },
      signal: controller.signal,
    });
    expect(run1.counts.computed).toBe(3);
    expect(run1.results.slice(3).every((r) => r.error?.message.startsWith('Not processed'))).toBe(true);
    const second = fakeEmbedder();
    const run2 = await embedDataset(dataset, { ...opts, cache, embedOne: second.embedOne });
    expect(second.calls).toEqual(names.slice(3));
    expect(run2.counts).toEqual({ total: 8, cached: 3, computed: 5, failed: 0 });
    cache.close();
  });

  it('resumes after the process is killed mid-run (SIGKILL, no close): every photo finished before is kept', () => {
    const script = path.join(tmp.dir, 'crash.mts');
    const cacheMod = JSON.stringify(path.join(repo, 'src/data/cache.ts'));
    const embedMod = JSON.stringify(path.join(repo, 'src/data/embed-dataset.ts'));
    const manifestMod = JSON.stringify(path.join(repo, 'src/data/manifest.ts'));
    writeFileSync(
      script,
      `import { EmbeddingCache } from ${cacheMod};
       import { embedDataset } from ${embedMod};
       import { loadDataset } from ${manifestMod};
       const ds = await loadDataset(${JSON.stringify(dataset.manifestPath)}, {});
       const cache = EmbeddingCache.open(${JSON.stringify(cacheFile)});
       let n = 0;
       await embedDataset(ds, { cache, pipelineVersion: 'test-1', backbone: 'fake', embedOne: async () => {
         if (++n === 5) process.kill(process.pid, 'SIGKILL');
         return { face: { box: { x: 0, y: 0, width: 1, height: 1 }, score: 1, landmarks5: [[0,0],[0,0],[0,0],[0,0],[0,0]] }, embedding: new Float32Array([n]) };
       } });`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    return (async () => {
      const cache = EmbeddingCache.open(cacheFile);
      const second = fakeEmbedder();
      const run = await embedDataset(dataset, { ...opts, cache, embedOne: second.embedOne });
      expect(second.calls).toEqual(names.slice(4));
      expect(run.results.slice(0, 4).map((r) => Array.from(r.embedding!))).toEqual([[1], [2], [3], [4]]);
      cache.close();
    })();
  });

  it('records per-photo failures and goes on; caches photo-inherent failures only', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    const failing = {
      'p1.png': new PhenofaceError('E_NO_FACE', 'No face found in "p1.png".'),
      'p2.png': new Error('onnxruntime: out of memory'),
    };
    const first = fakeEmbedder(failing);
    const run1 = await embedDataset(dataset, { ...opts, cache, embedOne: first.embedOne });
    expect(first.calls).toEqual(names);
    expect(run1.counts).toEqual({ total: 8, cached: 0, computed: 6, failed: 2 });
    expect(run1.results[1].error).toEqual({ code: 'E_NO_FACE', message: 'No face found in "p1.png".' });
    expect(run1.results[2].error).toEqual({ code: 'E_INTERNAL', message: 'onnxruntime: out of memory' });
    expect(run1.results[1].embedding).toBeUndefined();
    const second = fakeEmbedder(failing);
    const run2 = await embedDataset(dataset, { ...opts, cache, embedOne: second.embedOne });
    expect(second.calls).toEqual(['p2.png']); // the no-face result is cached, the internal error is retried
    expect(run2.results[1]).toMatchObject({ cached: true, error: { code: 'E_NO_FACE' } });
    cache.close();
  });

  it('turns an invalid embedding into an E_MODEL record', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    const run = await embedDataset(dataset, { ...opts, cache, embedOne: async () => ({ face, embedding: new Float32Array([1, NaN]) }) });
    expect(run.counts.failed).toBe(8);
    expect(run.results[0].error?.code).toBe('E_MODEL');
    cache.close();
  });

  it('records a photo deleted after validation as E_NOT_FOUND without stopping', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    const { rmSync } = await import('node:fs');
    rmSync(dataset.items[3].absPath);
    const fake = fakeEmbedder();
    const run = await embedDataset(dataset, { ...opts, cache, embedOne: fake.embedOne });
    expect(run.results[3].error?.code).toBe('E_NOT_FOUND');
    expect(run.counts).toMatchObject({ computed: 7, failed: 1 });
    cache.close();
  });

  it("computes again a cached result without the second network's embedding of the version asked for, then takes it from the cache", async () => {
    const cache = EmbeddingCache.open(cacheFile);
    const plain = fakeEmbedder();
    await embedDataset(dataset, { ...opts, cache, embedOne: plain.embedOne });
    const second = (v: number) => ({ face, embedding: new Float32Array([1, 0]), secondEmbedding: new Float32Array([v, 1 - v]) });
    const calls: string[] = [];
    const withSecond = async (abs: string) => (calls.push(path.basename(abs)), second(0.25));
    const first = await embedDataset(dataset, { ...opts, cache, embedOne: withSecond, secondVersion: 's1' });
    expect(calls).toHaveLength(names.length);
    expect(first.results.every((r) => r.secondEmbedding?.[0] === 0.25)).toBe(true);
    const again = await embedDataset(dataset, { ...opts, cache, embedOne: withSecond, secondVersion: 's1' });
    expect(calls).toHaveLength(names.length);
    expect(again.results.every((r) => r.cached && r.secondEmbedding?.[0] === 0.25)).toBe(true);
    // Another version of the second embedding is not reused; a pipeline that returns none is an E_MODEL record.
    const other = await embedDataset(dataset, { ...opts, cache, embedOne: plain.embedOne, secondVersion: 's2' });
    expect(other.results.every((r) => r.error?.code === 'E_MODEL' && /invalid second embedding/.test(r.error.message))).toBe(true);
    cache.close();
  });

  it('embeds identical files once', async () => {
    copyFileSync(dataset.items[0].absPath, dataset.items[5].absPath);
    const cache = EmbeddingCache.open(cacheFile);
    const fake = fakeEmbedder();
    const run = await embedDataset(dataset, { ...opts, cache, embedOne: fake.embedOne });
    expect(fake.calls).toHaveLength(7);
    expect(run.results[5].embedding).toEqual(run.results[0].embedding);
    expect(run.counts.computed).toBe(8);
    cache.close();
  });

  it("names each photo's own path in a failure shared by identical files, computed or cached", async () => {
    copyFileSync(dataset.items[0].absPath, dataset.items[5].absPath);
    const decodeError = (absPath: string) => new PhenofaceError('E_DECODE', `Image file "${absPath}" is not a recognised image.`);
    const failing = async (absPath: string): Promise<never> => {
      throw decodeError(absPath);
    };
    const cache = EmbeddingCache.open(cacheFile);
    const run1 = await embedDataset(dataset, { ...opts, cache, embedOne: failing });
    const run2 = await embedDataset(dataset, { ...opts, cache, embedOne: failing });
    for (const run of [run1, run2]) {
      for (const k of [0, 5]) expect(run.results[k].error).toEqual({ code: 'E_DECODE', message: decodeError(dataset.items[k].absPath).message });
    }
    expect(run2.counts).toMatchObject({ cached: 8, failed: 8 });
    cache.close();
  });

  it('keeps at most `concurrency` photos in flight', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    let inFlight = 0;
    let peak = 0;
    const fake = fakeEmbedder();
    await embedDataset(dataset, {
      ...opts,
      cache,
      concurrency: 3,
      embedOne: async (p) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return fake.embedOne(p);
      },
    });
    expect(peak).toBe(3);
    await expect(embedDataset(dataset, { ...opts, cache, concurrency: 0, embedOne: fake.embedOne })).rejects.toThrow(/Invalid concurrency: 0/);
    cache.close();
  });

  it('reports progress for the hash phase and then the embed phase, with rate and ETA', async () => {
    const cache = EmbeddingCache.open(cacheFile);
    // Pre-cache two photos so the embed phase covers only the six misses.
    const pre = fakeEmbedder();
    await embedDataset({ ...dataset, items: dataset.items.slice(0, 2) }, { ...opts, cache, embedOne: pre.embedOne });
    let clock = 0;
    const events: EmbedProgress[] = [];
    const fake = fakeEmbedder();
    await embedDataset(dataset, {
      ...opts,
      cache,
      now: () => clock,
      onProgress: (p) => events.push({ ...p }),
      embedOne: async (p) => {
        clock += 500; // each photo takes 0.5 s
        return fake.embedOne(p);
      },
    });
    const hash = events.filter((e) => e.phase === 'hash');
    const embed = events.filter((e) => e.phase === 'embed');
    expect(hash.map((e) => e.done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(embed.map((e) => e.done)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(embed.every((e) => e.total === 6 && e.cached === 2)).toBe(true);
    expect(embed[2]).toMatchObject({ elapsedSec: 1, ratePerSec: 2, etaSec: 2 });
    expect(embed[6]).toMatchObject({ done: 6, etaSec: 0 });
    cache.close();
  });
});
