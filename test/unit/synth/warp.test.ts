import { describe, expect, it } from 'vitest';
import {
  buildPhotoWarp, chooseAffected, faceFrame, forwardPoint, jacobianAt, mapPoint, parseRegions, subjectWarp, supportBox, SYNTH_REGIONS, warpImage, zeroWarp,
} from '../../../src/workflows/synth/index.ts';
import { DEFAULTS } from '../../../src/config.ts';
import type { Landmarks5, RgbImage } from '../../../src/types.ts';

const FRONTAL: Landmarks5 = [[145, 220], [248, 220], [194, 274], [155, 320], [242, 319]];
/** FRONTAL rotated 30 degrees about (200, 260) and scaled by 0.5. */
const ROLLED = FRONTAL.map(([x, y]) => {
  const a = Math.PI / 6;
  const dx = (x - 200) * 0.5;
  const dy = (y - 260) * 0.5;
  return [200 + dx * Math.cos(a) - dy * Math.sin(a), 260 + dx * Math.sin(a) + dy * Math.cos(a)];
}) as Landmarks5;
/** Oblique: eyes and mouth crowd towards one side, nose near the near eye. */
const OBLIQUE: Landmarks5 = [[160, 220], [225, 222], [168, 272], [165, 320], [222, 320]];
/** Profile as MTCNN reports it: eyes close together, nose beyond them. */
const PROFILE: Landmarks5 = [[180, 220], [200, 221], [150, 270], [175, 318], [190, 318]];

/** The extremes of the jitter: every factor at 1 + jitter, or every one at 1 - jitter. */
const maxJitter = (strength: number) => subjectWarp('s', SYNTH_REGIONS, strength, 1, 0.2, () => 1 - 1e-12);
const minJitter = (strength: number) => subjectWarp('s', SYNTH_REGIONS, strength, 1, 0.2, () => 0);

function minJacobianOnGrid(lm: Landmarks5, view: 'frontal' | 'oblique' | 'profile', step = 0.5) {
  const warp = buildPhotoWarp(lm, maxJitter(1).params, view);
  let min = Infinity;
  for (let y = 0; y < 520; y += step) for (let x = 0; x < 400; x += step) min = Math.min(min, jacobianAt(warp, x, y));
  return min;
}

