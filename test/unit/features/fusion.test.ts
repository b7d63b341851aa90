import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/index.ts';
import type { FittedClassifier } from '../../../src/classify/types.ts';
import { crossValidate } from '../../../src/evaluate/crossval.ts';
import { runFold } from '../../../src/evaluate/fold-task.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import {
  embeddingClassifier, embeddingOnlyModel, featureBlock, fitFeatureModel, fittedBlockFromJSON, FittedFeatureModel, packInputs, parseFeatures, secondEmbeddingDim, unpackInputs, type PhotoInputs,
} from '../../../src/features/index.ts';
import { mulberry32 } from '../../../src/math/random.ts';
import { frontalFace, meshFace } from './faces.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

const fit = { seed: 1, innerFolds: 3, split: groupedStratifiedKFold, patience: 1 };
const logistic = () => createClassifier('logistic');

/**
 * A study whose embeddings carry the label weakly (`embedSignal`) and whose region maps carry it as
 * strongly as `regionSignal` says, in one region's columns; per photo noise on both.
 */
function twoBlocks(o: { subjects: number; embedSignal: number; regionSignal: number; seed: number; regionDim?: number }) {
  const d = syntheticStudy({ subjects: o.subjects, photosPerSubject: 3, dim: 32, signal: o.embedSignal, seed: o.seed });
  const rng = mulberry32(o.seed + 7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const dim = o.regionDim ?? 24;
  const inputs: PhotoInputs[] = d.X.map((embedding, i) => {
    const maps = Float32Array.from({ length: dim }, () => gauss());
    for (let a = 0; a < 3; a++) maps[a] += o.regionSignal * d.y[i];
    return { embedding, regionMaps: maps };
  });
  return { ...d, inputs };
}

/** The classifier's decision gradient at `x` matches central differences of its decision along the axes `axes`. */
function expectExactGradient(part: FittedClassifier, x: Float32Array, axes: readonly number[]): void {
  const g = part.decisionGradient!(x);
  const h = 1e-3;
  for (const a of axes) {
    const up = Float32Array.from(x), down = Float32Array.from(x);
    up[a] += h;
    down[a] -= h;
    expect((part.decision!([up])[0] - part.decision!([down])[0]) / (2 * h)).toBeCloseTo(g[a], 2);
  }
}

describe('feature blocks', () => {
  it('fit on the training rows only: the test rows change nothing of the fitted block', () => {
    const d = twoBlocks({ subjects: 20, embedSignal: 2, regionSignal: 1, seed: 3 });
    const train = d.inputs.slice(0, 30);
    const block = featureBlock('regions').fit(train);
    const z = block.transform(train);
    for (let a = 0; a < block.dim; a++) {
      const mean = z.reduce((s, r) => s + r[a], 0) / z.length;
      const sd = Math.sqrt(z.reduce((s, r) => s + (r[a] - mean) ** 2, 0) / z.length);
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(sd).toBeCloseTo(1, 4);
    }
    const shifted = d.inputs.map((r, i) => (i < 30 ? r : { ...r, regionMaps: r.regionMaps!.map((v) => v + 100) }));
    const again = featureBlock('regions').fit(shifted.slice(0, 30));
    expect(again.toJSON()).toEqual(block.toJSON());
    // Test rows are standardised with the training rows' statistics (far from 0 when shifted).
    expect(Math.abs(again.transform(shifted.slice(30))[0][0])).toBeGreaterThan(10);
  });

  it('refuse a photo without the block\'s input, naming what is missing', () => {
    expect(() => featureBlock('regions').fit([{ embedding: new Float32Array(4) }])).toThrow(/no regions features/);
    expect(() => featureBlock('nope')).toThrow(/Should be one of: embedding/);
  });

  it('parse --features: auto, one name, or several joined by + or ,', () => {
    expect(parseFeatures('auto')).toBe('auto');
    expect(parseFeatures('regions+embedding')).toEqual(['embedding', 'regions']);
    expect(parseFeatures('geometry, embedding')).toEqual(['embedding', 'geometry']);
    expect(parseFeatures('embedding,regions+geometry')).toEqual(['embedding', 'geometry', 'regions']);
    expect(() => parseFeatures('embedding+embedding')).toThrow(/each once/);
    expect(() => parseFeatures('embedding,embedding')).toThrow(/each once/);
    expect(() => parseFeatures('embedding,')).toThrow(/Invalid --features/);
    expect(() => parseFeatures('auto,embedding')).toThrow(/Invalid --features/);
    expect(() => parseFeatures('texture')).toThrow(/Invalid --features: "texture"/);
  });

  it('travel to worker threads and back unchanged', () => {
    const d = twoBlocks({ subjects: 6, embedSignal: 1, regionSignal: 1, seed: 4 });
    const rows = d.inputs.map((r, i) => ({ ...r, ...(i % 2 ? { view: 'frontal' as const } : {}) }));
    const back = unpackInputs(packInputs(rows));
    expect(back.map((r) => [[...r.embedding], [...r.regionMaps!], r.view])).toEqual(rows.map((r) => [[...r.embedding], [...r.regionMaps!], r.view]));
  });

  it('travel with landmarks of any model: 68 or 70 points per row, or none', () => {
    const d = twoBlocks({ subjects: 3, embedSignal: 1, regionSignal: 1, seed: 4 });
    const marks = [frontalFace(), meshFace(), undefined];
    const rows = d.inputs.map((r, i) => ({ ...r, ...(marks[i % 3] ? { landmarks68: marks[i % 3] } : {}) }));
    const back = unpackInputs(packInputs(rows));
    // Exactly, not to float precision: a fold fitted on a worker must equal the main thread's.
    expect(back.map((r) => r.landmarks68)).toEqual(rows.map((r) => r.landmarks68));
    expect(back.map((r) => r.landmarks68?.length)).toEqual(rows.map((_, i) => [68, 70, undefined][i % 3]));
  });
});

describe('fitFeatureModel', () => {
  it('auto stacks every block and drops those the stack does not weigh: the informative block, or both when both help', () => {
    const regionsOnly = twoBlocks({ subjects: 40, embedSignal: 0, regionSignal: 1.5, seed: 5 });
    const a = fitFeatureModel(regionsOnly.inputs, regionsOnly.y, regionsOnly.subjects, logistic(), { ...fit, request: 'auto', available: ['embedding', 'regions'] });
    expect(a.candidates.map((c) => c.features.join('+'))).toEqual(['embedding', 'regions', 'embedding+regions']);
    expect(a.model.selection!.candidates).toHaveLength(3);
    expect(a.model.selection!.chosen).toEqual(['embedding', 'regions']);
    expect(a.model.selection!.kept).toEqual(['regions']);
    expect(a.model.features).toEqual(['regions']);
    // Dropping the unweighted block leaves the regions classifier itself, scoring as it does alone.
    const alone = a.candidates.find((c) => c.features.join() === 'regions')!;
    expect(a.model.predictProba(regionsOnly.inputs.slice(0, 5))).toEqual(alone.predictProba(regionsOnly.inputs.slice(0, 5)));
    const both = twoBlocks({ subjects: 40, embedSignal: 2.5, regionSignal: 1, seed: 6 });
    const b = fitFeatureModel(both.inputs, both.y, both.subjects, logistic(), { ...fit, request: 'auto', available: ['embedding', 'regions'] });
    const loss = Object.fromEntries(b.model.selection!.candidates.map((c) => [c.features.join('+'), c.logLoss]));
    expect(loss['embedding+regions']).toBeLessThan(Math.min(loss.embedding, loss.regions));
    expect(b.model.features).toEqual(['embedding', 'regions']);
    expect(b.model.stacker!.weights.every((w) => w > 0)).toBe(true);
  });

  it('a smaller candidate replaces the stack only when its inner log-loss is lower by more than minGain', () => {
    const d = twoBlocks({ subjects: 40, embedSignal: 2.5, regionSignal: 0.3, seed: 9 });
    const opts = { ...fit, request: 'auto' as const, available: ['embedding', 'regions'] as const };
    const strict = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...opts, available: [...opts.available], minGain: 10 });
    expect(strict.model.selection!.chosen).toEqual(['embedding', 'regions']);
    const loss = Object.fromEntries(strict.model.selection!.candidates.map((c) => [c.features.join('+'), c.logLoss]));
    const bestSmaller = Math.min(loss.embedding, loss.regions);
    // Any gain counts with minGain below the best smaller candidate's margin (negative: always).
    const eager = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...opts, available: [...opts.available], minGain: Math.min(0, loss['embedding+regions'] - bestSmaller) - 1e-9 });
    expect(eager.model.selection!.chosen).toEqual([loss.embedding < loss.regions ? 'embedding' : 'regions']);
    expect(eager.model.stacker).toBeNull();
  });

  it('with no block worth a weight, the best single block by inner log-loss (not a constant)', () => {
    const d = twoBlocks({ subjects: 40, embedSignal: 0, regionSignal: 0, seed: 21 });
    const f = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: 'auto', available: ['embedding', 'regions'] });
    const full = f.candidates.find((c) => c.features.length === 2)!;
    const s = f.model.selection!;
    const loss = Object.fromEntries(s.candidates.map((c) => [c.features.join('+'), c.logLoss]));
    // Neither block carries the label: the stack weighs neither (the fixture's premise).
    expect(full.stacker!.weights).toEqual([0, 0]);
    expect(f.model.features).toEqual([loss.embedding <= loss.regions ? 'embedding' : 'regions']);
    expect(new Set(f.model.predictProba(d.inputs)).size).toBeGreaterThan(1);
  });

  it('a named request is fitted as asked, without a choice', () => {
    const d = twoBlocks({ subjects: 20, embedSignal: 2, regionSignal: 1, seed: 7 });
    const f = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['embedding'], available: ['embedding', 'regions'] });
    expect(f.model.features).toEqual(['embedding']);
    expect(f.model.selection).toBeUndefined();
    expect(() => fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['geometry'], available: ['embedding', 'regions'] })).toThrow(/cannot supply the "geometry"/);
  });

  it('the choice comes from the training rows only: a signal planted in the test rows cannot sway it', () => {
    const d = twoBlocks({ subjects: 40, embedSignal: 3, regionSignal: 0, seed: 8 });
    const y = Uint8Array.from(d.y);
    const test = Int32Array.from(d.y.map((_, i) => i).filter((i) => i % 5 === 0));
    const train = Int32Array.from(d.y.map((_, i) => i).filter((i) => i % 5 !== 0));
    // The leak: in the test rows only, the region maps give the label away.
    const leaked = d.inputs.map((r, i) => (i % 5 === 0 ? { ...r, regionMaps: r.regionMaps!.map((v, a) => (a < 3 ? 50 * d.y[i] : v)) } : r));
    const ctx = (inputs: PhotoInputs[]) => ({ X: d.X, subjects: d.subjects, classifier: logistic(), innerFolds: 3, patience: 1, features: { request: 'auto' as const, available: ['embedding' as const, 'regions' as const], inputs } });
    const task = { train, test, y, seed: 3, fixed: false };
    const clean = runFold(ctx(d.inputs), task);
    const withLeak = runFold(ctx(leaked), task);
    expect(withLeak.features).toEqual(clean.features);
    expect(withLeak.featureSelection).toEqual(clean.featureSelection);
    expect(clean.features?.[0]).toBe('embedding');
    // The leak does show on the test rows, in the regions candidate's outer predictions.
    const regionsAuc = (o: typeof clean) => {
      const p = o.candidates!.find((c) => c.features.join() === 'regions')!.probabilities;
      const pos = [...test].map((i, j) => [p[j], d.y[i]]);
      let wins = 0, pairs = 0;
      for (const [a, ya] of pos) for (const [b, yb] of pos) if (ya === 1 && yb === 0) { pairs++; wins += a > b ? 1 : a === b ? 0.5 : 0; }
      return wins / pairs;
    };
    expect(regionsAuc(withLeak)).toBeGreaterThan(regionsAuc(clean));
  });
});

