/** The human-readable screen result leads with the call and what it means, and labels the score as a score. */
import { describe, expect, it } from 'vitest';
import { geometryNoteLine, heatmapNoteLine, photoLine, regionRankingNote, subjectSummary } from '../../src/cli/screen.ts';
import { zText } from '../../src/features/measurements.ts';
import type { ScreenResult } from '../../src/workflows/screen/screener.ts';

const result = (subject: Partial<ScreenResult['subject']>): ScreenResult => ({
  contract: 1,
  subject: { probability: 0.97, label: 'vcfs', threshold: 0.5, photos: 2, ...subject },
  photos: [],
  model: { id: 'm', backbone: 'mobilefacenet', positive: 'vcfs', negative: 'control' },
  disclaimer: 'd',
});

describe('subjectSummary', () => {
  it('says the call, the validated rates, the chance at the prevalence, then the score', () => {
    const lines = subjectSummary(result({ sensitivity: 0.815, specificity: 0.926, prevalence: 1 / 4000, likelihoodRatio: 11.014, likelihoodRatioRange: [6.02, 29.6], chance: 0.002746, chanceRange: [0.0015, 0.0074], interval: [0.95, 0.99] }));
    expect(lines).toEqual([
      "Result: ABOVE the model's threshold (vcfs vs control), from 2 photos.",
      '  In cross-validation, models built as this one was (each at the threshold its training folds chose) flagged 81.5% of affected people and cleared 92.6% of unaffected people (per person).',
      "  Chance of vcfs given this result: 0.27% (0.15% to 0.74% over those rates' 95% intervals), at a prevalence of 1 in 4,000 (--prevalence); likelihood ratio 11.01 (6.02 to 29.60 over the rates' 95% intervals).",
      "  Score 97.0% (a classifier score, not a chance of disease; threshold 50.0%); photos' interval 95.0% to 99.0%.",
    ]);
    expect(lines.join('\n')).not.toMatch(/probability of/);
    // A range that reaches 100% says why: the specificity's interval reaches 100%.
    const open = subjectSummary(result({ sensitivity: 0.815, specificity: 0.926, prevalence: 1 / 4000, likelihoodRatio: 11.014, likelihoodRatioRange: [6.02, null], chance: 0.002746, chanceRange: [0.0015, 1], interval: [0.95, 0.99] }));
    expect(open[2]).toMatch(/likelihood ratio 11\.01 \(6\.02 to unbounded over the rates' 95% intervals\)\. The upper end is 100% because the specificity's 95% interval reaches 100%/);
  });

  it('never prints a score, its interval or a photo\'s score as 100% or 0%: they are rounded to four decimals, not certain', () => {
    const above = subjectSummary(result({ probability: 1, interval: [1, 1], sensitivity: 1, specificity: 0.9996, sensitivityCi95: [0.7, 1], specificityCi95: [0.9, 1] }));
    expect(above.at(-1)).toBe("  Score >99.99% (a classifier score, not a chance of disease; threshold 50.0%); photos' interval >99.99% to >99.99%.");
    // A counted rate of 1 and an interval's end of 1 are 100%; a mean rate of 0.9996 is not.
    expect(above[1]).toContain('flagged 100% (95% CI 70.0%-100%) of affected people and cleared 99.960% (95% CI 90.0%-100%)');
    const below = subjectSummary(result({ label: 'control', probability: 0, interval: [0, 0.001] }));
    expect(below.at(-1)).toMatch(/^ {2}Score <0\.01% .*photos' interval <0\.01% to 0\.10%\.$/);
    expect(photoLine({ path: 'a.jpg', probability: 1, view: 'frontal' })).toBe('  a.jpg: score >99.99%, frontal');
    expect(photoLine({ path: 'b.jpg', probability: 0.99996, view: 'frontal' })).toBe('  b.jpg: score 99.9960%, frontal');
    expect(photoLine({ path: 'c.jpg', probability: 0, view: 'frontal' })).toBe('  c.jpg: score <0.01%, frontal');
    // A map with no evidence for the positive class gives every region share 0: said, not ranked.
    const zeros = ['nose', 'mouth', 'forehead'].map((name) => ({ name, share: 0, hpo: [] }));
    expect(photoLine({ path: 'd.jpg', probability: 0.001, view: 'frontal', regions: zeros, cam: 'contrastive' })).toBe("  d.jpg: score 0.10%, frontal; no region raises the score above the study's controls");
    // Below the photo threshold the shares are of what little raises the score, not where a score comes from.
    const shares = [{ name: 'perinasal', share: 0.36, hpo: [] }, { name: 'perioral', share: 0.3, hpo: [] }];
    expect(photoLine({ path: 'e.jpg', probability: 0.001, view: 'frontal', regions: shares, cam: 'contrastive' }, 0.45)).toBe('  e.jpg: score 0.10%, frontal; below the photo threshold, what little raises the score comes from Nose 36%, Mouth 30%');
    expect(photoLine({ path: 'f.jpg', probability: 0.6, view: 'frontal', regions: shares, cam: 'contrastive' }, 0.45)).toBe('  f.jpg: score 60.0%, frontal; score from Nose 36%, Mouth 30%');
  });

  it("lists a ranking model's differential after the binary call, with its note", () => {
    const lines = subjectSummary({ ...result({}), differential: [{ label: 'vcfs', probability: 0.7 }, { label: 'noonan', probability: 0.2 }, { label: 'control', probability: 0.1 }], differentialNote: 'Among these three classes only.' });
    expect(lines.slice(-2)).toEqual(['Ranked differential: 1. vcfs 70.0%, 2. noonan 20.0%, 3. control 10.0%.', '  Among these three classes only.']);
  });

  it('says why a single photo has no interval, and that nothing could be screened', () => {
    expect(subjectSummary(result({ label: 'control', probability: 0.1, photos: 1, intervalNote: 'One usable photo: no interval.' })).at(-1)).toMatch(/Score 10\.0% .* One usable photo: no interval\.$/);
    expect(subjectSummary(result({ probability: null, label: null, photos: 0 }))).toEqual(['No usable photo: no result.']);
  });

  it('ends with the measurements that carry HPO terms, and whom their z-scores compare with', () => {
    const measurements = [
      { name: 'mouth-width', label: 'Mouth width', region: 'perioral' as const, value: 0.5, z: -2.44, hpo: [{ id: 'HP:0000160', label: 'Narrow mouth' }], view: 'frontal' as const, photos: 2 },
      { name: 'philtrum-length', label: 'Philtrum length', region: 'perioral' as const, value: 0.2, z: 0.3, hpo: [], view: 'frontal' as const, photos: 2 },
    ];
    const note = 'z-scores are against controls of this study (label control), not population norms.';
    expect(subjectSummary(result({ measurements, measurementsNote: note })).at(-1)).toBe(`  Measurements: Mouth width z -2.44 (Narrow mouth HP:0000160). ${note}`);
    expect(subjectSummary(result({ measurements: [measurements[1]], measurementsNote: note })).at(-1)).toBe(`  Measurements: none of the person's with HPO terms. ${note}`);
    // A single photo beyond the threshold is named where the person's mean is not.
    const photo = { path: 'a.jpg', probability: 0.9, measurements: [{ ...measurements[0], z: -2.48 }] };
    expect(subjectSummary({ ...result({ measurements: [measurements[1]], measurementsNote: note }), photos: [photo] }).at(-1)).toBe(`  Measurements: none of the person's with HPO terms (single photos: Mouth width z -2.48 in a.jpg). ${note}`);
    // Just beyond the cut-off, the z shows it: not "-2.0" beside a term given beyond 2 SD.
    expect(subjectSummary(result({ measurements: [{ ...measurements[0], z: -2.04 }], measurementsNote: note })).at(-1)).toContain('Mouth width z -2.04 (Narrow mouth');
  });

  it('writes z-scores with two decimals and a sign, never a signed zero', () => {
    expect([2.044, -2.04, 0.3, -0.004, 0.004, 0].map(zText)).toEqual(['+2.04', '-2.04', '+0.30', '0.00', '0.00', '0.00']);
  });
});

describe('photoLine', () => {
  it("adds the geometry part's three largest contributions, signed, in log-odds", () => {
    const line = photoLine({
      path: 'a.jpg', probability: 0.8, view: 'frontal',
      regions: [{ name: 'perinasal', share: 0.5 }],
      geometryRegions: [{ name: 'perinasal', contribution: 0.42 }, { name: 'malar-left', contribution: 0.01 }, { name: 'perioral', contribution: -0.3 }, { name: 'chin-jaw', contribution: -0.05 }],
    });
    expect(line).toBe('  a.jpg: score 80.0%, frontal; score from Nose 50%; geometry Nose +0.42, Mouth -0.30, Chin and jaw -0.05 (log-odds)');
  });

  it('says the geometry is negligible when every contribution is under 0.005 log-odds, instead of ranking signed zeros', () => {
    const line = photoLine({ path: 'a.jpg', probability: 0.8, view: 'frontal', geometryRegions: [{ name: 'perinasal', contribution: 0.0003 }, { name: 'malar-right', contribution: -0.0003 }] });
    expect(line).toBe('  a.jpg: score 80.0%, frontal; geometry: every region under 0.005 log-odds (negligible)');
    const mixed = photoLine({ path: 'b.jpg', probability: 0.8, view: 'frontal', geometryRegions: [{ name: 'perinasal', contribution: 0.3 }, { name: 'perioral', contribution: 0.1 }, { name: 'malar-right', contribution: -0.004 }] });
    expect(mixed).toBe('  b.jpg: score 80.0%, frontal; geometry Nose +0.30, Mouth +0.10, Patient\'s left cheek 0.00 (log-odds)');
  });

  it("names regions by the patient's side, not the image's (periorbital-left is the patient's right eye)", () => {
    const line = photoLine({ path: 'a.jpg', probability: 0.8, view: 'frontal', regions: [{ name: 'periorbital-left', share: 0.4 }], geometryRegions: [{ name: 'malar-right', contribution: -0.2 }] });
    expect(line).toContain("score from Around the patient's right eye 40%");
    expect(line).toContain("geometry Patient's left cheek -0.20");
  });

  it('says an error as its code and message', () => {
    expect(photoLine({ path: 'b.jpg', error: { code: 'E_NO_FACE', message: 'No face found.' } })).toBe('  b.jpg: E_NO_FACE: No face found.');
  });
});

describe('regionRankingNote', () => {
  const model = { id: 'm', backbone: 'mobilefacenet', positive: 'vcfs', negative: 'control' };
  it("warns once that neighbouring regions blur, only where a heat map ranked the regions", () => {
    const mapped = { path: 'a.jpg', probability: 0.8, view: 'frontal' as const, cam: 'contrastive', regions: [{ name: 'perinasal', share: 0.5 }] };
    expect(regionRankingNote({ model, photos: [mapped, { ...mapped, path: 'b.jpg' }] })).toEqual([expect.stringMatching(/^Regions: Neighbouring regions are not told apart reliably.*"nose" as the middle of the face\.$/)]);
    expect(regionRankingNote({ model, photos: [{ ...mapped, cam: 'geometry' }] })).toEqual([]);
    expect(regionRankingNote({ model, photos: [{ path: 'c.jpg', probability: 0.8, view: 'frontal' }] })).toEqual([]);
  });

  it('says what part of the score the maps follow, when the model gives it', () => {
    const mapped = { path: 'a.jpg', probability: 0.8, view: 'frontal' as const, cam: 'contrastive', regions: [{ name: 'perinasal', share: 0.5 }] };
    const heatMapScope = "The maps follow the embedding block's part of the score only (not the regions block's).";
    expect(regionRankingNote({ model: { ...model, heatMapScope }, photos: [mapped] })).toEqual([expect.stringMatching(/middle of the face\. The maps follow the embedding block's part of the score only \(not the regions block's\)\.$/)]);
  });

  it("says, after what the maps follow, that the model's study found them failing a check", () => {
    const mapped = { path: 'a.jpg', probability: 0.8, view: 'frontal' as const, cam: 'contrastive', regions: [{ name: 'perinasal', share: 0.5 }] };
    const heatMapChecks = "In the model's study these maps failed 1 of its 5 checks (occlusion agreement): read the region shares as one method's view, not as established.";
    expect(regionRankingNote({ model: { ...model, heatMapScope: 'Scope.', heatMapChecks }, photos: [mapped] })).toEqual([expect.stringMatching(/middle of the face\. Scope\. In the model's study these maps failed 1 of its 5 checks \(occlusion agreement\)/)]);
  });
});

describe('geometryNoteLine', () => {
  it("says once what the photos' geometry contributions are, where some photo has them", () => {
    const geometryNote = "Each region's contribution to this photo's log-odds (the natural logarithm of the score's odds).";
    const photo = { path: 'a.jpg', probability: 0.8, view: 'frontal' as const };
    expect(geometryNoteLine({ photos: [{ ...photo, geometryNote }, { ...photo, path: 'b.jpg', geometryNote }] })).toEqual([`Geometry: ${geometryNote}`]);
    expect(geometryNoteLine({ photos: [photo] })).toEqual([]);
  });
});

describe('heatmapNoteLine', () => {
  it('says once what the heat map files show and what their colour scale is, since the PNG has no words', () => {
    const heatScale = { basis: 'study' as const, top: 1.3, peak: 0.5, note: 'Colours on a scale shared by all photos: the hottest colour is the 99th percentile.' };
    const photo = { path: 'a.jpg', probability: 0.8, view: 'frontal' as const, cam: 'contrastive', heatmap: 'h/01-a.heatmap.png', heatScale };
    expect(heatmapNoteLine({ photos: [photo, { ...photo, path: 'b.jpg', heatmap: 'h/02-b.heatmap.png' }] })).toEqual([
      "Heatmaps: Heatmap (contrastive HiResCAM): the warmer and stronger the colour, the more that area raised the model's score above that of a typical control face of the study; untinted areas gave no net evidence for it. " +
      'Colours on a scale shared by all photos: the hottest colour is the 99th percentile. In the files, the colour bar on the right runs from no evidence (bottom) to the top of the scale (top).',
    ]);
    expect(heatmapNoteLine({ photos: [{ path: 'c.jpg', probability: 0.8, view: 'frontal' }] })).toEqual([]);
  });
});
