/**
 * Classification metrics on scores (positive-class probabilities) and 0/1 labels. Every metric
 * takes optional per-row weights so that a subject-level bootstrap can reweight rows instead of
 * copying them (a subject drawn twice weighs 2). Undefined values (e.g. sensitivity with no
 * positives) are `null`, which is also how they appear in JSON.
 */
import { PhenofaceError } from '../errors.ts';
import { wilsonInterval } from '../math/proportion.ts';

export { logLoss } from '../classify/loss.ts';
export { rateInterval, widenRate, wilsonInterval } from '../math/proportion.ts';

/** Per-row weights; `undefined` means 1 for every row. */
export type Weights = ArrayLike<number> | undefined;

/** Row indices ordered by ascending score (ties in row order). */
export function ascendingOrder(scores: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[a] - scores[b] || a - b);
}

/**
 * Area under the ROC curve as the Mann-Whitney statistic: the probability that a random positive
 * scores above a random negative, ties counting one half (Hanley & McNeil 1982). Equals the
 * trapezoidal area under {@link rocCurve}. `null` when a class is absent (or has zero weight).
 * `order` may pass a precomputed {@link ascendingOrder} (the bootstrap reuses it).
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: Weights, order?: Int32Array): number | null {
  const idx = order ?? ascendingOrder(scores);
  let negBelow = 0;
  let wPos = 0;
  let sum = 0;
  for (let start = 0; start < idx.length; ) {
    const s = scores[idx[start]];
    let tiePos = 0;
    let tieNeg = 0;
    let end = start;
    for (; end < idx.length && scores[idx[end]] === s; end++) {
      const i = idx[end];
      const w = weights ? weights[i] : 1;
      if (labels[i] === 1) tiePos += w;
      else tieNeg += w;
    }
    sum += tiePos * (negBelow + 0.5 * tieNeg);
    negBelow += tieNeg;
    wPos += tiePos;
    start = end;
  }
  return wPos > 0 && negBelow > 0 ? sum / (wPos * negBelow) : null;
}

/** An ROC curve: points from (0, 0) to (1, 1); `thresholds[j]` gives point j for "positive iff score >= t". */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

/**
 * The empirical ROC curve, one point per distinct score (tied scores make one diagonal step).
 * `null` when a class is absent.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: Weights, order?: Int32Array): RocCurve | null {
  const idx = order ?? ascendingOrder(scores);
  let wPos = 0;
  let wNeg = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights ? weights[i] : 1;
    if (labels[i] === 1) wPos += w;
    else wNeg += w;
  }
  if (!(wPos > 0 && wNeg > 0)) return null;
  const roc: RocCurve = { fpr: [0], tpr: [0], thresholds: [Infinity] };
  let tp = 0;
  let fp = 0;
  for (let end = idx.length - 1; end >= 0; ) {
    const s = scores[idx[end]];
    for (; end >= 0 && scores[idx[end]] === s; end--) {
      const i = idx[end];
      const w = weights ? weights[i] : 1;
      if (labels[i] === 1) tp += w;
      else fp += w;
    }
    roc.fpr.push(fp / wNeg);
    roc.tpr.push(tp / wPos);
    roc.thresholds.push(s);
  }
  return roc;
}

/**
 * The curve's TPR at each false-positive rate of `grid` (ascending): the highest TPR reached at
 * FPR <= f, interpolating linearly along tied-score segments. Used for vertical averaging of ROC
 * curves (Fawcett 2006, "An introduction to ROC analysis", section 8).
 */
export function tprAtFpr(roc: RocCurve, grid: ArrayLike<number>): Float64Array {
  const out = new Float64Array(grid.length);
  let j = 0;
  for (let g = 0; g < grid.length; g++) {
    const f = grid[g];
    while (j + 1 < roc.fpr.length && roc.fpr[j + 1] <= f) j++;
    if (j + 1 >= roc.fpr.length || roc.fpr[j] > f) out[g] = roc.fpr[j] > f ? 0 : roc.tpr[j];
    else out[g] = roc.tpr[j] + ((roc.tpr[j + 1] - roc.tpr[j]) * (f - roc.fpr[j])) / (roc.fpr[j + 1] - roc.fpr[j]);
  }
  return out;
}

/** A confusion matrix (weighted counts). */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Confusion counts for "positive iff score >= threshold"; `threshold` may be one per row. */
export function confusion(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number | ArrayLike<number>, weights?: Weights): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < scores.length; i++) {
    const w = weights ? weights[i] : 1;
    const t = typeof threshold === 'number' ? threshold : threshold[i];
    const predicted = scores[i] >= t;
    if (labels[i] === 1) {
      if (predicted) c.tp += w;
      else c.fn += w;
    } else if (predicted) c.fp += w;
    else c.tn += w;
  }
  return c;
}