describe('warp field', () => {
  it('keeps the Jacobian positive everywhere at strength 1 with maximal jitter', () => {
    for (const [name, lm, view] of [['frontal', FRONTAL, 'frontal'], ['rolled', ROLLED, 'frontal'], ['oblique', OBLIQUE, 'oblique'], ['profile', PROFILE, 'profile'], ['profile landmarks called frontal', PROFILE, 'frontal']] as const) {
      const min = minJacobianOnGrid(lm, view);
      expect(min, name).toBeGreaterThan(0.15);
    }
  });

  it('maximal jitter is 1.2 x strength and every amount 1.2 x more again', () => {
    const w = maxJitter(1);
    expect(w.strength).toBeCloseTo(1.2, 9);
    expect(w.params.perioral!.mouthWidth).toBeCloseTo(-0.22 * 1.44, 9);
    expect(minJitter(1).strength).toBeCloseTo(0.8, 9);
  });

  it('is smooth: no jump anywhere, including across the edges of the supports', () => {
    const warp = buildPhotoWarp(FRONTAL, maxJitter(1).params, 'frontal');
    // Displacement changes by at most L * step between neighbours: a seam would show as a jump.
    const step = 0.05;
    let worst = 0;
    for (let y = 150; y < 480; y += 0.37) {
      for (let x = 60; x < 340; x += 0.37) {
        const a = mapPoint(warp, x, y);
        const b = mapPoint(warp, x + step, y);
        const c = mapPoint(warp, x, y + step);
        worst = Math.max(worst, Math.hypot(b[0] - a[0] - step, b[1] - a[1]) / step, Math.hypot(c[0] - a[0], c[1] - a[1] - step) / step);
      }
    }
    // Gradient of the displacement stays bounded (a tear or seam would make it blow up as step -> 0).
    expect(worst).toBeLessThan(1.5);
  });

  it('has no kinks: second differences stay small (the windows are C2 at their edges)', () => {
    const warp = buildPhotoWarp(FRONTAL, maxJitter(1).params, 'frontal');
    const s = 0.05;
    let worst = 0;
    for (let y = 150; y < 480; y += 0.41) {
      for (let x = 60; x < 340; x += 0.41) {
        const m = mapPoint(warp, x, y);
        for (const [dx, dy] of [[s, 0], [0, s]]) {
          const a = mapPoint(warp, x + dx, y + dy);
          const b = mapPoint(warp, x - dx, y - dy);
          worst = Math.max(worst, Math.hypot(a[0] - 2 * m[0] + b[0], a[1] - 2 * m[1] + b[1]) / (s * s));
        }
      }
    }
    // A kink of slope change k would show as about k / s = 20 k here; smooth fields stay near 0.05.
    expect(worst).toBeLessThan(0.5);
  });

  it('is the identity far from the face and at strength 0', () => {
    const warp = buildPhotoWarp(FRONTAL, maxJitter(1).params, 'frontal');
    expect(mapPoint(warp, 5, 5)).toEqual([5, 5]);
    expect(mapPoint(warp, 390, 30)).toEqual([390, 30]);
    const zero = buildPhotoWarp(FRONTAL, subjectWarp('s', SYNTH_REGIONS, 0, 1, DEFAULTS.synth.jitter).params, 'frontal');
    for (let y = 0; y < 500; y += 7) for (let x = 0; x < 400; x += 7) expect(mapPoint(zero, x, y)).toEqual([x, y]);
  });

  it('moves what it should: mouth corners inwards, chin down, outer canthi up', () => {
    const warp = buildPhotoWarp(FRONTAL, subjectWarp('s', SYNTH_REGIONS, 1, 1, 0).params, 'frontal');
    const [le, re, , lm, rm] = FRONTAL;
    const lmOut = forwardPoint(warp, lm);
    const rmOut = forwardPoint(warp, rm);
    const widthBefore = rm[0] - lm[0];
    expect((rmOut[0] - lmOut[0]) / widthBefore).toBeLessThan(0.92);
    const h = faceFrame(FRONTAL).unitPx;
    const chin: [number, number] = [198, 320 + 0.72 * h];
    expect(forwardPoint(warp, chin)[1] - chin[1]).toBeGreaterThan(0.08 * h);
    // Outer canthi (15 px outside each eye centre) rise relative to the inner ones.
    const lift = (eye: [number, number], dir: number) => forwardPoint(warp, [eye[0] + dir * 15, eye[1]])[1] - forwardPoint(warp, [eye[0] - dir * 15, eye[1]])[1];
    expect(lift(le, -1)).toBeLessThan(-1);
    expect(lift(re, 1)).toBeLessThan(-1);
  });

  it('delivers the stated amounts on a frontal face: fissures shorter, alar base narrower, tip larger, nasal root wider', () => {
    // Measured between points placed on the features of FRONTAL (eye-to-mouth distance h): the
    // warp must change each feature by about its FULL_STRENGTH amount and in its direction (the
    // alar kernel once had its backward offset reversed and widened the base by 16% instead).
    const regionWarp = (region: (typeof SYNTH_REGIONS)[number]) => buildPhotoWarp(FRONTAL, subjectWarp('s', [region], 1, 1, 0).params, 'frontal');
    const h = faceFrame(FRONTAL).unitPx;
    const change = (warp: ReturnType<typeof buildPhotoWarp>, a: [number, number], b: [number, number]) => {
      const [fa, fb] = [forwardPoint(warp, a), forwardPoint(warp, b)];
      return Math.hypot(fb[0] - fa[0], fb[1] - fa[1]) / Math.hypot(b[0] - a[0], b[1] - a[1]) - 1;
    };
    const [le, , nose] = FRONTAL;
    const eyes = regionWarp('periorbital');
    const fissure = change(eyes, [le[0] - 0.15 * h, le[1]], [le[0] + 0.15 * h, le[1]]);
    expect(fissure).toBeLessThan(-0.09); // FULL_STRENGTH: -12%
    expect(fissure).toBeGreaterThan(-0.15);
    const nasal = regionWarp('perinasal');
    const alar = change(nasal, [nose[0] - 0.22 * h, nose[1] - 0.04 * h], [nose[0] + 0.22 * h, nose[1] - 0.04 * h]);
    expect(alar).toBeLessThan(-0.12); // -25%, part of it undone by the tip's growth
    expect(change(nasal, [nose[0] - 0.06 * h, nose[1] + 0.03 * h], [nose[0] + 0.06 * h, nose[1] + 0.03 * h])).toBeGreaterThan(0.25); // tip +35%
    const rootY = le[1] + 0.2 * h;
    expect(change(nasal, [nose[0] - 0.08 * h, rootY], [nose[0] + 0.08 * h, rootY])).toBeGreaterThan(0.15); // root +30%
  });

  it('moves nothing outside supportBox (warpImage only computes the map inside it)', () => {
    for (const [lm, view] of [[FRONTAL, 'frontal'], [ROLLED, 'frontal'], [OBLIQUE, 'oblique'], [PROFILE, 'profile'], [PROFILE, 'frontal']] as const) {
      const warp = buildPhotoWarp(lm, maxJitter(1).params, view);
      const box = supportBox(warp, 400, 520)!;
      expect(box.x1 - box.x0).toBeGreaterThan(50);
      let moved = 0;
      for (let y = 0; y < 520; y += 0.5) {
        for (let x = 0; x < 400; x += 0.5) {
          if (x >= box.x0 && x <= box.x1 && y >= box.y0 && y <= box.y1) continue;
          const [mx, my] = mapPoint(warp, x, y);
          if (mx !== x || my !== y) moved++;
        }
      }
      expect(moved).toBe(0);
    }
    expect(supportBox(zeroWarp(FRONTAL), 400, 520)).toBeUndefined();
  });

  it('forwardPoint inverts mapPoint', () => {
    const warp = buildPhotoWarp(ROLLED, maxJitter(1).params, 'frontal');
    for (const p of [[150, 250], [200, 290], [230, 330], [180, 240]] as [number, number][]) {
      const f = forwardPoint(warp, p);
      const back = mapPoint(warp, f[0], f[1]);
      expect(Math.hypot(back[0] - p[0], back[1] - p[1])).toBeLessThan(1e-4);
    }
  });

  it('plants only what a profile shows, and says why', () => {
    const warp = buildPhotoWarp(PROFILE, maxJitter(1).params, 'profile');
    expect(warp.regions.periorbital).toEqual({ skipped: expect.stringContaining('profile') });
    expect(warp.regions.perioral).toEqual({ skipped: expect.stringContaining('profile') });
    expect(warp.regions.perinasal).toHaveProperty('centre');
    expect(warp.regions.facelength).toHaveProperty('radius');
    // Only the nasal tip: no alar kernels in profile.
    expect((warp.regions.perinasal as { parts: { name: string }[] }).parts.map((p) => p.name)).toEqual(['nasal tip']);
  });

  it('rejects degenerate landmarks', () => {
    expect(() => faceFrame([[10, 10], [10, 10], [10, 10], [10, 10], [10, 10]])).toThrow(/eye-to-mouth distance/);
  });
});