describe('FittedFeatureModel JSON', () => {
  it('restores a stacked model that scores exactly as the fitted one', () => {
    const d = twoBlocks({ subjects: 30, embedSignal: 3, regionSignal: 1, seed: 9 });
    const { model } = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['embedding', 'regions'], available: ['embedding', 'regions'] });
    const back = FittedFeatureModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    expect(back.features).toEqual(['embedding', 'regions']);
    const p = model.predictProba(d.inputs), q = back.predictProba(d.inputs);
    p.forEach((v, i) => expect(q[i]).toBeCloseTo(v, 6));
    expect(() => FittedFeatureModel.fromJSON({ kind: 'phenoface-feature-model', version: 1, blocks: [{}], classifiers: [] })).toThrow(/one classifier per block/);
  });

  it('refuses a combiner whose weight or bias is not a finite number (it would silently drop a block from every call)', () => {
    const d = twoBlocks({ subjects: 30, embedSignal: 3, regionSignal: 1, seed: 9 });
    const { model } = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['embedding', 'regions'], available: ['embedding', 'regions'] });
    const json = JSON.parse(JSON.stringify(model.toJSON()));
    const edited = (stacker: unknown) => FittedFeatureModel.fromJSON({ ...json, stacker });
    expect(() => edited({ ...json.stacker, weights: [null, json.stacker.weights[1]] })).toThrow(expect.objectContaining({ code: 'E_BUNDLE', message: expect.stringContaining('stacker.weights') }));
    expect(() => edited({ ...json.stacker, weights: ['1', json.stacker.weights[1]] })).toThrow(expect.objectContaining({ code: 'E_BUNDLE' }));
    expect(() => edited({ weights: json.stacker.weights })).toThrow(expect.objectContaining({ code: 'E_BUNDLE', message: expect.stringContaining('stacker.bias') }));
    expect(() => edited('x')).toThrow(expect.objectContaining({ code: 'E_BUNDLE' }));
  });

  it('a classifier on raw embeddings scores as a one-block model (a bundle without features)', () => {
    const d = syntheticStudy({ subjects: 20, photosPerSubject: 2, dim: 16, signal: 3, seed: 10 });
    const c = logistic().fit(d.X, d.y, d.subjects, fit);
    const m = embeddingOnlyModel(c);
    expect(m.predictProba(d.X.map((embedding) => ({ embedding })))).toEqual(c.predictProba(d.X));
  });

  it("the embedding's part has the exact gradient of its share of the logit", () => {
    const d = twoBlocks({ subjects: 30, embedSignal: 3, regionSignal: 1, seed: 11 });
    const { model } = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['embedding', 'regions'], available: ['embedding', 'regions'] });
    const part = embeddingClassifier(model)!;
    const x = d.X[0];
    expectExactGradient(part, x, [0, 5, 17]);
    // Moving the embedding moves the whole model's logit by the part's change.
    const logit = (p: number) => Math.log(p / (1 - p));
    const other = { ...d.inputs[0], embedding: d.X[1] };
    const dModel = logit(model.predictProba([other])[0]) - logit(model.predictProba([d.inputs[0]])[0]);
    expect(part.decision!([d.X[1]])[0] - part.decision!([x])[0]).toBeCloseTo(dModel, 4);
  });
});

