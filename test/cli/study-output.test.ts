/**
 * Where `phenoface study` writes: never into or over its inputs, never into a folder of someone
 * else's files, and all at once: a re-run that fails leaves the earlier study as it was, and a run
 * killed with SIGKILL resumes from the embedding cache it left beside its outputs.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runStudy } from '../../src/workflows/study/study.ts';
import { memoryIO } from '../support/io.ts';
import { FACE, QUICK_STUDY, writeStudyData, type StudyData } from './study-fixture.ts';
import { EmbeddingCache } from '../../src/data/cache.ts';
import { DEFAULTS } from '../../src/config.ts';
import { cacheVersion } from '../../src/pipeline/pipeline.ts';
import { leftovers, snapshot } from './snapshot.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Makes the report step fail while `failReport.on`: a failure after metrics and model are computed. */
const failReport = vi.hoisted(() => ({ on: false }));
vi.mock('../../src/report/index.ts', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../../src/report/index.ts')>();
  return {
    ...mod,
    writeReport: async (...args: Parameters<typeof mod.writeReport>) => {
      if (failReport.on) throw new Error('report failed on purpose');
      return mod.writeReport(...args);
    },
  };
});

let dir: string;
let data: StudyData;
let cache: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-study-out-'));
  cache = path.join(dir, 'cache', 'cache.sqlite');
  data = await writeStudyData(path.join(dir, 'data'), cache);
});


describe('phenoface study --out: refused before anything is written', () => {
  it.each([
    ['the manifest file', 'data/manifest.csv', 2, /E_USAGE: --out ".*manifest\.csv" is the input ".*manifest\.csv"/],
    ['a photo', 'data/img/s0/0.png', 2, /E_USAGE: --out ".*0\.png" is the input ".*0\.png"/],
    ['the data folder', 'data', 2, /E_USAGE: --out ".*data" holds the input ".*manifest\.csv"/],
    ['a folder holding the data folder', '.', 2, /E_USAGE: --out ".*" holds the input ".*manifest\.csv"/],
    ['an existing file', 'notes.txt', 1, /E_INPUT: --out ".*notes\.txt" is a file\. Should be a folder/],
    ['a path below a file', 'notes.txt/study', 1, /E_INPUT: Cannot write ".*notes\.txt\/study": ".*notes\.txt" is a file, not a folder\. Should be /],
  ])('%s: --out %s (exit %i)', async (_, out, code, message) => {
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    const before = snapshot(dir);
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'data/manifest.csv', '--out', out, '--cache', 'cache/cache.sqlite', '--quiet'], io)).toBe(code);
    expect(io.stderr).toMatch(message);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses an output folder inside a folder-layout data set, which is walked for photos', async () => {
    const root = path.join(dir, 'layout');
    for (const [i, p] of data.photos.entries()) {
      const label = i < data.photos.length / 2 ? 'vcfs' : 'control';
      mkdirSync(path.join(root, label, `s${i >> 1}`), { recursive: true });
      cpSync(p, path.join(root, label, `s${i >> 1}`, `${i}.png`));
    }
    const before = snapshot(root);
    const io = memoryIO(dir);
    expect(await main(['study', '--manifest', 'layout', '--out', 'layout/results', '--cache', 'cache/cache.sqlite', '--quiet'], io)).toBe(2);
    expect(io.stderr).toMatch(/E_USAGE: --out ".*results" lies inside the input folder ".*layout"/);
    expect(snapshot(root)).toEqual(before);
  });

  it('refuses a non-empty folder that is not a study output, and touches none of its files', async () => {
    const mine = path.join(dir, 'mine');
    mkdirSync(path.join(mine, 'model'), { recursive: true });
    writeFileSync(path.join(mine, 'report.html'), '<p>my own report</p>');
    writeFileSync(path.join(mine, 'model', 'weights.bin'), 'mine');
    const before = snapshot(mine);
    await expect(runStudy({ source: data.manifest, out: mine, cache, ...QUICK_STUDY })).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringMatching(/^Output folder ".*mine" is not empty and holds no earlier study output \(metrics\.json\)/),
    });
    expect(snapshot(mine)).toEqual(before);
    expect(leftovers(mine)).toEqual([]);
  });
});

