import { describe, expect, it } from 'vitest';
import { fitLogisticPacked } from '../../../src/classify/logistic.ts';
import { lbfgs } from '../../../src/classify/lbfgs.ts';
import { sigmoid, Standardiser, type Packed } from '../../../src/classify/linalg.ts';
import { createClassifier } from '../../../src/classify/registry.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { hasCode } from '../../../src/errors.ts';
import { syntheticStudy } from '../evaluate/synthetic-embeddings.ts';

const packed = (rows: number[][]): Packed => ({ n: rows.length, d: rows[0].length, rows: Float64Array.from(rows.flat()) });

/** Gradient of ½‖w‖² + C·Σ logloss(w·z + b) (the scikit-learn form), written out independently. */
function gradient(Z: Packed, y: number[], C: number, w: Float64Array, b: number): Float64Array {
  const g = Float64Array.from(w);
  const gb = [0];
  for (let i = 0; i < Z.n; i++) {
    let z = b;
    for (let a = 0; a < Z.d; a++) z += w[a] * Z.rows[i * Z.d + a];
    const r = C * (1 / (1 + Math.exp(-z)) - y[i]);
    for (let a = 0; a < Z.d; a++) g[a] += r * Z.rows[i * Z.d + a];
    gb[0] += r;
  }
  return Float64Array.from([...g, gb[0]]);
}

describe('fitLogisticPacked', () => {
  it('matches an independent Newton solution on a 1-D toy problem', () => {
    const z = [-2, -1, 0, 1, 2, 0.5, -0.5, 1.5];
    const y = [0, 0, 1, 1, 1, 0, 1, 1];
    const C = 1;
    // Newton on (w, b) with the exact 2x2 Hessian, to machine precision.
    let w = 0;
    let b = 0;
    for (let it = 0; it < 50; it++) {
      let gw = w;
      let gb = 0;
      let hww = 1;
      let hwb = 0;
      let hbb = 1e-300;
      z.forEach((zi, i) => {
        const p = 1 / (1 + Math.exp(-(w * zi + b)));
        gw += C * (p - y[i]) * zi;
        gb += C * (p - y[i]);
        const s = C * p * (1 - p);
        hww += s * zi * zi;
        hwb += s * zi;
        hbb += s;
      });
      const det = hww * hbb - hwb * hwb;
      w -= (hbb * gw - hwb * gb) / det;
      b -= (hww * gb - hwb * gw) / det;
    }
    const fit = fitLogisticPacked(packed(z.map((v) => [v])), Float64Array.from(y), C);
    expect(fit.weights[0]).toBeCloseTo(w, 4);
    expect(fit.bias).toBeCloseTo(b, 4);
  });

  it('stops where the gradient of the objective vanishes (12-D, several C)', () => {
    const data = syntheticStudy({ subjects: 30, photosPerSubject: 4, dim: 12, signal: 2, seed: 3 });
    const rows = data.X.map((_, i) => i);
    const { packed: Z } = Standardiser.fitTransform(data.X, rows);
    for (const C of [1e-3, 1e-1, 10]) {
      const fit = fitLogisticPacked(Z, Float64Array.from(data.y), C);
      const g = gradient(Z, data.y, C, fit.weights, fit.bias);
      // converged to |∇(mean-loss form)| <= 1e-5, i.e. |∇(sum form)| <= 1e-5·C·n
      expect(Math.max(...g.map(Math.abs))).toBeLessThanOrEqual(1.01e-5 * C * Z.n);
    }
  });

  it('gives probabilities within 1e-3 of a tightly converged solution', () => {
    const data = syntheticStudy({ subjects: 60, photosPerSubject: 6, dim: 64, signal: 3, seed: 4 });
    const { packed: Z } = Standardiser.fitTransform(data.X, data.X.map((_, i) => i));
    const y = Float64Array.from(data.y);
    for (const C of [1e-2, 1]) {
      const fit = fitLogisticPacked(Z, y, C);
      const tight = new Float64Array(Z.d + 1);
      lbfgs(
        (x, g) => {
          const full = gradient(Z, data.y, C, x.subarray(0, Z.d), x[Z.d]);
          g.set(full);
          let f = 0;
          for (let a = 0; a < Z.d; a++) f += 0.5 * x[a] * x[a];
          for (let i = 0; i < Z.n; i++) {
            let s = x[Z.d];
            for (let a = 0; a < Z.d; a++) s += x[a] * Z.rows[i * Z.d + a];
            f += C * (Math.log1p(Math.exp(-Math.abs(s))) + Math.max(s, 0) - y[i] * s);
          }
          return f;
        },
        tight,
        { gradTol: 1e-8 * C * Z.n, maxIterations: 3000, memory: 20 },
      );
      for (let i = 0; i < Z.n; i++) {
        let a = fit.bias;
        let t = tight[Z.d];
        for (let k = 0; k < Z.d; k++) {
          a += fit.weights[k] * Z.rows[i * Z.d + k];
          t += tight[k] * Z.rows[i * Z.d + k];
        }
        expect(Math.abs(sigmoid(a) - sigmoid(t))).toBeLessThan(1e-3);
      }
    }
  });

  it('shrinks the weights as C falls', () => {
    const Z = packed([[-1], [-0.5], [0.2], [0.4], [1], [-0.1]]);
    const y = Float64Array.from([0, 0, 1, 0, 1, 1]);
    const norms = [1e-2, 1, 100].map((C) => Math.abs(fitLogisticPacked(Z, y, C).weights[0]));
    expect(norms[0]).toBeLessThan(norms[1]);
    expect(norms[1]).toBeLessThan(norms[2]);
  });
});

