/**
 * The face mesh as a dense landmark model: its 468 -> 68 + 2 map (valid, distinct, mirror-consistent
 * against human's UV map of the mesh), and a run on real faces (face-api's demo photos) whose 68
 * points land near the 68-point model's and whose two extras lie on the nasal sidewalls. The runs need the built models; they skip otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { DENSE_LANDMARK_MODELS, EXTENDED_MIRROR, EXTRA_POINTS, IBUG68, IBUG68_MIRROR, IRIS_TO_IBUG_EYES, MESH468_EXTRAS, MESH468_POINTS, MESH468_SELECT, MESH468_TO_IBUG68 } from '../../../src/landmarks/index.ts';
import { landmarksVersion, Pipeline, PIPELINE_VERSION } from '../../../src/pipeline/pipeline.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import type { Face, Point } from '../../../src/types.ts';

const require = createRequire(import.meta.url);
const built = ['pnet', 'rnet', 'onet', 'face-landmark68', 'facemesh'].every((n) => existsSync(modelPath(n)));
if (!built) console.warn('facemesh.test.ts: runs skipped, the models are not built (run `npx phenoface models build`).');
// human's package exports do not include its package.json: its folder is found from the main entry (dist/).
const humanCoords = path.join(path.dirname(require.resolve('@vladmandic/human')), '../src/face/facemeshcoords.ts');
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('the 468 -> 68 + 2 map', () => {
  it('names 70 distinct mesh vertices, and the spec returns them: the 68, then the two nasal sidewalls', () => {
    expect(MESH468_TO_IBUG68).toHaveLength(68);
    expect(MESH468_SELECT).toEqual([...MESH468_TO_IBUG68, ...MESH468_EXTRAS]);
    expect(MESH468_EXTRAS).toHaveLength(Object.keys(EXTRA_POINTS).length);
    expect(new Set(MESH468_SELECT).size).toBe(70);
    for (const v of MESH468_SELECT) expect(Number.isInteger(v) && v >= 0 && v < MESH468_POINTS, `vertex ${v}`).toBe(true);
    const spec = DENSE_LANDMARK_MODELS.facemesh;
    expect(spec).toMatchObject({ points: 70, output: { count: 468, stride: 3, select: MESH468_SELECT } });
    expect(spec.mirror).toBe(EXTENDED_MIRROR);
    expect(DENSE_LANDMARK_MODELS['face-landmark68']).toMatchObject({ points: 68, mirror: IBUG68_MIRROR });
  });

  it('swaps the two sidewalls on a mirrored face and keeps the 68\'s partners', () => {
    expect(EXTENDED_MIRROR.slice(0, 68)).toEqual(IBUG68_MIRROR);
    expect(EXTENDED_MIRROR[EXTRA_POINTS.nasalSidewallLeft]).toBe(EXTRA_POINTS.nasalSidewallRight);
    expect(EXTENDED_MIRROR[EXTRA_POINTS.nasalSidewallRight]).toBe(EXTRA_POINTS.nasalSidewallLeft);
    EXTENDED_MIRROR.forEach((m, i) => expect(EXTENDED_MIRROR[m], `point ${i}`).toBe(i));
  });

  it.skipIf(!existsSync(humanCoords))('is mirror-consistent: the mesh partner of each point\'s vertex (human\'s UV map) is its partner\'s vertex', () => {
    const src = readFileSync(humanCoords, 'utf8');
    const body = src.slice(src.indexOf('export const UV468'), src.indexOf('export const TRI468'));
    const uv = JSON.parse(body.slice(body.indexOf('= [') + 2, body.lastIndexOf(']') + 1).replace(/,\s*\]$/, ']')) as Point[];
    expect(uv).toHaveLength(MESH468_POINTS);
    const partner = (v: number) => uv.reduce((best, q, j) => (dist(q, [1 - uv[v][0], uv[v][1]]) < dist(uv[best], [1 - uv[v][0], uv[v][1]]) ? j : best), 0);
    MESH468_SELECT.forEach((v, k) => expect(partner(v), `point ${k}`).toBe(MESH468_SELECT[EXTENDED_MIRROR[k]]));
    // The sidewalls sit at the height of the bridge's midline vertex 6, on the image-left (u < 0.5) and image-right sides.
    const [left, right] = MESH468_EXTRAS;
    expect(Math.abs(uv[left][1] - uv[6][1])).toBeLessThan(0.01);
    expect(uv[left][0]).toBeLessThan(0.5);
    expect(uv[right][0]).toBeGreaterThan(0.5);
  });
});

describe('the landmark model in the cache key', () => {
  it('names the default setting in the pipeline version and gives every other model and setting its own', () => {
    expect(PIPELINE_VERSION.endsWith(`-${landmarksVersion(DEFAULTS.landmarks)}`)).toBe(true);
    const versions = ['face-landmark68', 'facemesh'].flatMap((model) => [1, 2].flatMap((passes) => [false, true].flatMap((flip) => [false, true].map((refineEyes) => landmarksVersion({ model, passes, flip, refineEyes })))));
    // The eye refinement applies to the mesh only: face-landmark68's 4 settings, the mesh's 8.
    expect(new Set(versions).size).toBe(12);
    expect(landmarksVersion({ model: 'facemesh', passes: 2, flip: false, refineEyes: false })).toMatch(/^landmarks-facemesh-n70-[0-9a-f]{8}-p2$/);
    expect(landmarksVersion({ model: 'facemesh', passes: 2, flip: false, refineEyes: true })).toMatch(/^landmarks-facemesh-n70-[0-9a-f]{8}-p2-eyes[0-9a-f]{8}$/);
    expect(landmarksVersion({ model: 'face-landmark68', passes: 2, flip: false, refineEyes: true })).toBe(landmarksVersion({ model: 'face-landmark68', passes: 2, flip: false, refineEyes: false }));
  });

  it('changes when the eye refinement\'s point map changes', () => {
    const setting = { ...DEFAULTS.landmarks, model: 'facemesh', refineEyes: true };
    const before = landmarksVersion(setting);
    const iris = IRIS_TO_IBUG_EYES[0].iris as number[];
    try {
      iris[0] = 1;
      expect(landmarksVersion(setting)).not.toBe(before);
    } finally {
      iris[0] = 0;
    }
    expect(landmarksVersion(setting)).toBe(before);
  });

  it('changes when the model\'s point list changes, so cached landmarks are placed again', () => {
    const output = DENSE_LANDMARK_MODELS.facemesh.output;
    const before = landmarksVersion(DEFAULTS.landmarks);
    try {
      (DENSE_LANDMARK_MODELS.facemesh as { output: typeof output }).output = { ...output, select: [...MESH468_TO_IBUG68, 122, 351] };
      expect(landmarksVersion(DEFAULTS.landmarks)).not.toBe(before);
    } finally {
      (DENSE_LANDMARK_MODELS.facemesh as { output: typeof output }).output = output;
    }
    expect(landmarksVersion(DEFAULTS.landmarks)).toBe(before);
  });
});

describe.skipIf(!built)('the face mesh on detected faces', () => {
  it('places its 68 near the 68-point model\'s on the frontal faces of a photo', async () => {
    const photo = await sharp(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo/sample2.jpg')).resize({ width: 800 }).jpeg().toBuffer();
    const run = async (model: string) => {
      const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 }, landmarks: { model } } });
      try {
        // The leftmost face is a near-profile behind a hand (see landmarks.test.ts): the other two.
        return [...(await pipeline.detectFile(photo)).faces].sort((p, q) => p.box.x - q.box.x).slice(1);
      } finally {
        await pipeline.close();
      }
    };
    const [mesh, net] = [await run('facemesh'), await run('face-landmark68')];
    expect(mesh).toHaveLength(2);
    mesh.forEach((face: Face, i) => {
      const a = face.landmarksDense!, b = net[i].landmarksDense!;
      expect(a).toHaveLength(70);
      // The nasal sidewalls: between the inner eye corners, either side of the bridge, between nasion and nose tip.
      const [l, r] = [a[EXTRA_POINTS.nasalSidewallLeft], a[EXTRA_POINTS.nasalSidewallRight]];
      expect(a[39][0] < l[0] && l[0] < a[28][0] && a[28][0] < r[0] && r[0] < a[42][0], `face ${i} sidewalls`).toBe(true);
      for (const p of [l, r]) expect(p[1] > a[27][1] && p[1] < a[30][1], `face ${i} sidewall height`).toBe(true);
      const iod = dist(face.landmarks5[0], face.landmarks5[1]);
      // Inner face (brows, nose, eyes, lips; the jaw contour is defined differently by the two schemes).
      const inner = Array.from({ length: 68 - IBUG68.leftBrow[0] }, (_, k) => k + IBUG68.leftBrow[0]);
      const error = inner.reduce((s, k) => s + dist(a[k], b[k]), 0) / inner.length / iod;
      expect(error, `face ${i}`).toBeLessThan(0.12); // measured: 0.071 and 0.062 of the eye distance
      expect(dist(a[8], b[8]) / iod, `face ${i} chin`).toBeLessThan(0.3);
      expect(a[36][0]).toBeLessThan(a[45][0]);
      expect(a[8][1]).toBeGreaterThan(a[57][1]);
    });
  }, 60_000);
});

describe.skipIf(!built)('the nasal sidewalls under flip averaging', () => {
  it('a mirrored photo gives the mirrored sidewalls, swapped: the image-left one is the other photo\'s image-right one', async () => {
    const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 }, landmarks: { model: 'facemesh', flip: true } } });
    try {
      const base = await sharp(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo/sample2.jpg')).resize({ width: 800 }).png().toBuffer();
      const mirrored = await sharp(base).flop().png().toBuffer();
      const rightmost = (faces: Face[]) => faces.reduce((p, q) => (q.box.x > p.box.x ? q : p));
      const leftmost = (faces: Face[]) => faces.reduce((p, q) => (q.box.x < p.box.x ? q : p));
      const a = rightmost((await pipeline.detectFile(base)).faces), b = leftmost((await pipeline.detectFile(mirrored)).faces);
      const iod = dist(a.landmarks5[0], a.landmarks5[1]);
      const { nasalSidewallLeft: l, nasalSidewallRight: r } = EXTRA_POINTS;
      const pa = a.landmarksDense!, pb = b.landmarksDense!;
      expect(pa[l][0]).toBeLessThan(pa[r][0]);
      expect(pb[l][0]).toBeLessThan(pb[r][0]);
      // Point l of the photo is point r of the mirrored photo at x -> 800 - x.
      for (const [k, m] of [[l, r], [r, l]]) expect(dist(pa[k], [800 - pb[m][0], pb[m][1]]) / iod, `point ${k}`).toBeLessThan(0.05); // measured: 0.031 and 0.028 of the eye distance
      // The bridge width over the eye distance agrees between the two photos.
      expect(Math.abs(dist(pa[l], pa[r]) / dist(pb[l], pb[r]) - 1)).toBeLessThan(0.03); // measured: 0.012
    } finally {
      await pipeline.close();
    }
  }, 60_000);
});
