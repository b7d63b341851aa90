/**
 * Leave-one-site-out validation: each site is one outer fold holding exactly its photos, no
 * subject is on both sides, the thresholds come from the training sites alone, and a subject
 * under two sites, a blank site or a lone site are refused before anything is fitted.
 */
import { describe, expect, it } from 'vitest';
import { siteFolds, spreadOf, validateBySite, type SiteValidationInput } from '../../../src/evaluate/sites.ts';
import { syntheticStudy } from './synthetic-embeddings.ts';

const data = syntheticStudy({ subjects: 45, photosPerSubject: 3, dim: 24, signal: 6, seed: 5 });
const subjectIds = [...new Set(data.subjects)];
const SITES = ['a', 'b', 'c'];
const siteOfSubject = (s: string) => SITES[subjectIds.indexOf(s) % 3];

function input(over: Partial<SiteValidationInput> = {}): SiteValidationInput {
  return { X: data.X, y: data.y, subjects: data.subjects, photoIds: data.photoIds, column: 'source', site: data.subjects.map(siteOfSubject), bootstrap: 40, seed: 3, workers: 0, ...over };
}

describe('siteFolds', () => {
  it('holds out exactly each site, with none of its subjects in training', () => {
    const { sites, folds } = siteFolds(input());
    expect(sites).toEqual(SITES);
    folds.forEach((fold, f) => {
      expect(fold.test.every((i) => siteOfSubject(data.subjects[i]) === sites[f])).toBe(true);
      expect(fold.train.every((i) => siteOfSubject(data.subjects[i]) !== sites[f])).toBe(true);
      const testSubjects = new Set(fold.test.map((i) => data.subjects[i]));
      expect(fold.train.some((i) => testSubjects.has(data.subjects[i]))).toBe(false);
      expect(fold.train.length + fold.test.length).toBe(data.X.length);
    });
  });

  it('refuses a subject under two sites, naming it and its sites', () => {
    const site = data.subjects.map(siteOfSubject);
    const first = data.subjects.indexOf(subjectIds[0]);
    const again = data.subjects.indexOf(subjectIds[0], first + 1);
    expect(again).toBeGreaterThan(first);
    site[again] = site[first] === 'a' ? 'b' : 'a';
    expect(() => siteFolds(input({ site }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(new RegExp(`1 subject\\(s\\) appear under two or more values.*"${subjectIds[0]}" \\((a, b|b, a)\\)`)) }));
  });

  it('refuses blank values and a single value', () => {
    const site = data.subjects.map(siteOfSubject);
    site[4] = '';
    expect(() => siteFolds(input({ site }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringContaining(`1 photo(s) have no "source" value`) }));
    expect(() => siteFolds(input({ site: data.subjects.map(() => 'one') }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/needs at least two/) }));
  });

  it('refuses a split whose training sites hold one class', () => {
    const site = data.y.map((y) => (y ? 'pos-site' : 'neg-site'));
    expect(() => siteFolds(input({ site }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/without "neg-site", the other values hold only positive subjects/) }));
  });
});

describe('validateBySite', () => {
  it('reports every site with its own people, and pools them', async () => {
    const v = await validateBySite(input());
    for (const s of SITES) {
      const people = subjectIds.filter((id) => siteOfSubject(id) === s).length;
      expect(v.bySite[s].metrics.subject.n.units).toBe(people);
      expect(v.bySite[s].train.subjects).toBe(45 - people);
      expect(v.bySite[s].metrics.subject.auc.value).toBeGreaterThan(0.7);
      expect(v.bySite[s].metrics.subject.auc.ci95).not.toBeNull();
    }
    expect(v.pooled.subject.n.units).toBe(45);
    const aucs = SITES.map((s) => v.bySite[s].metrics.subject.auc.value!);
    expect(v.spread.subject.auc).toMatchObject({ min: Math.min(...aucs), max: Math.max(...aucs), sites: 3 });
  });

  it("fixes each site's thresholds on the training sites alone", async () => {
    const base = await validateBySite(input());
    // Change site c's photos and labels beyond recognition: only the folds that train on c may move.
    const X = data.X.map((x, i) => (siteOfSubject(data.subjects[i]) === 'c' ? x.map((v) => -v) : x));
    const changed = await validateBySite(input({ X }));
    expect(changed.bySite.c.thresholds).toEqual(base.bySite.c.thresholds);
    expect(changed.bySite.a.thresholds).not.toEqual(base.bySite.a.thresholds);
  });

  it('scores each site with the blocks the study learns from, not the embedding alone', async () => {
    // The signal is in the region-pooled maps; the embedding is noise.
    const noise = data.X.map((x, i) => Float32Array.from(x, (_, k) => Math.sin(i * 12.9898 + k * 78.233) * 43758.5453 % 1));
    const inputs = data.X.map((x, i) => ({ embedding: noise[i], regionMaps: x }));
    const fromRegions = await validateBySite(input({ X: noise, inputs, features: ['regions'] }));
    const fromEmbedding = await validateBySite(input({ X: noise, inputs }));
    for (const s of SITES) expect(fromRegions.bySite[s].metrics.subject.auc.value).toBeGreaterThan(0.7);
    expect(fromEmbedding.pooled.subject.auc.value).toBeLessThan(0.7);
  });
});

describe('spreadOf', () => {
  it('is min, max, range and sample SD of the defined values', () => {
    const s = spreadOf([0.7, null, 0.9]);
    expect(s).toMatchObject({ min: 0.7, max: 0.9, range: 0.9 - 0.7, sites: 2 });
    expect(s.sd).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(spreadOf([null])).toEqual({ min: null, max: null, range: null, sd: null, sites: 0 });
  });
});
