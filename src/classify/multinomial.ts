/**
 * Multinomial L2-regularised logistic regression (softmax regression), the linear ranking model:
 * one weight vector per class over standardised embeddings, probabilities by the softmax. It is
 * the many-class form of the binary default (`logistic.ts`), with the same objective convention
 * (scikit-learn's): minimise ½‖W‖² + C·Σᵢ cross-entropy(yᵢ, softmax(W·zᵢ + b)), intercepts not
 * penalised, solved by L-BFGS on the mean-loss form and warm-started along the C grid.
 */
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { lbfgs } from './lbfgs.ts';
import { dot, type Packed } from './linalg.ts';

/** A fitted softmax model on standardised features: `weights` is K rows of d, row-major. */
export interface SoftmaxModel {
  classes: number;
  weights: Float64Array;
  bias: Float64Array;
}

/** `out` (length K) = the logits W·z + b of packed row `i`. */
export function softmaxLogits(m: SoftmaxModel, Z: Packed, i: number, out: Float64Array): Float64Array {
  const d = Z.d;
  for (let k = 0; k < m.classes; k++) out[k] = dot(Z.rows, i * d, m.weights, k * d, d) + m.bias[k];
  return out;
}

/** Softmax of `z` in place, shifted by the maximum so that no exponential overflows; returns log Σ e^z. */
export function softmaxInPlace(z: Float64Array): number {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < z.length; k++) z[k] /= sum;
  return max + Math.log(sum);
}

/**
 * Mean cross-entropy of the packed rows against classes `y`, writing its gradient with respect to
 * (W, b) into `grad` (K·d weights, then K intercepts).
 */
function lossAndGradient(Z: Packed, y: Int32Array, classes: number, x: Float64Array, grad: Float64Array): number {
  const { n, d, rows: R } = Z;
  const m: SoftmaxModel = { classes, weights: x.subarray(0, classes * d), bias: x.subarray(classes * d) };
  grad.fill(0);
  const z = new Float64Array(classes);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    softmaxLogits(m, Z, i, z);
    const logit = z[y[i]];
    loss += softmaxInPlace(z) - logit;
    z[y[i]] -= 1;
    const o = i * d;
    for (let k = 0; k < classes; k++) {
      const r = z[k];
      grad[classes * d + k] += r;
      if (r === 0) continue;
      const g = k * d;
      for (let a = 0; a < d; a++) grad[g + a] += r * R[o + a];
    }
  }
  for (let j = 0; j < grad.length; j++) grad[j] /= n;
  return loss / n;
}

/**
 * Fits softmax regression on packed standardised rows with classes `y` (0..classes-1) at one C.
 * `warm` (same rows, another C) starts the solver near the answer; without it, W = 0 and b = the
 * log class frequencies (the intercept-only optimum).
 */
export function fitMultinomialPacked(Z: Packed, y: Int32Array, classes: number, C: number, warm?: SoftmaxModel): SoftmaxModel {
  if (!(C > 0)) throw new PhenofaceError('E_CONFIG', `Invalid multinomial C: ${C}. Should be > 0.`);
  const { n, d } = Z;
  const x = new Float64Array(classes * (d + 1));
  if (warm) {
    x.set(warm.weights);
    x.set(warm.bias, classes * d);
  } else {
    const counts = new Float64Array(classes);
    for (const c of y) counts[c]++;
    for (let k = 0; k < classes; k++) x[classes * d + k] = Math.log((counts[k] + 0.5) / (n + 0.5 * classes));
  }
  const lambda = 1 / (C * n);
  const { gradTol, maxIterations } = DEFAULTS.classify.ranking;
  lbfgs(
    (p, grad) => {
      const loss = lossAndGradient(Z, y, classes, p, grad);
      let penalty = 0;
      for (let j = 0; j < classes * d; j++) {
        grad[j] += lambda * p[j];
        penalty += p[j] * p[j];
      }
      return loss + 0.5 * lambda * penalty;
    },
    x,
    { gradTol, maxIterations, memory: 10 },
  );
  return { classes, weights: x.slice(0, classes * d), bias: x.slice(classes * d) };
}
