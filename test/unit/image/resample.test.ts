/**
 * Resampling maths against values computed by hand: bilinear affine warps in OpenCV's
 * pixel-centre convention, torch's area resize (adaptive average pooling), crops with padding and
 * the planar float layout.
 */
import { describe, expect, it } from 'vitest';
import { PhenofaceError } from '../../../src/errors.ts';
import { cropPad, invertAffine, resizeAreaCHW, toPlanarFloat, warpAffine } from '../../../src/image/index.ts';
import type { RgbImage } from '../../../src/types.ts';

/** A grey image (R = G = B) from rows of values. */
function grey(rows: number[][]): RgbImage {
  const height = rows.length, width = rows[0].length;
  const data = new Uint8Array(width * height * 3);
  rows.flat().forEach((v, i) => data.fill(v, 3 * i, 3 * i + 3));
  return { width, height, data };
}

/** The red channel as rows. */
function rowsOf(img: RgbImage): number[][] {
  return Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => img.data[3 * (y * img.width + x)]));
}

/** An image whose three channels differ, so channel mix-ups show. */
function coloured(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([10 * x + y, 200 - 7 * y, (x * 31 + y * 17) % 256], 3 * (y * width + x));
  return { width, height, data };
}

describe('warpAffine', () => {
  it('identity copies the image exactly', () => {
    const img = coloured(7, 5);
    expect(warpAffine(img, [1, 0, 0, 0, 1, 0], 7, 5).data).toEqual(img.data);
  });

  it('translation by half a pixel averages neighbours and blends the fill in at the border', () => {
    const img = grey([[10, 20, 30, 40], [50, 60, 70, 80]]);
    // dst(x) = src(x - 0.5): x=0 -> (fill + 10) / 2, x=1 -> (10 + 20) / 2, ...
    expect(rowsOf(warpAffine(img, [1, 0, 0.5, 0, 1, 0], 4, 2))).toEqual([[5, 15, 25, 35], [25, 55, 65, 75]]);
    expect(rowsOf(warpAffine(img, [1, 0, 0.5, 0, 1, 0], 4, 2, 100))).toEqual([[55, 15, 25, 35], [75, 55, 65, 75]]);
    // vertically: dst(y) = src(y - 0.5)
    expect(rowsOf(warpAffine(img, [1, 0, 0, 0, 1, 0.5], 4, 2))).toEqual([[5, 10, 15, 20], [30, 40, 50, 60]]);
  });

  it('rotates by 90 degrees clockwise as a pure permutation of pixels', () => {
    const img = grey([[1, 2, 3], [4, 5, 6]]); // 3 wide, 2 high
    // (x, y) -> (H - 1 - y, x): the top-left pixel goes to the top-right
    const out = warpAffine(img, [0, -1, 1, 1, 0, 0], 2, 3);
    expect(rowsOf(out)).toEqual([[4, 1], [5, 2], [6, 3]]);
  });

  it('uses pixel centres at integer coordinates (OpenCV), not half-pixel centres', () => {
    const img = grey([[0, 100, 200]]);
    // scale 2: dst(x) = src(x / 2); dst(1) = src(0.5) = 50 under OpenCV's convention
    // (a half-pixel convention would give src(0.25) = 25).
    expect(rowsOf(warpAffine(img, [2, 0, 0, 0, 1, 0], 5, 1))[0]).toEqual([0, 50, 100, 150, 200]);
  });

  it('applies a known similarity (scale 2, rotation 90 degrees, translation) to a linear ramp', () => {
    // f(x, y) = 10 + 20 x + 2 y; bilinear interpolation reproduces linear functions exactly.
    const ramp = grey(Array.from({ length: 8 }, (_, y) => Array.from({ length: 8 }, (_, x) => 10 + 20 * x + 2 * y)));
    // dst = (-2 y + 20, 2 x + 1); so src = ((v - 1) / 2, (20 - u) / 2)
    const m = [0, -2, 20, 2, 0, 1];
    const out = warpAffine(ramp, m, 24, 18, 7);
    const at = (u: number, v: number) => out.data[3 * (v * 24 + u)];
    expect(at(13, 6)).toBe(67); // src (2.5, 3.5): 10 + 50 + 7
    expect(at(20, 1)).toBe(10); // src (0, 0)
    expect(at(6, 15)).toBe(164); // src (7, 7): 10 + 140 + 14
    expect(at(23, 3)).toBe(7); // src (1, -1.5): outside -> fill
    for (let v = 1; v <= 15; v++) {
      for (let u = 6; u <= 20; u++) {
        const x = (v - 1) / 2, y = (20 - u) / 2;
        expect(Math.abs(at(u, v) - (10 + 20 * x + 2 * y)), `(${u}, ${v})`).toBeLessThanOrEqual(0.5);
      }
    }
  });

  it('keeps channels apart under a rotation by 30 degrees', () => {
    const img = coloured(20, 20);
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    const out = warpAffine(img, [c, -s, 5, s, c, -3], 20, 20);
    const inv = invertAffine([c, -s, 5, s, c, -3]);
    // the destination pixel nearest to the image of source point (10, 8), compared at its exact source position
    const u = Math.round(c * 10 - s * 8 + 5), v = Math.round(s * 10 + c * 8 - 3);
    const sx = inv[0] * u + inv[1] * v + inv[2], sy = inv[3] * u + inv[4] * v + inv[5];
    const expected = [10 * sx + sy, 200 - 7 * sy]; // R and G are linear in (x, y)
    expect(Math.abs(out.data[3 * (v * 20 + u)] - expected[0])).toBeLessThanOrEqual(0.5);
    expect(Math.abs(out.data[3 * (v * 20 + u) + 1] - expected[1])).toBeLessThanOrEqual(0.5);
  });

  it('refuses a singular matrix with E_INPUT', () => {
    expect(() => warpAffine(grey([[1, 2]]), [1, 2, 0, 2, 4, 0], 2, 2)).toThrow(PhenofaceError);
    expect(() => warpAffine(grey([[1, 2]]), [1, 2, 0, 2, 4, 0], 2, 2)).toThrow(/not invertible/);
  });
});

