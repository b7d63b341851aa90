import { describe, expect, it } from 'vitest';
import { FittedGeometry, geometryBlock, geometryContributions, geometryFromJSON } from '../../../src/features/geometry.ts';
import { MEASUREMENTS } from '../../../src/features/anthropometry.ts';
import type { PhotoInputs } from '../../../src/features/types.ts';
import type { View } from '../../../src/types.ts';
import { frontalFace, jittered, meshFace, profileFace, similarity } from './faces.ts';

const embedding = new Float32Array(4);
const photo = (seed: number, view: View = 'frontal'): PhotoInputs => ({
  embedding,
  view,
  landmarks68: jittered(view === 'profile' ? profileFace() : frontalFace(), 3, seed),
});
const frontal = Array.from({ length: 20 }, (_, i) => photo(i + 1));
const profiles = Array.from({ length: 12 }, (_, i) => photo(100 + i, 'profile'));
/** The frontal measurements the 68 points give (the nasal bridge width needs the mesh's extras). */
const frontalNames = MEASUREMENTS.filter((m) => m.views.includes('frontal') && m.landmarks.every((l) => l < 68)).map((m) => m.name);
const frontalPanel = frontalNames.length;
/** The column of a frontal panel measurement when the shape is kept whole (136 columns first). */
const panelColumn = (name: string) => 136 + frontalNames.indexOf(name);
const profilePanel = MEASUREMENTS.filter((m) => m.views.includes('profile')).length;

describe('geometry block', () => {
  it('gives each view with enough photos its own group: shape coordinates + the panel it supports', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit([...frontal, ...profiles]) as FittedGeometry;
    expect(fitted.groups.map((g) => g.view)).toEqual(['frontal', 'profile']);
    expect(fitted.dim).toBe(136 + frontalPanel + 136 + profilePanel);
    const [f] = fitted.transform([photo(500)]);
    const profileCols = f.subarray(136 + frontalPanel);
    expect(profileCols.every((v) => v === 0)).toBe(true);
    expect(f.subarray(0, 136 + frontalPanel).some((v) => v !== 0)).toBe(true);
  });

  it('drops a view with fewer training photos than minViewPhotos', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 13 }).fit([...frontal, ...profiles]) as FittedGeometry;
    expect(fitted.groups.map((g) => g.view)).toEqual(['frontal']);
    const [p] = fitted.transform([photo(7, 'profile')]);
    expect(p.every((v) => v === 0)).toBe(true);
  });

  it('standardises every column on the training rows: mean 0, SD 1', () => {
    const fitted = geometryBlock({ shapeVariance: 0.95, minViewPhotos: 10 }).fit(frontal);
    const X = fitted.transform(frontal);
    for (let j = 0; j < fitted.dim; j++) {
      const col = X.map((x) => x[j]);
      const mean = col.reduce((a, b) => a + b, 0) / col.length;
      const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(sd).toBeCloseTo(1, 4);
    }
  });

  it('PCA reduces the shape columns', () => {
    const fitted = geometryBlock({ shapeVariance: 0.9, minViewPhotos: 10 }).fit(frontal);
    expect(fitted.dim).toBeLessThan(136);
    expect(fitted.dim).toBeGreaterThan(frontalPanel);
  });

  it('fits on the training rows only: transforming test rows leaves the fit unchanged', () => {
    const block = geometryBlock({ shapeVariance: 0.95, minViewPhotos: 10 });
    const fitted = block.fit(frontal);
    const before = JSON.stringify(fitted.toJSON());
    const test = Array.from({ length: 8 }, (_, i) => photo(1000 + i));
    const first = fitted.transform(test);
    expect(JSON.stringify(fitted.toJSON())).toBe(before);
    expect(fitted.transform(test)).toEqual(first);
    // and the test rows would have changed a fit that saw them
    expect(JSON.stringify(block.fit([...frontal, ...test]).toJSON())).not.toBe(before);
  });

  it('a photo moved by a similarity gives the same vector', () => {
    const fitted = geometryBlock({ shapeVariance: 0.95, minViewPhotos: 10 }).fit(frontal);
    const p = photo(77);
    const moved = { ...p, landmarks68: similarity(p.landmarks68!, 3.1, 25, 400, -20) };
    const [a, b] = fitted.transform([p, moved]);
    for (let j = 0; j < a.length; j++) expect(b[j]).toBeCloseTo(a[j], 4);
  });

  it('a photo without landmarks or view is all zeros (the training mean)', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(frontal);
    const [a, b] = fitted.transform([{ embedding }, { embedding, landmarks68: frontalFace() }]);
    expect(a.every((v) => v === 0) && b.every((v) => v === 0)).toBe(true);
  });

  it('round-trips through JSON', () => {
    const fitted = geometryBlock({ shapeVariance: 0.95, minViewPhotos: 10 }).fit([...frontal, ...profiles]);
    const restored = geometryFromJSON(JSON.parse(JSON.stringify(fitted.toJSON())));
    const rows = [photo(300), photo(301, 'profile')];
    expect(restored.transform(rows)).toEqual(fitted.transform(rows));
    const broken = { ...fitted.toJSON(), dim: fitted.dim + 1 };
    expect(() => geometryFromJSON(broken)).toThrow(/dim/);
  });

  it('refuses to fit without any view holding enough photos with landmarks', () => {
    expect(() => geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(frontal.slice(0, 5))).toThrow(/no view has 10/);
  });
});

