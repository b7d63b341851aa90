import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/registry.ts';
import { crossValidate, trainFinal, type CrossValidationResult } from '../../../src/evaluate/crossval.ts';
import { auc, fuseBySubject } from '../../../src/evaluate/metrics.ts';
import { hasCode } from '../../../src/errors.ts';
import { syntheticStudy, type SyntheticStudy } from './synthetic-embeddings.ts';

const study = (d: SyntheticStudy) => ({ X: d.X, y: d.y, subjects: d.subjects, photoIds: d.photoIds, views: d.views, subgroups: { sex: d.sex } });

describe('crossValidate', () => {
  const planted = syntheticStudy({ subjects: 60, photosPerSubject: 5, dim: 128, signal: 5, seed: 31 });
  let result: CrossValidationResult;
  const run = async () => (result ??= await crossValidate({ ...study(planted), folds: 3, repeats: 2, seed: 4, bootstrap: 200, permutations: 19, workers: 0 }));

  it('predicts every photo once per repeat, from a fold that did not train on its subject', async () => {
    const r = await run();
    expect(r.predictions).toHaveLength(planted.X.length * 2);
    for (const rep of [0, 1]) {
      const rows = r.predictions.filter((p) => p.repeat === rep);
      expect(new Set(rows.map((p) => p.path)).size).toBe(planted.X.length);
      const foldOfSubject = new Map<string, number>();
      for (const p of rows) {
        expect(foldOfSubject.get(p.subject) ?? p.fold).toBe(p.fold);
        foldOfSubject.set(p.subject, p.fold);
        expect(p.probability).toBeGreaterThan(0);
        expect(p.probability).toBeLessThan(1);
      }
    }
    expect(r.folds).toHaveLength(6);
    for (const f of r.folds) {
      expect(f.trainSubjects + f.testSubjects).toBe(60);
      expect(f.thresholds.photo).toBeGreaterThan(0);
      expect(f.thresholds.photo).toBeLessThan(1);
      expect(f.hyper.C).toBeGreaterThan(0);
      expect(f.selection!.chosen).toBe(f.hyper.C);
    }
  });

  it('reports metrics that a score-style recomputation from the predictions reproduces', async () => {
    const r = await run();
    const perRepeat = (level: 'photo' | 'subject') =>
      [0, 1].map((rep) => {
        const rows = r.predictions.filter((p) => p.repeat === rep);
        const probs = rows.map((p) => p.probability);
        const labels = rows.map((p) => p.label);
        if (level === 'photo') return auc(probs, labels)!;
        const fused = fuseBySubject(probs, labels, rows.map((p) => p.subject));
        return auc(fused.probability, fused.label)!;
      });
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(r.photo.auc.value).toBeCloseTo(mean(perRepeat('photo')), 12);
    expect(r.subject.auc.value).toBeCloseTo(mean(perRepeat('subject')), 12);
    // frontal-only: the same recomputation on frontal photos
    const frontal = [0, 1].map((rep) => {
      const rows = r.predictions.filter((p) => p.repeat === rep && p.view === 'frontal');
      return auc(rows.map((p) => p.probability), rows.map((p) => p.label))!;
    });
    expect(r.byView.frontal!.photo.auc.value).toBeCloseTo(mean(frontal), 12);
  });

  it('finds the planted signal, with intervals around the estimates and a small permutation p', async () => {
    const r = await run();
    for (const level of [r.photo, r.subject]) {
      const { value, ci95 } = level.auc;
      expect(value!).toBeGreaterThan(0.8);
      expect(ci95![0]).toBeLessThanOrEqual(value!);
      expect(ci95![1]).toBeGreaterThanOrEqual(value!);
      expect(ci95![0]).toBeGreaterThan(0.5);
      expect(level.sensitivity.value! + level.specificity.value!).toBeGreaterThan(1.3);
      expect(level.ppv.value!).toBeLessThan(0.05); // 1 in 4,000: most positives are false
      expect(level.npv.value!).toBeGreaterThan(0.999);
      const c = level.confusion;
      expect(c.tp + c.fp + c.tn + c.fn).toBeCloseTo(level.n.units, 9);
      expect(level.roc!.fpr).toHaveLength(101);
      expect(level.roc!.lower!.every((lo, g) => lo <= level.roc!.tpr[g] + 1e-9 && level.roc!.tpr[g] <= level.roc!.upper![g] + 1e-9)).toBe(true);
      // One point per unit (its probability averaged over the 2 repeats), with Wilson intervals around the observed rate.
      expect(level.calibration.reduce((s, b) => s + b.count, 0)).toBe(level.n.units);
      expect(level.calibration.reduce((s, b) => s + b.positives, 0)).toBe(level.n.positive);
      for (const b of level.calibration) expect(b.ci95![0] <= b.observedRate + 1e-12 && b.observedRate <= b.ci95![1] + 1e-12).toBe(true);
      // Each repeat's counts are integers over every unit; their mean is the averaged confusion.
      expect(level.confusionByRepeat).toHaveLength(2);
      for (const k of ['tp', 'fp', 'tn', 'fn'] as const) {
        expect(level.confusionByRepeat.every((rc) => Number.isInteger(rc[k]))).toBe(true);
        expect((level.confusionByRepeat[0][k] + level.confusionByRepeat[1][k]) / 2).toBeCloseTo(c[k], 9);
      }
      expect(level.confusionByRepeat.every((rc) => rc.tp + rc.fn === level.n.positive && rc.fp + rc.tn === level.n.negative)).toBe(true);
    }
    expect(r.subject.n).toEqual({ units: 60, positive: 30, negative: 30 });
    expect(r.permutation!.p).toBeCloseTo(1 / 20, 12);
    expect(r.permutation!.nulls).toHaveLength(19);
    expect(r.permutation!.hyper).toEqual({ C: createClassifier('logistic').fixedValue });
  });

  it('runs the permutation test on folds of its own (permutationFolds) when the study has more, the real labels\' statistic included', async () => {
    const small = syntheticStudy({ subjects: 40, photosPerSubject: 3, dim: 64, signal: 4, seed: 35 });
    const opts = { ...study(small), folds: 8, repeats: 1, seed: 6, bootstrap: 0, permutations: 5, permutationFolds: 4, workers: 0 };
    const r = await crossValidate(opts);
    expect(r.permutation!.folds).toBe(4);
    expect(r.permutation!.nulls).toHaveLength(5);
    expect(new Set(r.predictions.map((p) => p.fold)).size).toBe(8);
    // The test is the same whatever the study's folds: a study of 4 folds runs it on its own first splits.
    const same = await crossValidate({ ...opts, folds: 4 });
    expect(same.permutation!.folds).toBe(4);
    expect(r.permutation!.observed).toBe(same.permutation!.observed);
    expect(r.permutation!.nulls).toEqual(same.permutation!.nulls);
    // With as many folds as the test's, it reuses the study's first splits; with fewer, it takes the study's.
    expect((await crossValidate({ ...opts, folds: 3 })).permutation!.folds).toBe(3);
  });

  it('breaks results down by view and subgroup, and gives the majority-class baseline', async () => {
    const r = await run();
    expect(Object.keys(r.byView).sort()).toEqual(['frontal', 'oblique', 'profile']);
    const photos = Object.values(r.byView).reduce((s, g) => s + g.photo.n.units, 0);
    expect(photos).toBe(planted.X.length);
    expect(Object.keys(r.bySubgroup.sex).sort()).toEqual(['F', 'M']);
    expect(r.bySubgroup.sex.F.subject.n.units + r.bySubgroup.sex.M.subject.n.units).toBe(60);
    expect(r.baseline.photo.auc.ci95).toBeNull();
    // with a clear majority (70% controls) the baseline calls everyone a control
    const skewed = syntheticStudy({ subjects: 40, photosPerSubject: 3, dim: 128, signal: 0, positiveFraction: 0.3, seed: 34 });
    const s = await crossValidate({ ...study(skewed), folds: 3, repeats: 2, seed: 1, bootstrap: 0, permutations: 0, workers: 0 });
    const share = skewed.y.reduce((a, b) => a + b, 0) / skewed.y.length;
    expect(s.baseline.photo.accuracy.value!).toBeCloseTo(1 - share, 12);
    expect(s.baseline.subject.accuracy.value!).toBeCloseTo(0.7, 12);
    expect(s.baseline.subject.sensitivity.value).toBe(0);
    expect(s.baseline.photo.balancedAccuracy.value).toBe(0.5);
    expect(s.baseline.subject.ppv.value).toBeNull();
  });

  it('is deterministic, and gives the same result on worker threads', async () => {
    const small = syntheticStudy({ subjects: 24, photosPerSubject: 3, dim: 128, signal: 3, seed: 32 });
    const opts = { ...study(small), folds: 3, repeats: 2, seed: 9, bootstrap: 20, permutations: 3 };
    const a = await crossValidate({ ...opts, workers: 0 });
    const b = await crossValidate({ ...opts, workers: 0 });
    const c = await crossValidate({ ...opts, workers: 1 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(c)).toBe(JSON.stringify(a));
    const d = await crossValidate({ ...opts, seed: 10, workers: 0 });
    expect(JSON.stringify(d.predictions)).not.toBe(JSON.stringify(a.predictions));
  });

  it('refuses bad data and options with the right codes', async () => {
    const small = syntheticStudy({ subjects: 12, photosPerSubject: 2, dim: 128, signal: 0, seed: 33 });
    const base = { ...study(small), bootstrap: 0, permutations: 0, workers: 0 };
    const codeOf = async (input: Parameters<typeof crossValidate>[0]) => {
      try {
        await crossValidate(input);
        return 'none';
      } catch (e) {
        return hasCode(e, 'E_INPUT') ? 'E_INPUT' : hasCode(e, 'E_CONFIG') ? 'E_CONFIG' : String(e);
      }
    };
    expect(await codeOf({ ...base, folds: 7 })).toBe('E_INPUT'); // 6 subjects per class
    expect(await codeOf({ ...base, folds: 1 })).toBe('E_CONFIG');
    expect(await codeOf({ ...base, repeats: 0 })).toBe('E_CONFIG');
    expect(await codeOf({ ...base, prevalence: 2 })).toBe('E_CONFIG');
    expect(await codeOf({ ...base, seed: 1.5 })).toBe('E_CONFIG');
    expect(await codeOf({ ...base, photoIds: small.photoIds.map((p, i) => (i === 1 ? small.photoIds[0] : p)) })).toBe('E_INPUT');
    expect(await codeOf({ ...base, y: small.y.map((v, i) => (i === 0 ? 1 - v : v)) })).toBe('E_INPUT');
    expect(await codeOf({ ...base, views: small.views.map((v, i) => (i === 0 ? ('side' as never) : v)) })).toBe('E_INPUT');
    expect(await codeOf({ ...base, subjects: small.subjects.slice(1) })).toBe('E_INPUT');
  });
});

describe('the leakage check in miniature', () => {
  // Every subject has its own centre (identity) and labels are random per subject: no phenotype.
  const noSignal = syntheticStudy({ subjects: 60, photosPerSubject: 6, dim: 128, signal: 0, identity: 3, seed: 41 });

  it('a subject-grouped study scores chance: subject AUC interval covers 0.5', async () => {
    const r = await crossValidate({ ...study(noSignal), folds: 5, repeats: 2, seed: 5, bootstrap: 300, permutations: 19, workers: 0 });
    const [lo, hi] = r.subject.auc.ci95!;
    expect(lo).toBeLessThanOrEqual(0.5);
    expect(hi).toBeGreaterThanOrEqual(0.5);
    expect(r.permutation!.p).toBeGreaterThan(0.05);
  });

  it('a photo-level split (each photo its own "subject") scores far above chance: the check can fail', async () => {
    const leaky = { ...study(noSignal), subjects: noSignal.photoIds };
    const r = await crossValidate({ ...leaky, folds: 5, repeats: 1, seed: 5, bootstrap: 0, permutations: 0, workers: 0 });
    // the same logistic regression now recognises the people and their (random) labels
    expect(r.photo.auc.value!).toBeGreaterThan(0.9);
  });
});

describe('trainFinal', () => {
  it('fits on all data with thresholds from the inner out-of-fold probabilities', () => {
    const d = syntheticStudy({ subjects: 40, photosPerSubject: 4, dim: 128, signal: 4, seed: 51 });
    const final = trainFinal({ X: d.X, y: d.y, subjects: d.subjects, seed: 3 });
    expect(final.model!.name).toBe('logistic');
    expect(final.hyper).toEqual(final.model!.hyper);
    expect(final.selection!.chosen).toBe(final.hyper.C);
    for (const t of [final.thresholds.photo, final.thresholds.subject]) {
      expect(t).toBeGreaterThan(0);
      expect(t).toBeLessThan(1);
    }
    const again = trainFinal({ X: d.X, y: d.y, subjects: d.subjects, seed: 3 });
    expect(again.model!.predictProba(d.X)).toEqual(final.model!.predictProba(d.X));
    expect(again.thresholds).toEqual(final.thresholds);
  });
});