describe('the embedding block with a second network', () => {
  /** Rows whose backbone embedding is noise and whose second network's embedding carries the label. */
  function withSecond(seed: number) {
    const d = syntheticStudy({ subjects: 30, photosPerSubject: 3, dim: 12, signal: 3, seed });
    const rng = mulberry32(seed + 1);
    const inputs: PhotoInputs[] = d.X.map((second, i) => ({ embedding: Float32Array.from({ length: 16 }, () => rng() - 0.5), secondEmbedding: second, view: i % 2 ? 'frontal' : 'oblique' }));
    return { ...d, inputs };
  }

  it('reads both vectors side by side when every training row has the second, and records how many columns are its', () => {
    const d = withSecond(21);
    const block = featureBlock('embedding').fit(d.inputs);
    expect(block.dim).toBe(28);
    expect(block.toJSON().params.secondDim).toBe(12);
    expect(secondEmbeddingDim({ kind: 'phenoface-feature-model', version: 1, features: ['embedding'], blocks: [block.toJSON()], classifiers: [{}], stacker: null })).toBe(12);
    const back = fittedBlockFromJSON(JSON.parse(JSON.stringify(block.toJSON())));
    expect(back.transform(d.inputs.slice(0, 3))).toEqual(block.transform(d.inputs.slice(0, 3)));
    // A photo without the second network's vector cannot be read by this block: the error says why.
    expect(() => block.transform([{ embedding: d.inputs[0].embedding }])).toThrow(/second network's too/);
    // With one training row lacking it, the block reads the backbone's embedding alone.
    const partial = featureBlock('embedding').fit([{ embedding: d.inputs[0].embedding }, ...d.inputs.slice(1)]);
    expect(partial.dim).toBe(16);
    expect(partial.toJSON().params.secondDim).toBeUndefined();
  });

  it('learns what only the second network sees, and the rows travel to worker threads with it', () => {
    const d = withSecond(22);
    const { model } = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['embedding'], available: ['embedding'] });
    const p = model.predictProba(d.inputs);
    const mean = (c: number) => p.filter((_, i) => d.y[i] === c).reduce((a, v, _, all) => a + v / all.length, 0);
    expect(mean(1) - mean(0)).toBeGreaterThan(0.4);
    const back = unpackInputs(packInputs(d.inputs));
    expect(back.map((r) => [...r.secondEmbedding!])).toEqual(d.inputs.map((r) => [...r.secondEmbedding!]));
  });

  it("the heat maps' classifier reads the backbone's embedding, the second network's held at its training mean", () => {
    const d = withSecond(23);
    const { model } = fitFeatureModel(d.inputs, d.y, d.subjects, logistic(), { ...fit, request: ['embedding'], available: ['embedding'] });
    const part = embeddingClassifier(model)!;
    expect(part.dim).toBe(16);
    const x = d.inputs[0].embedding;
    expect(part.decisionGradient!(x)).toHaveLength(16);
    expectExactGradient(part, x, [0, 7, 15]);
    // Its score is the model's logit of the photo with the second network's vector at the training mean.
    const mean = Float32Array.from({ length: 12 }, (_, a) => d.inputs.reduce((s, r) => s + r.secondEmbedding![a], 0) / d.inputs.length);
    const logit = (q: number) => Math.log(q / (1 - q));
    expect(part.decision!([x])[0]).toBeCloseTo(logit(model.predictProba([{ embedding: x, secondEmbedding: mean }])[0]), 4);
  });
});