describe('warpImage', () => {
  const img: RgbImage = { width: 64, height: 48, data: Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 37) % 256) };
  const lm: Landmarks5 = [[24, 20], [40, 20], [32, 26], [26, 32], [38, 32]];

  it('copies every pixel exactly under a zero warp', () => {
    const { image, minJacobian } = warpImage(img, zeroWarp(lm));
    expect(Buffer.from(image.data).equals(Buffer.from(img.data))).toBe(true);
    expect(minJacobian).toBe(1);
  });

  it('bicubic (the default) softens moved pixels less than bilinear', () => {
    const W = 96;
    // Fine but not aliased detail (periods 3.3 to 5 px), like skin texture and eyelashes at LFW's scale.
    const texture = (x: number, y: number) => 128 + 60 * Math.sin(x * 1.9 + y * 0.4) + 60 * Math.sin(y * 1.6 - x * 0.5);
    const noise: RgbImage = { width: W, height: W, data: Uint8Array.from({ length: W * W * 3 }, (_, i) => Math.round(texture(Math.floor(i / 3) % W, Math.floor(i / 3 / W)))) };
    const face: Landmarks5 = [[36, 30], [60, 30], [48, 42], [38, 54], [58, 54]];
    const warp = buildPhotoWarp(face, subjectWarp('a', SYNTH_REGIONS, 0.5, 3, DEFAULTS.synth.jitter).params, 'frontal');
    const energy = (im: RgbImage) => {
      let e = 0;
      for (let y = 1; y < W - 1; y++) {
        for (let x = 1; x < W - 1; x++) {
          const [mx, my] = mapPoint(warp, x, y);
          if (mx === x && my === y) continue;
          const i = (y * W + x) * 3;
          e += (4 * im.data[i] - im.data[i - 3] - im.data[i + 3] - im.data[i - 3 * W] - im.data[i + 3 * W]) ** 2;
        }
      }
      return e;
    };
    const bicubic = energy(warpImage(noise, warp).image);
    const bilinear = energy(warpImage(noise, warp, 'bilinear').image);
    expect(bicubic).toBeGreaterThan(bilinear * 1.1);
    expect(Buffer.from(warpImage(noise, zeroWarp(face), 'bilinear').image.data).equals(Buffer.from(noise.data))).toBe(true);
  });

  it('copies every pixel exactly at strength 0 and changes pixels at strength 1', () => {
    const zero = warpImage(img, buildPhotoWarp(lm, subjectWarp('a', SYNTH_REGIONS, 0, 3, DEFAULTS.synth.jitter).params, 'frontal')).image;
    expect(Buffer.from(zero.data).equals(Buffer.from(img.data))).toBe(true);
    const one = warpImage(img, buildPhotoWarp(lm, subjectWarp('a', SYNTH_REGIONS, 1, 3, DEFAULTS.synth.jitter).params, 'frontal'));
    expect(Buffer.from(one.image.data).equals(Buffer.from(img.data))).toBe(false);
    expect(one.minJacobian).toBeGreaterThan(0);
  });
});

