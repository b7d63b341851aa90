/**
 * Log-loss, the inner CV's criterion. It lives here (and `evaluate/metrics.ts` re-exports it)
 * because `classify/` must not import `evaluate/`, which sits above it.
 */

/** Mean log-loss (cross-entropy) of probabilities against 0/1 labels, clipped to [1e-15, 1 - 1e-15]. */
export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = Math.min(1 - 1e-15, Math.max(1e-15, probs[i]));
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / probs.length;
}
