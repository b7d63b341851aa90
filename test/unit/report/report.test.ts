/**
 * The study report from a real cross-validation of synthetic embeddings: intended use before the
 * numbers and the configuration last, integer confusion counts with their meaning, no AUC for the
 * constant baseline, every metrics table saying per photo or per person, no published figures
 * quoted as results, and charts whose legends keep their full labels.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelBundle } from '../../../src/classify/bundle.ts';
import type { Dataset, PhotoResult } from '../../../src/data/index.ts';
import { crossValidate, type CrossValidationResult } from '../../../src/evaluate/crossval.ts';
import { calibrationSpec, est, finalHyperparameters, finePercent, modelDescription, predictiveCell, renderReport, renderSvg, rocSpec } from '../../../src/report/index.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

const data = syntheticStudy({ subjects: 24, photosPerSubject: 3, dim: 32, signal: 2.5, seed: 7 });
const LIMITATION = 'Only for people and photos like these.';

/** A report input around a cross-validation result: the data set, photos and bundle only as far as the report reads them. */
function reportInput(result: CrossValidationResult) {
  const items = data.photoIds.map((p, i) => ({ path: p, absPath: `/data/${p}`, subject: data.subjects[i], label: data.y[i] ? 'vcfs' : 'control', y: data.y[i] as 0 | 1, view: data.views[i], meta: {} }));
  const photos: PhotoResult[] = items.map((item, i) => ({ item, cached: false, view: data.views[i] }));
  const counts = (y: number) => ({ subjects: new Set(items.filter((t) => t.y === y).map((t) => t.subject)).size, photos: items.filter((t) => t.y === y).length, byView: {} });
  const dataset: Dataset = { root: '/data', positive: 'vcfs', negative: 'control', items, summary: { total: { subjects: 24, photos: items.length }, byClass: { vcfs: counts(1), control: counts(0) }, byView: {} } };
  const bundle = {
    id: 'abc123', createdAt: '2026-12-01T00:00:00Z', phenofaceVersion: '0.0.0', classifier: { hyper: { C: 1 } },
    backbone: { name: 'mobilefacenet', dim: 32, weightsSha256: 'f00' }, pipeline: { version: 'p1', config: {} },
    training: { datasetHash: 'd00' }, intendedUse: 'A screening aid for clinicians.', limitations: [LIMITATION],
  } as unknown as ModelBundle;
  return { dataset, photos, used: photos, leakage: { warnings: [] } as never, result, metrics: {}, bundle, options: {} };
}

