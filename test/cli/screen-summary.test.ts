/** The human-readable screen result leads with the call and what it means, and labels the score as a score. */
import { describe, expect, it } from 'vitest';
import { subjectSummary } from '../../src/cli/screen.ts';
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
    const lines = subjectSummary(result({ sensitivity: 0.815, specificity: 0.926, prevalence: 1 / 4000, likelihoodRatio: 11.014, chance: 0.002746, chanceRange: [0.0015, 0.0074], interval: [0.95, 0.99] }));
    expect(lines).toEqual([
      "Result: ABOVE the model's threshold (vcfs vs control), from 2 photos.",
      '  At this threshold the model flagged 81.5% of affected people and cleared 92.6% of unaffected people (cross-validated, per person).',
      "  Chance of vcfs given this result: 0.27% (0.15% to 0.74% over those rates' 95% intervals), at a prevalence of 1 in 4,000 (--prevalence); likelihood ratio 11.01.",
      "  Score 97.0% (a classifier score, not a chance of disease; threshold 50.0%); photos' interval 95.0% to 99.0%.",
    ]);
    expect(lines.join('\n')).not.toMatch(/probability of/);
  });

  it("lists a ranking model's differential after the binary call, with its note", () => {
    const lines = subjectSummary({ ...result({}), differential: [{ label: 'vcfs', probability: 0.7 }, { label: 'noonan', probability: 0.2 }, { label: 'control', probability: 0.1 }], differentialNote: 'Among these three classes only.' });
    expect(lines.slice(-2)).toEqual(['Ranked differential: 1. vcfs 70.0%, 2. noonan 20.0%, 3. control 10.0%.', '  Among these three classes only.']);
  });

  it('says why a single photo has no interval, and that nothing could be screened', () => {
    expect(subjectSummary(result({ label: 'control', probability: 0.1, photos: 1, intervalNote: 'One usable photo: no interval.' })).at(-1)).toMatch(/Score 10\.0% .* One usable photo: no interval\.$/);
    expect(subjectSummary(result({ probability: null, label: null, photos: 0 }))).toEqual(['No usable photo: no result.']);
  });
});
