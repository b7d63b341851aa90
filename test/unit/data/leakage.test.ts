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
 * plus noise (photo-to-photo cosine ~0.64 within an identity, ~0 across, like a recognition backbone).
 */
function syntheticPhotos(identities: number, photosEach: number, seed: number, subjectOf = (id: number, _k: number) => `s${id}`, noise = 0.75): LeakagePhoto[] {
  const r = rng(seed);
  const dim = 128;
  const photos: LeakagePhoto[] = [];
  for (let id = 0; id < identities; id++) {
    const centre = Array.from({ length: dim }, () => gauss(r));
    for (let k = 0; k < photosEach; k++) {
      const noisy = centre.map((c) => c + noise * gauss(r));
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
    // Only the copy under another person is leakage; a copy within one person stays in one fold.
    expect(report.warnings.map((w) => w.kind === 'duplicate-content' && [w.photos.map((p) => p.path), w.crossSubject])).toEqual([
      [['a/1.png', 'b/copy.png'], true],
    ]);
    expect(report.warnings[0].message).toBe('the same photo appears under 2 paths of different people: "a/1.png" (subject A), "b/copy.png" (subject B). If both show one person, give them one subject id in the manifest; otherwise remove the copy.');
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
    // The threshold is a parameter; near-identical photos of one person (x, x-other) are never reported.
    expect(checkLeakage(photos, { nearDuplicateCosine: 0.98 }).warnings.filter((w) => w.kind === 'near-duplicate').map((w) => w.photos.map((p) => p.path))).toEqual([['x.jpg', 'x-resized.jpg'], ['x-resized.jpg', 'x-other.jpg']]);
  });
});