/** Threshold-dependent rates from a confusion matrix. */
export interface Rates {
  accuracy: number | null;
  /** Mean of sensitivity and specificity. */
  balancedAccuracy: number | null;
  /** True-positive rate (recall of the positive class). */
  sensitivity: number | null;
  /** True-negative rate. */
  specificity: number | null;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

/** Accuracy, balanced accuracy, sensitivity and specificity; `null` where a denominator is 0. */
export function rates(c: Confusion): Rates {
  const sensitivity = ratio(c.tp, c.tp + c.fn);
  const specificity = ratio(c.tn, c.tn + c.fp);
  return {
    accuracy: ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn),
    balancedAccuracy: sensitivity === null || specificity === null ? null : (sensitivity + specificity) / 2,
    sensitivity,
    specificity,
  };
}

/** Checks a prevalence: a number in (0, 1). */
export function checkPrevalence(prevalence: number): void {
  if (!(prevalence > 0 && prevalence < 1)) {
    throw new PhenofaceError('E_CONFIG', `Invalid prevalence: ${JSON.stringify(prevalence)}. Should be in (0, 1), e.g. 0.00025 for 1 in 4,000 births.`);
  }
}

/**
 * Positive and negative predictive values at a population prevalence, by Bayes' rule from
 * sensitivity and specificity: a study's own class balance (often 1:1) says nothing about PPV in
 * the population screened. 22q11.2DS occurs in about 1 in 4,000 births (McDonald-McGinn et al. 2015).
 */
export function predictiveValues(
  sensitivity: number | null,
  specificity: number | null,
  prevalence: number,
): { ppv: number | null; npv: number | null } {
  checkPrevalence(prevalence);
  if (sensitivity === null || specificity === null) return { ppv: null, npv: null };
  const truePos = sensitivity * prevalence;
  const falsePos = (1 - specificity) * (1 - prevalence);
  const trueNeg = specificity * (1 - prevalence);
  const falseNeg = (1 - sensitivity) * prevalence;
  return { ppv: ratio(truePos, truePos + falsePos), npv: ratio(trueNeg, trueNeg + falseNeg) };
}

/** Brier score: mean squared difference between probability and label (Brier 1950); lower is better. */
export function brier(probs: ArrayLike<number>, labels: ArrayLike<number>, weights?: Weights): number | null {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < probs.length; i++) {
    const w = weights ? weights[i] : 1;
    sum += w * (probs[i] - labels[i]) ** 2;
    total += w;
  }
  return ratio(sum, total);
}

/**
 * The threshold maximising Youden's J = sensitivity + specificity - 1 (Youden 1950), for
 * "positive iff score >= t". It is placed midway between the lowest score called positive and the
 * next lower score, so that it does not sit on a training score. Among equal J the higher
 * threshold wins (fewer false positives). Call it on out-of-fold scores of the training data:
 * chosen on the scores it is judged on, a threshold flatters sensitivity and specificity.
 */
export function youdenThreshold(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = ascendingOrder(scores);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) nPos += labels[i] === 1 ? 1 : 0;
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new PhenofaceError('E_INPUT', `Cannot choose a threshold from ${labels.length} score(s) with ${nPos} positive(s) and ${nNeg} negative(s). Should hold both classes.`);
  }
  let tp = 0;
  let fp = 0;
  let bestJ = -Infinity;
  let best = 0;
  for (let end = idx.length - 1; end >= 0; ) {
    const s = scores[idx[end]];
    for (; end >= 0 && scores[idx[end]] === s; end--) {
      if (labels[idx[end]] === 1) tp++;
      else fp++;
    }
    const j = tp * nNeg - fp * nPos; // J * nPos * nNeg, exact in integers so ties compare equal
    if (j > bestJ) {
      bestJ = j;
      best = end >= 0 ? (s + scores[idx[end]]) / 2 : s;
    }
  }
  return best;
}

/** One bin of a reliability curve. */
export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Positives among them. */
  positives: number;
  /** Mean predicted probability in the bin. */
  meanPredicted: number;
  /** Observed fraction of positives in the bin. */
  observedRate: number;
  /** Wilson's 95% score interval of `observedRate` ({@link wilsonInterval}). */
  ci95: [number, number] | null;
}

/**
 * Reliability curve: probabilities cut into `bins` equal-width bins on [0, 1] (Niculescu-Mizil &
 * Caruana 2005); a calibrated model's bins lie on the diagonal. Empty bins are left out. Each
 * bin's interval treats its units as independent, which holds for people, not for several photos
 * of one person.
 */
export function calibrationBins(probs: ArrayLike<number>, labels: ArrayLike<number>, bins: number): CalibrationBin[] {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new PhenofaceError('E_CONFIG', `Invalid calibration bins: ${JSON.stringify(bins)}. Should be an integer >= 1.`);
  }
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let i = 0; i < probs.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(probs[i] * bins)));
    count[b]++;
    sumP[b] += probs[i];
    sumY[b] += labels[i];
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (count[b] === 0) continue;
    out.push({ lower: b / bins, upper: (b + 1) / bins, count: count[b], positives: sumY[b], meanPredicted: sumP[b] / count[b], observedRate: sumY[b] / count[b], ci95: wilsonInterval(sumY[b], count[b]) });
  }
  return out;
}

