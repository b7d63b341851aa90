/**
 * Limited-memory BFGS (Liu & Nocedal 1989, "On the limited memory BFGS method for large scale
 * optimization") with an Armijo backtracking line search, for smooth convex objectives such as
 * L2-regularised logistic regression. At D = 192..512 it needs only gradients (2·n·D flops each),
 * where Newton/IRLS would form an n·D² Hessian per step; warm starts along the C grid keep the
 * number of gradients small.
 */

/** Evaluates the objective at `x`, writing its gradient into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

/** Stopping rule and memory of {@link lbfgs}. */
export interface LbfgsOptions {
  /** Stop when the largest gradient entry is at most this. */
  gradTol: number;
  /** Iteration cap. */
  maxIterations: number;
  /** Number of correction pairs kept (Liu & Nocedal suggest 3..20). */
  memory: number;
}

/** Where {@link lbfgs} stopped: objective value, work done, and whether the gradient test passed. */
export interface LbfgsResult {
  value: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

const maxAbs = (v: Float64Array): number => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

function vdot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Minimises `f` starting from `x`, which is updated in place to the minimiser. */
export function lbfgs(f: Objective, x: Float64Array, options: LbfgsOptions): LbfgsResult {
  const p = x.length;
  const m = options.memory;
  const s = Array.from({ length: m }, () => new Float64Array(p));
  const y = Array.from({ length: m }, () => new Float64Array(p));
  const rho = new Float64Array(m);
  const alpha = new Float64Array(m);
  const g = new Float64Array(p);
  const gNew = new Float64Array(p);
  const xNew = new Float64Array(p);
  const d = new Float64Array(p);
  let stored = 0;
  let head = 0; // next slot to overwrite
  let value = f(x, g);
  let evaluations = 1;
  let iterations = 0;
  for (; iterations < options.maxIterations; iterations++) {
    if (maxAbs(g) <= options.gradTol) return { value, iterations, evaluations, converged: true };
    // Two-loop recursion: d = -H g.
    d.set(g);
    for (let k = 0; k < stored; k++) {
      const j = (head - 1 - k + m) % m;
      alpha[j] = rho[j] * vdot(s[j], d);
      for (let i = 0; i < p; i++) d[i] -= alpha[j] * y[j][i];
    }
    if (stored > 0) {
      const j = (head - 1 + m) % m;
      const gamma = 1 / (rho[j] * vdot(y[j], y[j]));
      for (let i = 0; i < p; i++) d[i] *= gamma;
    } else {
      const scale = 1 / Math.max(1, Math.sqrt(vdot(g, g)));
      for (let i = 0; i < p; i++) d[i] *= scale;
    }
    for (let k = stored - 1; k >= 0; k--) {
      const j = (head - 1 - k + m) % m;
      const beta = rho[j] * vdot(y[j], d);
      for (let i = 0; i < p; i++) d[i] += s[j][i] * (alpha[j] - beta);
    }
    let slope = 0;
    for (let i = 0; i < p; i++) {
      d[i] = -d[i];
      slope += g[i] * d[i];
    }
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      stored = 0;
      for (let i = 0; i < p; i++) d[i] = -g[i];
      slope = -vdot(g, g);
    }
    let step = 1;
    let valueNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < p; i++) xNew[i] = x[i] + step * d[i];
      valueNew = f(xNew, gNew);
      evaluations++;
      if (valueNew <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(valueNew <= value)) return { value, iterations, evaluations, converged: false };
    const sj = s[head];
    const yj = y[head];
    for (let i = 0; i < p; i++) {
      sj[i] = xNew[i] - x[i];
      yj[i] = gNew[i] - g[i];
    }
    const sy = vdot(sj, yj);
    if (sy > 1e-16) {
      rho[head] = 1 / sy;
      head = (head + 1) % m;
      stored = Math.min(stored + 1, m);
    }
    x.set(xNew);
    g.set(gNew);
    value = valueNew;
  }
  return { value, iterations, evaluations, converged: maxAbs(g) <= options.gradTol };
}
