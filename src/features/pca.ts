/**
 * Principal component analysis fitted on training rows (Jolliffe 2002): the eigenvectors of the
 * rows' covariance matrix, kept in order of variance until they explain the requested fraction.
 * Used to reduce Procrustes-aligned coordinates (136 numbers with 4 degrees of freedom removed
 * and strong correlations between neighbouring points) to the few directions that vary.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { PhenofaceError } from '../errors.ts';

/** A fitted projection. */
export interface Pca {
  /** The training rows' mean (length d). */
  mean: Float64Array;
  /** The kept principal axes, unit vectors of length d, largest variance first. */
  components: Float64Array[];
  /** Variance of the training rows along each kept axis (population variance). */
  variances: Float64Array;
  /** Fraction of the total variance the kept axes explain. */
  explained: number;
}

/**
 * Fits a PCA on `rows` (n rows of length d). Keeps the fewest leading axes whose variances sum to
 * at least `varianceFraction` of the total, at most `maxComponents`, and never an axis of
 * (numerically) zero variance.
 */
export function fitPca(rows: readonly Float64Array[], varianceFraction: number, maxComponents = Infinity): Pca {
  if (rows.length < 2) throw new PhenofaceError('E_INPUT', `Invalid PCA input: ${rows.length} rows. Expected at least 2.`);
  if (!(varianceFraction > 0 && varianceFraction <= 1)) {
    throw new PhenofaceError('E_INPUT', `Invalid PCA variance fraction: ${varianceFraction}. Expected a number in (0, 1].`);
  }
  const d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / rows.length;
  const centred = new Matrix(rows.map((r) => Array.from(r, (v, j) => v - mean[j])));
  const cov = centred.transpose().mmul(centred).div(rows.length);
  const eig = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const values = eig.realEigenvalues;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const total = values.reduce((s, v) => s + Math.max(v, 0), 0);
  const components: Float64Array[] = [];
  const variances: number[] = [];
  let covered = 0;
  for (const i of order) {
    if (components.length >= maxComponents || covered >= varianceFraction * total || !(values[i] > 1e-12 * total)) break;
    components.push(Float64Array.from(eig.eigenvectorMatrix.getColumn(i)));
    variances.push(values[i]);
    covered += values[i];
  }
  return { mean, components, variances: Float64Array.from(variances), explained: total > 0 ? covered / total : 0 };
}

/** The row's coordinates on the kept axes: `components · (row - mean)`. */
export function projectPca(pca: Pca, row: ArrayLike<number>): Float64Array {
  return Float64Array.from(pca.components, (c) => {
    let s = 0;
    for (let j = 0; j < c.length; j++) s += c[j] * (row[j] - pca.mean[j]);
    return s;
  });
}
