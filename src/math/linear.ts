/**
 * Small dense linear systems, solved exactly (Gaussian elimination with partial pivoting, then back
 * substitution; Golub & Van Loan, "Matrix Computations", 3.4). For the few systems Phenoface
 * solves that are too small to want a library: the head pose's 6x6 normal equations, and the
 * thin-plate spline of the second planting tool (`scripts/plant-tps.ts`).
 */

/**
 * Solves `a x = b` for every column of `b` (`b[i]` is row i of the right-hand sides). Undefined
 * when a pivot falls below `1e-12` in absolute value (the system is singular or nearly so).
 * Neither argument is modified.
 */
export function solveLinear(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number[][] | undefined {
  const n = a.length;
  const cols = b[0]?.length ?? 0;
  const m = a.map((row, i) => [...row, ...b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-12) return undefined;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < n + cols; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = Array.from({ length: n }, () => new Array<number>(cols).fill(0));
  for (let j = 0; j < cols; j++) {
    for (let r = n - 1; r >= 0; r--) {
      let s = m[r][n + j];
      for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k][j];
      x[r][j] = s / m[r][r];
    }
  }
  return x;
}
