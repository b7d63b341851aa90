/**
 * decodeImage on every format and pixel layout it accepts, and on the broken, hostile and oddly
 * named files it must refuse or survive. Fixtures are generated with sharp into a temp folder.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { PhenofaceError, type ErrorCode } from '../../../src/errors.ts';
import { decodeImage, isSrgbProfile, type DecodedImage } from '../../../src/image/index.ts';
import { cutAndClose, encodeBaselineJpeg, jpegSegments, QUADRANT_COLOURS, quadrants, restartMarkers, smallFixtures, withBytesBefore, writeFixtures } from '../../fixtures-gen/images.ts';

let dir: string;
let paths: Record<string, string>;

beforeAll(async () => {
  ({ dir, paths } = writeFixtures(await smallFixtures()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The RGB of pixel (x, y). */
function px(img: DecodedImage, x: number, y: number): number[] {
  const o = 3 * (y * img.width + x);
  return [img.data[o], img.data[o + 1], img.data[o + 2]];
}

function expectClose(actual: number[], expected: readonly number[], tol: number, what: string): void {
  for (let c = 0; c < 3; c++) expect(Math.abs(actual[c] - expected[c]), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tol);
}

/** Checks the four quadrants' centres of a decoded 96x64 fixture. */
function expectQuadrants(img: DecodedImage, tol: number): void {
  expect([img.width, img.height]).toEqual([96, 64]);
  expectClose(px(img, 24, 16), QUADRANT_COLOURS.topLeft, tol, 'top-left');
  expectClose(px(img, 72, 16), QUADRANT_COLOURS.topRight, tol, 'top-right');
  expectClose(px(img, 24, 48), QUADRANT_COLOURS.bottomLeft, tol, 'bottom-left');
  expectClose(px(img, 72, 48), QUADRANT_COLOURS.bottomRight, tol, 'bottom-right');
}

async function failure(promise: Promise<unknown>): Promise<PhenofaceError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(PhenofaceError);
    return err as PhenofaceError;
  }
  throw new Error('expected a PhenofaceError, but decoding succeeded');
}

/** Decoding `name` fails with `code`, and the message names the file and what was expected. */
async function expectRefused(name: string, code: ErrorCode): Promise<PhenofaceError> {
  const err = await failure(decodeImage(paths[name]));
  expect(err.code, err.message).toBe(code);
  expect(err.message).toContain(JSON.stringify(paths[name]));
  expect(err.message).toMatch(/Expected/);
  return err;
}

