/**
 * Intervals of a proportion (sensitivity, specificity, accuracy, top-k): Wilson's score interval
 * on the counts, and a bootstrap interval widened by it. Here, below both `evaluate/` (which
 * computes the rates) and `classify/` (whose bundle loader widens the rates an older study stored
 * unwidened), so that both apply the one rule.
 */

/**
 * Wilson's score interval for a proportion of `successes` in `n` trials (Wilson 1927): unlike the
 * bootstrap or the Wald interval it never collapses to a point at 0 or n successes, so "no false
 * positive among 30 controls" still leaves specificity an interval below 1. `successes` may be a
 * mean count over repeats (fractional). Null when `n` is 0.
 */
export function wilsonInterval(successes: number, n: number, z = 1.959963984540054): [number, number] | null {
  if (!(n > 0)) return null;
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At p = 0 (1) the lower (upper) bound is exactly 0 (1); computed, it can miss by rounding.
  return [p <= 0 ? 0 : Math.max(0, centre - half), p >= 1 ? 1 : Math.min(1, centre + half)];
}

/**
 * The 95% interval of a rate (sensitivity, specificity, accuracy, and through them the predictive
 * values): the union of its subject-bootstrap interval and Wilson's score interval on its counts.
 * Wilson's stays open when a count is zero, as a bootstrap of a rate of 1 cannot ("no false
 * positive among 30 controls" is not a specificity of exactly 1); the bootstrap is wider when
 * photos of one person are correlated. Either may be missing.
 */
export function rateInterval(bootstrap: [number, number] | null | undefined, successes: number, total: number): [number, number] | null {
  const wilson = wilsonInterval(successes, total);
  if (!bootstrap) return wilson;
  if (!wilson) return bootstrap;
  return [Math.min(bootstrap[0], wilson[0]), Math.max(bootstrap[1], wilson[1])];
}

/**
 * A rate's estimate (accuracy, sensitivity, specificity, top-k accuracy) with its bootstrap
 * interval widened by {@link rateInterval}, so that a rate of 0 or 1 keeps an interval. Only a
 * bootstrap interval is widened: Wilson's alone would treat a person's photos as independent, and
 * with `--bootstrap 0` no interval is asked for. `successes` and `total` are the counts of one
 * repeat, averaged over the repeats. The binary and the ranking metrics both widen through this,
 * so that their intervals are alike.
 */
export function widenRate<E extends { value: number | null; ci95: [number, number] | null }>(e: E, successes: number, total: number): E {
  return { ...e, ci95: e.value === null || !e.ci95 ? e.ci95 : rateInterval(e.ci95, successes, total) };
}
