/**
 * The orientation check (`pipeline/orientation.ts`): a face on its side or upside down, as in a photo
 * whose orientation tag was lost, is flagged `turned` with the turn that stands it upright; an
 * upright face is not. Real faces come from face-api's demo photos (an installed npm package).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../../src/config.ts';
import { decodeImage, encodeJpeg, resizeImage, rotateQuarterTurns } from '../../../src/image/index.ts';
import { turnedBy } from '../../../src/pipeline/orientation.ts';
import { Pipeline } from '../../../src/pipeline/pipeline.ts';
import type { Face, RgbImage } from '../../../src/types.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const cfg = DEFAULTS.detect.turnCheck;

describe('rotateQuarterTurns', () => {
  // A 3x2 image whose pixel i has the value i in every channel.
  const img: RgbImage = { width: 3, height: 2, data: Uint8Array.from([0, 1, 2, 3, 4, 5].flatMap((v) => [v, v, v])) };
  const grey = (im: RgbImage) => Array.from({ length: im.width * im.height }, (_, i) => im.data[3 * i]);

  it('turns clockwise, a quarter turn swapping the sides', () => {
    // 0 1 2      3 0      5 4 3      2 5
    // 3 4 5  ->  4 1  ,   2 1 0  ,   1 4
    //            5 2                 0 3
    const q = rotateQuarterTurns(img, 1);
    expect([q.width, q.height]).toEqual([2, 3]);
    expect(grey(q)).toEqual([3, 0, 4, 1, 5, 2]);
    expect(grey(rotateQuarterTurns(img, 2))).toEqual([5, 4, 3, 2, 1, 0]);
    expect(grey(rotateQuarterTurns(img, 3))).toEqual([2, 5, 1, 4, 0, 3]);
  });

  it('comes back to the image after four quarter turns, and takes turns modulo 4', () => {
    let im = img;
    for (let k = 0; k < 4; k++) im = rotateQuarterTurns(im, 1);
    expect(im).toEqual(img);
    expect(rotateQuarterTurns(img, -1)).toEqual(rotateQuarterTurns(img, 3));
    expect(rotateQuarterTurns(img, 0)).toEqual(img);
  });
});

describe('turnedBy (with a stand-in detector)', () => {
  const photo: RgbImage = { width: 400, height: 400, data: new Uint8Array(400 * 400 * 3) };
  const box = { x: 150, y: 150, width: 100, height: 100 };
  /** The face as the photo's detector found it: eye points level unless given. */
  const at = (score: number, landmarks5: Face['landmarks5'] = [[180, 180], [220, 180], [200, 200], [185, 220], [215, 220]]) => ({ box, score, landmarks5 });
  /** Eye points on their side: the second eye straight below the first (90 degrees clockwise from level). */
  const onItsSide: Face['landmarks5'] = [[220, 180], [220, 220], [200, 200], [180, 185], [180, 215]];
  const centred = (score: number): Face => ({ box: { x: 40, y: 40, width: 80, height: 80 }, score, landmarks5: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] });
  /** A detector answering the crop's four turns in order (unturned, then 1, 2, 3 quarter turns clockwise). */
  const answers = (...faces: Face[][]) => {
    let call = 0;
    return async (x: RgbImage) => {
      expect([x.width, x.height]).toEqual([cfg.cropSidePx, cfg.cropSidePx]);
      return faces[call++] ?? [];
    };
  };

  it('does not look again at a face the detector was sure of', async () => {
    let called = false;
    expect(await turnedBy(photo, at(0.995), async () => { called = true; return []; }, cfg)).toBeUndefined();
    expect(called).toBe(false);
  });

  it('names the turn that stands the face upright, when its face is clearly surer', async () => {
    expect(await turnedBy(photo, at(0.9), answers([centred(0.9)], [centred(0.95)], [centred(0.999)], [centred(0.97)]), cfg)).toBe(180);
    expect(await turnedBy(photo, at(0.9), answers([], [centred(0.995)], [], []), cfg)).toBe(90);
    expect(await turnedBy(photo, at(0.9), answers([centred(0.8)], [], [], [centred(0.999)]), cfg)).toBe(270);
  });

  it('reports no turn when no turn is sure enough, or not surer by the margin', async () => {
    expect(await turnedBy(photo, at(0.9), answers([centred(0.9)], [centred(0.98)], [], []), cfg)).toBeUndefined();
    expect(await turnedBy(photo, at(0.9), answers([centred(0.985)], [centred(0.995)], [], []), cfg)).toBeUndefined();
  });

  it('checks a face whose eye points lie on their side however sure the detector was, and names the turn that stands them upright', async () => {
    // Turned 270 degrees clockwise, the eye line is level again; a surer face in another turn does not count.
    expect(await turnedBy(photo, at(0.999, onItsSide), answers([centred(0.999)], [], [], [centred(0.995)]), cfg)).toBe(270);
    expect(await turnedBy(photo, at(0.999, onItsSide), answers([centred(0.999)], [centred(0.999)], [], [centred(0.9)]), cfg)).toBeUndefined();
    const mirrored = onItsSide.map(([x, y]) => [400 - x, 400 - y]) as Face['landmarks5'];
    expect(await turnedBy(photo, at(0.999, mirrored), answers([], [centred(0.995)], [], []), cfg)).toBe(90);
    // A tilted head (eye line 30 degrees from level) is not a face on its side.
    let called = false;
    expect(await turnedBy(photo, at(0.999, [[180, 180], [215, 200], [200, 210], [180, 220], [210, 235]]), async () => { called = true; return []; }, cfg)).toBeUndefined();
    expect(called).toBe(false);
    // The check off (belowScore 0) checks nothing.
    expect(await turnedBy(photo, at(0.5, onItsSide), async () => { called = true; return []; }, { ...cfg, belowScore: 0 })).toBeUndefined();
    expect(called).toBe(false);
  });

  it('cuts a crop in which a detector skipping small faces still sees this one', async () => {
    const sides: number[] = [];
    await turnedBy(photo, at(0.9), async (x) => { sides.push(x.width); return []; }, cfg, 96);
    expect(sides).toEqual([240, 240, 240, 240]);
  });

  it('counts only a face at the middle of the crop (another face in it is not this one)', async () => {
    const corner: Face = { ...centred(0.999), box: { x: 0, y: 0, width: 40, height: 40 } };
    expect(await turnedBy(photo, at(0.9), answers([], [corner], [], []), cfg)).toBeUndefined();
  });
});

