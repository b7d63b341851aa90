/** The demo's summary states a held-out person's screening as `screen` does: no score of 100% or 0%, regions by the patient's side. */
import { describe, expect, it } from 'vitest';
import { formatDemoSummary } from '../../src/cli/demo.ts';
import type { DemoResult, DemoScreening } from '../../src/workflows/demo/demo.ts';
import type { ScreenResult } from '../../src/workflows/screen/screener.ts';

const screened = (subject: string, truthLabel: string, probability: number, label: string): DemoScreening => ({
  subject,
  truthLabel,
  strength: truthLabel === 'vcfs' ? 1.02 : 0,
  file: `/tmp/d/screen/${subject}.json`,
  result: {
    contract: 1,
    subject: { probability, label, threshold: 0.48, photos: 2, prevalence: 0.00025, chance: label === 'vcfs' ? 0.001997 : 0.0000313 },
    photos: [
      { path: 'a.jpg', probability, regions: [{ name: 'perinasal', share: 0.3 }, { name: 'periorbital-left', share: 0.2 }, { name: 'perioral', share: 0.1 }] },
      { path: 'b.jpg', probability, regions: [{ name: 'perinasal', share: 0.28 }, { name: 'periorbital-left', share: 0.18 }, { name: 'perioral', share: 0.16 }] },
    ],
    model: { id: 'm', backbone: 'mobilefacenet', positive: 'vcfs', negative: 'control' },
    disclaimer: 'd',
  } as ScreenResult,
} as DemoScreening);

const result = {
  out: '/tmp/d', people: 20, photos: 120, source: 'faces', regions: ['perinasal'],
  options: { strength: 0.9, seed: 1, quick: true, folds: 5, repeats: 3, bootstrap: 100, permutations: 10 },
  synth: { dir: '/tmp/d/synth', written: 120, skipped: 0, affected: 10, controls: 10 },
  study: { report: '/tmp/d/study/report.html', model: '/tmp/d/study/model', subjects: 18, photos: 108, subjectAuc: { value: 0.97, ci95: [0.92, 1] }, photoAuc: { value: 0.96, ci95: [0.9, 1] }, permutationP: 0.0099 },
  signal: 'found',
  screenings: [screened('person-01', 'vcfs', 1, 'vcfs'), screened('person-15', 'control', 0, 'control')],
  explain: { status: 'done' },
  seconds: { total: 10 },
} as unknown as DemoResult;

describe('formatDemoSummary', () => {
  it("prints a held-out person's score of exactly 1 or 0 as the bound it lies within, not as a certainty", () => {
    const text = formatDemoSummary(result, '/tmp/d');
    expect(text).toContain('person-01 (planted, strength 1.02 after the per-person jitter): vcfs from 2 photos; classifier score >99.99%');
    expect(text).toContain('person-15 (control): control from 2 photos; classifier score <0.01%');
    expect(text).not.toMatch(/score (100|0)%/);
  });

  it("says a held-out person's score is a classifier score, not a chance of disease, and gives the chance at the prevalence screened at", () => {
    const text = formatDemoSummary(result, '/tmp/d');
    expect(text).toContain('vcfs from 2 photos; classifier score >99.99%, not a chance of disease (chance of vcfs 0.20% at a prevalence of 1 in 4,000)');
    expect(text).toContain('control from 2 photos; classifier score <0.01%, not a chance of disease (chance of vcfs 0.0031% at a prevalence of 1 in 4,000)');
    expect(text).not.toMatch(/vcfs, score/);
  });

  it("names the heat map's top regions with the patient's side, as the report and screen do", () => {
    const text = formatDemoSummary(result, '/tmp/d');
    expect(text).toContain("; top heatmap regions Nose 29%, Around the patient's right eye 19%, Mouth 13%");
    expect(text).not.toContain('periorbital-left');
  });

  it('says that the regions of a person scored below the threshold are of what little raises the score', () => {
    const text = formatDemoSummary(result, '/tmp/d');
    expect(text).toContain("at a prevalence of 1 in 4,000); below the threshold, what little raises the score comes from Nose 29%, Around the patient's right eye 19%, Mouth 13%");
  });

  it("says beside the held-out people's heatmap regions that the study's explanation checks failed", () => {
    const failing = { ...result, study: { ...result.study, explanationChecks: { total: 5, failed: ['occlusion agreement'], notMeasured: [] } } } as DemoResult;
    const text = formatDemoSummary(failing, '/tmp/d');
    expect(text).toContain("  checks    the study's explanation checks: 1 of 5 FAILED (occlusion agreement): read the heatmap regions as one method's view, not as established (report: What the model looks at)");
    const passing = { ...result, study: { ...result.study, explanationChecks: { total: 5, failed: [], notMeasured: [] } } } as DemoResult;
    expect(formatDemoSummary(passing, '/tmp/d')).toContain("  checks    the study's explanation checks: all 5 passed");
  });

  it('says which explanation checks could not be measured', () => {
    const unmeasured = { ...result, study: { ...result.study, explanationChecks: { total: 5, failed: [], notMeasured: ['heat outside the face'] } } } as DemoResult;
    expect(formatDemoSummary(unmeasured, '/tmp/d')).toContain("1 of 5 could not be measured (heat outside the face): read the heatmap regions as one method's view");
  });

  it('says an AUC interval of one value is no certainty', () => {
    const perfect = { ...result, study: { ...result.study, subjectAuc: { value: 1, ci95: [1, 1] } } } as DemoResult;
    expect(formatDemoSummary(perfect, '/tmp/d')).toContain('AUC per person 1.00 (95% CI 1.00-1.00, every resample alike: not a certainty), per photo 0.96 (95% CI 0.90-1.00)');
  });
});
