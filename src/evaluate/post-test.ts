/**
 * What one screening result means for one person: the likelihood ratio of the result from the
 * model's cross-validated sensitivity and specificity, and the post-test chance of the condition at
 * a stated prevalence (Bayes' rule on odds: post-test odds = pre-test odds x LR; Deeks & Altman,
 * BMJ 2004). A classifier score from a class-balanced study is not that chance: at 1 in 4,000, a
 * positive call of a test with sensitivity 81.5% and specificity 92.6% means about a 0.3% chance.
 */
import { PhenofaceError } from '../errors.ts';
import { checkPrevalence, predictiveValues } from './metrics.ts';

/** A validated rate: its value and 95% interval, as `metrics.json` and the model bundle keep them. */
export interface ValidatedRate {
  value: number | null;
  ci95?: [number, number] | null;
}

/** The meaning of one positive or negative call. */
export interface PostTest {
  /** The prevalence (pre-test probability) the figures assume. */
  prevalence: number;
  /** Sensitivity and specificity at the model's threshold, per person, from cross-validation. */
  sensitivity: number;
  specificity: number;
  /** LR+ = sens / (1 - spec) for a positive call, LR- = (1 - sens) / spec for a negative one; null when infinite. */
  likelihoodRatio: number | null;
  /**
   * `likelihoodRatio` at the ends of the sensitivity's and specificity's 95% intervals (null
   * without intervals); its upper end is null where the specificity's interval reaches 1 (LR+
   * unbounded). It is the range `chanceRange` is taken over, since the chance rises with the ratio.
   */
  likelihoodRatioRange: [number, number | null] | null;
  /** PPV of a positive call at `prevalence`. */
  ppv: number | null;
  /** NPV of a negative call at `prevalence`. */
  npv: number | null;
  /** The chance of the condition given this call: PPV for a positive call, 1 - NPV for a negative one. */
  chance: number | null;
  /** `chance` at the ends of the sensitivity's and specificity's 95% intervals (null without intervals). */
  chanceRange: [number, number] | null;
}

/**
 * The post-test figures of a call. `positive` is the call at the model's threshold.
 * @throws PhenofaceError `E_CONFIG` for a prevalence outside (0, 1), `E_BUNDLE` when the model
 *   carries no validated sensitivity or specificity.
 */
export function postTest(positive: boolean, sensitivity: ValidatedRate, specificity: ValidatedRate, prevalence: number): PostTest {
  checkPrevalence(prevalence);
  const sens = sensitivity.value;
  const spec = specificity.value;
  if (sens === null || spec === null || !Number.isFinite(sens) || !Number.isFinite(spec)) {
    throw new PhenofaceError('E_BUNDLE', 'The model carries no cross-validated sensitivity and specificity per person, so a result cannot be turned into a chance. Expected a model written by `phenoface study`.');
  }
  const chanceAt = (se: number, sp: number) => {
    const pv = predictiveValues(se, sp, prevalence);
    return positive ? pv.ppv : pv.npv === null ? null : 1 - pv.npv;
  };
  const pv = predictiveValues(sens, spec, prevalence);
  const lr = positive ? ratioOrNull(sens, 1 - spec) : ratioOrNull(1 - sens, spec);
  let chanceRange: [number, number] | null = null;
  let likelihoodRatioRange: [number, number | null] | null = null;
  if (sensitivity.ci95 && specificity.ci95) {
    const [seLow, seHigh] = sensitivity.ci95;
    const [spLow, spHigh] = specificity.ci95;
    const ends = [chanceAt(seLow, spLow), chanceAt(seHigh, spHigh), chanceAt(seLow, spHigh), chanceAt(seHigh, spLow)].filter((v): v is number => v !== null);
    if (ends.length) chanceRange = [Math.min(...ends), Math.max(...ends)];
    // LR+ grows with sensitivity and specificity, LR- falls with both: its ends are two corners.
    const [low, high] = positive ? [ratioOrNull(seLow, 1 - spLow), ratioOrNull(seHigh, 1 - spHigh)] : [ratioOrNull(1 - seHigh, spHigh), ratioOrNull(1 - seLow, spLow)];
    if (low !== null) likelihoodRatioRange = [low, high];
  }
  return { prevalence, sensitivity: sens, specificity: spec, likelihoodRatio: lr, likelihoodRatioRange, ppv: pv.ppv, npv: pv.npv, chance: chanceAt(sens, spec), chanceRange };
}

