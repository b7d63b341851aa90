/**
 * The embedding path's face choice: the documented rule, the reduced-copy search of large
 * photos (`detect.choiceSearchSidePx`), O-Net re-location of faces on full-size pixels, and the
 * worker-thread pool that `embed` and `study` run. Real faces come from face-api's demo photos
 * (an installed npm package).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { MtcnnDetector } from '../../../src/detect/mtcnn/index.ts';
import { decodeImage, type DecodedImage } from '../../../src/image/index.ts';
import { chooseFace, Pipeline } from '../../../src/pipeline/pipeline.ts';
import { PipelinePool } from '../../../src/pipeline/pool.ts';
import type { Face, RgbImage } from '../../../src/types.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(demo, `sample${i}.jpg`);

const face = (x: number, y: number, w: number): Face => ({ box: { x, y, width: w, height: w }, score: 0.99, landmarks5: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] });
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const centre = (f: Face) => [f.box.x + f.box.width / 2, f.box.y + f.box.height / 2];

describe('chooseFace', () => {
  it('takes the most central of the faces with at least half the largest area', () => {
    // 1000x1000 photo. A: largest, off-centre. B: 0.64 of A's area, nearer the centre. C: 0.25 of
    // A's area, dead centre, too small to compete.
    const a = face(0, 0, 200), b = face(300, 300, 160), c = face(450, 450, 100);
    expect(chooseFace([a, b, c], 1000, 1000)).toBe(b);
    // With B at 0.49 of A's area (140^2 / 200^2), A wins.
    expect(chooseFace([a, face(300, 300, 140), c], 1000, 1000)).toBe(a);
    expect(chooseFace([], 1000, 1000)).toBeUndefined();
  });
});

describe('MTCNN re-location (refine)', () => {
  let detector: MtcnnDetector;
  let img: DecodedImage;
  let faces: Face[];
  beforeAll(async () => {
    detector = await MtcnnDetector.load(DEFAULTS.detect, 1);
    img = await decodeImage(sample(1));
    faces = await detector.detect(img);
  });
  afterAll(() => detector.dispose());

  it('reads only the face window: a crop of the photo gives exactly the same answer, shifted', async () => {
    const f = faces[0];
    const [ox, oy] = [Math.max(0, Math.floor(f.box.x) - 150), Math.max(0, Math.floor(f.box.y) - 120)];
    const [w, h] = [Math.min(img.width - ox, Math.ceil(f.box.width) + 400), Math.min(img.height - oy, Math.ceil(f.box.height) + 400)];
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) data.set(img.data.subarray(3 * ((oy + y) * img.width + ox), 3 * ((oy + y) * img.width + ox + w)), 3 * y * w);
    const crop: RgbImage = { width: w, height: h, data };
    const shifted: Face = { ...f, box: { ...f.box, x: f.box.x - ox, y: f.box.y - oy } };
    const [whole] = await detector.refine(img, [f]);
    const [part] = await detector.refine(crop, [shifted]);
    expect(whole).toBeDefined();
    expect(part!.score).toBe(whole!.score);
    expect(part!.box.x + ox).toBeCloseTo(whole!.box.x, 9);
    expect(part!.box.width).toBeCloseTo(whole!.box.width, 9);
    part!.landmarks5.forEach(([x, y], i) => {
      expect(x + ox).toBeCloseTo(whole!.landmarks5[i][0], 9);
      expect(y + oy).toBeCloseTo(whole!.landmarks5[i][1], 9);
    });
  });

  it("stays on a detected face (O-Net on its own box) and rejects a window with no face", async () => {
    const refined = await detector.refine(img, faces);
    refined.forEach((r, i) => {
      const f = faces[i];
      const iod = Math.hypot(f.landmarks5[0][0] - f.landmarks5[1][0], f.landmarks5[0][1] - f.landmarks5[1][1]);
      expect(r).toBeDefined();
      r!.landmarks5.forEach(([x, y], k) => expect(Math.hypot(x - f.landmarks5[k][0], y - f.landmarks5[k][1])).toBeLessThan(0.1 * iod));
    });
    // A flat grey square and a box wholly outside the photo.
    const grey: RgbImage = { width: 200, height: 200, data: new Uint8Array(200 * 200 * 3).fill(128) };
    expect(await detector.refine(grey, [face(20, 20, 150)])).toEqual([undefined]);
    expect(await detector.refine(img, [face(img.width + 10, 10, 100)])).toEqual([undefined]);
  });
});

describe('reduced-copy search', () => {
  let fast: Pipeline, full: Pipeline;
  beforeAll(async () => {
    [fast, full] = await Promise.all([Pipeline.create(), Pipeline.create({ config: { detect: { choiceSearchSidePx: 0 } } })]);
  });
  afterAll(async () => { await fast.close(); await full.close(); });

  it('chooses the face the full-size search chooses, with an embedding within MTCNN jitter', async () => {
    for (const i of [1, 2, 3]) {
      const [a, b] = [await full.embedFile(sample(i)), await fast.embedFile(sample(i))];
      const [ca, cb] = [centre(a.face), centre(b.face)];
      expect(Math.hypot(ca[0] - cb[0], ca[1] - cb[1])).toBeLessThan(0.25 * a.face.box.width);
      expect(dot(a.embedding.vector, b.embedding.vector)).toBeGreaterThan(0.95);
      // The faces that could compete were re-located on the full-size pixels: all are listed.
      expect(b.faces.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('leaves photos under 1.5x the search side untouched: bit-identical results', async () => {
    const small = await (await import('sharp')).default(sample(2)).resize({ width: 800 }).jpeg().toBuffer();
    const [a, b] = [await full.embedFile(small), await fast.embedFile(small)];
    expect(b.face).toEqual(a.face);
    expect(Array.from(b.embedding.vector)).toEqual(Array.from(a.embedding.vector));
  });
});

describe('PipelinePool', () => {
  it('gives what Pipeline.embedFile gives, turns a bad photo into its error, and goes on', async () => {
    const pool = await PipelinePool.create({ workers: 2 });
    const pipeline = await Pipeline.create();
    try {
      expect(pool.capacity).toBe(4);
      const [r, bad, r2] = await Promise.allSettled([pool.embedFile(sample(4)), pool.embedFile(Buffer.alloc(0)), pool.embedFile(sample(5))]);
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'E_DECODE' } });
      const direct = await pipeline.embedFile(sample(4));
      const v = (r as PromiseFulfilledResult<Awaited<ReturnType<Pipeline['embedFile']>>>).value;
      expect(v.face.box).toEqual(direct.face.box);
      expect(dot(v.embedding.vector, direct.embedding.vector)).toBeGreaterThan(0.9999);
      expect(r2.status).toBe('fulfilled');
      // detect lists every face, as the pipeline does.
      const listed = await pool.detectFile(sample(4));
      expect(listed.faces.map((f) => f.box)).toEqual((await pipeline.detectFile(sample(4))).faces.map((f) => f.box));
      expect(listed.faces.length).toBeGreaterThan(v.faces.length - 1);
    } finally {
      await pool.close();
      await pipeline.close();
    }
    await expect(pool.embedFile(sample(4))).rejects.toMatchObject({ code: 'E_INTERNAL' });
  });
});

describe('PipelinePool when a worker dies', () => {
  it('fails only the photos that worker held, and replaces it for the rest of the batch', async () => {
    const pool = await PipelinePool.create({ workers: 1 });
    try {
      const worker = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots[0].worker;
      const inFlight = pool.embedFile(sample(1));
      const queued = [pool.embedFile(sample(2)), pool.embedFile(sample(3))];
      await worker.terminate(); // as a heap out-of-memory in the worker would end it
      await expect(inFlight).rejects.toMatchObject({ code: 'E_INTERNAL' });
      // The worker held two photos at once; whatever it held fails, the rest is done by its replacement.
      const outcomes = await Promise.allSettled([...queued, pool.embedFile(sample(4))]);
      expect(outcomes[2].status).toBe('fulfilled');
      expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
    }
  });
});
