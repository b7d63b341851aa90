/**
 * Eye refinement by the iris model: the eye crops' geometry (centred, level, 2.3 corner distances
 * wide, the image-right eye mirrored so that it equals the image-left crop of the mirrored photo),
 * the way the model's points map back, the iris -> iBUG map against human's mesh annotations, and
 * a run on real faces through the pipeline (skipped when the models are not built).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { warpAffine } from '../../../src/image/index.ts';
import { EYE_CROP_SCALE, eyeCrops, eyePointsToImage, IBUG68_MIRROR, IRIS_INPUT_SIZE, IRIS_OUTPUT_POINTS, IRIS_TO_IBUG_EYES, MESH468_TO_IBUG68, withEyes } from '../../../src/landmarks/index.ts';
import { Pipeline } from '../../../src/pipeline/pipeline.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import type { Face, Point, RgbImage } from '../../../src/types.ts';

const require = createRequire(import.meta.url);
const built = ['pnet', 'rnet', 'onet', 'facemesh', 'iris'].every((n) => existsSync(modelPath(n)));
if (!built) console.warn('eyes.test.ts: runs skipped, the models are not built (run `npx phenoface models build`).');
const humanCoords = path.join(path.dirname(require.resolve('@vladmandic/human')), '../src/face/facemeshcoords.ts');
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const applyAffine = ([a, b, c, d, e, f]: readonly number[], [x, y]: Point): Point => [a * x + b * y + c, d * x + e * y + f];
const S = IRIS_INPUT_SIZE, C = S / 2 - 0.5, HALF = S / (2 * EYE_CROP_SCALE);

/** 68 points with the eye corners placed (the rest at the face centre, unused by the crops). */
function face(corners: Record<number, Point>): Point[] {
  return Array.from({ length: 68 }, (_, k): Point => corners[k] ?? [100, 100]);
}

describe('the eye crops', () => {
  // A face rolled by 10 degrees: image-left eye 36 -> 39, image-right eye 42 -> 45.
  const roll = (10 * Math.PI) / 180;
  const along = (from: Point, length: number): Point => [from[0] + length * Math.cos(roll), from[1] + length * Math.sin(roll)];
  const points = face({ 36: [40, 60], 39: along([40, 60], 30), 42: along([40, 60], 60), 45: along([40, 60], 90) });

  it('centre each eye level in the crop, its corners EYE_CROP_SCALE times closer than the side, the outer corner on the left', () => {
    const [left, right] = eyeCrops(points);
    const near = (p: Point, q: Point) => expect(dist(p, q)).toBeLessThan(1e-9);
    near(applyAffine(left, points[36]), [C - HALF, C]);
    near(applyAffine(left, points[39]), [C + HALF, C]);
    // Mirrored: the outer corner 45 on the left, the inner corner 42 on the right.
    near(applyAffine(right, points[45]), [C - HALF, C]);
    near(applyAffine(right, points[42]), [C + HALF, C]);
  });

  it('cut the image-right eye as the image-left eye of the mirrored photo', () => {
    const w = 140, h = 120;
    const img: RgbImage = { width: w, height: h, data: Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 7919) % 251) };
    const mirrored: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3) };
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mirrored.data.set(img.data.subarray(3 * (y * w + x), 3 * (y * w + x) + 3), 3 * (y * w + (w - 1 - x)));
    // The mirrored photo's points: column x -> w - 1 - x, each point renamed to its mirror partner.
    const flipped = points.map((_, k): Point => [w - 1 - points[IBUG68_MIRROR[k]][0], points[IBUG68_MIRROR[k]][1]]);
    const a = warpAffine(img, eyeCrops(points)[1], S, S), b = warpAffine(mirrored, eyeCrops(flipped)[0], S, S);
    const diff = a.data.reduce((m, v, i) => Math.max(m, Math.abs(v - b.data[i])), 0);
    expect(diff).toBeLessThanOrEqual(1);
  });

  it('refuse an eye whose corners coincide', () => {
    expect(() => eyeCrops(face({ 36: [40, 60], 39: [40, 60], 42: [90, 60], 45: [120, 60] }))).toThrow(/Eye corners 36 and 39 coincide/);
  });
});

