/**
 * A screening result says what it means: the likelihood ratio of the call and the chance of the
 * condition at a stated prevalence, from the model's cross-validated rates, and why an interval is
 * missing; never a bare classifier score as if it were the person's chance.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictiveValues, rateInterval } from '../../../src/evaluate/metrics.ts';
import { postTest, prevalenceText, probabilityText } from '../../../src/evaluate/post-test.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { subjectSummary } from '../../../src/cli/screen.ts';
import { loadBundle } from '../../../src/classify/bundle.ts';
import { fusedResult, Screener } from '../../../src/workflows/screen/screener.ts';
import { toyBundle } from '../../support/toy-bundle.ts';

const ready = existsSync(modelPath('mobilefacenet'));
if (!ready) console.log('meaning.test.ts skipped: the models are not built (npm install builds them)');
const pkg = ready ? path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json')) : '';
const photo = (i: number) => ({ name: `sample${i}.jpg`, path: path.join(pkg, 'demo', `sample${i}.jpg`) });

describe.skipIf(!ready)('Screener: what a result means', () => {
  const sensitivity = { value: 0.815, ci95: [0.7, 0.9] as [number, number] };
  const specificity = { value: 0.926, ci95: [0.85, 0.97] as [number, number] };

  for (const threshold of [0, 1]) {
    const positive = threshold === 0;
    it(`a ${positive ? 'positive' : 'negative'} call carries its likelihood ratio and its chance at the prevalence`, async () => {
      const screener = await Screener.load(await toyBundle({ subject: { sensitivity, specificity }, photo: {}, byView: {} }, { photo: 0.5, subject: threshold }));
      try {
        const result = await screener.screen([photo(1), photo(3)], { prevalence: 1 / 4000 });
        const s = result.subject;
        expect(s.label).toBe(positive ? 'vcfs' : 'control');
        const expected = postTest(positive, sensitivity, specificity, 1 / 4000);
        expect(s.prevalence).toBe(1 / 4000);
        expect(s.likelihoodRatio).toBeCloseTo(expected.likelihoodRatio!, 3);
        expect(s.likelihoodRatioRange![0]).toBeCloseTo(expected.likelihoodRatioRange![0], 3);
        expect(s.likelihoodRatioRange![1]).toBeCloseTo(expected.likelihoodRatioRange![1]!, 3);
        expect(s.likelihoodRatioRange![0]).toBeLessThanOrEqual(s.likelihoodRatio!);
        expect(s.chance).toBeCloseTo(expected.chance!, 6);
        expect(s.ppv).toBeCloseTo(expected.ppv!, 6);
        if (positive) expect(s.chance!).toBeLessThan(0.003); // about 0.3%, whatever the score
        // A negative call's ppv is a positive call's, which the note says, naming the call's own chance.
        if (positive) expect(s.ppvNote).toBeUndefined();
        else expect(s.ppvNote).toBe('`ppv` is the chance of the condition after a positive call at this prevalence, given for reference; this call is negative, and its chance of the condition is `chance`.');
        expect(s.chanceRange![0]).toBeLessThanOrEqual(s.chance!);
        expect(s.chanceRange![1]).toBeGreaterThanOrEqual(s.chance!);
        expect(s.sensitivity).toBe(0.815);
      } finally {
        await screener.close();
      }
    });
  }

  it("gives the chance's range the study gave its PPV: the rates' intervals widened by Wilson's on the counts", async () => {
    const narrow = { sensitivity: { value: 0.8, ci95: [0.78, 0.82] as [number, number] }, specificity: { value: 0.9, ci95: [0.89, 0.91] as [number, number] } };
    const confusion = { tp: 16, fn: 4, tn: 18, fp: 2 };
    const screener = await Screener.load(await toyBundle({ subject: { ...narrow, confusion }, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      const s = (await screener.screen([photo(1)], { prevalence: 1 / 4000 })).subject;
      const sens = rateInterval(narrow.sensitivity.ci95, 16, 20)!;
      const spec = rateInterval(narrow.specificity.ci95, 18, 20)!;
      expect(sens[0]).toBeLessThan(0.78); // Wilson's is the wider here
      expect(s.sensitivityCi95).toEqual(sens.map((v) => Math.round(v * 1e4) / 1e4));
      expect(s.specificityCi95).toEqual(spec.map((v) => Math.round(v * 1e4) / 1e4));
      expect(subjectSummary({ subject: s, model: { positive: 'vcfs', negative: 'control' } } as never)[1]).toMatch(/flagged 80\.0% \(95% CI \d+\.\d%-\d+\.\d%\) of affected people and cleared 90\.0% \(95% CI \d+\.\d%-\d+\.\d%\) of unaffected people/);
      expect(s.chanceRange![0]).toBeCloseTo(predictiveValues(sens[0], spec[0], 1 / 4000).ppv!, 6);
      expect(s.chanceRange![1]).toBeCloseTo(predictiveValues(sens[1], spec[1], 1 / 4000).ppv!, 6);
    } finally {
      await screener.close();
    }
  });

  it("widens an older bundle's stored rates once, on loading: the result's intervals and the model's shown ones agree", async () => {
    // As an older study stored them: no control called positive, so the bootstrap interval is [1, 1].
    const unwidened = { sensitivity: { value: 0.8, ci95: [0.79, 0.81] as [number, number] }, specificity: { value: 1, ci95: [1, 1] as [number, number] }, confusion: { tp: 16, fn: 4, tn: 20, fp: 0 } };
    const screener = await Screener.load(await toyBundle({ subject: unwidened, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      const s = (await screener.screen([photo(1)], { prevalence: 1 / 4000 })).subject;
      const shown = screener.info().metrics.subject as { sensitivity: { ci95: [number, number] }; specificity: { ci95: [number, number] } };
      const spec = rateInterval([1, 1], 20, 20)!;
      expect(spec[0]).toBeLessThan(0.9);
      expect(shown.specificity.ci95).toEqual(spec);
      expect(shown.sensitivity.ci95).toEqual(rateInterval([0.79, 0.81], 16, 20));
      expect(s.specificityCi95).toEqual(shown.specificity.ci95.map((v) => Math.round(v * 1e4) / 1e4));
      expect(s.sensitivityCi95).toEqual(shown.sensitivity.ci95.map((v) => Math.round(v * 1e4) / 1e4));
      expect(s.chanceRange![0]).toBeCloseTo(predictiveValues(shown.sensitivity.ci95[0], spec[0], 1 / 4000).ppv!, 6);
      expect(s.chanceRange![1]).toBe(1);
    } finally {
      await screener.close();
    }
  });

  it('keeps a small chance at a tiny prevalence (four significant digits, not six decimals), and names a prevalence as given', async () => {
    const screener = await Screener.load(await toyBundle({ subject: { sensitivity, specificity }, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      const s = (await screener.screen([photo(1)], { prevalence: 1e-8 })).subject;
      expect(s.chance).toBeGreaterThan(0);
      expect(s.chance).toBe(Number(postTest(true, sensitivity, specificity, 1e-8).chance!.toPrecision(4)));
      expect(s.chanceRange![0]).toBeGreaterThan(0);
      expect(s.chanceNote).toBeUndefined();
    } finally {
      await screener.close();
    }
    expect(prevalenceText(1 / 4000)).toBe('1 in 4,000');
    expect(prevalenceText(0.3)).toBe('30%');
    expect(prevalenceText(0.999)).toBe('99.9%');
    expect(prevalenceText(1e-8)).toBe('1 in 100,000,000');
    expect(prevalenceText(0.00123)).toBe('0.123%');
  });

  it('marks a demonstration model in the JSON result, not only in the text, and says what the model reads', async () => {
    const bundle = await loadBundle(await toyBundle());
    expect(fusedResult({ ...bundle, synthetic: true }, [], { probs: [0.7], vectors: [] }).model.synthetic).toBe(true);
    expect(fusedResult(bundle, [], { probs: [0.7], vectors: [] }).model.synthetic).toBeUndefined();
    expect(fusedResult(bundle, [], { probs: [0.7], vectors: [] }).model).toMatchObject({ backbone: 'mobilefacenet', features: ['embedding'], reads: "mobilefacenet's face-recognition embedding" });
  });

  it("gives the study's per-photo rates beside the per-person ones when the person has fewer photos than the study's people had", async () => {
    const bundle = await loadBundle(await toyBundle());
    const perPhoto = { sensitivity: { value: 0.8889, ci95: [0.6667, 1] }, specificity: { value: 0.75, ci95: [0.4986, 1] } };
    const b = { ...bundle, training: { ...bundle.training, photosUsed: 72, subjectsUsed: 18 }, metrics: { ...bundle.metrics, subject: { sensitivity, specificity }, photo: perPhoto } };
    expect(fusedResult(b, [], { probs: [0.7], vectors: [] }).subject.photosNote).toBe(
      "The per-person sensitivity and specificity are of the study's people scored from the mean of all their photos (4.0 per person on average); this result is from 1 photo. One photo at a time, the study's photos gave a sensitivity of 88.9% (95% CI 66.7%-100%) and a specificity of 75.0% (95% CI 49.9%-100%).");
    expect(fusedResult(b, [], { probs: [0.7, 0.6, 0.8], vectors: [] }).subject.photosNote).toContain('this result is from 3 photos');
    expect(fusedResult(b, [], { probs: [0.7, 0.6, 0.8, 0.9], vectors: [] }).subject.photosNote).toBeUndefined();
    expect(fusedResult(b, [], { probs: [], vectors: [] }).subject.photosNote).toBeUndefined();
    // In the text, after the chance line, whose "those rates" are the per-person ones.
    const lines = subjectSummary(fusedResult(b, [], { probs: [0.7], vectors: [] }));
    expect(lines.map((l) => l.trim().split(' ').slice(0, 2).join(' ')).slice(1, 4)).toEqual(['In cross-validation,', 'Chance of', 'The per-person']);
  });

  it('says a call carries no evidence when its likelihood ratio is on the wrong side of 1 or the AUC interval reaches 0.5', async () => {
    const weak = { sensitivity: { value: 0.3, ci95: [0.2, 0.4] as [number, number] }, specificity: { value: 0.6, ci95: [0.5, 0.7] as [number, number] } };
    const screener = await Screener.load(await toyBundle({ subject: { ...weak, auc: { value: 0.5, ci95: [0.27, 0.69] } }, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      const s = (await screener.screen([photo(1)])).subject;
      expect(s.likelihoodRatio).toBeCloseTo(0.75, 3);
      expect(s.evidenceNote).toBe("This result carries no evidence: the likelihood ratio of this call is 0.75, so it does not raise the chance of the condition; and the model's cross-validated AUC per person (0.5, 95% interval 0.27-0.69) reaches 0.5, chance level. The model has not been shown to tell people with the condition from people without it; do not act on this result.");
    } finally {
      await screener.close();
    }
    const good = await Screener.load(await toyBundle({ subject: { sensitivity, specificity, auc: { value: 0.9, ci95: [0.8, 0.97] } }, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      expect((await good.screen([photo(1)])).subject.evidenceNote).toBeUndefined();
    } finally {
      await good.close();
    }
  });

  it('says why a positive call has no likelihood ratio when no control was called positive', async () => {
    const perfect = { value: 1, ci95: [0.9, 1] as [number, number] };
    const screener = await Screener.load(await toyBundle({ subject: { sensitivity, specificity: perfect }, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      const s = (await screener.screen([photo(1)])).subject;
      expect(s.likelihoodRatio).toBeNull();
      expect(s.likelihoodRatioNote).toMatch(/^Unbounded: no control was called positive/);
      expect(s.chance).toBe(1);
      expect(s.chanceNote).toMatch(/^Not 100%: in cross-validation no control was called positive/);
      expect(s.chanceRange![0]).toBeLessThan(0.01); // at 1 in 4,000 a specificity of 0.9, inside the interval, leaves a small chance
      const text = subjectSummary({ subject: s, model: { positive: 'vcfs', negative: 'control' } } as never).join('\n');
      expect(text).not.toMatch(/given this result: 100/);
      expect(text).toMatch(/Chance of vcfs given this result: between \S+% and \S+% over the rates' 95% intervals/);
    } finally {
      await screener.close();
    }
  });

  it('never prints a chance of 100% when the model holds no intervals for a range (a study run with --bootstrap 0)', async () => {
    const screener = await Screener.load(await toyBundle({ subject: { sensitivity: { value: 0.9, ci95: null }, specificity: { value: 1, ci95: null } }, photo: {}, byView: {} }, { photo: 0.5, subject: 0 }));
    try {
      const s = (await screener.screen([photo(1)])).subject;
      expect(s.chance).toBe(1);
      expect(s.chanceRange).toBeUndefined();
      expect(s.chanceNote).toMatch(/^Not 100%: in cross-validation no control was called positive/);
      expect(s.chanceNote).not.toMatch(/Read the range/);
      expect(s.chanceNote).toMatch(/no 95% intervals for its rates .* no range can be given/);
      const text = subjectSummary({ subject: s, model: { positive: 'vcfs', negative: 'control' } } as never).join('\n');
      expect(text).not.toMatch(/given this result: 100/);
      expect(text).toMatch(/Chance of vcfs given this result: not known, at a prevalence of 1 in 4,000 .*Not 100%/);
    } finally {
      await screener.close();
    }
  });

  it('never states a chance of 0 for a negative call when no affected person was missed', async () => {
    const perfect = { value: 1, ci95: [0.9, 1] as [number, number] };
    const screener = await Screener.load(await toyBundle({ subject: { sensitivity: perfect, specificity }, photo: {}, byView: {} }, { photo: 0.5, subject: 1 }));
    try {
      const s = (await screener.screen([photo(1)])).subject;
      expect(s.chance).toBe(0);
      expect(s.chanceNote).toMatch(/^Not 0%: in cross-validation no affected person was missed/);
      expect(s.likelihoodRatio).toBe(0);
      expect(s.likelihoodRatioNote).toBe('Zero only because no affected person was missed in the study (cross-validated sensitivity 1): a negative call does not rule the condition out.');
      expect(subjectSummary({ subject: s, model: { positive: 'vcfs', negative: 'control' } } as never).join('\n')).toContain("likelihood ratio 0 (the study missed no affected person: not a certainty; 0.00 to ");
      expect(s.chanceRange![1]).toBeGreaterThan(0);
      const ordinary = await Screener.load(await toyBundle({ subject: { sensitivity, specificity }, photo: {}, byView: {} }, { photo: 0.5, subject: 1 }));
      try {
        expect((await ordinary.screen([photo(1)])).subject.chanceNote).toBeUndefined();
      } finally {
        await ordinary.close();
      }
    } finally {
      await screener.close();
    }
  });

  it('gives the 95% t interval of the mean of the photos\' scores, clipped to [0, 1]', async () => {
    const screener = await Screener.load(await toyBundle());
    try {
      const r = await screener.screen([photo(1), photo(2), photo(3)]);
      const p = r.photos.map((x) => x.probability!);
      const mean = p.reduce((a, c) => a + c, 0) / 3;
      const sd = Math.sqrt(p.reduce((a, c) => a + (c - mean) ** 2, 0) / 2);
      const half = (4.3027 * sd) / Math.sqrt(3); // t(0.975, 2 degrees of freedom)
      expect(r.subject.interval![0]).toBeCloseTo(Math.max(0, mean - half), 3);
      expect(r.subject.interval![1]).toBeCloseTo(Math.min(1, mean + half), 3);
    } finally {
      await screener.close();
    }
  });

  it('counts a photo given twice once in the person\'s result, and says so on the copy', async () => {
    const screener = await Screener.load(await toyBundle());
    try {
      const once = await screener.screen([photo(1), photo(3)]);
      const twice = await screener.screen([photo(1), photo(3), { ...photo(1), name: 'again.jpg' }]);
      expect(twice.subject.photos).toBe(2);
      expect(twice.subject.probability).toBe(once.subject.probability);
      expect(twice.photos[2].probability).toBe(once.photos[0].probability);
      expect(twice.photos[2].warnings).toContain('the same photo as "sample1.jpg" (an identical face embedding): counted once in the person\'s result');
      expect(twice.photos[0].warnings?.some((w) => w.startsWith('the same photo'))).toBe(false);
    } finally {
      await screener.close();
    }
  });

  it('says why a single photo has no interval, and adds no figures for a model without validated rates', async () => {
    const screener = await Screener.load(await toyBundle());
    try {
      const s = (await screener.screen([photo(1)])).subject;
      expect(s.interval).toBeUndefined();
      expect(s.intervalNote).toMatch(/One usable photo/);
      expect(s.chance).toBeUndefined();
      expect(s.likelihoodRatio).toBeUndefined();
    } finally {
      await screener.close();
    }
  });

  it('leaves a photo whose explanation fails out of the person\'s result, as the error it is reported as', async () => {
    const screener = await Screener.load(await toyBundle());
    try {
      const alone = await screener.screen([photo(1)]);
      let calls = 0;
      const explain = async () => {
        if (++calls === 2) throw new Error('explainer broke');
        return {};
      };
      const result = await screener.screen([photo(1), photo(3)], { explain });
      expect(result.photos[1].error?.message).toMatch(/explainer broke/);
      expect(result.subject.photos).toBe(1);
      expect(result.subject.probability).toBe(alone.subject.probability);
    } finally {
      await screener.close();
    }
  });
});

describe('probabilityText', () => {
  it('keeps two significant digits at either end, so a score near 1 is not printed as 100.0%', () => {
    expect([0.0027, 0.05, 0.5, 0.97, 0.9996, 0.99999].map((v) => probabilityText(v))).toEqual(['0.27%', '5.0%', '50.0%', '97.0%', '99.960%', '99.9990%']);
    expect([0.0999, 0.9004].map((v) => probabilityText(v))).toEqual(['10.0%', '90.0%']);
  });

  it('prints a score of exactly 0 or 1 (rounded to four decimals) as the bound it lies within, and the end of a range as it is', () => {
    expect([0, 1, 1e-8, 1 - 1e-8].map((v) => probabilityText(v))).toEqual(['<0.01%', '>99.99%', '<0.0001%', '>99.9999%']);
    expect([0, 1].map((v) => probabilityText(v, true))).toEqual(['0%', '100%']);
  });
});