describe('renderReport', () => {
  let result: CrossValidationResult;
  let html: string;
  beforeAll(async () => {
    result = await crossValidate({ X: data.X, y: data.y, subjects: data.subjects, photoIds: data.photoIds, views: data.views, folds: 3, repeats: 2, seed: 2, bootstrap: 50, permutations: 0, workers: 0 });
    html = await renderReport(reportInput(result));
  }, 120_000);

  it('states the PPV and NPV prevalence as screen does: 1 in N, or a percentage (not "1 in 3" for 30%)', async () => {
    expect(html).toContain(`PPV and NPV at a prevalence of 1 in ${Math.round(1 / result.options.prevalence).toLocaleString('en')} (set with`);
    const clinic = await renderReport(reportInput({ ...result, options: { ...result.options, prevalence: 0.3 } }));
    expect(clinic).toContain('PPV and NPV at a prevalence of 30% (set with');
  });

  it("counts the explanation checks in the Checks section, where a reader scans for failures, with a failure as a warning", async () => {
    const checks = (html: string) => /<section id="checks">[\s\S]*?<\/section>/.exec(html)![0];
    const failing = await renderReport({ ...reportInput(result), explanationChecks: { total: 5, failed: ['occlusion agreement'], notMeasured: [] } });
    expect(checks(failing)).toContain('<div class="warn" id="checks-explanation"><p>Explanation checks: <strong>1 of 5 FAILED</strong> (occlusion agreement). The heat maps\' region shares are one method\'s view, not established; see <a href="#explanations">What the model looks at</a>.</p></div>');
    const passing = await renderReport({ ...reportInput(result), explanationChecks: { total: 5, failed: [], notMeasured: [] } });
    expect(checks(passing)).toContain('Explanation checks (sanity checks, occlusion agreement, heat outside the face): all 5 passed');
    expect(checks(html)).not.toContain('Explanation checks');
  });

  it('puts intended use and limitations before the data and results, and the configuration dump last', () => {
    const at = (id: string) => html.indexOf(`<section id="${id}">`);
    expect(at('intended-use')).toBeGreaterThan(0);
    expect(html.indexOf(LIMITATION)).toBeLessThan(at('data'));
    expect(at('intended-use')).toBeLessThan(at('results'));
    expect(at('config')).toBeGreaterThan(at('checks'));
    expect(html.indexOf(LIMITATION, at('config'))).toBe(-1);
  });

  it('shows one repeat\'s integer confusion counts, with their meaning and the range over repeats', () => {
    const tables = [...html.matchAll(/<table class="confusion">(.*?)<\/table>/gs)].map((m) => m[1]);
    expect(tables).toHaveLength(2);
    for (const [k, level] of (['subject', 'photo'] as const).entries()) {
      const cells = [...tables[k].matchAll(/<td class="count">([^<]*)<\/td>/g)].map((m) => m[1]);
      expect(cells).toHaveLength(4);
      expect(cells.every((c) => /^\d+$/.test(c))).toBe(true);
      const c = result[level].confusionByRepeat[0];
      expect(cells.map(Number)).toEqual([c.tp, c.fn, c.fp, c.tn]);
    }
    expect(tables[0]).toContain('Confusion per person, repeat 1 of 2');
    const c = result.subject.confusionByRepeat[0];
    expect(html).toContain(`Of ${c.tp + c.fn} vcfs people, ${c.tp} were called vcfs and ${c.fn} missed`);
    expect(html).toContain('Over all 2 repeats');
    expect([...html.matchAll(/<td class="count">([^<]*)</g)].every((m) => /^\d+$/.test(m[1]))).toBe(true); // no fractional count anywhere
  });

  it('shows no AUC for the majority-class baseline and says in one sentence what it is', () => {
    const baselineRows = [...html.matchAll(/<tr><th scope="row">Majority-class baseline: per (photo|person)<\/th><td>[^<]*<\/td><td>(.*?)<\/td>/g)];
    expect(baselineRows).toHaveLength(2);
    for (const row of baselineRows) expect(row[2]).toContain('&ndash;');
    // Its figures follow from the class counts: no interval by design, so no "too few people" mark.
    const rows = [...html.matchAll(/<tr><th scope="row">Majority-class baseline: per (photo|person)<\/th>.*?<\/tr>/g)].map((m) => m[0]);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).not.toContain('(no CI)');
    expect(html).toContain('The majority-class baseline gives everyone the training folds\' share of vcfs as a score and calls the larger class');
    // Each column said in words: AUC, balanced accuracy, PPV and Brier are jargon to a clinician.
    expect(html).toContain('AUC: the chance that a randomly chosen vcfs person (photo) scores above a randomly chosen control one (0.5 is chance, 1 perfect separation).');
    expect(html).toContain('Brier: the mean squared difference between the score and the truth, 0 or 1 (0 is perfect; a constant score of 50% gives 0.25).');
  });

  it('labels every metrics row per photo or per person, and quotes no published accuracy as a result', () => {
    const rows = [...html.matchAll(/<tr><th scope="row">([^<]*)<\/th><td>\d+ \(/g)].map((m) => m[1]);
    expect(rows.length).toBeGreaterThanOrEqual(4 + 2 * Object.keys(result.byView).length);
    for (const r of rows) expect(r).toMatch(/: per (photo|person)$/);
    expect(html).not.toContain('The paper reported');
    expect(html).not.toMatch(/95% accuracy/);
  });

  it('says near the top, and above the results table, that a model whose AUC interval per person reaches 0.5 carries no evidence', async () => {
    const statement = /No evidence: this model has not been shown to tell people with the condition from people without it, as the model&#39;s cross-validated AUC per person \(0\.6, 95% interval 0\.45-0\.8\) reaches 0\.5, chance level\. Results from it carry no evidence; do not act on them\./g;
    expect(html).not.toMatch(statement);
    const weak = structuredClone(result);
    weak.subject.auc = { value: 0.6, ci95: [0.45, 0.8] };
    const page = await renderReport(reportInput(weak));
    const at = [...page.matchAll(statement)].map((m) => m.index);
    expect(at).toHaveLength(2);
    expect(at[0]).toBeLessThan(page.indexOf('<section id="intended-use">'));
    expect(at[1]).toBeGreaterThan(page.indexOf('<section id="results">'));
    expect(at[1]).toBeLessThan(page.indexOf('<caption>Cross-validated performance, per photo and per person'));
  });

  it("says why the permutation test's AUC is not the Results table's, and when its p is the smallest its permutations can give", async () => {
    const tested = structuredClone(result);
    tested.subject.auc = { value: 0.971, ci95: [0.918, 1] };
    tested.permutation = { statistic: 'subject-auc', observed: 0.926, nulls: Array.from({ length: 100 }, (_, i) => 0.3 + i * 0.004), p: 1 / 101, repeats: 1, folds: 5, hyper: { C: 1 } };
    const checks = (await renderReport(reportInput(tested))).split('<section id="checks">')[1].split('</section>')[0];
    expect(checks).toContain("on the real labels, with the test's own procedure (C = 1 fixed before any label was seen, 1 repeat of 5-fold cross-validation), subject AUC 0.926; not the Results table's 0.971, which tunes the setting in each training fold and averages all repeats; against 100 permutations, <strong>p = 0.0099</strong> (no permutation reached it: the smallest p that 100 permutations can give)");
    tested.permutation = { ...tested.permutation, observed: 0.971, p: 0.0297 };
    const again = (await renderReport(reportInput(tested))).split('<section id="checks">')[1].split('</section>')[0];
    expect(again).not.toContain('not the Results table');
    expect(again).not.toContain('no permutation reached it');
  });

  it('lists, under Checks, each photo used whose face looks on its side or upside down, with the turn back', async () => {
    expect(html).not.toMatch(/look on their side or upside down/);
    const input = reportInput(result);
    const face = { box: { x: 0, y: 0, width: 10, height: 10 }, score: 0.9, landmarks5: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 0]] as never };
    input.used = input.used.map((p, i) => (i === 4 ? { ...p, face: { ...face, turned: 90 as const } } : { ...p, face }));
    const page = await renderReport(input);
    const checks = page.slice(page.indexOf('<section id="checks">'));
    expect(checks).toMatch(/<strong>1 photo\(s\) look on their side or upside down<\/strong>/);
    expect(checks).toContain(`<li>${data.photoIds[4]}: turn 90 degrees clockwise</li>`);
  });

  it('prints a PPV or NPV of exactly 1 from a rate of 1 as not a certainty: its interval, a marker and a footnote saying why', async () => {
    expect(html).not.toContain('bound-note');
    const bound = structuredClone(result);
    bound.subject.specificity = { value: 1, ci95: [0.84, 1] };
    bound.subject.ppv = { value: 1, ci95: [0.0005996, 1] };
    bound.subject.sensitivity = { value: 1, ci95: [0.84, 1] };
    bound.subject.npv = { value: 1, ci95: [0.99995, 1] };
    const page = await renderReport(reportInput(bound));
    const row = /<tr><th scope="row">All views: per person<\/th>(.*?)<\/tr>/.exec(page)![1];
    const cells = [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
    const [ppv, npv] = [cells[6], cells[7]]; // after n, AUC, accuracy, balanced accuracy, sensitivity, specificity
    for (const cell of [ppv, npv]) {
      expect(cell).toMatch(/^<span class="bound" title="[^"]+">not 100%<sup>&dagger;<\/sup><\/span> /);
      expect(cell).not.toMatch(/^100/);
    }
    expect(ppv).toContain('(95% CI 0.060%&ndash;100.0%)');
    expect(npv).toContain('(95% CI 99.9950%&ndash;100.0%)');
    const results = page.slice(page.indexOf('<section id="results">'), page.indexOf('<section id="views">'));
    expect(results).toContain('<p class="ci bound-note">&dagger; PPV not 100%: in cross-validation no control was called positive (specificity 1), and Bayes&#39; rule turns that point rate into a certainty that no study of finitely many people can show. Read its 95% interval instead. NPV not 100%: in cross-validation no affected person was missed (sensitivity 1)');
    expect(results.indexOf('bound-note')).toBeGreaterThan(results.indexOf('</table>'));
  });

  it('draws per-person and per-photo calibration, ROC by view, and states what a calibration point is', () => {
    expect(html).toContain('Calibration per person');
    expect(html).toContain('Calibration per photo');
    expect(html).toContain('people in the bin');
    expect(html).toContain('ROC per person, by view');
    expect(html).toContain('95% Wilson interval');
  });
});