describe('decodeImage: accepted formats and layouts', () => {
  it('decodes a JPEG and a lossless PNG to 8-bit RGB with the full-size geometry', async () => {
    const png = await decodeImage(paths['photo.png']);
    expect(png.data).toEqual(quadrants().data); // lossless: exact
    expect(png).toMatchObject({ originalWidth: 96, originalHeight: 64, scale: 1, format: 'png' });
    expect(png.data).toBeInstanceOf(Uint8Array);
    const jpg = await decodeImage(paths['photo.jpg']);
    expect(jpg.format).toBe('jpeg');
    expectQuadrants(jpg, 8);
  });

  it('sniffs the content, not the extension (a PNG named .jpg)', async () => {
    const img = await decodeImage(paths['png-named.jpg']);
    expect(img.format).toBe('png');
    expect(img.data).toEqual(quadrants().data);
  });

  it('accepts bytes as well as paths', async () => {
    const img = await decodeImage(readFileSync(paths['photo.png']));
    expect(img.data).toEqual(quadrants().data);
  });

  it('converts CMYK, 16-bit, greyscale and palette images to 8-bit sRGB', async () => {
    // CMYK cannot hold saturated sRGB green, so colours shift; check each quadrant's dominant channel
    // (a decoder reading C, M, Y as R, G, B would give inverted colours: red would come out cyan).
    const cmyk = await decodeImage(paths['cmyk.jpg']);
    const [tl, tr, bl, br] = [px(cmyk, 24, 16), px(cmyk, 72, 16), px(cmyk, 24, 48), px(cmyk, 72, 48)];
    expect(tl[0] - Math.max(tl[1], tl[2]), `red ${tl}`).toBeGreaterThan(50);
    expect(tr[1] - Math.max(tr[0], tr[2]), `green ${tr}`).toBeGreaterThan(50);
    expect(bl[2] - Math.max(bl[0], bl[1]), `blue ${bl}`).toBeGreaterThan(50);
    expect(Math.min(...br), `white ${br}`).toBeGreaterThan(200);
    const sixteen = await decodeImage(paths['sixteen.png']);
    expect(sixteen.data).toEqual(quadrants().data);
    const grey = await decodeImage(paths['grey.png']);
    expect((await sharp(paths['grey.png']).metadata()).channels).toBe(1);
    const [r, g, b] = px(grey, 24, 16);
    expect(r).toBe(g);
    expect(g).toBe(b);
    expectQuadrants(await decodeImage(paths['palette.png']), 8);
  });

  it('skips the colour engine for sRGB-tagged photos (same pixels) and still converts other profiles', async () => {
    const raw = Buffer.alloc(32 * 32 * 3);
    for (let i = 0; i < raw.length; i += 3) raw.set([200, 40, 90], i);
    const tagged = (profile: string) => sharp(raw, { raw: { width: 32, height: 32, channels: 3 } }).withIccProfile(profile).jpeg({ quality: 95 }).toBuffer();
    const [srgb, p3] = await Promise.all([tagged('srgb'), tagged('p3')]);
    const iccOf = async (b: Buffer) => (await sharp(b).metadata()).icc!;
    expect(isSrgbProfile(await iccOf(srgb))).toBe(true);
    expect(isSrgbProfile(await iccOf(p3))).toBe(false);
    expect(isSrgbProfile(Buffer.from('not a profile'))).toBe(false);
    // sRGB: identical to sharp's own conversion through the profile.
    const viaEngine = await sharp(srgb).toColourspace('srgb').raw().toBuffer();
    expect(Buffer.from((await decodeImage(srgb)).data)).toEqual(viaEngine);
    // Display P3: converted (the same pixel values read as sRGB would be wrong), as sharp does.
    const p3Decoded = Buffer.from((await decodeImage(p3)).data);
    expect(p3Decoded).toEqual(await sharp(p3).toColourspace('srgb').raw().toBuffer());
    expect(p3Decoded).not.toEqual(await sharp(p3, { ignoreIcc: true }).raw().toBuffer());
  });

  it('flattens transparency onto white', async () => {
    const img = await decodeImage(paths['rgba.png']);
    expect([img.width, img.height]).toEqual([40, 30]);
    expect(px(img, 5, 5)).toEqual([255, 255, 255]); // transparent black -> white
    expect(px(img, 30, 5)).toEqual([0, 0, 255]); // opaque blue stays blue
  });

  it('applies EXIF orientation 6: sizes are swapped and the photo is upright', async () => {
    const meta = await sharp(paths['exif6.jpg']).metadata();
    expect([meta.width, meta.height, meta.orientation]).toEqual([64, 96, 6]); // stored on its side
    const img = await decodeImage(paths['exif6.jpg']);
    expect([img.originalWidth, img.originalHeight]).toEqual([96, 64]);
    expectQuadrants(img, 8); // red lands top-left again, white bottom-right
  });

  it('decodes GIF, the first frame of an animated GIF, WebP, AVIF and TIFF', async () => {
    expectQuadrants(await decodeImage(paths['still.gif']), 24);
    const anim = await decodeImage(paths['animated.gif']);
    expect((await sharp(paths['animated.gif']).metadata()).pages).toBe(3);
    expect([anim.width, anim.height, anim.format]).toEqual([40, 30, 'gif']); // one frame, not the strip
    expect(anim.pages).toBe(3); // so a photo without a face can say that the other frames were not searched
    expect((await decodeImage(paths['still.gif'])).pages).toBeUndefined();
    expectClose(px(anim, 20, 15), [255, 0, 0], 0, 'first frame is red');
    const webp = await decodeImage(paths['photo.webp']);
    expect(webp.format).toBe('webp');
    expect(webp.data).toEqual(quadrants().data);
    const avif = await decodeImage(paths['photo.avif']);
    expect(avif.format).toBe('heif');
    expectQuadrants(avif, 16);
    const tiff = await decodeImage(paths['photo.tiff']);
    expect(tiff.format).toBe('tiff');
    expect(tiff.data).toEqual(quadrants().data);
  });
});

