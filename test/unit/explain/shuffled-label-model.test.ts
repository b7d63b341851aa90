/**
 * The data-randomisation sanity check's model: the embedding classifier refitted on labels permuted
 * between subjects, whatever blocks the final model stacks, so that it always has a gradient for
 * the heat maps to differentiate.
 */
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/index.ts';
import { trainFinal } from '../../../src/evaluate/crossval.ts';
import { permuteSubjectLabels } from '../../../src/evaluate/permutation.ts';
import { deriveSeed, mulberry32 } from '../../../src/math/random.ts';
import type { PhotoInputs } from '../../../src/features/index.ts';
import { shuffledLabelModel } from '../../../src/workflows/study/explanation.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

/** A study whose embeddings and region maps both carry the label (the final model stacks both). */
function stackedStudy(seed: number) {
  const d = syntheticStudy({ subjects: 40, photosPerSubject: 3, dim: 16, signal: 2, seed });
  const rng = mulberry32(seed + 7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const inputs: PhotoInputs[] = d.X.map((embedding, i) => {
    const regionMaps = Float32Array.from({ length: 12 }, () => gauss());
    for (let a = 0; a < 3; a++) regionMaps[a] += 1.5 * d.y[i];
    return { embedding, regionMaps };
  });
  return { ...d, inputs };
}

const gradientNorm = (g: ArrayLike<number>) => Math.hypot(...Array.from(g));

describe('shuffledLabelModel', () => {
  const d = stackedStudy(4);
  const classifier = createClassifier('logistic');
  const seed = 11;

  it('is the embedding classifier on the permuted labels, with a gradient, where the stack refitted on them weighs the embedding 0', () => {
    const real = trainFinal({ ...d, classifier, seed, features: ['embedding', 'regions'] });
    expect(real.features!.stacker!.weights.every((w) => w > 0)).toBe(true);
    // The premise: the same stack fitted on the permuted labels gives the embedding no weight, so its
    // embedding part has nothing for a heat map to differentiate.
    const y = permuteSubjectLabels(d.y, d.subjects, mulberry32(deriveSeed(seed, 0x5ff1e)));
    const stacked = trainFinal({ ...d, y, classifier, seed, features: ['embedding', 'regions'] });
    expect(stacked.features!.stacker!.weights[0]).toBe(0);
    expect(gradientNorm(stacked.model!.decisionGradient!(d.X[0]))).toBe(0);
    const shuffled = shuffledLabelModel(d, classifier, seed);
    expect(shuffled.dim).toBe(d.X[0].length);
    expect(gradientNorm(shuffled.decisionGradient!(d.X[0]))).toBeGreaterThan(0);
    // Fitted on the permuted labels, not the real ones.
    expect(shuffled.predictProba(d.X)).toEqual(trainFinal({ X: d.X, y, subjects: d.subjects, classifier, seed }).model!.predictProba(d.X));
  });
});
