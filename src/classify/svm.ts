/**
 * Linear support-vector machine: minimise ½‖w‖² + ½b² + C·Σᵢ max(0, 1 - yᵢ(w·zᵢ + b)) over
 * standardised features z, y in {-1, +1}. Solved in the dual by coordinate descent (Hsieh et al.
 * 2008, "A dual coordinate descent method for large-scale linear SVM", the LIBLINEAR solver),
 * which touches one row per step and never forms a kernel matrix. As in LIBLINEAR (`-B 1`) the
 * intercept is a constant feature of value 1 and so is regularised with the weights. C is chosen
 * by the inner grouped CV; decision values become probabilities with a Platt sigmoid fitted on
 * the inner out-of-fold decision values (see `tuning.ts`, `platt.ts`).
 */
import { PhenofaceError } from '../errors.ts';
import { FittedLinear, type LinearModel } from './linear.ts';
import { dot, multiply, type Packed } from './linalg.ts';
import { TunedClassifier, type GridSolver } from './tuning.ts';
import { mulberry32 } from '../math/random.ts';
import type { ClassifierJSON } from './types.ts';

/** A linear SVM with its dual variables (kept for warm starts along the C grid). */
export interface SvmModel extends LinearModel {
  alpha: Float64Array;
}

/** Stop when the projected-gradient spread falls below this (LIBLINEAR uses 0.1; tighter is cheap here). */
const DUAL_TOL = 1e-3;
/** Epoch cap; reached only for very large C on separable data. */
const MAX_EPOCHS = 1000;

/**
 * Fits a hinge-loss SVM on packed standardised rows with 0/1 labels at one C. `warm` (same rows,
 * a smaller C) starts from its dual variables, which stay feasible as C grows. Rows are visited
 * in a seeded random order each epoch.
 */
export function fitSvmPacked(Z: Packed, y01: Float64Array, C: number, seed: number, warm?: SvmModel): SvmModel {
  if (!(C > 0)) throw new PhenofaceError('E_CONFIG', `Invalid svm C: ${C}. Should be > 0.`);
  const { n, d, rows } = Z;
  const w = new Float64Array(d);
  let b = 0;
  const alpha = new Float64Array(n);
  const sign = Float64Array.from(y01, (v) => (v === 1 ? 1 : -1));
  const qii = Float64Array.from({ length: n }, (_, i) => dot(rows, i * d, rows, i * d, d) + 1);
  if (warm) {
    for (let i = 0; i < n; i++) {
      alpha[i] = Math.min(warm.alpha[i], C);
      const coef = alpha[i] * sign[i];
      for (let a = 0; a < d; a++) w[a] += coef * rows[i * d + a];
      b += coef;
    }
  }
  // Coordinate descent with LIBLINEAR's shrinking (Hsieh et al. 2008, section 3.2): a variable at
  // a bound whose gradient points outwards beyond last pass's extremes leaves the active set; when
  // the active set converges, all variables come back for a final check.
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rng = mulberry32(seed);
  let active = n;
  let maxOld = Infinity;
  let minOld = -Infinity;
  for (let epoch = 0; epoch < MAX_EPOCHS; epoch++) {
    for (let k = active - 1; k > 0; k--) {
      const j = Math.floor(rng() * (k + 1));
      const t = order[k];
      order[k] = order[j];
      order[j] = t;
    }
    let maxNew = -Infinity;
    let minNew = Infinity;
    for (let k = 0; k < active; k++) {
      const i = order[k];
      const o = i * d;
      const grad = sign[i] * (dot(rows, o, w, 0, d) + b) - 1;
      let pg = grad;
      if (alpha[i] === 0 || alpha[i] === C) {
        const atZero = alpha[i] === 0;
        if (atZero ? grad > maxOld : grad < minOld) {
          active--;
          order[k] = order[active];
          order[active] = i;
          k--;
          continue;
        }
        pg = atZero ? Math.min(grad, 0) : Math.max(grad, 0);
      }
      maxNew = Math.max(maxNew, pg);
      minNew = Math.min(minNew, pg);
      if (Math.abs(pg) < 1e-12) continue;
      const next = Math.min(Math.max(alpha[i] - grad / qii[i], 0), C);
      const coef = (next - alpha[i]) * sign[i];
      alpha[i] = next;
      for (let a = 0; a < d; a++) w[a] += coef * rows[o + a];
      b += coef;
    }
    if (maxNew - minNew < DUAL_TOL) {
      if (active === n) break;
      active = n;
      maxOld = Infinity;
      minOld = -Infinity;
      continue;
    }
    maxOld = maxNew <= 0 ? Infinity : maxNew;
    minOld = minNew >= 0 ? -Infinity : minNew;
  }
  return { weights: w, bias: b, alpha };
}

const solver: GridSolver<SvmModel> = {
  unitRows: false,
  probabilistic: false,
  fit: (Z, y, _groups, C, warm, seed) => fitSvmPacked(Z, y, C, seed, warm),
  score: (model, Z) => multiply(Z, model.weights, model.bias, new Float64Array(Z.n)),
};

/** The linear-SVM family with its C grid and the C used when tuning is off. */
export function svmClassifier(grid: readonly number[], fixed: number): TunedClassifier<SvmModel> {
  return new TunedClassifier('svm', 'C', grid, fixed, solver, (t) => {
    const { weights, bias } = t.model;
    return new FittedLinear('svm', { C: t.value }, t.standardiser, { weights, bias }, t.platt, t.selection, t.innerOof);
  });
}

/** Restores a fitted SVM from its JSON; throws `E_BUNDLE` on a malformed record. */
export const svmFromJSON = (json: ClassifierJSON): FittedLinear => FittedLinear.fromJSON(json, 'C', true);
