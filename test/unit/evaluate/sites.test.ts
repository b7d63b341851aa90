/**
 * Leave-one-site-out validation: each site is one outer fold holding exactly its photos, no
 * subject is on both sides, the thresholds come from the training sites alone, and a subject
 * under two sites, a blank site or a lone site are refused before anything is fitted.
 */
import { describe, expect, it } from 'vitest';
import { siteFolds, siteValidationJson, siteWarnings, spreadOf, validateBySite, type SiteValidationInput } from '../../../src/evaluate/sites.ts';
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

  it('refuses values that differ only in letter case or Unicode form: one site held out as two would leave its other half in training', () => {
    const site = data.subjects.map(siteOfSubject).map((v, i) => (v === 'a' && subjectIds.indexOf(data.subjects[i]) % 2 ? 'A' : v));
    expect(() => siteFolds(input({ site }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/--validate-by source: values "A" \(\d+ photos\), "a" \(\d+ photos\) differ only in letter case or Unicode form/) }));
    // A composed "é" and "e" with a combining accent look the same.
    const accents = data.subjects.map(siteOfSubject).map((v, i) => (v === 'a' ? (subjectIds.indexOf(data.subjects[i]) % 2 ? 'caf\u00e9' : 'cafe\u0301') : v));
    expect(() => siteFolds(input({ site: accents }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/differ only in letter case or Unicode form/) }));
  });

  it('refuses a split whose training sites hold one class', () => {
    const site = data.y.map((y) => (y ? 'pos-site' : 'neg-site'));
    expect(() => siteFolds(input({ site }))).toThrow(expect.objectContaining({ code: 'E_MANIFEST', message: expect.stringMatching(/without "neg-site", the other values hold only positive subjects/) }));
  });

  it('refuses a split whose training sites hold one person of a class, naming the site and the person, before anything is fitted', () => {
    const lone = data.subjects[data.y.indexOf(1)];
    const negatives = subjectIds.filter((s) => !data.y[data.subjects.indexOf(s)]);
    const small = new Set([lone, ...negatives.slice(0, 3)]);
    const site = data.subjects.map((s) => (small.has(s) ? 'small' : 'big'));
    expect(() => siteFolds(input({ site }))).toThrow(expect.objectContaining({
      code: 'E_MANIFEST',
      message: `--validate-by source: without "big", the other values hold 1 positive subject ("${lone}"), and the inner cross-validation that tunes the classifier and fixes its thresholds needs 2 of each class. Each site left out must leave at least 2 people of each class in the others.`,
    }));
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

describe("a site's intervals", () => {
  // Site "c" holds two positive people (and eight negatives); the rest are split between "a" and "b".
  const positives = subjectIds.filter((id) => data.y[data.subjects.indexOf(id)] === 1);
  const negatives = subjectIds.filter((id) => data.y[data.subjects.indexOf(id)] === 0);
  const small = (inC: number) => {
    const c = new Set([...positives.slice(0, inC), ...negatives.slice(0, 8)]);
    return data.subjects.map((s) => (c.has(s) ? 'c' : subjectIds.indexOf(s) % 2 ? 'a' : 'b'));
  };

  it("resample the site's own people, so that two positive people give an AUC interval", async () => {
    // Drawn from all ~22 positive subjects, both of c's are missed in ~13% of replicates, more than the 10% allowed.
    const v = await validateBySite(input({ site: small(2), bootstrap: 200 }));
    expect(v.bySite.c.metrics.subject.n).toMatchObject({ positive: 2, negative: 8 });
    expect(v.bySite.c.metrics.subject.auc.value).not.toBeNull();
    expect(v.bySite.c.metrics.subject.auc.ci95).toHaveLength(2);
    expect(v.bySite.c.intervalNote).toBeUndefined();
    expect(siteValidationJson(v).bySite).not.toHaveProperty('c.intervalNote');
  });

  it('are none for a site with one person of a class, which says why', async () => {
    const v = await validateBySite(input({ site: small(1), bootstrap: 200 }));
    const c = v.bySite.c;
    expect(c.metrics.subject.auc.value).not.toBeNull();
    expect(c.metrics.subject.auc.ci95).toBeNull();
    expect(c.intervalNote).toBe('no interval: too few people (1 positive, 8 negative; the site\'s own bootstrap needs at least 2 of each class it holds)');
    expect(siteValidationJson(v)).toMatchObject({ bySite: { c: { intervalNote: c.intervalNote } } });
    expect(v.bySite.a.intervalNote).toBeUndefined();
    // With --bootstrap 0 no interval was asked for, and none is explained.
    expect((await validateBySite(input({ site: small(1), bootstrap: 0 }))).bySite.c.intervalNote).toBeUndefined();
  });
});

describe('a study of three or more classes', () => {
  // Every "rare" person (a third of the negatives) is at site "c".
  const negatives = subjectIds.filter((id) => data.y[data.subjects.indexOf(id)] === 0);
  const rare = new Set(negatives.filter((id) => siteOfSubject(id) === 'c'));
  const label = data.subjects.map((s, i) => (data.y[i] ? 'vcfs' : rare.has(s) ? 'rare' : 'control'));

  it('warns about a held-out site whose training sites lack one of the classes, without refusing it', async () => {
    const v = await validateBySite(input({ classes: { label, positive: 'vcfs', ranking: true } }));
    expect(v.bySite.c.warnings).toEqual([`no other value of source has a "rare" person, so the model that predicts c never saw that class: c's ${rare.size} "rare" people count as negatives of "vcfs" against the rest, and c's specificity reflects a class unseen in training, not only how the model travels.`]);
    expect(v.bySite.a.warnings).toEqual([]);
    const json = siteValidationJson(v) as { bySite: Record<string, Record<string, unknown>>; differentialNote: string };
    expect(json.bySite.c.warnings).toEqual(v.bySite.c.warnings);
    expect(json.bySite.a).not.toHaveProperty('warnings');
    expect(json.differentialNote).toBe('Leave-one-source-out validates the binary model ("vcfs" against all other classes pooled), not the ranked differential: the differential\'s figures come from the grouped K-fold alone.');
  });

  it('says nothing of the differential in a one-vs-rest study, and warns only where a class is missing', () => {
    const { sites, folds } = siteFolds(input());
    expect(siteWarnings(input({ classes: { label, positive: 'vcfs', ranking: false } }), sites, folds).map((w) => w.length)).toEqual([0, 0, 1]);
    expect(siteWarnings(input(), sites, folds)).toEqual([[], [], []]);
  });
});

describe('spreadOf', () => {
  it('is min, max (with their sites), range and sample SD of the defined values', () => {
    const s = spreadOf([0.7, null, 0.9, 0.7], ['a', 'b', 'c', 'd']);
    expect(s).toMatchObject({ min: 0.7, max: 0.9, minAt: ['a', 'd'], maxAt: ['c'], range: 0.9 - 0.7, sites: 3 });
    expect(s.sd).toBeCloseTo(Math.sqrt(0.04 / 3), 12);
    expect(spreadOf([null], ['a'])).toEqual({ min: null, max: null, minAt: [], maxAt: [], range: null, sd: null, sites: 0 });
  });
});
