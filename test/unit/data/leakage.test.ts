import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../../../src/data/cache.ts';
import { embedDataset } from '../../../src/data/embed-dataset.ts';
import { checkLeakage, percentile, type LeakagePhoto, type SamePersonWarning } from '../../../src/data/leakage.ts';
import { loadDataset } from '../../../src/data/manifest.ts';
import { hasCode } from '../../../src/errors.ts';
import { tempDir, writeImages, writeManifest } from './fixtures.ts';

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const unitVec = (v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v, (x) => x / n);
};

/**
 * Synthetic face embeddings: each identity is a random direction in 128-d; a photo is its identity
 * plus noise (within-subject cosine ~0.6-0.7, across identities ~0, like a recognition backbone).
 */
function syntheticPhotos(identities: number, photosEach: number, seed: number, subjectOf = (id: number, _k: number) => `s${id}`): LeakagePhoto[] {
  const r = rng(seed);
  const dim = 128;
  const photos: LeakagePhoto[] = [];
  for (let id = 0; id < identities; id++) {
    const centre = Array.from({ length: dim }, () => gauss(r));
    for (let k = 0; k < photosEach; k++) {
      const noisy = centre.map((c) => c + 0.75 * gauss(r));
      photos.push({ path: `id${id}/photo${k}.jpg`, subject: subjectOf(id, k), embedding: unitVec(noisy) });
    }
  }
  return photos;
}

describe('checkLeakage: the same photo under two paths', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('flags identical content under two paths from real files hashed by embedDataset', async () => {
    const root = path.join(tmp.dir, 'data');
    await writeImages(root, ['a/1.png', 'a/2.png', 'b/1.png', 'c/1.png']);
    copyFileSync(path.join(root, 'a/1.png'), path.join(root, 'b/copy.png')); // another subject
    copyFileSync(path.join(root, 'c/1.png'), path.join(root, 'c/again.png')); // the same subject
    const ds = await loadDataset(writeManifest(root, ['path,subject,label', 'a/1.png,A,vcfs', 'a/2.png,A,vcfs', 'b/1.png,B,control', 'b/copy.png,B,control', 'c/1.png,C,control', 'c/again.png,C,control']), {});
    const cache = EmbeddingCache.open(path.join(tmp.dir, 'c.sqlite'));
    const { results } = await embedDataset(ds, {
      cache,
      backbone: 'none',
      pipelineVersion: 'v',
      embedOne: async () => {
        throw new Error('not needed');
      },
    });
    cache.close();
    const report = checkLeakage(results.map((r) => ({ path: r.item.path, subject: r.item.subject, sha256: r.sha256 })));
    expect(report.identityThreshold).toBeUndefined();
    expect(report.warnings.map((w) => w.kind === 'duplicate-content' && [w.photos.map((p) => p.path), w.crossSubject])).toEqual([
      [['a/1.png', 'b/copy.png'], true],
      [['c/1.png', 'c/again.png'], false],
    ]);
    expect(report.warnings[0].message).toBe('the same photo appears under 2 paths: "a/1.png" (subject A), "b/copy.png" (subject B)');
  });

  it('flags near-identical embeddings of different files (cosine > 0.995) but not merely similar ones', () => {
    const base = unitVec([1, 0.2, 0.1, 0]);
    const photos: LeakagePhoto[] = [
      { path: 'x.jpg', subject: 'X', sha256: 'h1', embedding: base },
      { path: 'x-resized.jpg', subject: 'Y', sha256: 'h2', embedding: unitVec([1, 0.2, 0.1, 0.05]) }, // cosine 0.9988
      { path: 'x-other.jpg', subject: 'X', sha256: 'h3', embedding: unitVec([1, 0.2, 0.1, -0.12]) }, // cosine 0.9932 to x, 0.9864 to x-resized
    ];
    const near = checkLeakage(photos).warnings.filter((w) => w.kind === 'near-duplicate');
    expect(near).toHaveLength(1);
    expect(near[0]).toMatchObject({ photos: [{ path: 'x.jpg' }, { path: 'x-resized.jpg' }], crossSubject: true });
    expect((near[0] as { cosine: number }).cosine).toBeCloseTo(0.99881, 4);
    // The threshold is a parameter.
    expect(checkLeakage(photos, { nearDuplicateCosine: 0.99 }).warnings.filter((w) => w.kind === 'near-duplicate')).toHaveLength(2);
  });
});