describe('subject parameters and choice', () => {
  it('gives a subject the same parameters every time, and different subjects different ones', () => {
    const a1 = subjectWarp('subject-a', SYNTH_REGIONS, 0.7, 5, DEFAULTS.synth.jitter);
    const a2 = subjectWarp('subject-a', [...SYNTH_REGIONS], 0.7, 5, DEFAULTS.synth.jitter);
    const b = subjectWarp('subject-b', SYNTH_REGIONS, 0.7, 5, DEFAULTS.synth.jitter);
    expect(a2).toEqual(a1);
    expect(b.params).not.toEqual(a1.params);
    expect(subjectWarp('subject-a', SYNTH_REGIONS, 0.7, 6, DEFAULTS.synth.jitter).params).not.toEqual(a1.params);
    expect(a1.strength).toBeGreaterThanOrEqual(0.7 * 0.8);
    expect(a1.strength).toBeLessThanOrEqual(0.7 * 1.2);
  });

  it('chooses round(fraction * n) subjects, by seed, whatever their order', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const a = chooseAffected(ids, 0.5, 1);
    expect(a.size).toBe(20);
    expect(chooseAffected([...ids].reverse(), 0.5, 1)).toEqual(a);
    expect(chooseAffected(ids, 0.25, 1).size).toBe(10);
    expect(chooseAffected(ids, 0.5, 2)).not.toEqual(a);
    // A smaller fraction picks a subset of a larger one (same ranking).
    for (const id of chooseAffected(ids, 0.25, 1)) expect(a.has(id)).toBe(true);
  });

  it('rejects unknown regions, naming them and the allowed set', () => {
    expect(() => parseRegions(['periorbital', 'ears', 'chin'])).toThrow('Unknown regions "ears", "chin". Should be one of: periorbital, perinasal, perioral, facelength.');
    expect(() => parseRegions([])).toThrow(/No regions/);
    expect(parseRegions(['facelength', 'periorbital'])).toEqual(['periorbital', 'facelength']);
  });
});
