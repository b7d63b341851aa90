/**
 * Column standardisation of a feature block, fitted on training rows only: each column's mean and
 * standard deviation over the rows that have a value (NaN marks a value a photo cannot supply,
 * e.g. a bilateral width in a profile), then `(x - mean) / sd`, with a missing value imputed as 0,
 * the training mean. A constant column keeps scale 1 (it then carries nothing, as it should).
 */
import { PhenofaceError } from '../errors.ts';

/** A fitted column standardiser (plain data: it is written into the bundle). */
export interface ColumnScaling {
  mean: number[];
  scale: number[];
}

/** Fits a {@link ColumnScaling} on `rows` (all of one length). E_INPUT on ragged rows or no rows. */
export function fitScaling(rows: readonly Float32Array[], what: string): ColumnScaling {
  if (rows.length === 0) throw new PhenofaceError('E_INPUT', `No training rows for the ${what} block. Expected at least one.`);
  const d = rows[0].length;
  const sum = new Float64Array(d), sumSq = new Float64Array(d), count = new Float64Array(d);
  for (const [i, row] of rows.entries()) {
    if (row.length !== d) throw new PhenofaceError('E_INPUT', `Row ${i} of the ${what} block has ${row.length} values. Expected ${d}, as row 0.`);
    for (let a = 0; a < d; a++) {
      const v = row[a];
      if (Number.isNaN(v)) continue;
      sum[a] += v;
      sumSq[a] += v * v;
      count[a]++;
    }
  }
  const mean = Array.from(sum, (s, a) => (count[a] ? s / count[a] : 0));
  const scale = Array.from(sumSq, (s, a) => {
    const sd = count[a] ? Math.sqrt(Math.max(0, s / count[a] - mean[a] * mean[a])) : 0;
    return sd > 1e-12 ? sd : 1;
  });
  return { mean, scale };
}

/** Standardises `rows` with `s` (missing values become 0). E_INPUT when a row's length differs. */
export function applyScaling(s: ColumnScaling, rows: readonly Float32Array[], what: string): Float32Array[] {
  const d = s.mean.length;
  return rows.map((row, i) => {
    if (row.length !== d) throw new PhenofaceError('E_INPUT', `Row ${i} of the ${what} block has ${row.length} values. Expected ${d}, as the rows it was fitted on.`);
    const out = new Float32Array(d);
    for (let a = 0; a < d; a++) out[a] = Number.isNaN(row[a]) ? 0 : (row[a] - s.mean[a]) / s.scale[a];
    return out;
  });
}

/** Reads a {@link ColumnScaling} back from JSON; E_BUNDLE naming `what` when malformed. */
export function scalingFromJSON(v: unknown, dim: number, what: string): ColumnScaling {
  const s = v as Partial<ColumnScaling> | undefined;
  const ok = (a: unknown): a is number[] => Array.isArray(a) && a.length === dim && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!ok(s?.mean) || !ok(s?.scale) || s.scale.some((x) => x <= 0)) {
    throw new PhenofaceError('E_BUNDLE', `The ${what} block's standardisation is malformed. Expected mean and scale arrays of ${dim} finite numbers (scales > 0).`);
  }
  return { mean: s.mean, scale: s.scale };
}