/**
 * A call's likelihood ratio as the CLI and the web app word it: the ratio, why it is unbounded or
 * 0 where it is, and its range over the rates' 95% intervals (`range`, from {@link postTest}), the
 * range the chance range is taken over. A ratio from a study of finitely many people is an
 * estimate, so it is not shown without the spread the study allows.
 */
export function likelihoodRatioText(lr: number | null | undefined, range?: readonly [number, number | null] | null): string {
  const at = (v: number) => v.toFixed(2);
  const over = range ? `${at(range[0])} to ${range[1] === null ? 'unbounded' : at(range[1])} over the rates' 95% intervals` : '';
  if (lr === null || lr === undefined) return `unbounded (the study had no false positive${range ? `; at least ${at(range[0])} over the rates' 95% intervals` : ''})`;
  if (lr === 0) return `0 (the study missed no affected person: not a certainty${range ? `; ${over}` : ''})`;
  return `${at(lr)}${range ? ` (${over})` : ''}`;
}

/**
 * Why a chance range ends at 100% (a positive call) or 0% (a negative one): the specificity's
 * (sensitivity's) 95% interval reaches 1, where the likelihood ratio is unbounded, so the study
 * cannot bound the chance on that side. Empty when the range does not end there.
 */
export function chanceRangeEndNote(positive: boolean, range: readonly [number, number] | null | undefined): string {
  if (!range) return '';
  if (positive && range[1] === 1) return "The upper end is 100% because the specificity's 95% interval reaches 100%: the study cannot rule out that the model never flags a person without the condition.";
  if (!positive && range[0] === 0) return "The lower end is 0% because the sensitivity's 95% interval reaches 100%: the study cannot rule out that the model never misses a person with the condition.";
  return '';
}

/** The two ways a clinician states a prevalence: "1 in N" people, or a percentage of them. */
export type PrevalenceForm = 'one-in' | 'percent';

/**
 * The form a prevalence is stated in: "1 in N" where it is 1/N for a whole N of at least 10 (1 in
 * 4,000 births), else a percentage (a referral clinic's 30%), since 0.3 is not "1 in 3" and
 * rounding it to that would change every chance computed from it. `screen` prints a prevalence in
 * this form and the web app shows it in it, so the two read alike.
 */
export function prevalenceForm(p: number): PrevalenceForm {
  const n = Math.round(1 / p);
  return n >= 10 && Math.abs(1 / n - p) <= 1e-9 * p ? 'one-in' : 'percent';
}

/** A prevalence as a clinician states it, in `prevalenceForm`'s form: "1 in 4,000", "30%", "0.123%". */
export function prevalenceText(p: number): string {
  return prevalenceForm(p) === 'one-in' ? `1 in ${Math.round(1 / p).toLocaleString('en')}` : `${Number((100 * p).toPrecision(3))}%`;
}

/**
 * What an interval of one value (an AUC of 1 in every bootstrap resample of a few people) adds to
 * its figure, as the report words it: the resamples only reshuffle the study's people, so it is no
 * measured certainty. Empty for any other interval.
 */
export function singleValueClause(ci95: readonly [number, number] | null | undefined): string {
  return ci95 && ci95[0] === ci95[1] ? ', every resample alike: not a certainty' : '';
}

/**
 * A probability (a classifier score, a chance of the condition) as a percentage that never reads
 * as a certainty it is not: two significant digits of the value below 10% (0.27%) and of its
 * complement above 90% (99.97%, not 100.0%), one decimal between. A value of exactly 0 or 1 is a
 * score rounded to the results' four decimals, so it says the bound it lies within ("<0.01%",
 * ">99.99%"); below one in a million, "<0.0001%". `bound` is for the end of a range, which may be
 * exactly 0 or 100% (a rate's interval reaching 1): those ends print as "0%" and "100%".
 */
export function probabilityText(v: number, bound = false): string {
  if (bound && (v <= 0 || v >= 1)) return v <= 0 ? '0%' : '100%';
  if (v <= 0) return '<0.01%';
  if (v >= 1) return '>99.99%';
  if (v < 1e-6) return '<0.0001%';
  if (v > 1 - 1e-6) return '>99.9999%';
  const p = 100 * v;
  if (p < 9.95) return `${p.toPrecision(2)}%`;
  // The complement's two significant digits set the decimals (0.040 -> 99.960%).
  if (p > 90.05) return `${p.toFixed(Math.max(1, (100 - p).toPrecision(2).split('.')[1]?.length ?? 0))}%`;
  return `${p.toFixed(1)}%`;
}

