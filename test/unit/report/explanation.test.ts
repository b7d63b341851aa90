/**
 * The explanation section's checks: the occlusion test's agreement with the heat map is a check
 * with the configured threshold, its measured value and its result; the summary line above the
 * section follows every check, so a disagreeing occlusion test never sits under "no check failed";
 * the region tables keep few columns; no benchmark figure is quoted as this study's result; and the
 * text says which part of the score the maps leave out (other blocks, a second network's half).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { REGION_NAMES, type RegionName } from '../../../src/explain/regions.ts';
import type { PhotoRecord } from '../../../src/explain/study-result.ts';
import { explanationSection } from '../../../src/report/explanation.ts';
import { heatMapScope } from '../../../src/explain/scope.ts';
import { summarisePhotoRecords } from '../../../src/workflows/study/explanation.ts';

const shares = (top: RegionName) => Object.fromEntries(REGION_NAMES.map((r) => [r, r === top ? 0.6 : 0.05])) as Record<RegionName, number>;
/** One explained photo whose occlusion drops agree with its heat map by `agreement` (Spearman). */
const record = (i: number, agreement: number | null): PhotoRecord => ({
  path: `p${i}`, subject: `s${i}`, label: i % 2 ? 'vcfs' : 'control', view: 'frontal', correct: true, subjectCorrect: true, score: 1,
  top: 'perinasal', shares: shares('perinasal'), outsideEnergy: 0.05, occlusion: shares('perinasal'), occlusionAgreement: agreement,
  sanity: { 'randomised classifier': 0.1, 'shuffled labels': 0.05 }, regionSanity: { 'randomised classifier': 0.2, 'shuffled labels': 0.1 }, shuffledTop: 'perioral',
  gradcam: { shares: shares('perioral'), top: 'perioral', shuffledTop: 'chin-jaw' },
});
const io = { backbone: 'mobilefacenet', positive: 'vcfs', negative: 'control' };
const o = { ...DEFAULTS.explain.study, bootstrap: 100 };
const threshold = DEFAULTS.explain.study.occlusionMinAgreement;
const section = async (agreement: number | null) => {
  const x = summarisePhotoRecords(Array.from({ length: 10 }, (_, i) => record(i, agreement)), [], io, o, 5, 0.36, 'contrastive');
  return { x, html: (await explanationSection(x, null)).html };
};
const occlusionRow = (html: string) => html.match(/<tr><th scope="row">occlusion agreement<\/th>.*?<\/tr>/s)?.[0] ?? '';

describe('explanationSection: checks', () => {
  it('reports a disagreeing occlusion test as a failed check with its threshold and value, and the summary follows it', async () => {
    const { x, html } = await section(0.05);
    expect(x.occlusion).toMatchObject({ minAgreement: threshold, passed: false });
    expect(x.checks.find((c) => c.name === 'occlusion agreement')).toMatchObject({ rule: 'min', threshold, passed: false });
    expect(x.warnings.some((w) => w.startsWith('OCCLUSION CHECK FAILED'))).toBe(true);
    const row = occlusionRow(html);
    expect(row).toMatch(/<td>0.05[ <]/);
    expect(row).toContain(`&ge; ${threshold}`);
    expect(row).toContain('<strong>FAILED</strong>');
    expect(html).not.toMatch(/No sanity check failed|All \d+ checks passed/);
    expect(html).toContain(`<strong>1 of ${x.checks.length} checks failed</strong> (occlusion agreement)`);
    expect(html.indexOf('checks failed')).toBeLessThan(html.indexOf('Contrastive HiResCAM of the final model'));
  });

  it('says every check passed only when each did, counting the sanity checks, the occlusion agreement and the heat outside the face', async () => {
    const { x, html } = await section(0.8);
    expect(x.checks.map((c) => c.name)).toEqual(['sanity: randomised classifier', 'sanity: shuffled labels', 'occlusion agreement', 'heat outside the face']);
    expect(x.checks.every((c) => c.passed)).toBe(true);
    expect(html).toContain('All 4 checks passed');
    expect(occlusionRow(html)).toContain('<td>passed</td>');
    expect(x.warnings).toEqual([]);
  });

  it('does not count an unmeasured check as passed', async () => {
    const { x, html } = await section(null);
    expect(x.occlusion.passed).toBeNull();
    expect(html).toContain('1 could not be measured (occlusion agreement)');
    expect(html).not.toContain('All 4 checks passed');
    expect(occlusionRow(html)).toContain('not measured');
  });
});

describe('explanationSection: tables and text', () => {
  it('keeps the region tables to a few columns, says per person or per photo, and quotes no benchmark figure', async () => {
    const { html } = await section(0.8);
    const tables = [...html.matchAll(/<table[^>]*>(.*?)<\/table>/gs)].map((m) => m[1]);
    for (const t of tables) {
      const header = t.match(/<tr>(.*?)<\/tr>/s)![1];
      expect((header.match(/<th/g) ?? []).length).toBeLessThanOrEqual(6);
    }
    const captions = tables.map((t) => t.match(/<caption>(.*?)<\/caption>/s)![1]);
    expect(captions[0]).toContain('per person');
    expect(captions[1]).toContain('per photo');
    expect(html).not.toMatch(/bench:explain|ranked first for \d+%|\d+% \(nose\)/);
    expect(html).toContain("Sides are the patient's");
    expect(html).toContain('Neighbouring regions are not told apart reliably');
  });

  it('gives the occlusion drop its unit: log-odds per unit of the region\'s fraction of the crop', async () => {
    const { html } = await section(0.8);
    expect(html).toContain("score drop when greyed out, in log-odds per unit of area (the drop divided by the region's fraction of the 112&times;112 crop");
    expect(html).toMatch(/Occlusion test: greying out one region at a time and measuring the drop in the \w+ score before its sigmoid \(log-odds\), divided by the region's fraction of the crop's area/);
  });
});

