import { describe, expect, it } from 'vitest';
import { MEASUREMENTS, MEASUREMENT_NAMES, measurePanel, referenceLength } from '../../../src/features/anthropometry.ts';
import type { Point } from '../../../src/types.ts';
import { frontalFace, meshFace, profileFace, similarity } from './faces.ts';

const panel = (points: Point[], view: 'frontal' | 'oblique' | 'profile' | undefined) =>
  Object.fromEntries(MEASUREMENT_NAMES.map((n, k) => [n, measurePanel(points, view)[k]]));

describe('referenceLength', () => {
  it('is the root-mean-square distance from the centroid', () => {
    // A 2 x 2 square around (1, 1): every corner is sqrt(2) from the centroid.
    expect(referenceLength([[0, 0], [2, 0], [2, 2], [0, 2]])).toBeCloseTo(Math.SQRT2, 12);
    // Points at distances 1 and 3 from (0, 0): sqrt((1 + 9) / 2) = sqrt(5).
    expect(referenceLength([[-1, 0], [1, 0], [0, 3], [0, -3]])).toBeCloseTo(Math.sqrt(5), 12);
  });
});

describe('measurePanel on a hand-placed frontal face', () => {
  const face = frontalFace();
  const ref = referenceLength(face);
  const m = panel(face, 'frontal');

  it.each([
    ['palpebral-fissure-length-left', 30],
    ['palpebral-fissure-length-right', 30],
    ['inner-canthal-distance', 60],
    ['outer-canthal-distance', 120],
    ['alar-base-width', 40],
    ['nasal-tip-width', 20],
    ['nasal-length', 95],
    ['mouth-width', 60],
    ['philtrum-length', 25],
    ['lower-face-height', 85],
  ])('%s is its distance (%d px) over the reference', (name, px) => {
    expect(m[name]).toBeCloseTo(px / ref, 12);
  });

  it('face height/width is n-gn over the jaw-top width, 180 / 200', () => {
    expect(m['face-height-width']).toBeCloseTo(0.9, 12);
  });

  it('has no nasal projection in a frontal photo', () => {
    expect(m['nasal-projection']).toBeNull();
  });

  it('is unchanged by translation, scale and rotation of the photo', () => {
    const moved = panel(similarity(face, 2.5, 17, -40, 300), 'frontal');
    for (const name of MEASUREMENT_NAMES) {
      if (m[name] === null) expect(moved[name]).toBeNull();
      else expect(moved[name]).toBeCloseTo(m[name]!, 10);
    }
  });

  it('moves only the measurement whose landmark moved', () => {
    const shorter = face.map((p): Point => [...p]);
    shorter[36] = [145, 210]; // the image-left fissure from 30 to 25 px
    const after = panel(shorter, 'frontal');
    const r2 = referenceLength(shorter);
    expect(after['palpebral-fissure-length-left']).toBeCloseTo(25 / r2, 12);
    expect(after['palpebral-fissure-length-right']).toBeCloseTo(30 / r2, 12);
    expect(after['outer-canthal-distance']).toBeCloseTo(115 / r2, 12);
  });
});

describe('the nasal bridge width, from the extra points after the 68', () => {
  const face = meshFace();
  const ref = referenceLength(frontalFace());
  const m = panel(face, 'frontal');

  it('is the distance between the two nasal sidewall points (30 px) over the reference of the 68', () => {
    expect(m['nasal-bridge-width']).toBeCloseTo(30 / ref, 12);
  });

  it('leaves every other measurement as the 68 alone give it: the extras do not enter the reference', () => {
    const plain = panel(frontalFace(), 'frontal');
    for (const name of MEASUREMENT_NAMES.filter((n) => n !== 'nasal-bridge-width')) expect(m[name], name).toBe(plain[name]);
  });

  it('is absent for a 68-point model, and outside the frontal view', () => {
    expect(panel(frontalFace(), 'frontal')['nasal-bridge-width']).toBeNull();
    expect(panel(face, 'oblique')['nasal-bridge-width']).toBeNull();
    expect(panel(face, 'profile')['nasal-bridge-width']).toBeNull();
  });

  it('moves when only the sidewalls move, and is unchanged by a similarity of the photo', () => {
    const wider = face.map((p): Point => [...p]);
    wider[68] = [180, 205];
    wider[69] = [220, 205];
    expect(panel(wider, 'frontal')['nasal-bridge-width']).toBeCloseTo(40 / ref, 12);
    expect(panel(similarity(face, 0.7, -12, 50, 9), 'frontal')['nasal-bridge-width']).toBeCloseTo(30 / ref, 10);
  });

  it('names the wide and narrow nasal bridge terms, on their sides', () => {
    const def = MEASUREMENTS.find((d) => d.name === 'nasal-bridge-width')!;
    expect(def).toMatchObject({ region: 'perinasal', views: ['frontal'], landmarks: [68, 69] });
    expect(def.hpo).toEqual([{ id: 'HP:0000446', label: 'Narrow nasal bridge', side: 'low' }, { id: 'HP:0000431', label: 'Wide nasal bridge', side: 'high' }]);
  });
});

describe('pose awareness', () => {
  it('a profile has no bilateral width but keeps midline lengths and gains nasal projection', () => {
    const face = profileFace();
    const ref = referenceLength(face);
    const m = panel(face, 'profile');
    for (const name of ['palpebral-fissure-length-left', 'palpebral-fissure-length-right', 'inner-canthal-distance', 'outer-canthal-distance', 'alar-base-width', 'nasal-tip-width', 'mouth-width', 'face-height-width']) {
      expect(m[name], name).toBeNull();
    }
    expect(m['nasal-projection']).toBeCloseTo((20 * Math.SQRT2) / ref, 12);
    expect(m['philtrum-length']).toBeCloseTo(25 / ref, 12);
    expect(m['lower-face-height']).toBeCloseTo(85 / ref, 12);
  });

  it('an oblique view keeps only the midline vertical lengths', () => {
    const m = panel(frontalFace(), 'oblique');
    const present = MEASUREMENT_NAMES.filter((n) => m[n] !== null);
    expect(present).toEqual(['nasal-length', 'philtrum-length', 'lower-face-height']);
  });

  it('an unknown view measures nothing', () => {
    expect(measurePanel(frontalFace(), undefined).every((v) => v === null)).toBe(true);
  });

  it('every bilateral width is declared frontal-only', () => {
    const widths = MEASUREMENTS.filter((d) => /width|canthal|fissure/.test(d.name) && d.name !== 'face-height-width');
    expect(widths.length).toBeGreaterThanOrEqual(7);
    for (const d of widths) expect(d.views, d.name).toEqual(['frontal']);
  });
});

describe('input checks', () => {
  it('refuses a point list that is not 68 to 70 finite points', () => {
    expect(() => measurePanel(frontalFace().slice(0, 67), 'frontal')).toThrow(/67 points\. Expected 68 to 70 finite/);
    expect(() => measurePanel([...meshFace(), [200, 200]], 'frontal')).toThrow(/71 points\. Expected 68 to 70 finite/);
    const bad = frontalFace();
    bad[10] = [Number.NaN, 1];
    expect(() => measurePanel(bad, 'frontal')).toThrow(/Invalid landmarks/);
  });

  it('a face with every point at one place measures nothing', () => {
    const flat = Array.from({ length: 68 }, (): Point => [5, 5]);
    expect(measurePanel(flat, 'frontal').every((v) => v === null)).toBe(true);
  });
});