describe('decodeImage: refusals', () => {
  it('refuses empty, truncated and corrupt files with E_DECODE', async () => {
    expect((await expectRefused('zero.jpg', 'E_DECODE')).message).toMatch(/empty file/);
    expect((await expectRefused('truncated.jpg', 'E_DECODE')).message).toMatch(/truncated/);
    expect((await expectRefused('truncated.png', 'E_DECODE')).message).toMatch(/truncated|corrupt/);
  });

  it('accepts a JPEG missing only its end marker, but refuses one missing a single byte of data', async () => {
    const complete = await decodeImage(paths['photo.jpg']);
    expect((await decodeImage(paths['no-eoi.jpg'])).data).toEqual(complete.data);
    expect((await expectRefused('cut-3.jpg', 'E_DECODE')).message).toMatch(/truncated/);
  });

  it('refuses a truncated JPEG even when it was closed with an end marker', async () => {
    await sharp(paths['truncated-closed.jpg'], { failOn: 'error' }).raw().toBuffer(); // libvips alone would accept it
    expect((await expectRefused('truncated-closed.jpg', 'E_DECODE')).message).toMatch(/is truncated: scan 1 stops after \d+ of 24 MCUs \(a 0xFFD9 marker at byte \d+ interrupts it\)/);
  });

  it('accepts a JPEG whose decoder only warns without losing data (extraneous bytes before a marker)', async () => {
    await expect(sharp(paths['junk-before-sos.jpg'], { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow(/extraneous bytes/);
    expect((await decodeImage(paths['junk-before-sos.jpg'])).data).toEqual((await decodeImage(paths['photo.jpg'])).data);
  });

  it('refuses non-images whatever their extension', async () => {
    for (const name of ['text.jpg', 'document.pdf', 'random.jpg']) {
      expect((await expectRefused(name, 'E_DECODE')).message).toMatch(/not a recognised image/);
    }
    expect((await expectRefused('drawing.svg', 'E_UNSUPPORTED')).message).toMatch(/"svg"/);
  });

  it('refuses missing files, folders and paths through a file', async () => {
    const missing = path.join(dir, 'missing.jpg');
    const err = await failure(decodeImage(missing));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain(JSON.stringify(missing));
    expect((await failure(decodeImage(path.join(paths['photo.png'], 'child.png')))).code).toBe('E_NOT_FOUND');
    const folder = path.join(dir, 'folder.jpg');
    mkdirSync(folder);
    const dirErr = await failure(decodeImage(folder));
    expect(dirErr.code).toBe('E_INPUT');
    expect(dirErr.message).toMatch(/is a folder/);
    const loop = path.join(dir, 'loop.jpg');
    symlinkSync(loop, loop);
    const loopErr = await failure(decodeImage(loop));
    expect(loopErr.code).toBe('E_INPUT');
    expect(loopErr.message).toContain('cannot be read (ELOOP: a symbolic link that leads back to itself (a loop?))');
  });

  it('refuses images too small to hold a face (1x1, and 200x8 under minSidePx 12)', async () => {
    expect((await expectRefused('one.png', 'E_TOO_SMALL')).message).toContain('1x1');
    expect((await expectRefused('thin.png', 'E_TOO_SMALL')).message).toContain('200x8');
  });

  it('refuses files over maxBytes before reading them, and buffers too', async () => {
    const cfg = { ...DEFAULTS.image, maxBytes: 100 };
    const err = await failure(decodeImage(paths['photo.jpg'], cfg));
    expect(err.code).toBe('E_TOO_LARGE');
    expect(err.message).toMatch(/at most 100 bytes/);
    const bufErr = await failure(decodeImage(readFileSync(paths['photo.jpg']), cfg, 'upload.jpg'));
    expect(bufErr.code).toBe('E_TOO_LARGE');
    expect(bufErr.message).toContain('"upload.jpg"');
  });

  it('refuses a 30000x30000 decompression bomb (PNG and JPEG) fast and without decoding it', async () => {
    for (const name of ['bomb.png', 'bomb.jpg']) {
      const rssBefore = process.memoryUsage().rss;
      const t0 = performance.now();
      const err = await expectRefused(name, 'E_TOO_LARGE');
      const ms = performance.now() - t0;
      const rssGrowthMB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      expect(err.message).toContain('30000x30000');
      expect(ms, `${name} took ${ms.toFixed(0)} ms`).toBeLessThan(1000);
      expect(rssGrowthMB, `${name} grew RSS by ${rssGrowthMB.toFixed(0)} MB`).toBeLessThan(100); // decoding would take 2.7 GB
    }
  });
});

describe('decodeImage: odd file names', () => {
  it('decodes files whose names hold spaces, unicode, quotes, brackets, a leading dash or a newline', async () => {
    const names = ['with space.png', 'ünïcødé 顔.png', `it's "quoted".png`, '-leading-dash.png', 'new\nline.png', 'photo[1].png', '50% [shrink=8].png'];
    for (const name of names) {
      const p = path.join(dir, name);
      writeFileSync(p, await sharp(paths['photo.png']).png().toBuffer());
      const img = await decodeImage(p);
      expect(img.data, name).toEqual(quadrants().data);
    }
    const err = await failure(decodeImage(path.join(dir, 'missing\nname "x".jpg')));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain('missing\\nname \\"x\\".jpg'); // JSON-quoted: the newline stays visible
  });

  it('says a name with bytes that are not UTF-8 cannot be opened (Node gives it as U+FFFD), not that the file is missing', async () => {
    const raw = Buffer.concat([Buffer.from(path.join(dir, 'bad')), Buffer.from([0xff]), Buffer.from('.png')]);
    writeFileSync(raw, await sharp(paths['photo.png']).png().toBuffer());
    const err = await failure(decodeImage(raw.toString('utf8')));
    expect(err.code).toBe('E_INPUT');
    expect(err.message).toMatch(/its name holds bytes that are not UTF-8 .* Rename the file with a UTF-8 name\.$/);
  });
});

describe('decodeImage: large photos', () => {
  it('decodes a 12000x9000 JPEG shrunk on load to maxSidePx, with its full-size geometry and scale', async () => {
    // A marker square at (9000..9600, 6000..6600) in full-size pixels.
    const big = await sharp({ create: { width: 12000, height: 9000, channels: 3, background: { r: 60, g: 60, b: 60 } } })
      .composite([{ input: { create: { width: 600, height: 600, channels: 3, background: { r: 250, g: 250, b: 0 } } }, left: 9000, top: 6000 }])
      .jpeg({ quality: 80 })
      .toBuffer();
    const file = path.join(dir, 'big.jpg');
    writeFileSync(file, big);
    // 12000x9000 = 108 MP, above DEFAULTS.image.maxPixels (100 MP): this test raises the limit.
    const cfg = { ...DEFAULTS.image, maxPixels: 120_000_000 };
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const img = await decodeImage(file, cfg);
    const ms = performance.now() - t0;
    const rssGrowthMB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`12000x9000 JPEG (${(big.length / 2 ** 20).toFixed(1)} MB) decoded to ${img.width}x${img.height} in ${ms.toFixed(0)} ms, RSS +${rssGrowthMB.toFixed(0)} MB`);
    expect([img.width, img.height, img.originalWidth, img.originalHeight]).toEqual([2048, 1536, 12000, 9000]);
    expect(img.scale).toBeCloseTo(2048 / 12000, 12);
    expect(rssGrowthMB).toBeLessThan(200); // full size would be 324 MB of RGB alone
    // the marker's centre (9300, 6300) maps to (9300 + 0.5) * scale - 0.5
    const cx = Math.round((9300 + 0.5) * img.scale - 0.5), cy = Math.round((6300 + 0.5) * img.scale - 0.5);
    expectClose(px(img, cx, cy), [250, 250, 0], 12, 'marker');
    expectClose(px(img, cx - 60, cy), [60, 60, 60], 12, 'outside the marker');
    const refused = await failure(decodeImage(file, { ...DEFAULTS.image, maxPixels: 50_000_000 }));
    expect(refused.code).toBe('E_TOO_LARGE');
    expect(refused.message).toContain('12000x9000');
  });

  it('keeps the EXIF-oriented geometry when it also downscales', async () => {
    const file = path.join(dir, 'big-exif6.jpg');
    writeFileSync(file, await sharp(quadrants(3000, 2000).data, { raw: { width: 3000, height: 2000, channels: 3 } })
      .rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer());
    const img = await decodeImage(file);
    expect([img.width, img.height, img.originalWidth, img.originalHeight]).toEqual([2048, 1365, 3000, 2000]);
    expectClose(px(img, 500, 300), QUADRANT_COLOURS.topLeft, 8, 'top-left');
    expectClose(px(img, 1500, 1000), QUADRANT_COLOURS.bottomRight, 8, 'bottom-right');
  });
});

describe('decodeImage: JPEG image data, decided from the file itself', () => {
  /** A 4:2:0 JPEG with a restart marker every 4 MCUs, of the quadrant fixture at 3x scale. */
  const restartJpeg = () => encodeBaselineJpeg(quadrants(288, 192).data, 288, 192, { restartInterval: 4 });

  it('accepts a JPEG with restart markers, also with extraneous bytes before SOS and before a restart marker, with the same pixels', async () => {
    const jpeg = restartJpeg();
    const whole = await decodeImage(jpeg, DEFAULTS.image, 'restart.jpg');
    expectClose(px(whole, 40, 40), QUADRANT_COLOURS.topLeft, 8, 'top-left');
    const at = restartMarkers(jpeg)[20];
    const junk = withBytesBefore(Buffer.concat([jpeg.subarray(0, at), Buffer.from([0x55, 0x66]), jpeg.subarray(at)]), 0xda, Buffer.from([1, 2]));
    await expect(sharp(junk, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow(); // libjpeg warns
    expect((await decodeImage(junk, DEFAULTS.image, 'junk-before-rst.jpg')).data).toEqual(whole.data);
  });

  it('refuses a JPEG cut at a restart marker and closed with an end marker', async () => {
    const jpeg = restartJpeg();
    const at = restartMarkers(jpeg)[30];
    const err = await failure(decodeImage(cutAndClose(jpeg, at), DEFAULTS.image, 'rst-cut.jpg'));
    expect(err.code).toBe('E_DECODE');
    expect(err.message).toBe(`Image "rst-cut.jpg" is truncated: scan 1 stops after 124 of 216 MCUs (a 0xFFD9 marker at byte ${at} where restart marker 0xFFD6 belongs). ` +
      'Expected a complete JPEG file; re-export it, or re-save it in an image editor to keep its readable part.');
  });

  it('refuses a progressive JPEG cut in a scan and closed with an end marker', async () => {
    const jpeg = await sharp(paths['photo.jpg']).jpeg({ progressive: true }).toBuffer();
    const scan = jpegSegments(jpeg).filter((s) => s.code === 0xda)[3];
    const err = await failure(decodeImage(cutAndClose(jpeg, scan.end - 5), DEFAULTS.image, 'progressive-cut.jpg'));
    expect(err.code).toBe('E_DECODE');
    expect(err.message).toMatch(/^Image "progressive-cut.jpg" is truncated: scan 4 stops after \d+ of \d+ MCUs \(a 0xFFD9 marker at byte \d+ interrupts it\)\./);
  });

  it('refuses a JPEG whose image data holds a bad Huffman code', async () => {
    const jpeg = restartJpeg();
    const sos = jpegSegments(jpeg).find((s) => s.code === 0xda)!;
    const dataStart = sos.start + 2 + ((jpeg[sos.start + 2] << 8) | jpeg[sos.start + 3]);
    jpeg.fill(0xfe, dataStart + 400, dataStart + 420); // no DC or AC code starts with eight 1-bits
    const err = await failure(decodeImage(jpeg, DEFAULTS.image, 'bad-code.jpg'));
    expect(err.code).toBe('E_DECODE');
    expect(err.message).toMatch(/^Image "bad-code.jpg" is corrupt: scan 1 stops after \d+ of 216 MCUs \(a bad Huffman code before byte \d+\)\. Expected a valid JPEG file/);
  });

  it('tells a photo whose header is cut from a file that is no image', async () => {
    const jpeg = readFileSync(paths['photo.jpg']);
    const cutHeader = await failure(decodeImage(jpeg.subarray(0, 30), DEFAULTS.image, 'header.jpg'));
    expect(cutHeader.code).toBe('E_DECODE');
    expect(cutHeader.message).toMatch(/starts like a JPEG file, but its header cannot be read: it is truncated or corrupt/);
    // An ISO-BMFF box that names an AVIF brand, and nothing after it.
    const avif = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypavif\0\0\0\0mif1avif', 'latin1')]);
    expect((await failure(decodeImage(avif, DEFAULTS.image, 'cut.avif'))).message).toMatch(/starts like an AVIF\/HEIF file, but its header cannot be read/);
    const text = await failure(decodeImage(Buffer.from('GIF? no, plain text'), DEFAULTS.image, 'text.gif'));
    expect(text.message).toMatch(/is not a recognised image/);
  });
});
