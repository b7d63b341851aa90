import { describe, expect, it } from 'vitest';
import { ARCFACE_TEMPLATE } from '../../../src/align/template.ts';
import { spearman, upsample } from '../../../src/explain/gradcam.ts';
import { rankedRegions } from '../../../src/explain/explainer.ts';
import { REGION_HPO, REGION_NAMES, regionMasks, regionScores, type RegionName } from '../../../src/explain/regions.ts';

const masks = regionMasks();
const regionAt = (x: number, y: number): RegionName => REGION_NAMES[masks.labels[Math.round(y) * 112 + Math.round(x)]];

describe('regionMasks on the ArcFace template', () => {
  it('partition the crop into the nine named regions, none empty', () => {
    expect(masks.areas.reduce((a, b) => a + b, 0)).toBe(112 * 112);
    for (const a of masks.areas) expect(a).toBeGreaterThan(200);
    expect(REGION_NAMES).toEqual(['periorbital-left', 'periorbital-right', 'perinasal', 'perioral', 'forehead-glabella', 'malar-left', 'malar-right', 'chin-jaw', 'outside-face']);
  });

  it('put the landmarks and obvious places in the right regions', () => {
    const [le, re, nose, ml, mr] = ARCFACE_TEMPLATE;
    expect(regionAt(...le)).toBe('periorbital-left');
    expect(regionAt(...re)).toBe('periorbital-right');
    expect(regionAt(...nose)).toBe('perinasal');
    expect(regionAt(...ml)).toBe('perioral');
    expect(regionAt(...mr)).toBe('perioral');
    expect(regionAt(56, 45)).toBe('perinasal'); // nasal bridge between the eyes
    expect(regionAt(56, 20)).toBe('forehead-glabella');
    expect(regionAt(25, 72)).toBe('malar-left');
    expect(regionAt(87, 72)).toBe('malar-right');
    expect(regionAt(56, 108)).toBe('chin-jaw');
    for (const [x, y] of [[0, 0], [111, 0], [0, 111], [111, 111], [2, 56]]) expect(regionAt(x, y)).toBe('outside-face');
  });

  it('are left-right mirror images (left and right regions of equal area)', () => {
    const area = (n: RegionName) => masks.areas[REGION_NAMES.indexOf(n)];
    expect(Math.abs(area('periorbital-left') - area('periorbital-right'))).toBeLessThan(0.05 * area('periorbital-left'));
    expect(Math.abs(area('malar-left') - area('malar-right'))).toBeLessThan(0.05 * area('malar-left'));
  });

  it('carry the HPO terms of the 22q11.2DS facial gestalt', () => {
    expect(REGION_HPO['periorbital-left']).toEqual(['HP:0045025 narrow palpebral fissure', 'HP:0000582 upslanted palpebral fissure', 'HP:0000629 periorbital fullness']);
    expect(REGION_HPO.perinasal).toEqual(['HP:0000414 bulbous nose', 'HP:0000430 underdeveloped nasal alae', 'HP:0000426 prominent nasal bridge']);
    expect(REGION_HPO.perioral).toEqual(['HP:0000160 narrow mouth', 'HP:0000347 micrognathia']);
    expect(REGION_HPO['malar-right']).toEqual(['HP:0000272 malar flattening']);
    expect(REGION_HPO['chin-jaw']).toContain('HP:0000276 long face');
    expect(REGION_HPO['outside-face']).toEqual([]);
  });

  it('rejects a bad template', () => {
    expect(() => regionMasks(4)).toThrow(/Invalid region template/);
  });
});

