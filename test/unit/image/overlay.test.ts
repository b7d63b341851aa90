/**
 * Heat-map overlays and colour scales, against matplotlib's tables and hand-computed blends.
 */
import { describe, expect, it } from 'vitest';
import { colorbar, colormapLut, heatmapOverlay } from '../../../src/image/index.ts';
import type { RgbImage } from '../../../src/types.ts';

function flat(width: number, height: number, v: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3).fill(v) };
}

function px(img: RgbImage, x: number, y: number): number[] {
  const o = 3 * (y * img.width + x);
  return Array.from(img.data.subarray(o, o + 3));
}

const lutAt = (name: 'jet' | 'inferno', i: number) => Array.from(colormapLut(name).subarray(3 * i, 3 * i + 3));

describe('colour scales', () => {
  it('jet follows matplotlib\'s segment data', () => {
    expect(lutAt('jet', 0)).toEqual([0, 0, 128]); // dark blue
    expect(lutAt('jet', 255)).toEqual([128, 0, 0]); // dark red
    // t = 0.4: r = (0.4 - 0.35) / 0.31, g = 1, b = 1 - (0.4 - 0.34) / 0.31
    expect(lutAt('jet', 102)).toEqual([41, 255, 206]);
  });

  it('inferno matches matplotlib\'s _inferno_data to within 2 levels', () => {
    // rows of matplotlib's table (lib/matplotlib/_cm_listed.py), times 255
    const reference: Array<[number, number[]]> = [
      [0, [0.001462, 0.000466, 0.013866]],
      [37, [0.162689, 0.043554, 0.333277]],
      [100, [0.565854, 0.143567, 0.408258]],
      [173, [0.938675, 0.430091, 0.130438]],
      [251, [0.966249, 0.980678, 0.587206]],
      [255, [0.988362, 0.998364, 0.644924]],
    ];
    for (const [i, rgb] of reference) {
      const got = lutAt('inferno', i);
      for (let c = 0; c < 3; c++) expect(Math.abs(got[c] - 255 * rgb[c]), `entry ${i}: ${got}`).toBeLessThanOrEqual(2);
    }
  });

  it('refuses an unknown colour scale', () => {
    expect(() => colormapLut('viridis' as 'jet')).toThrow(/Should be one of: jet, inferno/);
  });
});

describe('heatmapOverlay', () => {
  it('normalises any range: the hottest cell gets the top colour, the coldest the bottom one', () => {
    const base = flat(4, 4, 100);
    const heat = { width: 2, height: 2, data: Float32Array.from([-3, -3, -3, 997]) };
    const out = heatmapOverlay(base, heat, { alpha: 1, colormap: 'jet' });
    expect(px(out, 0, 0)).toEqual(lutAt('jet', 0));
    expect(px(out, 3, 3)).toEqual(lutAt('jet', 255));
    const scaled = heatmapOverlay(base, { ...heat, data: heat.data.map((v) => v * 0.001 + 5) }, { alpha: 1 });
    expect(scaled.data).toEqual(out.data);
  });

  it('blends (1 - alpha) * photo + alpha * colour', () => {
    const base = flat(2, 1, 100);
    const out = heatmapOverlay(base, { width: 2, height: 1, data: Float32Array.from([0, 1]) }, { alpha: 0.25, colormap: 'jet' });
    expect(px(out, 0, 0)).toEqual([75, 75, 107]); // 0.75 * 100 + 0.25 * (0, 0, 128)
    expect(px(out, 1, 0)).toEqual([107, 75, 75]);
    expect(heatmapOverlay(base, { width: 2, height: 1, data: Float32Array.from([0, 1]) }, { alpha: 0 }).data).toEqual(base.data);
  });

  it('upsamples bilinearly with half-pixel centres (cv2.resize), edges clamped', () => {
    // 2 -> 4 wide: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1)
    const out = heatmapOverlay(flat(4, 1, 0), { width: 2, height: 1, data: Float32Array.from([0, 1]) }, { alpha: 1, colormap: 'inferno' });
    expect([0, 1, 2, 3].map((x) => px(out, x, 0))).toEqual([0, 64, 191, 255].map((i) => lutAt('inferno', i)));
  });

  it('on a fixed scale (top): zero heat is the cold end whatever the map\'s range, heat above top is the hot end', () => {
    const heat = { width: 2, height: 1, data: Float32Array.from([1, 8]) };
    const out = heatmapOverlay(flat(2, 1, 0), heat, { alpha: 1, colormap: 'jet', top: 4 });
    expect(px(out, 0, 0)).toEqual(lutAt('jet', Math.round(255 / 4)));
    expect(px(out, 1, 0)).toEqual(lutAt('jet', 255));
    expect(() => heatmapOverlay(flat(2, 1, 0), heat, { top: 0 })).toThrow(/scale top: 0/);
  });

  it('warm only: the colour weight is alpha times the heat, so no heat leaves the photo as it is', () => {
    const out = heatmapOverlay(flat(2, 1, 100), { width: 2, height: 1, data: Float32Array.from([0, 1]) }, { alpha: 0.5, colormap: 'jet', top: 1, warmOnly: true });
    expect(px(out, 0, 0)).toEqual([100, 100, 100]);
    expect(px(out, 1, 0)).toEqual([114, 50, 50]); // 0.5 * 100 + 0.5 * (128, 0, 0)
  });

  it('shows a constant map as uniformly cold', () => {
    const out = heatmapOverlay(flat(3, 3, 50), { width: 3, height: 3, data: new Float32Array(9).fill(4) }, { alpha: 1 });
    for (let i = 0; i < 9; i++) expect(px(out, i % 3, Math.floor(i / 3))).toEqual(lutAt('jet', 0));
  });

  it('refuses non-finite values and mismatched sizes', () => {
    expect(() => heatmapOverlay(flat(2, 2, 0), { width: 2, height: 1, data: Float32Array.from([0, NaN]) })).toThrow(/value NaN at index 1/);
    expect(() => heatmapOverlay(flat(2, 2, 0), { width: 3, height: 1, data: new Float32Array(2) })).toThrow(/2 values for 3x1/);
    expect(() => heatmapOverlay(flat(2, 2, 0), { width: 1, height: 1, data: new Float32Array(1) }, { alpha: 2 })).toThrow(/alpha: 2/);
  });
});

describe('colorbar', () => {
  it('runs from the hottest colour at the top to the coldest at the bottom', () => {
    const bar = colorbar(256, 'inferno', 10);
    expect([bar.width, bar.height]).toEqual([10, 256]);
    expect(px(bar, 0, 0)).toEqual(lutAt('inferno', 255));
    expect(px(bar, 9, 255)).toEqual(lutAt('inferno', 0));
    expect(px(bar, 5, 100)).toEqual(lutAt('inferno', 155));
  });

  it('warm only: each colour over white by its value, white at the bottom', () => {
    const bar = colorbar(256, 'jet', 4, true);
    expect(px(bar, 0, 0)).toEqual(lutAt('jet', 255));
    expect(px(bar, 3, 255)).toEqual([255, 255, 255]);
    expect(px(bar, 1, 128)).toEqual(lutAt('jet', 127).map((c) => Math.round((128 / 255) * 255 + (127 / 255) * c)));
  });
});
