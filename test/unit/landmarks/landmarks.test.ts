/**
 * The dense landmark stage on real faces (face-api's demo photos, shipped in its npm package):
 * the converted 68-point net, cut out by the five detector points, returns 68 points on the face,
 * consistent with MTCNN's five points, in the photo's own pixels whatever its scale or offset.
 * Needs the built models; skips otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { umeyama } from '../../../src/align/index.ts';
import { DEFAULTS } from '../../../src/config.ts';
import { DENSE_LANDMARK_MODELS, fivePointsOf68, IBUG68, IBUG68_MIRROR, refinedCrops } from '../../../src/landmarks/index.ts';
import { Pipeline } from '../../../src/pipeline/pipeline.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import type { Face, Point } from '../../../src/types.ts';

const built = ['pnet', 'rnet', 'onet', 'face-landmark68'].every((n) => existsSync(modelPath(n)));
if (!built) console.warn('landmarks.test.ts: skipped, the models are not built (run `npx phenoface models build`).');
const demo = path.join(path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')), 'demo');

const detect = async (pipeline: Pipeline, bytes: Buffer) => (await pipeline.detectFile(bytes)).faces;
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('the iBUG-68 scheme', () => {
  it('gives the five contract points: eye centroids, nose tip 30, mouth corners 48 and 54', () => {
    const points: Point[] = Array.from({ length: 68 }, (_, i) => [i, 100 + i]);
    const [leftEye, rightEye, nose, mouthLeft, mouthRight] = fivePointsOf68(points);
    expect(leftEye).toEqual([38.5, 138.5]); // mean of 36..41
    expect(rightEye).toEqual([44.5, 144.5]); // mean of 42..47
    expect([nose, mouthLeft, mouthRight]).toEqual([[30, 130], [48, 148], [54, 154]]);
    expect(IBUG68.jaw[1] - IBUG68.jaw[0] + 1 + 5 + 5 + 4 + 5 + 6 + 6 + 12 + 8).toBe(68);
  });

  it('pairs each point with its mirror partner: sides swap, the midline stays, and mirroring twice is the identity', () => {
    expect(IBUG68_MIRROR).toHaveLength(68);
    IBUG68_MIRROR.forEach((j, i) => expect(IBUG68_MIRROR[j], `point ${i}`).toBe(i));
    const fixed = IBUG68_MIRROR.flatMap((j, i) => (j === i ? [i] : []));
    // Chin, nasal bridge and tip, subnasale, and the lips' midpoints.
    expect(fixed).toEqual([8, 27, 28, 29, 30, 33, 51, 57, 62, 66]);
    const pairs = [[0, 16], [17, 26], [21, 22], [31, 35], [36, 45], [39, 42], [37, 44], [40, 47], [48, 54], [49, 53], [55, 59], [60, 64], [65, 67]];
    for (const [a, b] of pairs) expect(IBUG68_MIRROR[a], `${a} <-> ${b}`).toBe(b);
    // Every pair lies on opposite sides: the mirror of an image-left part is the image-right one.
    for (let i = IBUG68.leftEye[0]; i <= IBUG68.leftEye[1]; i++) expect(IBUG68_MIRROR[i]).toBeGreaterThanOrEqual(IBUG68.rightEye[0]);
  });
});

describe.skipIf(!built)('dense landmarks on detected faces', () => {
  it('places the default model\'s points (the 68 and its extras) on each frontal face of a photo, inside its box, with eyes, nose and mouth where MTCNN puts them', async () => {
    const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 } } });
    try {
      // sample2.jpg: three faces; the leftmost is a near-profile behind a hand, whose five points
      // MTCNN misplaces (so any crop made from them is off): the other two are checked.
      const all = await detect(pipeline, await sharp(path.join(demo, 'sample2.jpg')).resize({ width: 800 }).jpeg().toBuffer());
      expect(all).toHaveLength(3);
      const faces = [...all].sort((p, q) => p.box.x - q.box.x).slice(1);
      for (const face of faces) {
        const pts = face.landmarksDense!;
        expect(pts).toHaveLength(DENSE_LANDMARK_MODELS[DEFAULTS.landmarks.model].points);
        const { x, y, width, height } = face.box;
        // MTCNN's box ends at the chin and may cut the jaw's ends: allow a tenth of its size.
        const m = 0.1 * width;
        for (const [px, py] of pts) {
          expect(px).toBeGreaterThan(x - m); expect(px).toBeLessThan(x + width + m);
          expect(py).toBeGreaterThan(y - m); expect(py).toBeLessThan(y + height + m);
        }
        const iod = dist(face.landmarks5[0], face.landmarks5[1]);
        const five = fivePointsOf68(pts);
        // Two models, two definitions (MTCNN's eye is the pupil, iBUG's the centroid of the lids'
        // six points): agreement within a fifth of the eye distance, and the same left-right order.
        five.forEach((p, k) => expect(dist(p, face.landmarks5[k]) / iod, `point ${k}`).toBeLessThan(0.2));
        expect(pts[36][0]).toBeLessThan(pts[45][0]);
        expect(pts[8][1]).toBeGreaterThan(pts[57][1]); // chin below the lower lip
      }
    } finally {
      await pipeline.close();
    }
  });

  it('returns points in the photo\'s own pixels: a photo scaled by 1/2 and shifted by a border gives the same points, scaled and shifted', async () => {
    const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 } } });
    try {
      const base = await sharp(path.join(demo, 'sample2.jpg')).resize({ width: 800 }).png().toBuffer();
      const half = await sharp(base).resize({ width: 400 }).png().toBuffer();
      const shifted = await sharp(base).extend({ left: 120, top: 60, background: '#000' }).png().toBuffer();
      const [a, b, c] = [await detect(pipeline, base), await detect(pipeline, half), await detect(pipeline, shifted)];
      const rightmost = (faces: Face[]) => faces.reduce((p, q) => (q.box.x > p.box.x ? q : p));
      const [fa, fb, fc] = [rightmost(a), rightmost(b), rightmost(c)];
      const iod = dist(fa.landmarks5[0], fa.landmarks5[1]);
      const meanError = (pts: Point[], map: (p: Point) => Point) => pts.reduce((s, p, i) => s + dist(map(p), fa.landmarksDense![i]), 0) / pts.length / iod;
      // The detector itself moves a little between the copies; the points follow within 5% of the eye distance.
      expect(meanError(fb.landmarksDense!, ([x, y]) => [2 * x + 0.5, 2 * y + 0.5])).toBeLessThan(0.05);
      expect(meanError(fc.landmarksDense!, ([x, y]) => [x - 120, y - 60])).toBeLessThan(0.02);
    } finally {
      await pipeline.close();
    }
  });
});

describe.skipIf(!built)('flip averaging', () => {
  it('places the points of a mirrored photo closer to the mirrored points than one run does', async () => {
    const withFlip = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 }, landmarks: { model: 'face-landmark68', flip: true } } });
    const without = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 }, landmarks: { model: 'face-landmark68', flip: false } } });
    try {
      const base = await sharp(path.join(demo, 'sample2.jpg')).resize({ width: 800 }).png().toBuffer();
      const mirrored = await sharp(base).flop().png().toBuffer();
      const width = 800;
      const rightmost = (faces: Face[]) => faces.reduce((p, q) => (q.box.x > p.box.x ? q : p));
      const leftmost = (faces: Face[]) => faces.reduce((p, q) => (q.box.x < p.box.x ? q : p));
      // Point i of the photo is point mirror[i] of the mirrored photo, at x -> width - x (the same face, now the leftmost).
      const mirrorError = async (pipeline: Pipeline) => {
        const a = rightmost(await detect(pipeline, base));
        const b = leftmost(await detect(pipeline, mirrored));
        const iod = dist(a.landmarks5[0], a.landmarks5[1]);
        return a.landmarksDense!.reduce((s, p, i) => {
          const [x, y] = b.landmarksDense![IBUG68_MIRROR[i]];
          return s + dist(p, [width - x, y]);
        }, 0) / 68 / iod;
      };
      const [flipped, plain] = [await mirrorError(withFlip), await mirrorError(without)];
      // The detector's five points are not mirror-exact either, so some disagreement stays.
      expect(flipped).toBeLessThan(0.8 * plain); // measured: 0.042 against 0.067 of the eye distance
    } finally {
      await withFlip.close();
      await without.close();
    }
  });
});

describe('the refining pass', () => {
  it('cuts the crop that maps the five points of the first pass onto the refinement template', () => {
    const spec = DENSE_LANDMARK_MODELS['face-landmark68'];
    // A first pass whose five derived points are the template turned by 30 degrees, scaled by 3 and moved.
    const [c, s] = [3 * Math.cos(Math.PI / 6), 3 * Math.sin(Math.PI / 6)];
    const place = ([x, y]: Point): Point => [c * x - s * y + 400, s * x + c * y + 250];
    const points: Point[] = Array.from({ length: 68 }, () => [0, 0]);
    const five = spec.refineTemplate.map(place);
    for (const i of [36, 37, 38, 39, 40, 41]) points[i] = five[0];
    for (const i of [42, 43, 44, 45, 46, 47]) points[i] = five[1];
    [points[30], points[48], points[54]] = [five[2], five[3], five[4]];
    const [m] = refinedCrops(spec, [points], umeyama);
    // The crop transform undoes the placement: each placed template point lands back on itself.
    spec.refineTemplate.forEach((p) => {
      const [x, y] = place(p);
      expect(m[0] * x + m[1] * y + m[2]).toBeCloseTo(p[0], 9);
      expect(m[3] * x + m[4] * y + m[5]).toBeCloseTo(p[1], 9);
    });
  });
});