describe('the model\'s points mapped back', () => {
  const points = face({ 36: [40, 61], 39: [71, 58], 42: [96, 57], 45: [128, 62] });

  it('land where the crop shows them, mirrored crop included (model x, y are crop-edge units: pixel centres at +0.5)', () => {
    const targets: Point[][] = [[[42, 60], [50, 55], [60, 55], [69, 59], [60, 64], [50, 64]], [[98, 58], [108, 54], [118, 54], [126, 61], [117, 65], [107, 64]]];
    eyeCrops(points).forEach((toCrop, eye) => {
      const row = new Float32Array(3 * IRIS_OUTPUT_POINTS);
      IRIS_TO_IBUG_EYES[eye].iris.forEach((k, j) => {
        const [u, v] = applyAffine(toCrop, targets[eye][j]);
        row.set([u + 0.5, v + 0.5, 0], 3 * k);
      });
      eyePointsToImage(row, IRIS_TO_IBUG_EYES[eye].iris, toCrop).forEach((p, j) => expect(dist(p, targets[eye][j]), `eye ${eye} point ${j}`).toBeLessThan(1e-4));
    });
  });

  it('replace the twelve eye points and nothing else', () => {
    const refined: [Point[], Point[]] = [IRIS_TO_IBUG_EYES[0].ibug.map((i): Point => [i, -1]), IRIS_TO_IBUG_EYES[1].ibug.map((i): Point => [i, -2])];
    const out = withEyes(points, refined);
    out.forEach((p, k) => expect(p, `point ${k}`).toEqual(k >= 36 && k <= 47 ? [k, k <= 41 ? -1 : -2] : points[k]));
    expect(points[36]).toEqual([40, 61]);
  });
});

describe('the iris -> iBUG map', () => {
  it('covers each eye\'s six points, mirror partners taking the same model point', () => {
    const [left, right] = IRIS_TO_IBUG_EYES;
    expect([...left.ibug, ...right.ibug].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, k) => 36 + k));
    left.ibug.forEach((i, k) => expect(right.iris[right.ibug.indexOf(IBUG68_MIRROR[i])], `point ${i}`).toBe(left.iris[k]));
  });

  it.skipIf(!existsSync(humanCoords))('puts the lids on the mesh map\'s vertices and the corners on the contour\'s ends (human\'s annotations)', () => {
    const src = readFileSync(humanCoords, 'utf8');
    const list = (key: string) => JSON.parse(new RegExp(`${key}: (\\[[^\\]]*\\])`).exec(src)![1]) as number[];
    // The model's points 0-8 are EyeLower0, 9-15 EyeUpper0 (human irisIndices).
    for (const [side, eye] of [['right', 0], ['left', 1]] as const) {
      const vertexOf = [...list(`${side}EyeLower0`), ...list(`${side}EyeUpper0`)];
      const { ibug, iris } = IRIS_TO_IBUG_EYES[eye];
      ibug.forEach((i, k) => {
        const corner = [36, 39, 42, 45].includes(i);
        if (corner) expect([0, 8], `point ${i}`).toContain(iris[k]);
        else expect(vertexOf[iris[k]], `point ${i}`).toBe(MESH468_TO_IBUG68[i]);
      });
    }
  });
});

describe.skipIf(!built)('the refined eyes on detected faces', () => {
  it('stay on the mesh\'s eyes, corners outside the lids, and change nothing else', async () => {
    const photo = await sharp(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo/sample1.jpg')).jpeg().toBuffer();
    const run = async (refineEyes: boolean) => {
      const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 }, landmarks: { model: 'facemesh', refineEyes } } });
      try {
        return (await pipeline.detectFile(photo)).faces;
      } finally {
        await pipeline.close();
      }
    };
    const [mesh, refined] = [await run(false), await run(true)];
    expect(refined.length).toBe(mesh.length);
    refined.forEach((f: Face, i) => {
      const a = mesh[i].landmarksDense!, b = f.landmarksDense!;
      const iod = dist(f.landmarks5[0], f.landmarks5[1]);
      for (let k = 0; k < a.length; k++) {
        // Measured: up to 0.14 of the eye distance on this photo's made-up, downcast eyes, where the
        // mesh puts the lids on the eye shadow and the iris model on the lash line.
        if (k >= 36 && k <= 47) expect(dist(a[k], b[k]) / iod, `face ${i} point ${k}`).toBeLessThan(0.2);
        else expect(b[k], `face ${i} point ${k}`).toEqual(a[k]);
      }
      // Each eye: the corners at its ends, the upper lid above the lower.
      for (const [corner1, up1, up2, corner2, low1, low2] of IRIS_TO_IBUG_EYES.map((e) => e.ibug.map((k) => b[k]))) {
        const lo = Math.min(corner1[0], corner2[0]), hi = Math.max(corner1[0], corner2[0]);
        for (const p of [up1, up2, low1, low2]) expect(p[0] > lo && p[0] < hi, `face ${i}`).toBe(true);
        expect(up1[1] + up2[1], `face ${i}`).toBeLessThan(low1[1] + low2[1]);
      }
    });
  }, 60_000);
});