describe('logistic classifier', () => {
  const opts = { seed: 5, innerFolds: 3, split: groupedStratifiedKFold, patience: 1 };

  it('predicts with the standardiser folded into the weights', () => {
    const data = syntheticStudy({ subjects: 40, photosPerSubject: 4, dim: 32, signal: 3, seed: 6 });
    const model = createClassifier('logistic').fit(data.X, data.y, data.subjects, opts) as import('../../../src/classify/linear.ts').FittedLinear;
    const x = data.X[3];
    const { mean, scale } = model.standardiser;
    let z = model.model.bias;
    for (let a = 0; a < x.length; a++) z += ((x[a] - mean[a]) / scale[a]) * model.model.weights[a];
    expect(model.predictProba([x])[0]).toBeCloseTo(1 / (1 + Math.exp(-z)), 10);
  });

  it('chooses a larger C when there is signal, stops the grid walk early and keeps inner OOF probabilities', () => {
    const noise = syntheticStudy({ subjects: 60, photosPerSubject: 5, dim: 32, signal: 0, seed: 7 });
    const strong = syntheticStudy({ subjects: 60, photosPerSubject: 5, dim: 32, signal: 8, seed: 7 });
    const fitNoise = createClassifier('logistic').fit(noise.X, noise.y, noise.subjects, opts);
    const fitStrong = createClassifier('logistic').fit(strong.X, strong.y, strong.subjects, opts);
    expect(fitStrong.hyper.C).toBeGreaterThan(fitNoise.hyper.C);
    for (const fit of [fitNoise, fitStrong]) {
      const sel = fit.selection!;
      const best = sel.logLoss.indexOf(Math.min(...sel.logLoss));
      expect(sel.grid[best]).toBe(fit.hyper.C);
      // patience 1: the walk ends one value after the best (or at the grid's end)
      expect(sel.grid.length === best + 2 || sel.grid.length === 7).toBe(true);
      expect(fit.innerOof).toHaveLength(noise.X.length);
      expect(fit.innerOof!.every((p) => p > 0 && p < 1)).toBe(true);
    }
  });

  it('is deterministic given the seed and refuses bad training data', () => {
    const data = syntheticStudy({ subjects: 30, photosPerSubject: 3, dim: 16, signal: 2, seed: 8 });
    const a = createClassifier('logistic').fit(data.X, data.y, data.subjects, opts).predictProba(data.X);
    const b = createClassifier('logistic').fit(data.X, data.y, data.subjects, opts).predictProba(data.X);
    expect(a).toEqual(b);
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
        return 'none';
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    const clf = createClassifier('logistic');
    expect(codeOf(() => clf.fit(data.X, data.y.map(() => 1), data.subjects, opts))).toBe('E_INPUT');
    const bad = data.X.map((x) => Float32Array.from(x));
    bad[4][2] = NaN;
    expect(() => clf.fit(bad, data.y, data.subjects, opts)).toThrow(/Embedding 4 holds a non-finite value/);
    expect(codeOf(() => clf.fit(data.X, data.y, data.subjects, { ...opts, grid: [] }))).toBe('E_CONFIG');
    expect(codeOf(() => clf.fit(data.X.slice(1), data.y, data.subjects, opts))).toBe('E_INPUT');
    let err: unknown;
    try {
      createClassifier('logistic').fit(data.X, data.y, data.subjects, opts).predictProba([new Float32Array(3)]);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INPUT')).toBe(true);
  });
});
