import { describe, expect, it } from 'vitest';
import { PhenofaceError } from '../../../src/errors.ts';
import { integralImage, resizeAreaCHW, resizeAreaFromIntegral, toPlanarFloat } from '../../../src/image/index.ts';
import type { RgbImage } from '../../../src/types.ts';

function randomImage(width: number, height: number, seed: number): RgbImage {
  let s = seed;
  const data = Uint8Array.from({ length: width * height * 3 }, () => (s = (s * 16807) % 2147483647) % 256);
  return { width, height, data };
}

describe('integralImage', () => {
  it('holds running sums per channel, with a zero first row and column (2x2 by hand)', () => {
    // pixels (r, g, b): (1,2,3) (4,5,6) / (7,8,9) (10,11,12)
    const img: RgbImage = { width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) };
    const { sums } = integralImage(img);
    const red = [0, 3, 6, 9, 12, 15, 18, 21, 24].map((i) => sums[i]);
    expect(red).toEqual([0, 0, 0, 0, 1, 5, 0, 8, 22]);
    expect(sums[3 * 8 + 1]).toBe(2 + 5 + 8 + 11);
    expect(sums[3 * 8 + 2]).toBe(3 + 6 + 9 + 12);
  });

  it('refuses a buffer that does not match the size', () => {
    expect(() => integralImage({ width: 2, height: 2, data: new Uint8Array(11) })).toThrow(/Expected width\*height\*3 = 12/);
  });
});

describe('resizeAreaFromIntegral', () => {
  it('averages torch area windows: 3x2 -> 2x1 by hand (rows {0,1},{1,2})', () => {
    const img: RgbImage = { width: 2, height: 3, data: Uint8Array.from([0, 0, 0, 2, 0, 0, 4, 0, 0, 6, 0, 0, 8, 0, 0, 10, 0, 0]) };
    const out = Array.from(resizeAreaFromIntegral(integralImage(img), 0, 0, 2, 3, 1, 2));
    expect(out).toEqual([(0 + 2 + 4 + 6) / 4, (4 + 6 + 8 + 10) / 4, 0, 0, 0, 0]);
  });

  it('equals resizeAreaCHW of the cropped window, normalised, on random images, windows and sizes', () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let t = 0; t < 40; t++) {
      const w = 1 + rand(40), h = 1 + rand(40);
      const img = randomImage(w, h, 1 + t);
      const x0 = rand(w), y0 = rand(h);
      const cw = 1 + rand(w - x0), ch = 1 + rand(h - y0);
      const outW = 1 + rand(50), outH = 1 + rand(50);
      const planar = toPlanarFloat(img, 0, 1);
      const crop = new Float32Array(3 * cw * ch);
      for (let c = 0; c < 3; c++) for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) crop[(c * ch + y) * cw + x] = planar[(c * h + y0 + y) * w + x0 + x];
      const expected = resizeAreaCHW(crop, 3, ch, cw, outH, outW).map((v) => (v - 127.5) * 0.0078125);
      const got = resizeAreaFromIntegral(integralImage(img), x0, y0, cw, ch, outW, outH, { mean: 127.5, scale: 0.0078125 });
      expect(got.length).toBe(expected.length);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
      expect(maxDiff).toBeLessThan(1e-6);
    }
  });

  it('writes at an offset into a given batch and leaves the rest alone', () => {
    const img = randomImage(9, 7, 3);
    const ii = integralImage(img);
    const batch = new Float32Array(2 + 3 * 4 * 4).fill(-9);
    resizeAreaFromIntegral(ii, 2, 1, 6, 5, 4, 4, { out: batch, offset: 2 });
    expect(batch[0]).toBe(-9);
    expect(batch[1]).toBe(-9);
    expect(Array.from(batch.subarray(2))).toEqual(Array.from(resizeAreaFromIntegral(ii, 2, 1, 6, 5, 4, 4)));
  });

  it('refuses windows outside the image, bad sizes and outputs too small', () => {
    const ii = integralImage(randomImage(4, 3, 5));
    expect(() => resizeAreaFromIntegral(ii, 1, 0, 4, 3, 2, 2)).toThrow(PhenofaceError);
    expect(() => resizeAreaFromIntegral(ii, 1, 0, 4, 3, 2, 2)).toThrow(/window \(1, 0\) 4x3 is not inside the 4x3 image/);
    expect(() => resizeAreaFromIntegral(ii, 0, 0, 4, 3, 0, 2)).toThrow(/Invalid resizeAreaFromIntegral outW: 0/);
    expect(() => resizeAreaFromIntegral(ii, 0, 0, 4, 3, 2, 2, { out: new Float32Array(12), offset: 1 })).toThrow(/do not fit an output of 12/);
  });
});
