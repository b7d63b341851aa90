/**
 * The smallest face searched for (`detect.minFaceSizePx`, `detect --min-face`): as facenet-pytorch's
 * `min_face_size` it sets where MTCNN's pyramid starts and filters nothing; a photo in which no face
 * of that size fits is refused, not reported as holding no face. Real faces come from face-api's
 * demo photos (an installed npm package).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '../../../src/pipeline/pipeline.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(demo, `sample${i}.jpg`);

describe('detect.minFaceSizePx', () => {
  let pipeline: Pipeline;
  let small: Buffer;
  let closeUp: Buffer;
  beforeAll(async () => {
    pipeline = await Pipeline.create({ config: { detect: { minFaceSizePx: 1000 } } });
    small = await sharp(sample(2)).resize({ width: 1280 }).jpeg().toBuffer(); // 1280x911
    // sample1's central face (about 204x234 px), 2.5 face heights wide, enlarged to 2048 px: a face of about 800 px.
    closeUp = await sharp(sample(1)).extract({ left: 642, top: 250, width: 585, height: 585 }).resize(2048, 2048).jpeg().toBuffer();
  }, 60_000);
  afterAll(() => pipeline.close());

  it('refuses a photo whose shorter side is under it (E_TOO_SMALL), in detect and in embed, instead of searching nowhere', async () => {
    await expect(pipeline.detectFile(small)).rejects.toMatchObject({ code: 'E_TOO_SMALL', message: expect.stringMatching(/1280x911 pixels: no face of 1000 pixels.*below 911 pixels/) });
    await expect(pipeline.embedFile(small)).rejects.toMatchObject({ code: 'E_TOO_SMALL' });
  });

  it('is not a size filter: a face smaller than it is listed, as the reference lists it', async () => {
    const { faces } = await pipeline.detectFile(closeUp);
    expect(faces).toHaveLength(1);
    expect(faces[0].score).toBeGreaterThan(0.99);
    expect(Math.max(faces[0].box.width, faces[0].box.height)).toBeLessThan(1000);
    expect(Math.max(faces[0].box.width, faces[0].box.height)).toBeGreaterThan(600);
  });
});