describe('est', () => {
  it('says an interval of a single value (an AUC of 1 in every resample) is not a certainty', () => {
    expect(est({ value: 1, ci95: [1, 1] })).toMatch(/^1\.000 <span class="ci">\(1\.000&ndash;1\.000<span title="Every subject-bootstrap resample gave this same value[^"]*">, every resample alike: not a certainty<\/span>\)<\/span>$/);
    expect(est({ value: 0.97, ci95: [0.92, 1] })).toBe('0.970 <span class="ci">(0.920&ndash;1.000)</span>');
  });

  it('marks a figure without an interval, so that a bare 1.000 of a handful of people is not read as measured certainty', () => {
    expect(est({ value: 1, ci95: null })).toMatch(/^1\.000 <span class="ci" title="No 95% interval: [^"]*too few people for an interval\.">\(no CI\)<\/span>$/);
    expect(est({ value: 0.9, ci95: [0.8, 0.95] })).toBe('0.900 <span class="ci">(0.800&ndash;0.950)</span>');
    expect(est({ value: null, ci95: null })).toBe('<span class="na">n/a</span>');
  });
});

describe('predictiveCell', () => {
  it('prints a PPV or NPV strictly between 0 and 1 as est does, and one of 0 or 1 as not a certainty', () => {
    const e = { value: 0.00042, ci95: [0.0002, 0.0009] as [number, number] };
    expect(predictiveCell(e, 'ppv')).toBe(est(e, 4, 'fine'));
    expect(predictiveCell({ value: 0, ci95: [0, 0.0003] }, 'ppv')).toMatch(/^<span class="bound" title="PPV not 0%: in cross-validation no affected person was called positive \(sensitivity 0\)[^"]*">not 0%<sup>&dagger;<\/sup><\/span> <span class="ci">\(95% CI 0\.0%&ndash;0\.030%\)<\/span>$/);
    expect(predictiveCell({ value: 1, ci95: null }, 'npv')).toMatch(/not 100%<sup>&dagger;<\/sup><\/span> <span class="ci" title="No 95% interval/);
    // Without an interval (a study with --bootstrap 0) the note cannot point to one.
    expect(predictiveCell({ value: 1, ci95: null }, 'npv')).toContain('has no interval to read instead: the value is not known');
    expect(predictiveCell({ value: 1, ci95: null }, 'npv')).not.toContain('Read its 95% interval instead');
  });
});

describe('finePercent', () => {
  it('keeps two significant digits of a rate near 0 and of the complement near 1, where one decimal would read 0.0% and 100.0%', () => {
    expect([0.000416, 0.000234, 0.00999].map(finePercent)).toEqual(['0.042%', '0.023%', '1.0%']);
    expect([0.999939421514127, 0.9998767867007778, 0.995].map(finePercent)).toEqual(['99.9939%', '99.988%', '99.50%']);
    expect([0, 0.5, 1, 1e-9].map(finePercent)).toEqual(['0.0%', '50.0%', '100.0%', '<0.000001%']);
  });
});

describe('finalHyperparameters', () => {
  it("lists each block's hyperparameters and the stack's weights, not the first block's alone", () => {
    const classifier = (C: number) => ({ kind: 'phenoface-classifier', version: 1, name: 'logistic', dim: 2, hyper: { C }, params: {} });
    const features = { features: ['embedding', 'geometry'], classifiers: [classifier(0.001), classifier(0.01)], stacker: { weights: [1.2, 0.3], bias: 0 } } as unknown as ModelBundle['features'];
    expect(finalHyperparameters({ classifier: classifier(0.001) as ModelBundle['classifier'], features })).toEqual({ 'embedding.C': 0.001, 'geometry.C': 0.01, 'stack.embedding': 1.2, 'stack.geometry': 0.3 });
    expect(finalHyperparameters({ classifier: classifier(0.1) as ModelBundle['classifier'] })).toEqual({ C: 0.1 });
  });
});

describe('modelDescription', () => {
  const backbone = { name: 'mobilefacenet', dim: 192, weightsSha256: null };
  it('names the classifier, the blocks it reads and the networks behind the embedding', () => {
    expect(modelDescription('logistic', { backbone })).toBe("The final model: a logistic classifier on the identity embedding (mobilefacenet's)");
    const stack = { kind: 'phenoface-feature-model', version: 1, features: ['embedding', 'geometry', 'regions'], blocks: [], classifiers: [], stacker: { weights: [1, 1, 1], bias: 0 }, selection: { candidates: [], chosen: ['embedding', 'geometry', 'regions'], kept: ['embedding', 'geometry', 'regions'], innerFolds: 3, minGain: 0.05 } } as unknown as ModelBundle['features'];
    expect(modelDescription('logistic', { backbone: { ...backbone, second: { name: 'dlib-resnet', dim: 128, weightsSha256: null } }, features: stack })).toBe(
      "The final model: a stack of logistic classifiers, one on each of the identity embedding (mobilefacenet's with dlib-resnet's beside it), the facial geometry and the region-pooled maps, combined by a logistic regression on their out-of-fold logits, as the inner cross-validation chose it (each outer fold chose its own blocks the same way; see Representations)",
    );
  });
});

describe('charts', () => {
  it('ROC: full legend labels, the chance line in the legend, and a padded domain so a perfect curve stays off the frame', async () => {
    const long = 'per person, frontal and oblique photos together (AUC 1.000)';
    const spec = rocSpec([{ name: long, fpr: [0, 0, 1], tpr: [0, 1, 1] }, { name: 'per photo (AUC 0.900)', fpr: [0, 0.2, 1], tpr: [0, 0.9, 1] }], 'ROC');
    const svg = await renderSvg(spec);
    expect(svg).toContain(long);
    expect(svg).toContain('chance (AUC 0.5)');
    expect(svg).not.toContain('…');
    const line = (spec as any).layer[1];
    expect(line.encoding.x.scale.domain[0]).toBeLessThan(0);
    expect(line.encoding.y.scale.domain[1]).toBeGreaterThan(1);
    expect(new Set(line.encoding.strokeDash.scale.range.map(String)).size).toBe(3); // two curves and the chance line, each its own dash
  });

  it('calibration: points sized by count with their intervals as error bars, and the diagonal', async () => {
    const bins = [{ meanPredicted: 0.1, observedRate: 0.2, count: 10, ci95: [0.06, 0.51] as [number, number] }, { meanPredicted: 0.9, observedRate: 1, count: 4, ci95: [0.51, 1] as [number, number] }];
    const spec = calibrationSpec(bins, 'Calibration per person', 'people') as any;
    const [diagonal, bars, points] = spec.layer;
    expect(diagonal.data.values).toEqual([{ x: 0, y: 0 }, { x: 1, y: 1 }]);
    expect(bars.mark.type).toBe('rule');
    expect(bars.data.values.map((b: any) => [b.lo, b.hi])).toEqual([[0.06, 0.51], [0.51, 1]]);
    expect(points.mark.type).toBe('point');
    expect(points.encoding.size.field).toBe('count');
    expect(points.encoding.size.scale.range[0]).toBeGreaterThanOrEqual(30); // visible, not specks
    expect(await renderSvg(spec)).toContain('people in the bin');
  });
});