describe('phenoface study --out: replaced all at once', () => {
  it('a re-run that fails after its metrics are computed leaves the earlier study intact', async () => {
    const out = path.join(dir, 'study-a');
    mkdirSync(out);
    cpSync(cache, path.join(out, 'cache.sqlite'));
    await runStudy({ source: data.manifest, out, ...QUICK_STUDY });
    const before = snapshot(out);
    expect(Object.keys(before).sort()).toEqual(['cache.sqlite', 'metrics.json', 'model/MODEL_CARD.md', 'model/model.json', 'predictions.csv', 'report.html']);
    failReport.on = true;
    try {
      await expect(runStudy({ source: data.manifest, out, ...QUICK_STUDY, seed: 2, folds: 3 })).rejects.toThrow('report failed on purpose');
    } finally {
      failReport.on = false;
    }
    expect(snapshot(out)).toEqual(before);
    expect(leftovers(out)).toEqual([]);
    // The same re-run, not failing, replaces the outputs and keeps the cache it used.
    const res = await runStudy({ source: data.manifest, out, ...QUICK_STUDY, seed: 2, folds: 3 });
    expect(res.photos.every((p) => p.cached)).toBe(true);
    expect(res.files.metrics).toBe(path.join(out, 'metrics.json'));
    expect(JSON.parse(readFileSync(res.files.metrics, 'utf8')).options).toMatchObject({ folds: 3, seed: 2 });
    expect(readFileSync(res.files.predictions, 'utf8')).not.toBe(Buffer.from(before['predictions.csv'], 'base64').toString());
    expect(readdirSync(out).sort()).toEqual(['cache.sqlite', 'metrics.json', 'model', 'predictions.csv', 'report.html']);
    expect(leftovers(out)).toEqual([]);
  });

  it('drops the results its cache holds from an earlier pipeline, and says so', async () => {
    const out = path.join(dir, 'study-old-rows');
    mkdirSync(out);
    const file = path.join(out, 'cache.sqlite');
    cpSync(cache, file);
    const old = EmbeddingCache.open(file);
    const stale = { sha256: await old.contentHash(data.photos[0]), backbone: DEFAULTS.embed.backbone, pipelineVersion: 'decode1-old' };
    old.put(stale, { face: FACE, embedding: new Float32Array([1, 0]) });
    old.close();
    const lines: string[] = [];
    await runStudy({ source: data.manifest, out, ...QUICK_STUDY, quiet: false, log: { err: (line: string) => lines.push(line), isTTY: false } });
    expect(lines.join('')).toMatch(/study: dropped 1 result that .*cache\.sqlite held from an earlier pipeline or models/);
    const after = EmbeddingCache.open(file);
    expect(after.has(stale)).toBe(false);
    expect(after.stats().byVersion.map((v) => v.pipelineVersion)).toEqual([cacheVersion(DEFAULTS.embed.backbone)]);
    after.close();
  });

  it('refuses a finished study that also holds files it did not write', async () => {
    const out = path.join(dir, 'study-b');
    await runStudy({ source: data.manifest, out, cache, ...QUICK_STUDY });
    writeFileSync(path.join(out, 'my-notes.txt'), 'mine\n');
    const before = snapshot(out);
    await expect(runStudy({ source: data.manifest, out, cache, ...QUICK_STUDY })).rejects.toMatchObject({
      code: 'E_INPUT',
      message: expect.stringContaining('my-notes.txt'),
    });
    expect(snapshot(out)).toEqual(before);
  });

  it('a study killed with SIGKILL resumes from the cache it left in the output folder, with the same results', () => {
    const out = path.join(dir, 'study-killed');
    // Two photos the cache lacks (not decodable): the killed run puts their failures in the cache.
    const extra = path.join(dir, 'data-extra');
    cpSync(data.root, extra, { recursive: true });
    for (const name of ['x1.png', 'x2.png']) writeFileSync(path.join(extra, 'img', name), `not a photo ${name}`);
    writeFileSync(path.join(extra, 'manifest.csv'), readFileSync(data.manifest, 'utf8') + 'img/x1.png,s0,vcfs,frontal\nimg/x2.png,s6,control,frontal\n');
    mkdirSync(out);
    cpSync(cache, path.join(out, 'cache.sqlite'));
    const script = path.join(dir, 'killed-study.mts');
    writeFileSync(script, `
      import { runStudy } from ${JSON.stringify(path.join(REPO, 'src/workflows/study/study.ts'))};
      await runStudy({ source: ${JSON.stringify(path.join(extra, 'manifest.csv'))}, out: ${JSON.stringify(out)},
        folds: 2, repeats: 1, bootstrap: 0, permutations: 0, seed: 1, explain: false,
        log: { isTTY: false, err: (t) => { if (t.includes('cross-validating')) process.kill(process.pid, 'SIGKILL'); } } });
    `);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(readdirSync(out)).not.toContain('metrics.json');
    return (async () => {
      const resumed = await runStudy({ source: path.join(extra, 'manifest.csv'), out, ...QUICK_STUDY });
      expect(resumed.photos.every((p) => p.cached)).toBe(true);
      expect(resumed.photos.filter((p) => p.error).map((p) => p.error!.code)).toEqual(['E_DECODE', 'E_DECODE']);
      expect(leftovers(out)).toEqual([]);
      // An uninterrupted run on the same cache writes the same results, byte for byte.
      const fresh = path.join(dir, 'study-fresh');
      await runStudy({ source: path.join(extra, 'manifest.csv'), out: fresh, cache: path.join(out, 'cache.sqlite'), ...QUICK_STUDY });
      for (const f of ['predictions.csv', 'metrics.json']) expect(readFileSync(path.join(out, f), 'utf8')).toBe(readFileSync(path.join(fresh, f), 'utf8'));
      rmSync(extra, { recursive: true, force: true });
      expect(existsSync(path.join(out, 'cache.sqlite'))).toBe(true);
    })();
  }, 180_000);
});