describe('crossValidate with feature blocks', () => {
  it('scores every representation on the same folds, counts the choices, and runs the permutation test through the choice', async () => {
    const d = twoBlocks({ subjects: 30, embedSignal: 2.5, regionSignal: 1.5, seed: 12 });
    const res = await crossValidate({ ...d, inputs: d.inputs, features: 'auto', folds: 3, repeats: 2, bootstrap: 50, permutations: 4, permutationRepeats: 1, workers: 0 });
    const f = res.features!;
    expect(f.available).toEqual(['embedding', 'regions']);
    expect(f.representations.map((r) => r.label)).toEqual(['embedding', 'regions', 'embedding+regions']);
    expect(f.representations.reduce((a, r) => a + r.chosenInFolds, 0)).toBe(6);
    expect(res.folds.every((fold) => fold.features && fold.featureSelection)).toBe(true);
    const auc = Object.fromEntries(f.representations.map((r) => [r.label, r.subject.value!]));
    expect(auc.regions).toBeGreaterThan(0.8);
    expect(auc['embedding+regions']).toBeGreaterThan(auc.embedding);
    // The study's own model is the fold-by-fold choice, mostly the regions here.
    expect(res.subject.auc.value!).toBeGreaterThan(auc.embedding);
    expect(res.permutation!.nulls).toHaveLength(4);
  });

  it('finds nothing in labels shuffled between subjects (the leakage check, with the choice inside the folds)', async () => {
    const d = twoBlocks({ subjects: 40, embedSignal: 0, regionSignal: 0, seed: 13 });
    const res = await crossValidate({ ...d, inputs: d.inputs, features: 'auto', folds: 4, repeats: 2, bootstrap: 200, permutations: 0, workers: 0 });
    const ci = res.subject.auc.ci95!;
    expect(ci[0]).toBeLessThan(0.5);
    expect(ci[1]).toBeGreaterThan(0.5);
  });
});
