/**
 * Subject-level bootstrap (Efron & Tibshirani 1993, percentile intervals). The unit resampled is
 * the subject, not the photo: photos of one person are correlated, and resampling photos would
 * give intervals far too narrow. Subjects are drawn with replacement within each class (so every
 * replicate keeps the study's class balance and defines AUC), and a drawn subject brings all of
 * its photos. Replicates are weight vectors (times drawn, per subject), which the metrics accept
 * directly.
 */
import { PhenofaceError } from '../errors.ts';
import { deriveSeed, mulberry32, randomInt, type Rng } from '../math/random.ts';

/**
 * The subject bootstrap every Phenoface interval is built on: `replicates` times, draws from each
 * stratum (a list of subject indices, e.g. the subjects of one class) as many subjects as it holds,
 * with replacement, and hands `statistic` the drawn subjects in draw order. One stratum holding
 * every subject is the plain (unstratified) bootstrap. Draws consume `rng` in a fixed order (replicate
 * by replicate, stratum by stratum), so a seeded `rng` gives the same replicates every run.
 * @throws PhenofaceError `E_CONFIG` when `replicates` is not an integer >= 0.
 */
export function subjectBootstrap<T>(strata: readonly (readonly number[])[], replicates: number, rng: Rng, statistic: (drawn: readonly number[]) => T): T[] {
  if (!Number.isInteger(replicates) || replicates < 0) {
    throw new PhenofaceError('E_CONFIG', `Invalid bootstrap replicates: ${JSON.stringify(replicates)}. Should be an integer >= 0.`);
  }
  return Array.from({ length: replicates }, () => {
    const drawn: number[] = [];
    for (const members of strata) for (let k = 0; k < members.length; k++) drawn.push(members[randomInt(rng, members.length)]);
    return statistic(drawn);
  });
}

/**
 * `replicates` stratified bootstrap draws over subjects 0..n-1 with classes `subjectClass`
 * (0/1): each is a Float64Array of how many times each subject was drawn. Seeded. With `members`,
 * only those subjects are drawn (stratified by class among them) and every other subject weighs 0:
 * the bootstrap of one group, e.g. a held-out site, whose own people are the sample its figures
 * describe (drawing from all subjects would leave a small group without one class in some replicates).
 */
export function stratifiedSubjectWeights(subjectClass: ArrayLike<number>, replicates: number, seed: number, members?: readonly number[]): Float64Array[] {
  const byClass: number[][] = [[], []];
  for (const s of members ?? Array.from({ length: subjectClass.length }, (_, k) => k)) byClass[subjectClass[s]].push(s);
  return subjectBootstrap(byClass, replicates, mulberry32(deriveSeed(seed, 0xb007)), (drawn) => {
    const w = new Float64Array(subjectClass.length);
    for (const s of drawn) w[s]++;
    return w;
  });
}

/** Quantile of sorted values by linear interpolation (Hyndman & Fan type 7, R's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Central percentile interval at `level` of bootstrap values. `null` values (a metric a replicate
 * leaves undefined) are dropped; when fewer than `minDefined` of the replicates define the metric
 * the interval is `null`, since the rest would describe a different population.
 */
export function percentileInterval(values: readonly (number | null)[], level: number, minDefined: number): [number, number] | null {
  const defined = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (defined.length === 0 || defined.length < minDefined * values.length) return null;
  const sorted = Float64Array.from(defined).sort();
  const tail = (1 - level) / 2;
  return [quantile(sorted, tail), quantile(sorted, 1 - tail)];
}

/** Pointwise percentile band of curves sampled on one grid (e.g. bootstrap ROC curves' TPR at fixed FPR). */
export function pointwiseBand(curves: readonly Float64Array[], level: number): { lower: number[]; upper: number[] } | null {
  if (curves.length === 0) return null;
  const tail = (1 - level) / 2;
  const lower: number[] = [];
  const upper: number[] = [];
  const column = new Float64Array(curves.length);
  for (let g = 0; g < curves[0].length; g++) {
    curves.forEach((curve, b) => (column[b] = curve[g]));
    column.sort();
    lower.push(quantile(column, tail));
    upper.push(quantile(column, 1 - tail));
  }
  return { lower, upper };
}