function ratioOrNull(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

/**
 * Why a chance of exactly 0 or 1 is not one: it comes from a validated rate of 1 (no person
 * missed, or no control flagged, in cross-validation), which a study of finitely many people
 * cannot show; the range over the rates' intervals is what the study supports (`hasRange`: the
 * model holds those intervals, so the result has a `chanceRange`).
 */
export function boundChanceNote(positive: boolean, chance: number | null, hasRange: boolean): { chanceNote?: string } {
  if (chance !== 0 && chance !== 1) return {};
  const rate = positive ? 'no control was called positive (specificity 1)' : 'no affected person was missed (sensitivity 1)';
  // A model whose study drew no bootstrap (`--bootstrap 0`) keeps no intervals, so there is no range to point to.
  const instead = hasRange
    ? "Read the range over the rates' 95% intervals instead."
    : "The model holds no 95% intervals for its rates (its study drew no bootstrap), so no range can be given: the chance is not known, only that it is not this.";
  return { chanceNote: `Not ${chance === 1 ? '100%' : '0%'}: in cross-validation ${rate}, and the point rates turn that into a certainty that no study of finitely many people can show. ${instead}` };
}

/**
 * Whether a model's cross-validated AUC per person has not been shown above chance: its 95%
 * interval reaches 0.5. Such a model has not been shown to separate the classes, so every place
 * that shows its figures (`screen`, the model card, the report, the web app's Model tab) says so
 * through {@link noEvidenceStatement}, and none leaves a reader to spot 0.50 in an interval.
 */
export function aucReachesChance(auc: ValidatedRate | undefined): auc is ValidatedRate & { ci95: [number, number] } {
  return !!auc?.ci95 && auc.ci95[0] <= 0.5;
}

const r2 = (v: number) => String(Math.round(v * 100) / 100);

/**
 * The clause that names the AUC behind a no-evidence statement: its value, its interval, and that
 * it reaches chance, or lies wholly below it (a model that ranks people the wrong way round, which
 * {@link aucReachesChance} counts too): saying such an interval "reaches 0.5" would be false.
 */
export function aucChanceClause(auc: ValidatedRate & { ci95: [number, number] }): string {
  const where = auc.ci95[1] < 0.5 ? 'lies below 0.5, chance level: the model ranks people the wrong way round' : 'reaches 0.5, chance level';
  return `the model's cross-validated AUC per person (${auc.value === null ? 'n/a' : r2(auc.value)}, 95% interval ${r2(auc.ci95[0])}-${r2(auc.ci95[1])}) ${where}`;
}

/**
 * The statement a model with no evidence carries wherever its figures are shown (undefined for a
 * model whose AUC interval clears 0.5): a point AUC such as 0.68 reads as a working test unless
 * the page says that its interval allows chance.
 */
export function noEvidenceStatement(auc: ValidatedRate | undefined): string | undefined {
  if (!aucReachesChance(auc)) return undefined;
  return `No evidence: this model has not been shown to tell people with the condition from people without it, as ${aucChanceClause(auc)}. Results from it carry no evidence; do not act on them.`;
}

/**
 * Why a PPV or NPV of exactly 0 or 1 (at any prevalence) is not one: Bayes' rule turns a point
 * sensitivity or specificity of 0 or 1, observed on finitely many people, into a certainty. The
 * report marks such a value and prints this under its table; the interval is what the study supports
 * (`hasInterval` false: the study drew no bootstrap, so the note cannot point to one).
 */
export function boundPredictiveNote(which: 'ppv' | 'npv', value: number | null, hasInterval = true): string | undefined {
  if (value !== 0 && value !== 1) return undefined;
  // PPV = 1 needs specificity 1, PPV = 0 sensitivity 0; NPV = 1 needs sensitivity 1, NPV = 0 specificity 0.
  const rate = which === 'ppv'
    ? value === 1 ? 'no control was called positive (specificity 1)' : 'no affected person was called positive (sensitivity 0)'
    : value === 1 ? 'no affected person was missed (sensitivity 1)' : 'every control was called positive (specificity 0)';
  return `${which.toUpperCase()} not ${value === 1 ? '100%' : '0%'}: in cross-validation ${rate}, and Bayes' rule turns that point rate into a certainty that no study of finitely many people can show. ${hasInterval ? 'Read its 95% interval instead.' : 'The study drew no bootstrap, so it has no interval to read instead: the value is not known, only that it is not this.'}`;
}
