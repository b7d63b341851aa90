/**
 * The face mesh as a dense landmark model: its 468 -> 68 map (valid, distinct, mirror-consistent
 * against human's UV map of the mesh), and a run on real faces (face-api's demo photos) whose 68
 * points land near the 68-point model's. The runs need the built models; they skip otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { DENSE_LANDMARK_MODELS, IBUG68, IBUG68_MIRROR, MESH468_POINTS, MESH468_TO_IBUG68 } from '../../../src/landmarks/index.ts';
import { landmarksVersion, Pipeline, PIPELINE_VERSION } from '../../../src/pipeline/pipeline.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import type { Face, Point } from '../../../src/types.ts';

const require = createRequire(import.meta.url);
const built = ['pnet', 'rnet', 'onet', 'face-landmark68', 'facemesh'].every((n) => existsSync(modelPath(n)));
if (!built) console.warn('facemesh.test.ts: runs skipped, the models are not built (run `npx phenoface models build`).');
// human's package exports do not include its package.json: its folder is found from the main entry (dist/).
const humanCoords = path.join(path.dirname(require.resolve('@vladmandic/human')), '../src/face/facemeshcoords.ts');
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('the 468 -> 68 map', () => {
  it('names 68 distinct mesh vertices, and the spec returns them as the 68', () => {
    expect(MESH468_TO_IBUG68).toHaveLength(68);
    expect(new Set(MESH468_TO_IBUG68).size).toBe(68);
    for (const v of MESH468_TO_IBUG68) expect(Number.isInteger(v) && v >= 0 && v < MESH468_POINTS, `vertex ${v}`).toBe(true);
    const spec = DENSE_LANDMARK_MODELS.facemesh;
    expect(spec).toMatchObject({ points: 68, output: { count: 468, stride: 3, select: MESH468_TO_IBUG68 } });
    expect(spec.mirror).toBe(IBUG68_MIRROR);
  });

  it.skipIf(!existsSync(humanCoords))('is mirror-consistent: the mesh partner of each point\'s vertex (human\'s UV map) is its iBUG partner\'s vertex', () => {
    const src = readFileSync(humanCoords, 'utf8');
    const body = src.slice(src.indexOf('export const UV468'), src.indexOf('export const TRI468'));
    const uv = JSON.parse(body.slice(body.indexOf('= [') + 2, body.lastIndexOf(']') + 1).replace(/,\s*\]$/, ']')) as Point[];
    expect(uv).toHaveLength(MESH468_POINTS);
    const partner = (v: number) => uv.reduce((best, q, j) => (dist(q, [1 - uv[v][0], uv[v][1]]) < dist(uv[best], [1 - uv[v][0], uv[v][1]]) ? j : best), 0);
    MESH468_TO_IBUG68.forEach((v, k) => expect(partner(v), `iBUG ${k}`).toBe(MESH468_TO_IBUG68[IBUG68_MIRROR[k]]));
  });
});

describe('the landmark model in the cache key', () => {
  it('names the default setting in the pipeline version and gives every other model and setting its own', () => {
    expect(PIPELINE_VERSION.endsWith(`-${landmarksVersion(DEFAULTS.landmarks)}`)).toBe(true);
    const versions = ['face-landmark68', 'facemesh'].flatMap((model) => [1, 2].flatMap((passes) => [false, true].map((flip) => landmarksVersion({ model, passes, flip }))));
    expect(new Set(versions).size).toBe(8);
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
      expect(a).toHaveLength(68);
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
