/**
 * PNG/JPEG encoding round trips through decodeImage, and the contact sheet's layout.
 */
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { contactSheet, decodeImage, encodeJpeg, encodePng } from '../../../src/image/index.ts';
import type { RgbImage } from '../../../src/types.ts';
import { quadrants } from '../../fixtures-gen/images.ts';

function flat(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, 3 * i);
  return { width, height, data };
}

function px(img: RgbImage, x: number, y: number): number[] {
  const o = 3 * (y * img.width + x);
  return Array.from(img.data.subarray(o, o + 3));
}

describe('encodePng / encodeJpeg', () => {
  it('PNG round-trips RGB exactly', async () => {
    const img = quadrants(30, 20);
    const back = await decodeImage(await encodePng(img));
    expect(back.format).toBe('png');
    expect(back.data).toEqual(img.data);
  });

  it('PNG keeps an alpha channel (RGBA told apart by byte length)', async () => {
    const rgba = { width: 20, height: 20, data: new Uint8Array(20 * 20 * 4).fill(128) };
    const meta = await sharp(await encodePng(rgba)).metadata();
    expect([meta.width, meta.height, meta.channels, meta.hasAlpha]).toEqual([20, 20, 4, true]);
  });

  it('JPEG round-trips within compression error, and quality changes the size', async () => {
    const img = quadrants(64, 64);
    const hi = await encodeJpeg(img, 95);
    const lo = await encodeJpeg(img, 20);
    expect(lo.length).toBeLessThan(hi.length);
    const back = await decodeImage(hi);
    expect(back.format).toBe('jpeg');
    for (const [x, y] of [[16, 16], [48, 16], [16, 48], [48, 48]]) {
      const a = px(back, x, y), b = px(img, x, y);
      for (let c = 0; c < 3; c++) expect(Math.abs(a[c] - b[c])).toBeLessThanOrEqual(6);
    }
  });

  it('refuses a byte length that is neither RGB nor RGBA, and a bad quality', async () => {
    await expect(encodePng({ width: 2, height: 2, data: new Uint8Array(5) })).rejects.toThrow(/Expected width\*height\*3/);
    await expect(encodeJpeg(quadrants(4, 4), 0)).rejects.toThrow(/quality: 0/);
  });
});

describe('contactSheet', () => {
  const red = flat(40, 20, [255, 0, 0]); // wide: letterboxed in its cell
  const green = flat(20, 20, [0, 255, 0]);
  const blue = flat(10, 10, [0, 0, 255]);

  it('lays images out row-major in square cells, aspect kept', async () => {
    const sheet = await contactSheet([red, green, blue], 2, 32);
    expect([sheet.width, sheet.height]).toEqual([64, 64]);
    expect(px(sheet, 16, 16)).toEqual([255, 0, 0]); // cell (0, 0) centre
    expect(px(sheet, 16, 2)).toEqual([32, 32, 32]); // letterbox above the wide red image
    expect(px(sheet, 48, 16)).toEqual([0, 255, 0]); // cell (1, 0)
    expect(px(sheet, 16, 48)).toEqual([0, 0, 255]); // cell (0, 1)
    expect(px(sheet, 48, 48)).toEqual([32, 32, 32]); // empty cell
  });

  it('adds a label strip under each cell', async () => {
    const sheet = await contactSheet([green, blue], 2, 64, ['left', 'right']);
    const strip = sheet.height - 64;
    expect(strip).toBeGreaterThan(0);
    expect(sheet.width).toBe(128);
    expect(px(sheet, 32, 32)).toEqual([0, 255, 0]);
    if (!existsSync('/usr/share/fonts')) return; // no fonts: the strip stays blank
    let bright = 0;
    for (let y = 64; y < sheet.height; y++) for (let x = 0; x < 64; x++) if (px(sheet, x, y)[0] > 128) bright++;
    expect(bright, 'label text pixels under the first cell').toBeGreaterThan(5);
  });

  it('refuses a label count that does not match', async () => {
    await expect(contactSheet([red, green], 2, 32, ['one'])).rejects.toThrow(/1 labels for 2 images/);
  });
});
