/**
 * The iris model converted from human's tfjs graph model against TensorFlow.js executing the same
 * `iris.json` and weights, on crops around both eyes of a face photo from face-api's demo folder
 * (the image-right eye mirrored, as human and MediaPipe feed it). Needs the built model and the
 * cached human tarball (`npx phenoface models build`); skips otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { modelTarballPath } from '../../../src/runtime/build/install.ts';
import { loadManifest, loadModel, modelPath } from '../../../src/runtime/models.ts';
import { humanReference, nchwBatch } from '../../support/human-graph.ts';

const require = createRequire(import.meta.url);
const built = existsSync(modelPath('iris')) && existsSync(modelTarballPath('iris')) && loadManifest().models.iris !== undefined;
if (!built) console.warn('iris.test.ts: parity skipped, the iris model is not built (run `npx phenoface models build`).');

/**
 * 64x64 RGB crops around the eyes of face-api's sample1.jpg (the face mesh puts the image-left eye's
 * corners at x 858-884, y 557; the image-right eye's at x 928-960, y 515): a square 2.3-2.5 eye
 * widths wide, as human's getEyeBox cuts, the second mirrored.
 */
async function eyeCrops64(): Promise<Uint8Array[]> {
  const demo = `${dirname(require.resolve('@vladmandic/face-api/package.json'))}/demo`;
  const crop = async (region: { left: number; top: number; width: number; height: number }, flop: boolean) => new Uint8Array(await sharp(`${demo}/sample1.jpg`).extract(region).resize(64, 64).flop(flop).removeAlpha().raw().toBuffer());
  return [await crop({ left: 839, top: 525, width: 64, height: 64 }, false), await crop({ left: 907, top: 478, width: 74, height: 74 }, true)];
}

describe.skipIf(!built)('iris: onnxruntime = TensorFlow.js executing human\'s graph model', () => {
  it('gives the same 76 points on real eye crops, batched', async () => {
    const { tf, model: reference } = await humanReference('iris');

    const crops = await eyeCrops64();
    const batch = nchwBatch(crops, 64);
    const model = await loadModel('iris', { threads: 1 });
    const got = await model.run({ image: { data: batch, dims: [crops.length, 3, 64, 64] } });
    await model.dispose();
    expect(got.eye.dims).toEqual([crops.length, 228, 1, 1]);
    for (const [k, img] of crops.entries()) {
      const input = tf.tensor4d(Float32Array.from(img, (v) => v / 255), [1, 64, 64, 3]);
      const out = reference.execute(input);
      const want = (await out.data()) as Float32Array;
      tf.dispose([input, out]);
      expect(want.length).toBe(228);
      // Crop pixels: 1e-3 of a pixel of the 64 px crop (measured: 4e-5).
      const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - got.eye.data[228 * k + i])));
      expect(diff, `crop ${k}`).toBeLessThan(1e-3);
      // Not a degenerate net: the eye contour (points 0-15) spans the eye, inside the crop, and the
      // iris centre (point 71) lies between the corners (points 0 and 8).
      const xs = Array.from({ length: 16 }, (_, i) => want[3 * i]);
      expect(Math.max(...xs) - Math.min(...xs), `crop ${k}`).toBeGreaterThan(15);
      expect(Math.min(...xs)).toBeGreaterThan(0);
      expect(Math.max(...xs)).toBeLessThan(64);
      const [outer, inner, iris] = [want[0], want[24], want[213]];
      expect((iris - outer) * (iris - inner), `crop ${k}`).toBeLessThan(0);
    }
    reference.dispose();
  }, 60_000);
});
