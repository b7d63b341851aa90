/**
 * L2-regularised logistic regression, the default classifier: on face-recognition embeddings a
 * linear model is what the embedding was built for, and with a few hundred subjects anything more
 * flexible overfits (Baek et al. 2025 report logistic regression among their best classifiers).
 *
 * Objective (scikit-learn's convention, so C values carry over): minimise
 * ½‖w‖² + C·Σᵢ logloss(yᵢ, w·zᵢ + b) over standardised features z, intercept b not penalised.
 * Solved by L-BFGS on the equivalent mean-loss form, warm-started along the C grid. C is chosen
 * by the inner grouped CV (see `tuning.ts`). Its output is already a probability fitted by
 * log-loss (a proper scoring rule), with C chosen by out-of-fold log-loss, so no Platt step is
 * added; the inner out-of-fold probabilities still serve for the decision threshold.
 */
import { PhenofaceError } from '../errors.ts';
import { lbfgs } from './lbfgs.ts';
import { FittedLinear, type LinearModel } from './linear.ts';
import { dot, multiply, sigmoid, type Packed } from './linalg.ts';
import { TunedClassifier, type GridSolver } from './tuning.ts';
import type { ClassifierJSON } from './types.ts';

/**
 * Largest gradient entry (of the mean-loss objective) accepted as converged. At 1e-5 the fitted
 * probabilities agree with a tight solution to within 1e-4 for C <= 1e-2 and 1e-3 for C <= 1
 * (measured on 1,120 x 192 synthetic embeddings; a test pins 1e-3), below what moves an AUC or a
 * threshold. 1e-4 would save a third of the gradients at up to ~1e-2 error.
 */
const GRAD_TOL = 1e-5;

/**
 * Adds the logistic loss log(1 + e^z) - y·z of logit z to `total[0]` and returns the residual
 * sigmoid(z) - y, from one exp and one log1p, without overflow.
 */
function residual(z: number, y: number, total: Float64Array): number {
  const e = Math.exp(-Math.abs(z));
  total[0] += (z > 0 ? z : 0) + Math.log1p(e) - y * z;
  return (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - y;
}

/**
 * Sum of logistic losses of `Z·w + b` against `y`, accumulating Σ (p - y)·z_i into `gw` and
 * returning [loss, Σ (p - y)]. One pass over the rows, four at a time, so each weight load serves
 * four products and each gradient update four rows.
 */
function lossAndGradient(Z: Packed, y: Float64Array, w: Float64Array, b: number, gw: Float64Array): [number, number] {
  const { n, d, rows: R } = Z;
  gw.fill(0);
  const total = new Float64Array(1);
  let gb = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const o0 = i * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    let s0 = b;
    let s1 = b;
    let s2 = b;
    let s3 = b;
    for (let a = 0; a < d; a++) {
      const wa = w[a];
      s0 += R[o0 + a] * wa;
      s1 += R[o1 + a] * wa;
      s2 += R[o2 + a] * wa;
      s3 += R[o3 + a] * wa;
    }
    const r0 = residual(s0, y[i], total);
    const r1 = residual(s1, y[i + 1], total);
    const r2 = residual(s2, y[i + 2], total);
    const r3 = residual(s3, y[i + 3], total);
    gb += r0 + r1 + r2 + r3;
    for (let a = 0; a < d; a++) gw[a] += r0 * R[o0 + a] + r1 * R[o1 + a] + r2 * R[o2 + a] + r3 * R[o3 + a];
  }
  for (; i < n; i++) {
    const o = i * d;
    const s = dot(R, o, w, 0, d) + b;
    const r = residual(s, y[i], total);
    gb += r;
    for (let a = 0; a < d; a++) gw[a] += r * R[o + a];
  }
  return [total[0], gb];
}

/**
 * Fits logistic regression on packed standardised rows at one C. `warm` (same rows, another C)
 * starts the solver near the answer; without it, w = 0 and b = the log-odds of the labels.
 */
export function fitLogisticPacked(Z: Packed, y: Float64Array, C: number, warm?: LinearModel): LinearModel {
  if (!(C > 0)) throw new PhenofaceError('E_CONFIG', `Invalid logistic C: ${C}. Should be > 0.`);
  const { n, d } = Z;
  const params = new Float64Array(d + 1);
  if (warm) {
    params.set(warm.weights);
    params[d] = warm.bias;
  } else {
    const pos = y.reduce((s, v) => s + v, 0);
    params[d] = Math.log(pos / (n - pos));
  }
  const lambda = 1 / (C * n); // ½‖w‖² + C·Σ loss, divided by C·n
  const w = new Float64Array(d);
  const gw = new Float64Array(d);
  lbfgs(
    (x, grad) => {
      w.set(x.subarray(0, d));
      const [total, gb] = lossAndGradient(Z, y, w, x[d], gw);
      let penalty = 0;
      for (let a = 0; a < d; a++) {
        grad[a] = gw[a] / n + lambda * x[a];
        penalty += x[a] * x[a];
      }
      grad[d] = gb / n;
      return total / n + 0.5 * lambda * penalty;
    },
    params,
    { gradTol: GRAD_TOL, maxIterations: 2000, memory: 10 },
  );
  return { weights: params.slice(0, d), bias: params[d] };
}

const solver: GridSolver<LinearModel> = {
  unitRows: false,
  probabilistic: true,
  fit: (Z, y, _groups, C, warm) => fitLogisticPacked(Z, y, C, warm),
  score: (model, Z) => multiply(Z, model.weights, model.bias, new Float64Array(Z.n)).map(sigmoid),
};

/** The logistic-regression family with its C grid (log-spaced) and the C used when tuning is off. */
export function logisticClassifier(grid: readonly number[], fixed: number): TunedClassifier<LinearModel> {
  return new TunedClassifier('logistic', 'C', grid, fixed, solver, (t) => new FittedLinear('logistic', { C: t.value }, t.standardiser, t.model, undefined, t.selection, t.innerOof));
}

/** Restores a fitted logistic regression from its JSON; throws `E_BUNDLE` on a malformed record. */
export const logisticFromJSON = (json: ClassifierJSON): FittedLinear => FittedLinear.fromJSON(json, 'C', false);