describe('the orientation check on a real photo', () => {
  let pipeline: Pipeline;
  let img: RgbImage;
  beforeAll(async () => {
    pipeline = await Pipeline.create();
    img = await decodeImage(path.join(demo, 'sample6.jpg'));
  });
  afterAll(() => pipeline.close());

  it('flags the face turned a quarter or a half turn, with the turn back, and not the upright one', async () => {
    const embedded = async (k: number) => pipeline.embedFile(await encodeJpeg(rotateQuarterTurns(img, k), 95));
    const quality = async (k: number) => (await embedded(k)).quality;
    const upright = await embedded(0);
    expect(upright.quality.flags).not.toContain('turned');
    expect(upright.face.turned).toBeUndefined();
    // On the face, which a study's cache keeps (its report lists such photos).
    expect((await embedded(3)).face.turned).toBe(90);
    const side = await quality(1);
    expect(side.flags).toContain('turned');
    expect(side.warnings.join(' ')).toMatch(/turned on its side: it is found more surely with the photo turned 270 degrees clockwise/);
    const down = await quality(2);
    expect(down.flags).toContain('turned');
    expect(down.warnings.join(' ')).toMatch(/upside down: .* turned 180 degrees clockwise/);
  });

  it('says so when no face is found upright but one is with the photo turned, and only then', async () => {
    const sample3 = await decodeImage(path.join(demo, 'sample3.jpg'));
    await expect(pipeline.embedFile(await encodeJpeg(rotateQuarterTurns(sample3, 2), 95))).rejects.toMatchObject({
      code: 'E_NO_FACE',
      message: expect.stringMatching(/No face found in the image\. A face is found with the photo turned 180 degrees clockwise: its orientation tag may be missing/),
    });
    // `detect` lists no face there either, and names the turn beside the empty list.
    const detected = await pipeline.detectFile(await encodeJpeg(rotateQuarterTurns(sample3, 2), 95));
    expect(detected.faces).toEqual([]);
    expect(detected.turnedFace).toBe(180);
    const blank: RgbImage = { width: 400, height: 300, data: Uint8Array.from({ length: 400 * 300 * 3 }, (_, i) => (i % 1200) / 5) };
    const none = await pipeline.embedFile(await encodeJpeg(blank, 95)).catch((e: Error) => e);
    expect(none).toMatchObject({ code: 'E_NO_FACE' });
    expect((none as Error).message).toBe('No face found in the image.');
    expect(await pipeline.detectFile(await encodeJpeg(blank, 95))).not.toHaveProperty('turnedFace');
    // An animation whose first frame shows no face: only that frame is searched, and the message says so.
    const second = await encodeJpeg({ ...blank, data: blank.data.map((v) => 255 - v) }, 95);
    const frames = await sharp([await encodeJpeg(blank, 95), second], { join: { animated: true } }).gif().toBuffer();
    const animated = await pipeline.embedFile(frames).catch((e: Error) => e);
    expect(animated).toMatchObject({ code: 'E_NO_FACE', message: expect.stringContaining('Only the first of its 2 frames (pages) was searched') });
  });

  it('checks every face `detect` lists, as it checks the face a screen or study chooses', async () => {
    const detected = async (k: number) => pipeline.detectFile(await encodeJpeg(rotateQuarterTurns(img, k), 95));
    const upright = await detected(0);
    expect(upright.faces.length).toBeGreaterThan(0);
    expect(upright.faces.filter((f) => f.turned)).toEqual([]);
    // A photo larger than image.maxSidePx is detected on a reduced copy: the finding must survive
    // the mapping back to the photo's pixels.
    const large = rotateQuarterTurns(await resizeImage(img, 2600, Math.round((2600 * img.height) / img.width)), 1);
    const side = await pipeline.detectFile(await encodeJpeg(large, 95));
    expect(side.faces.some((f) => f.turned === 270)).toBe(true);
    expect(side.faces.every((f) => f.turned === undefined || f.turned === 270)).toBe(true);
  });
});

describe('detect.turnCheck settings', () => {
  it('refuses scores outside [0, 1], a roll that is no angle from level, and a crop the face could not fill', () => {
    expect(() => resolveConfig({ detect: { turnCheck: { ...cfg, margin: 2 } } })).toThrow(/detect.turnCheck/);
    expect(() => resolveConfig({ detect: { turnCheck: { ...cfg, cropSidePx: 30 } } })).toThrow(/cropSidePx/);
    expect(() => resolveConfig({ detect: { turnCheck: { ...cfg, sideRollDeg: 0 } } })).toThrow(/sideRollDeg/);
    expect(() => resolveConfig({ detect: { turnCheck: { ...cfg, sideRollDeg: Number.NaN } } })).toThrow(/sideRollDeg/);
    // A detector that skips small faces gets a crop large enough to see the face (half the crop) in.
    expect(resolveConfig({ detect: { minFaceSizePx: 96 } }).detect.turnCheck.cropSidePx).toBe(cfg.cropSidePx);
    expect(resolveConfig({ detect: { turnCheck: { ...cfg, belowScore: 0 } } }).detect.turnCheck.belowScore).toBe(0);
  });
});