describe('regionScores', () => {
  const only = (name: RegionName, value = 1) => Float32Array.from(masks.labels, (k) => (REGION_NAMES[k] === name ? value : 0));

  it('heat in one region gives it share 1 and all the energy', () => {
    const s = regionScores(only('perinasal'), masks);
    const nasal = s.find((r) => r.name === 'perinasal')!;
    expect(nasal.share).toBeCloseTo(1, 12);
    expect(nasal.energy).toBeCloseTo(1, 12);
    expect(nasal.hpo).toContain('HP:0000414 bulbous nose');
  });

  it('uniform heat gives equal shares (area-normalised) but energy proportional to area', () => {
    const s = regionScores(new Float32Array(112 * 112).fill(2), masks);
    for (const r of s) {
      expect(r.share).toBeCloseTo(1 / 9, 12);
      expect(r.energy).toBeCloseTo(r.area, 12);
    }
  });

  it('ranks a small hot region above a large lukewarm one', () => {
    const heat = Float32Array.from(masks.labels, (k) => (REGION_NAMES[k] === 'periorbital-left' ? 1 : REGION_NAMES[k] === 'outside-face' ? 0.5 : 0));
    const s = regionScores(heat, masks);
    const get = (n: RegionName) => s.find((r) => r.name === n)!;
    expect(get('periorbital-left').share).toBeCloseTo(2 / 3, 12);
    expect(get('outside-face').energy).toBeGreaterThan(get('periorbital-left').energy);
  });

  it('an all-zero map gives zero shares; negative or wrong-sized maps are refused', () => {
    expect(regionScores(new Float32Array(112 * 112), masks).every((r) => r.share === 0 && r.energy === 0)).toBe(true);
    expect(() => regionScores(only('perioral', -1), masks)).toThrow(/non-negative/);
    expect(() => regionScores(new Float32Array(10), masks)).toThrow(/Expected 12544/);
  });
});

describe('upsample and spearman', () => {
  it('upsample keeps constants, reproduces cell values between cell centres, clamps at edges', () => {
    expect(upsample(new Float32Array(49).fill(3), 7, 7, 112, 112).every((v) => Math.abs(v - 3) < 1e-6)).toBe(true);
    const ramp = Float32Array.from({ length: 49 }, (_, i) => i % 7);
    const up = upsample(ramp, 7, 7, 112, 112);
    // cell j's centre is at pixel 16 j + 7.5: pixels 7 and 8 straddle it symmetrically (inner cells)
    for (let j = 1; j < 6; j++) expect((up[16 * j + 7] + up[16 * j + 8]) / 2).toBeCloseTo(j, 5);
    expect(up[0]).toBe(0);
    expect(up[111]).toBe(6);
    // With a network layer's grid, cell j is drawn centred on its receptive field, pixel 16 j + 15.
    const onGrid = upsample(ramp, 7, 7, 112, 112, { stride: [16, 16], offset: [15, 15] });
    for (let j = 0; j < 7; j++) expect(onGrid[16 * j + 15]).toBeCloseTo(j, 5);
    expect(onGrid[16 * 2 + 15 + 8]).toBeCloseTo(2.5, 5);
    expect(onGrid[0]).toBe(0);
    // rows follow the grid's first (y) entry, columns its second
    const rows = Float32Array.from({ length: 49 }, (_, i) => Math.floor(i / 7));
    const tall = upsample(rows, 7, 7, 112, 112, { stride: [16, 16], offset: [3, 15] });
    expect(tall[(16 * 3 + 3) * 112 + 40]).toBeCloseTo(3, 5);
  });

  it('spearman: 1 for monotone, -1 for reversed, average ranks for ties, null for constants', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks [1.5, 1.5, 3] vs [1, 2, 3]: r = 0.866
    expect(spearman([5, 5, 9], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
  });
});

describe('rankedRegions', () => {
  it('ranks by share and gives a region with no share of the evidence no HPO terms', () => {
    const heat = new Float32Array(112 * 112);
    for (let y = 60; y < 70; y++) for (let x = 50; x < 62; x++) heat[y * 112 + x] = 1; // on the nose only
    const ranked = rankedRegions(regionScores(heat, masks));
    expect(ranked[0].name).toBe('perinasal');
    expect(ranked[0].hpo).toEqual([...REGION_HPO.perinasal]);
    for (const r of ranked.filter((x) => x.share === 0)) expect(r.hpo).toEqual([]);
    expect(ranked.filter((x) => x.share === 0).length).toBeGreaterThan(3);
  });

  it('rounds the shares so that they still sum to 1, as the contract says (three thirds are not 0.9999)', () => {
    const third = (name: RegionName) => ({ name, share: 1 / 3, energy: 1 / 3, area: 0.1, hpo: [...REGION_HPO[name]] });
    const ranked = rankedRegions([third('perinasal'), third('perioral'), third('chin-jaw'), { ...third('forehead-glabella'), share: 0, energy: 0 }]);
    expect(ranked.map((r) => r.share)).toEqual([0.3334, 0.3333, 0.3333, 0]);
    expect(ranked[3].hpo).toEqual([]);
  });
});