describe('checkLeakage: one person under two subject ids', () => {
  it('finds exactly the identity split across two ids among 30 people', () => {
    // Identity 7's photos 0-2 are subject s7, photos 3-5 are filed as subject "s7-b".
    const photos = syntheticPhotos(30, 6, 42, (id, k) => (id === 7 && k >= 3 ? 's7-b' : `s${id}`));
    const report = checkLeakage(photos);
    const same = report.warnings.filter((w): w is SamePersonWarning => w.kind === 'same-person');
    expect(same.map((w) => w.subjects)).toEqual([['s7', 's7-b']]);
    expect(report.identityThreshold).toMatchObject({ rule: 'within-subject-percentile', percentile: 5, calibrationSubjects: 31 });
    expect(same[0].meanCosine).toBeGreaterThanOrEqual(same[0].threshold);
    expect(same[0].maxCosine).toBeGreaterThan(same[0].meanCosine);
    expect(same[0].closestPair.every((p) => p.startsWith('id7/'))).toBe(true);
    expect(same[0].message).toMatch(/^subjects s7 and s7-b may be one person: mean cross-subject cosine 0\.\d{3} >= 0\.\d{3}, the 5th percentile of within-subject means/);
    // No false alarm without the split.
    expect(checkLeakage(syntheticPhotos(30, 6, 42)).warnings).toEqual([]);
  });

  it('calibrates the threshold between impostor and genuine similarity', () => {
    const report = checkLeakage(syntheticPhotos(30, 6, 7));
    const t = report.identityThreshold!.cosine;
    expect(t).toBeGreaterThan(0.3); // impostor means sit near 0
    expect(t).toBeLessThan(0.7); // genuine means sit near 0.64
  });

  it('falls back to the absolute threshold when too few subjects have two photos, and honours an absolute rule', () => {
    const photos = syntheticPhotos(3, 2, 1, (id, k) => (id === 0 && k === 1 ? 'dup' : `s${id}`));
    const fallback = checkLeakage(photos);
    expect(fallback.identityThreshold).toEqual({ cosine: 0.5, rule: 'absolute', calibrationSubjects: 2 });
    expect(fallback.warnings.filter((w) => w.kind === 'same-person').map((w) => (w as SamePersonWarning).subjects)).toEqual([['s0', 'dup']]);
    const strict = checkLeakage(photos, { identity: { rule: 'absolute', cosine: 0.99 } });
    expect(strict.identityThreshold).toMatchObject({ cosine: 0.99, rule: 'absolute' });
    expect(strict.warnings).toEqual([]);
  });

  it('refuses embeddings of different dimensions', () => {
    expect(() => checkLeakage([{ path: 'a', subject: 'A', embedding: new Float32Array(4) }, { path: 'b', subject: 'B', embedding: new Float32Array(3) }])).toThrow(
      'Embedding of "b" has 3 dimensions; expected 4 like the others.',
    );
    try {
      checkLeakage([{ path: 'a', subject: 'A', embedding: new Float32Array(4) }, { path: 'b', subject: 'B', embedding: new Float32Array(3) }]);
    } catch (e) {
      expect(hasCode(e, 'E_INPUT')).toBe(true);
    }
  });
});

describe('percentile', () => {
  it('interpolates linearly between order statistics (R type 7)', () => {
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 25)).toBe(2);
    expect(percentile([10, 20], 5)).toBeCloseTo(10.5, 12);
    expect(percentile([0, 10, 20, 30], 5)).toBeCloseTo(1.5, 12);
    expect(percentile([7], 95)).toBe(7);
  });
});