describe('resizeAreaCHW (torch interpolate mode=area)', () => {
  it('3x5 -> 2x2 by hand: overlapping windows rows {0,1},{1,2} and columns {0,1,2},{2,3,4}', () => {
    // channel 0: v = x^2 + 10 y; channel 1: -v
    const ch0 = [0, 1, 4, 9, 16, 10, 11, 14, 19, 26, 20, 21, 24, 29, 36];
    const src = Float32Array.from([...ch0, ...ch0.map((v) => -v)]);
    const out = Array.from(resizeAreaCHW(src, 2, 3, 5, 2, 2));
    const expected = [40 / 6, 88 / 6, 100 / 6, 148 / 6];
    expected.forEach((e, i) => {
      expect(out[i]).toBeCloseTo(e, 5);
      expect(out[4 + i]).toBeCloseTo(-e, 5);
    });
  });

  it('integer factors give block means', () => {
    const h = 4, w = 6;
    const src = Float32Array.from({ length: h * w }, (_, i) => (i * 37) % 11);
    const out = resizeAreaCHW(src, 1, h, w, 2, 3);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 3; j++) {
        const block = [src[(2 * i) * w + 2 * j], src[(2 * i) * w + 2 * j + 1], src[(2 * i + 1) * w + 2 * j], src[(2 * i + 1) * w + 2 * j + 1]];
        expect(out[i * 3 + j]).toBeCloseTo(block.reduce((a, b) => a + b) / 4, 6);
      }
    }
  });

  it('upsamples like adaptive_avg_pool2d: 2x2 -> 3x3 windows {0}, {0,1}, {1}', () => {
    const out = Array.from(resizeAreaCHW(Float32Array.from([1, 2, 3, 4]), 1, 2, 2, 3, 3));
    expect(out).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    // 1x2 -> 1x5: windows {0},{0},{0,1},{1},{1}
    expect(Array.from(resizeAreaCHW(Float32Array.from([2, 6]), 1, 1, 2, 1, 5))).toEqual([2, 2, 4, 6, 6]);
  });

  it('equals the direct definition on random sizes (separable = rectangle mean)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let t = 0; t < 20; t++) {
      const c = 1 + Math.floor(rand() * 3), h = 1 + Math.floor(rand() * 30), w = 1 + Math.floor(rand() * 30);
      const oh = 1 + Math.floor(rand() * 30), ow = 1 + Math.floor(rand() * 30);
      const src = Float32Array.from({ length: c * h * w }, () => rand() * 255);
      const out = resizeAreaCHW(src, c, h, w, oh, ow);
      for (let k = 0; k < c; k++) {
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++) {
            const y0 = Math.floor((i * h) / oh), y1 = Math.ceil(((i + 1) * h) / oh);
            const x0 = Math.floor((j * w) / ow), x1 = Math.ceil(((j + 1) * w) / ow);
            let sum = 0;
            for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += src[k * h * w + y * w + x];
            expect(out[k * oh * ow + i * ow + j]).toBeCloseTo(sum / ((y1 - y0) * (x1 - x0)), 3);
          }
        }
      }
    }
  });

  it('refuses a source of the wrong length', () => {
    expect(() => resizeAreaCHW(new Float32Array(5), 1, 2, 3, 1, 1)).toThrow(/Expected channels\*h\*w = 6/);
  });
});

describe('cropPad', () => {
  const img = grey([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  it('crops inside the image (end-exclusive)', () => {
    expect(rowsOf(cropPad(img, 1, 0, 3, 2))).toEqual([[2, 3], [5, 6]]);
  });
  it('pads outside the image with zeros', () => {
    expect(rowsOf(cropPad(img, -1, -1, 2, 1))).toEqual([[0, 0, 0], [0, 1, 2]]);
    expect(rowsOf(cropPad(img, 2, 2, 4, 4))).toEqual([[9, 0], [0, 0]]);
    expect(rowsOf(cropPad(img, 5, 5, 7, 6))).toEqual([[0, 0]]);
  });
  it('keeps all three channels', () => {
    const c = coloured(4, 4);
    expect(Array.from(cropPad(c, 1, 2, 2, 3).data)).toEqual(Array.from(c.data.subarray(3 * (2 * 4 + 1), 3 * (2 * 4 + 1) + 3)));
  });
  it('refuses empty or fractional rectangles', () => {
    expect(() => cropPad(img, 2, 0, 2, 1)).toThrow(/x1 < x2/);
    expect(() => cropPad(img, 0.5, 0, 2, 1)).toThrow(PhenofaceError);
  });
});

describe('toPlanarFloat', () => {
  it('writes CHW planes (R, G, B) of (x - mean) * scale', () => {
    const img: RgbImage = { width: 2, height: 1, data: Uint8Array.from([0, 128, 255, 10, 20, 30]) };
    // R plane (0, 10), G plane (128, 20), B plane (255, 30)
    expect(Array.from(toPlanarFloat(img, 127.5, 0.0078125))).toEqual([-0.99609375, -0.91796875, 0.00390625, -0.83984375, 0.99609375, -0.76171875]);
    expect(Array.from(toPlanarFloat(img, [0, 10, 20], [1, 2, 0.5]))).toEqual([0, 10, 236, 20, 117.5, 5]);
  });
});
