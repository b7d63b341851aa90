/**
 * Platt scaling: maps a classifier's decision scores to probabilities with a fitted sigmoid
 * p = 1 / (1 + exp(-(a·s + b))) (Platt 1999), using Platt's smoothed targets and the Newton method
 * with backtracking of Lin, Lin & Weng 2007 ("A note on Platt's probabilistic outputs for support
 * vector machines"). Fitted on out-of-fold scores of the training data only: scores of rows a model
 * was trained on are over-confident.
 */
import { PhenofaceError } from '../errors.ts';
import { finiteNumber, sigmoid } from './linalg.ts';

/** A fitted sigmoid: p = sigmoid(a·score + b). */
export interface Platt {
  a: number;
  b: number;
}

/** Fits a sigmoid to `scores` and 0/1 `labels`. Throws `E_INPUT` when a class is absent. */
export function fitPlatt(scores: ArrayLike<number>, labels: ArrayLike<number>): Platt {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) nPos += labels[i] === 1 ? 1 : 0;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new PhenofaceError('E_INPUT', `Cannot fit Platt scaling to ${n} score(s) with ${nPos} positive(s). Should hold both classes.`);
  }
  // Platt's targets: a Bayesian prior keeps the fit finite on separable scores.
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const t = Float64Array.from({ length: n }, (_, i) => (labels[i] === 1 ? hi : lo));
  const objective = (a: number, b: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = a * scores[i] + b;
      // -[t log p + (1-t) log(1-p)] = log(1 + e^z) - t z, evaluated stably
      f += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - t[i] * z;
    }
    return f;
  };
  let a = 0;
  let b = Math.log((nPos + 1) / (nNeg + 1));
  let f = objective(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12; // Lin et al.'s small ridge keeps the Hessian positive definite
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(a * scores[i] + b);
      const r = p - t[i];
      const w = p * (1 - p);
      ga += r * scores[i];
      gb += r;
      haa += w * scores[i] * scores[i];
      hab += w * scores[i];
      hbb += w;
    }
    if (Math.abs(ga) < 1e-5 && Math.abs(gb) < 1e-5) break;
    const det = haa * hbb - hab * hab;
    const da = -(hbb * ga - hab * gb) / det;
    const db = -(-hab * ga + haa * gb) / det;
    const slope = ga * da + gb * db;
    let step = 1;
    for (; step >= 1e-10; step /= 2) {
      const fNew = objective(a + step * da, b + step * db);
      if (fNew <= f + 1e-4 * step * slope) {
        a += step * da;
        b += step * db;
        f = fNew;
        break;
      }
    }
    if (step < 1e-10) break;
  }
  return { a, b };
}

/** Applies a fitted sigmoid. */
export const applyPlatt = (platt: Platt, score: number): number => sigmoid(platt.a * score + platt.b);

/** Reads a {@link Platt} from a bundle record. */
export function plattFromJSON(json: unknown): Platt {
  const j = json as { a?: unknown; b?: unknown } | undefined;
  return { a: finiteNumber(j?.a, 'platt.a'), b: finiteNumber(j?.b, 'platt.b') };
}