/** Subject-level scores fused from photo scores. */
export interface FusedScores {
  subjects: string[];
  probability: Float64Array;
  label: Uint8Array;
  photos: Int32Array;
}

/**
 * A subject's score is the mean of its photos' probabilities. The mean probability (rather than
 * the mean logit) keeps one over-confident photo from dominating a subject, and stays on the
 * probability scale so a threshold chosen the same way applies. Subjects keep first-appearance order.
 */
export function fuseBySubject(probs: ArrayLike<number>, labels: ArrayLike<number>, subjects: readonly string[]): FusedScores {
  const index = new Map<string, number>();
  const sums: number[] = [];
  const counts: number[] = [];
  const subjectLabel: number[] = [];
  for (let i = 0; i < probs.length; i++) {
    let s = index.get(subjects[i]);
    if (s === undefined) {
      s = sums.length;
      index.set(subjects[i], s);
      sums.push(0);
      counts.push(0);
      subjectLabel.push(labels[i]);
    } else if (subjectLabel[s] !== labels[i]) {
      throw new PhenofaceError('E_INPUT', `Subject "${subjects[i]}" has two labels (${subjectLabel[s]} and ${labels[i]}). Should have one.`);
    }
    sums[s] += probs[i];
    counts[s]++;
  }
  return {
    subjects: [...index.keys()],
    probability: Float64Array.from(sums, (sum, s) => sum / counts[s]),
    label: Uint8Array.from(subjectLabel),
    photos: Int32Array.from(counts),
  };
}

/** What {@link summariseScores} computes in one go. */
export interface ScoreSummary {
  auc: number | null;
  confusion: Confusion;
  brier: number | null;
  /** TPR on the FPR grid ({@link tprAtFpr}); null when a class is absent. */
  tpr: Float64Array | null;
}

/**
 * AUC, ROC TPR on an FPR grid, confusion counts and Brier score in two sequential passes with no
 * allocation beyond the TPR array: the inner loop of the subject bootstrap. Rows must be sorted by
 * descending score; row i weighs `subjectWeights[subject[i]]` (1 without weights). Gives the same
 * numbers as {@link auc}, {@link rocCurve} + {@link tprAtFpr}, {@link confusion} and {@link brier}
 * (pinned by a test). `grid` ascends; the TPR goes into `tprOut` (reuse one to spare the garbage
 * collector in the bootstrap).
 */
export function summariseScores(
  score: Float64Array,
  label: Uint8Array,
  threshold: Float64Array,
  subject: Int32Array,
  subjectWeights: Float64Array | undefined,
  grid: Float64Array,
  tprOut: Float64Array = new Float64Array(grid.length),
): ScoreSummary {
  const n = score.length;
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  let squared = 0;
  for (let i = 0; i < n; i++) {
    const w = subjectWeights ? subjectWeights[subject[i]] : 1;
    if (w === 0) continue;
    const p = score[i];
    const predicted = p >= threshold[i];
    if (label[i] === 1) {
      if (predicted) c.tp += w;
      else c.fn += w;
      squared += w * (1 - p) * (1 - p);
    } else {
      if (predicted) c.fp += w;
      else c.tn += w;
      squared += w * p * p;
    }
  }
  const wPos = c.tp + c.fn;
  const wNeg = c.fp + c.tn;
  const total = wPos + wNeg;
  const summary: ScoreSummary = { auc: null, confusion: c, brier: total > 0 ? squared / total : null, tpr: null };
  if (!(wPos > 0 && wNeg > 0)) return summary;
  const tpr = tprOut;
  let g = 0;
  let tp = 0;
  let fp = 0;
  let sum = 0;
  for (let i = 0; i < n; ) {
    const s = score[i];
    let tiePos = 0;
    let tieNeg = 0;
    for (; i < n && score[i] === s; i++) {
      const w = subjectWeights ? subjectWeights[subject[i]] : 1;
      if (label[i] === 1) tiePos += w;
      else tieNeg += w;
    }
    if (tiePos === 0 && tieNeg === 0) continue;
    sum += tieNeg * (tp + 0.5 * tiePos);
    const x0 = fp / wNeg;
    const y0 = tp / wPos;
    tp += tiePos;
    fp += tieNeg;
    const x1 = fp / wNeg;
    const y1 = tp / wPos;
    for (; g < grid.length && grid[g] < x1; g++) tpr[g] = y0 + ((y1 - y0) * (grid[g] - x0)) / (x1 - x0);
  }
  for (; g < grid.length; g++) tpr[g] = 1;
  summary.auc = sum / (wPos * wNeg);
  summary.tpr = tpr;
  return summary;
}