describe('geometryContributions', () => {
  const row = photo(42);
  const dot = (w: ArrayLike<number>, x: ArrayLike<number>) => Array.from(x).reduce((s, v, i) => s + v * w[i], 0);

  it('sums to w · x, with PCA', () => {
    const fitted = geometryBlock({ shapeVariance: 0.95, minViewPhotos: 10 }).fit(frontal);
    const w = Float64Array.from({ length: fitted.dim }, (_, i) => Math.sin(i + 1));
    const parts = geometryContributions(fitted, row, w);
    const total = parts.reduce((s, p) => s + p.contribution, 0);
    expect(total).toBeCloseTo(dot(w, fitted.transform([row])[0]), 4);
  });

  it('is local: weight on one landmark or one measurement lands in that region only', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(frontal);
    const w = new Float64Array(fitted.dim);
    w[2 * 33] = 1; // x of subnasale (nose)
    w[panelColumn('mouth-width')] = 2;
    const parts = Object.fromEntries(geometryContributions(fitted, row, w).map((p) => [p.region, p.contribution]));
    const x = fitted.transform([row])[0];
    expect(parts.perinasal).toBeCloseTo(x[66], 5);
    expect(parts.perioral).toBeCloseTo(2 * x[panelColumn('mouth-width')], 5);
    for (const r of ['periorbital-left', 'periorbital-right', 'forehead-glabella', 'malar-left', 'malar-right', 'chin-jaw', 'outside-face']) expect(parts[r], r).toBe(0);
  });

  it('splits a measurement across the regions of its landmarks', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(frontal);
    const k = panelColumn('inner-canthal-distance');
    const w = new Float64Array(fitted.dim);
    w[k] = 1;
    const parts = Object.fromEntries(geometryContributions(fitted, row, w).map((p) => [p.region, p.contribution]));
    const x = fitted.transform([row])[0][k];
    expect(parts['periorbital-left']).toBeCloseTo(x / 2, 6);
    expect(parts['periorbital-right']).toBeCloseTo(x / 2, 6);
  });

  it('refuses weights of the wrong length', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(frontal);
    expect(() => geometryContributions(fitted, row, [1, 2])).toThrow(/one weight per column/);
  });
});

describe('geometry on the face mesh\'s 70 points (the 68, then the two nasal sidewalls)', () => {
  const mesh = (seed: number): PhotoInputs => ({ embedding, view: 'frontal', landmarks68: jittered(meshFace(), 3, seed) });
  const train = Array.from({ length: 20 }, (_, i) => mesh(i + 1));

  it('aligns all 70 points and adds the nasal bridge width to the panel', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(train) as FittedGeometry;
    expect(fitted.groups[0].shape.mean).toHaveLength(140);
    expect(fitted.dim).toBe(140 + frontalPanel + 1);
    const everyFrontal = MEASUREMENTS.filter((m) => m.views.includes('frontal')).map((m) => m.name);
    expect(everyFrontal).toContain('nasal-bridge-width');
    expect(fitted.toJSON().params).toMatchObject({ groups: [{ panel: { names: everyFrontal } }] });
  });

  it('gives the sidewalls\' shape columns and the bridge width to the perinasal region', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(train) as FittedGeometry;
    const row = mesh(99);
    const w = new Float64Array(fitted.dim);
    w[2 * 68] = 1; // x of the image-left sidewall
    w[140 + fitted.groups[0].panel.measures.indexOf(MEASUREMENTS.findIndex((m) => m.name === 'nasal-bridge-width'))] = 1;
    const parts = Object.fromEntries(geometryContributions(fitted, row, w).map((p) => [p.region, p.contribution]));
    const total = Object.values(parts).reduce((a, b) => a + b, 0);
    expect(parts.perinasal).toBeCloseTo(total, 10);
    expect(parts.perinasal).not.toBe(0);
  });

  it('a block fitted on 68 points reads the first 68 of a 70-point face, as it read the 68 alone', () => {
    const fitted = geometryBlock({ shapeVariance: 0.95, minViewPhotos: 10 }).fit(frontal);
    const row = mesh(7);
    const [a, b] = fitted.transform([row, { ...row, landmarks68: row.landmarks68!.slice(0, 68) }]);
    expect(a).toEqual(b);
    expect(a.some((v) => v !== 0)).toBe(true);
  });

  it('a block fitted on 70 points refuses a 68-point face clearly (another landmark model)', () => {
    const fitted = geometryBlock({ shapeVariance: 1, minViewPhotos: 10 }).fit(train);
    expect(() => fitted.transform([photo(3)])).toThrow(expect.objectContaining({ code: 'E_BUNDLE', message: expect.stringContaining('fitted on 70 landmarks per face; this photo has 68') }));
  });
});
