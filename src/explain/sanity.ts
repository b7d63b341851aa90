/**
 * Sanity checks for saliency maps (Adebayo et al., NeurIPS 2018, "Sanity Checks for Saliency
 * Maps"): an explanation that is faithful to the model must change when the model does. Two
 * model-parameter randomisations, cascading from the top as in the paper, are built here:
 * the classifier's weights replaced by a random direction, and additionally the embedding head
 * between the classifier and Grad-CAM's layer (the depthwise kernel and the 1x1 layers) replaced
 * by random weights of the same scale. The data randomisation test (a model trained on labels
 * shuffled between subjects) is trained by the study and explained with the same code.
 */
import { mulberry32, deriveSeed, type Rng } from '../math/random.ts';
import type { DenseLayer, LinearHead } from '../runtime/index.ts';
import type { Scorer } from './explainer.ts';
import { collapseHead, type CollapsedHead } from './head-gradient.ts';

/** A standard normal draw (Box-Muller). */
function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Standard deviation of an array's values. */
function sd(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return Math.sqrt(v / a.length) || 1;
}

/** Gaussian values with the same standard deviation as `like`. */
function randomLike(like: ArrayLike<number>, rng: Rng): Float32Array {
  const s = sd(like);
  return Float32Array.from({ length: like.length }, () => s * gaussian(rng));
}

/** A linear score `r · u` along a random unit-variance direction `r` of dimension `dim` (the randomised classifier). */
export function randomScorer(dim: number, seed: number): Scorer {
  const rng = mulberry32(deriveSeed(seed, 0x5a17));
  const r = Float32Array.from({ length: dim }, () => gaussian(rng));
  return {
    name: 'randomised classifier',
    score: (u) => {
      let s = 0;
      for (let i = 0; i < dim; i++) s += r[i] * u[i];
      return s;
    },
    gradient: () => r,
  };
}

/** The head with every weight and bias redrawn from a Gaussian of the layer's own scale. */
export function randomisedHead(head: LinearHead, seed: number): CollapsedHead {
  const rng = mulberry32(deriveSeed(seed, 0x4ead));
  const dense: DenseLayer[] = head.dense.map((l) => ({ ...l, weight: randomLike(l.weight, rng), bias: randomLike(l.bias, rng) }));
  return collapseHead({ ...head, depthwise: randomLike(head.depthwise, rng), depthwiseBias: randomLike(head.depthwiseBias, rng), dense });
}