describe('checkLeakage: one person under two subject ids', () => {
  it('finds exactly the identity split across two ids among 30 people', () => {
    // Identity 7's photos 0-2 are subject s7, photos 3-5 are filed as subject "s7-b".
    const photos = syntheticPhotos(30, 6, 42, (id, k) => (id === 7 && k >= 3 ? 's7-b' : `s${id}`));
    const report = checkLeakage(photos);
    const same = report.warnings.filter((w): w is SamePersonWarning => w.kind === 'same-person');
    expect(same.map((w) => w.subjects)).toEqual([['s7', 's7-b']]);
    expect(report.identityThreshold).toMatchObject({ rule: 'split-half-robust', k: 3, calibrationSubjects: 31 });
    expect(same[0].centroidCosine).toBeGreaterThanOrEqual(same[0].threshold);
    expect(same[0].maxCosine).toBeGreaterThan(same[0].meanCosine);
    expect(same[0].meanCosine).toBeCloseTo(0.64, 1);
    expect(same[0].closestPair.every((p) => p.startsWith('id7/'))).toBe(true);
    expect(same[0].message).toMatch(/^subjects s7 and s7-b may be one person: centroid cosine 0\.\d{3} >= 0\.\d{3}, the median - 3 robust SD of split-half cosines within subjects/);
    // No false alarm without the split.
    expect(checkLeakage(syntheticPhotos(30, 6, 42)).warnings).toEqual([]);
  });

  it('calibrates the threshold above every impostor pair and below typical split halves', () => {
    const photos = syntheticPhotos(30, 6, 7);
    const t = checkLeakage(photos).identityThreshold!.cosine;
    const centroid = (subject: string) => {
      const vs = photos.filter((p) => p.subject === subject).map((p) => p.embedding!);
      const sum = vs.reduce((acc, v) => acc.map((x, k) => x + v[k]), new Float32Array(vs[0].length));
      const n = Math.hypot(...sum);
      return sum.map((x) => x / n);
    };
    const cs = Array.from({ length: 30 }, (_, i) => centroid(`s${i}`));
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, k) => s + x * b[k], 0);
    const impostors = cs.flatMap((a, i) => cs.slice(i + 1).map((b) => cos(a, b)));
    // Three photos against three: genuine centroid cosine ~ 128 / (128 + 72 / 3) = 0.84.
    expect(Math.max(...impostors)).toBeLessThan(0.4);
    expect(t).toBeGreaterThan(0.7);
    expect(t).toBeLessThan(0.84);
  });

  it('computes the robust threshold as median - k * 1.4826 * MAD, and the percentile rule on request', () => {
    // Two photos per subject: each split-half cosine is the cosine of the subject's two photos.
    const at = (deg: number) => unitVec([Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180), 0]);
    const angles = [10, 20, 30, 40, 50]; // cosines 0.985, 0.940, 0.866, 0.766, 0.643
    const photos: LeakagePhoto[] = angles.flatMap((deg, i) => [
      { path: `${i}a`, subject: `s${i}`, embedding: at(0) },
      { path: `${i}b`, subject: `s${i}`, embedding: at(deg) },
    ]);
    const cos = angles.map((d) => Math.cos((d * Math.PI) / 180));
    const median = cos[2];
    const mad = [...cos.map((c) => Math.abs(c - median))].sort((a, b) => a - b)[2];
    expect(checkLeakage(photos).identityThreshold!.cosine).toBeCloseTo(median - 3 * 1.4826 * mad, 5);
    expect(checkLeakage(photos, { identity: { rule: 'split-half-robust', k: 1 } }).identityThreshold!.cosine).toBeCloseTo(median - 1.4826 * mad, 5);
    expect(checkLeakage(photos, { identity: { rule: 'split-half-percentile', percentile: 25 } }).identityThreshold).toMatchObject({ rule: 'split-half-percentile', percentile: 25 });
    expect(checkLeakage(photos, { identity: { rule: 'split-half-percentile', percentile: 25 } }).identityThreshold!.cosine).toBeCloseTo(cos[3], 5);
  });

  it('keeps the robust threshold high when a few subjects have poor self-similarity (the percentile drops)', () => {
    // 30 ordinary people, plus 4 whose photos barely agree (e.g. profile-only, poorly embedded).
    const photos = [...syntheticPhotos(30, 6, 11), ...syntheticPhotos(4, 6, 12, (id) => `poor${id}`, 2.5)];
    const robust = checkLeakage(photos);
    const p5 = checkLeakage(photos, { identity: { rule: 'split-half-percentile', percentile: 5 } });
    const clean = checkLeakage(syntheticPhotos(30, 6, 11));
    expect(p5.identityThreshold!.cosine).toBeLessThan(clean.identityThreshold!.cosine - 0.2);
    expect(robust.identityThreshold!.cosine).toBeGreaterThan(clean.identityThreshold!.cosine - 0.05);
    expect(robust.warnings).toEqual([]);
  });

  it('flags only mutual nearest subjects by default, so a look-alike of one half is not flagged', () => {
    const at = (deg: number, z = 0) => unitVec([Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180), z]);
    // A and B: one person (cosine 0.90); C: a look-alike of A (0.85) whose nearest subject is A, but A's is B.
    const photos: LeakagePhoto[] = [
      { path: 'a.jpg', subject: 'A', embedding: at(0) },
      { path: 'b.jpg', subject: 'B', embedding: at(25.84) },
      { path: 'c.jpg', subject: 'C', embedding: at(-31.79) },
    ];
    const absolute = { identity: { rule: 'absolute', cosine: 0.8 } } as const;
    const pairs = (opts: object) => checkLeakage(photos, opts).warnings.map((w) => (w as SamePersonWarning).subjects);
    expect(pairs(absolute)).toEqual([['A', 'B']]);
    expect(pairs({ ...absolute, mutualNearest: false })).toEqual([
      ['A', 'B'],
      ['A', 'C'],
    ]);
  });

  it('falls back to the absolute threshold when too few subjects have two photos, and honours an absolute rule', () => {
    const photos = syntheticPhotos(3, 2, 1, (id, k) => (id === 0 && k === 1 ? 'dup' : `s${id}`), 0.5);
    const fallback = checkLeakage(photos);
    expect(fallback.identityThreshold).toEqual({ cosine: 0.75, rule: 'absolute', calibrationSubjects: 2 });
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
