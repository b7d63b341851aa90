import { describe, expect, it } from 'vitest';
import { MEASUREMENT_NAMES, measurePanel } from '../../../src/features/anthropometry.ts';
import { compareMeasurements, measurementsSection, type ComparedPhoto } from '../../../src/report/measurements.ts';
import type { Point } from '../../../src/types.ts';
import { frontalFace } from '../features/faces.ts';
import { studyMeasurements } from '../../../src/workflows/study/measurements.ts';
import { DEFAULTS } from '../../../src/config.ts';
import { measurableFace, tooSmallToMeasure } from '../../../src/features/measurements.ts';

function mouthFace(width: number): Point[] {
  const p = frontalFace();
  p[48] = [200 - width / 2, 330];
  p[54] = [200 + width / 2, 330];
  return p;
}
const mouthOf = (w: number) => measurePanel(mouthFace(w), 'frontal')[MEASUREMENT_NAMES.indexOf('mouth-width')]!;

describe('compareMeasurements', () => {
  // Controls c1-c4 with mouths 58, 60, 62, 60; c1 has a second photo at 70 (its mean is that of 58 and 70).
  // Cases t1-t3 with mouths 40, 42, 44.
  const photos: ComparedPhoto[] = [
    ...[['c1', 58], ['c1', 70], ['c2', 60], ['c3', 62], ['c4', 60]].map(([s, w]) => ({ subject: s as string, y: 0, view: 'frontal' as const, landmarks68: mouthFace(w as number) })),
    ...[['t1', 40], ['t2', 42], ['t3', 44]].map(([s, w]) => ({ subject: s as string, y: 1, view: 'frontal' as const, landmarks68: mouthFace(w as number) })),
    { subject: 't1', y: 1, view: 'profile', landmarks68: mouthFace(40) },
  ];
  const rows = compareMeasurements(photos, 200, 1);
  const mouth = rows.find((r) => r.name === 'mouth-width')!;

  it('counts each person once and gives the difference of the class means', () => {
    const controls = [(mouthOf(58) + mouthOf(70)) / 2, mouthOf(60), mouthOf(62), mouthOf(60)];
    const cases = [mouthOf(40), mouthOf(42), mouthOf(44)];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mouth.controls.subjects).toBe(4);
    expect(mouth.cases.subjects).toBe(3);
    expect(mouth.difference.value).toBeCloseTo(mean(cases) - mean(controls), 12);
    const sd = Math.sqrt(controls.reduce((s, v) => s + (v - mean(controls)) ** 2, 0) / 3);
    expect(mouth.controls.sd).toBeCloseTo(sd, 12);
    expect(mouth.differenceInControlSd).toBeCloseTo(mouth.difference.value / sd, 12);
  });

  it('gives an interval around the difference that excludes 0 for a clear difference', () => {
    const [lo, hi] = mouth.difference.ci95!;
    expect(lo).toBeLessThanOrEqual(mouth.difference.value);
    expect(hi).toBeGreaterThanOrEqual(mouth.difference.value);
    expect(hi).toBeLessThan(0);
  });

  it('leaves out views with fewer than two people per class', () => {
    expect(rows.every((r) => r.view === 'frontal')).toBe(true);
  });

  it('the section says the reference is this study\'s controls, and charts the differences', async () => {
    const html = await measurementsSection(rows, { positive: 'vcfs', negative: 'control' }, 200);
    expect(html).toContain('95% interval from 200 resamplings');
    expect(html).toContain('not against population norms');
    expect(html).toContain('Mouth width');
    expect(html).toMatch(/<figure><svg[^]*in control SDs \(95% CI\)/);
  });
});

describe('studyMeasurements (the study\'s norms and section)', () => {
  const photo = (subject: string, label: string, y: 0 | 1, width: number) => ({
    item: { path: `${subject}.jpg`, absPath: `/x/${subject}.jpg`, subject, label, y, meta: {} },
    cached: true, view: 'frontal' as const, landmarks68: mouthFace(width),
  });
  const people = [
    ...['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((s, i) => photo(s, 'control', 0, 58 + i)),
    ...['o1', 'o2', 'o3', 'o4', 'o5'].map((s) => photo(s, 'other', 0, 90)),
    ...['t1', 't2', 't3'].map((s, i) => photo(s, 'vcfs', 1, 40 + i)),
  ];

  it('takes the norms from the control class only when the pooled negative mixes other classes', async () => {
    const { norms, section } = await studyMeasurements(people, { positive: 'vcfs', negative: 'not-vcfs', mode: 'ranking' }, { replicates: 50, seed: 1 });
    expect(norms!.views.frontal!['mouth-width'].subjects).toBe(6);
    expect(norms!.population).toBe('controls of this study (label control)');
    expect(section.html).toContain('<th>control people</th>');
  });

  it('uses the negative class of a two-class study, and says so when no control has landmarks', async () => {
    const two = people.filter((p) => p.item.label !== 'other');
    expect((await studyMeasurements(two, { positive: 'vcfs', negative: 'control' }, { replicates: 0, seed: 1 })).norms!.views.frontal!['mouth-width'].subjects).toBe(6);
    const none = await studyMeasurements(two.map((p) => (p.item.y ? p : { ...p, landmarks68: undefined })), { positive: 'vcfs', negative: 'control' }, { replicates: 0, seed: 1 });
    expect(none.norms).toBeUndefined();
    expect(none.section.html).toContain('No control photo had dense landmarks');
  });

  it('leaves out of the norms and the comparison a face too small to measure, and says how many', async () => {
    const two = people.filter((p) => p.item.label !== 'other');
    const box = (side: number) => ({ box: { x: 0, y: 0, width: side, height: side * 1.2 }, score: 0.99, landmarks5: [[0, 0], [1, 0], [0.5, 0.5], [0, 1], [1, 1]] }) as never;
    const sized = two.map((p, i) => ({ ...p, face: box(i === 0 ? DEFAULTS.measurements.minFaceSidePx - 1 : DEFAULTS.measurements.minFaceSidePx) }));
    const { norms, section } = await studyMeasurements(sized, { positive: 'vcfs', negative: 'control' }, { replicates: 0, seed: 1 });
    expect(norms!.views.frontal!['mouth-width'].subjects).toBe(5);
    expect(section.html).toContain(`<p>1 photo whose face is under ${DEFAULTS.measurements.minFaceSidePx} pixels across was not measured: below that the photo's resolution alone moves the measurements by over half the spread between people`);
  });
});

describe('measurableFace', () => {
  it("measures a face whose box's shorter side reaches measurements.minFaceSidePx, and words the warning of one that does not", () => {
    const min = DEFAULTS.measurements.minFaceSidePx;
    expect(measurableFace({ width: min, height: min + 30 })).toBe(true);
    expect(measurableFace({ width: min + 30, height: min - 0.5 })).toBe(false);
    expect(tooSmallToMeasure({ width: 41.4, height: 50 }, 80)).toBe("face too small to measure (41 px across; the measurements need 80 px, below which the photo's resolution alone moves them by over half the spread between people): no measurements from this photo");
  });
});