describe('explanationSection: top regions', () => {
  it('gives photos whose map shows no evidence a row of their own, so each column sums to 100%', async () => {
    const records = Array.from({ length: 10 }, (_, i) => record(i, 0.8));
    records[1] = { ...records[1], gradcam: { ...records[1].gradcam!, shuffledTop: null } }; // one of the 5 positives: an empty shuffled-label map
    const html = (await explanationSection(summarisePhotoRecords(records, [], io, o, 5, 0.36, 'contrastive'), null)).html;
    const row = html.match(/<tr><th scope="row">No region \(the map shows no evidence anywhere\)<\/th>(.*?)<\/tr>/s)?.[1] ?? '';
    expect([...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1])).toEqual(['0% / 0%', '0% / 20%']);
    const plain = (await section(0.8)).html;
    expect(plain).not.toContain('No region (the map shows no evidence anywhere)');
  });
});

describe('explanationSection: geometry', () => {
  it('shows the geometry contributions beside the heat-map ranking only for a model that has them', async () => {
    const { x, html } = await section(0.8);
    expect(html).not.toContain('geometry-contributions');
    const geometry = { positive: 'vcfs', photos: 4, subjects: 2, regions: { perinasal: { mean: 0.5, ci95: [0.2, 0.8] as [number, number], n: 2 }, perioral: { mean: -0.1, ci95: null, n: 2 } }, first: { perinasal: 0.75, perioral: 0.25 } };
    const withGeometry = (await explanationSection({ ...x, geometry }, null)).html;
    expect(withGeometry.indexOf('id="geometry-contributions"')).toBeGreaterThan(withGeometry.indexOf('ranks first'));
    expect(withGeometry).toMatch(/<th scope="row" title="perinasal">Nose<\/th><td>\+0\.500 <span class="ci">\(\+0\.200&ndash;\+0\.800\)<\/span><\/td><td>75%<\/td>/);
    expect(withGeometry).toContain('&minus;0.100');
    expect(withGeometry).not.toContain('geometry-negligible');
  });

  it('says when every region\'s mean contribution is negligible, and gives a value that rounds to zero no sign', async () => {
    const { x } = await section(0.8);
    const geometry = { positive: 'vcfs', photos: 4, subjects: 2, regions: { perinasal: { mean: 0.0003, ci95: [0.0001, 0.0009] as [number, number], n: 2 }, perioral: { mean: -0.0001, ci95: [-0.0004, 0.0002] as [number, number], n: 2 } }, first: { perinasal: 0.4, perioral: 0.6 } };
    const html = (await explanationSection({ ...x, geometry }, null)).html;
    expect(html).toMatch(/<p class="warn" id="geometry-negligible">Every region's mean contribution is under 0\.005 log-odds/);
    expect(html).toContain('<td>0.000 <span class="ci">(0.000&ndash;+0.001)</span></td>');
    expect(html).not.toMatch(/[+]0\.000|&minus;0\.000/);
    // Which region contributes most means nothing then: the column is left out.
    expect(html).not.toContain('Photos where it contributes most');
    expect(html).not.toContain('<td>40%</td>');
  });
});

describe('explanationSection: what the maps differentiate', () => {
  it('says which part of the score the maps leave out, and says nothing when they cover all of it', async () => {
    expect(heatMapScope(['embedding'], 'mobilefacenet', undefined)).toBeUndefined();
    expect(heatMapScope(undefined, 'mobilefacenet', undefined)).toBeUndefined();
    const stacked = heatMapScope(['embedding', 'regions', 'geometry'], 'mobilefacenet', 'dlib-resnet')!;
    expect(stacked).toBe("The maps follow the embedding block's part of the score only (not the regions and geometry blocks'), and in it mobilefacenet's embedding, with dlib-resnet's held at its training mean.");
    expect(heatMapScope(['embedding', 'regions'], 'mobilefacenet', undefined)).toBe("The maps follow the embedding block's part of the score only (not the regions block's).");
    expect(heatMapScope(['embedding'], 'mobilefacenet', 'dlib-resnet')).toBe("The maps follow mobilefacenet's embedding only, with dlib-resnet's held at its training mean.");
    expect(heatMapScope(['geometry'], 'mobilefacenet', 'dlib-resnet')).toBeUndefined();
    const { x, html } = await section(0.8);
    expect(html).not.toContain('The maps follow');
    const scoped = (await explanationSection({ ...x, scope: stacked }, null)).html;
    expect(scoped).toContain('The maps follow the embedding block&#39;s part of the score only');
  });
});
