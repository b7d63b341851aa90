/**
 * Leave-one-site-out validation (`study --validate-by COLUMN`): each value of a column (e.g.
 * `source`, the hospital) is held out in turn and the model trained on the others predicts it.
 * Grouped K-fold mixes every site into every training set, so it cannot tell whether a model
 * travels to another hospital's cameras and population; holding out whole sites can (the
 * "internal-external" validation of Steyerberg & Harrell 2016, J Clin Epidemiol 69:245-247).
 *
 * Each held-out site is one outer fold of the study's cross-validation machinery: the classifier
 * and its hyperparameter are fitted on the other sites (inner grouped CV), and the decision
 * thresholds are fixed on those sites' inner out-of-fold probabilities, as in every K-fold fold;
 * no photo of the held-out site influences them. A subject must belong to one site: a person
 * photographed at two sites is an error, listed, since either assignment would put one person on
 * both sides or silently drop photos. Per site: AUC with its subject-bootstrap interval,
 * sensitivity and specificity at the training sites' threshold, Brier score and calibration;
 * pooled over all held-out predictions; and the spread of the per-site values.
 *
 * A site's intervals resample that site's own people, stratified by class within it
 * (`subgroupBootstrap: 'within'`): a site's figure describes its own population, and the study-wide
 * draws leave a site with two positive people without either in about one replicate in eight, so its
 * AUC would get no interval however clear it is. A site with fewer than
 * `DEFAULTS.evaluate.groupBootstrapMinPerClass` people of a class it holds gets none, and says so.
 *
 * In a study of three or more classes the model validated is the binary one (the positive or
 * reference class against all others pooled), not the ranked differential; a held-out site that holds
 * every person of a negative class leaves its model without that class, which is warned about, not
 * refused (the binary classes are both there; a missing one of those is an error).
 */
import { MIN_INNER_CV_SUBJECTS } from '../classify/tuning.ts';
import type { IndexFold } from '../classify/types.ts';
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { nameMap, type View } from '../types.ts';
import { crossValidate, type CrossValidationOptions, type GroupMetrics, type LevelMetrics, type StudyData } from './crossval.ts';
import type { CalibrationBin } from './metrics.ts';

/** One held-out site: its metrics and what it was predicted from. */
export interface SiteResult {
  metrics: GroupMetrics;
  /** The training sites' photos and subjects (all other sites). */
  train: { photos: number; subjects: number };
  /** Thresholds fixed on the training sites (Youden's J on their inner out-of-fold probabilities). */
  thresholds: { photo: number; subject: number };
  /**
   * Why the site's figures have no interval although the study has a bootstrap (too few people of a
   * class for the site's own bootstrap); absent when they have one.
   */
  intervalNote?: string;
  /** What makes the site's figures mean less than they seem (a class its model never saw); empty when nothing does. */
  warnings: string[];
}

/** One photo as scored by the model trained without its site (a row of `site-predictions.csv`). */
export interface SitePrediction {
  path: string;
  subject: string;
  /** 1 = positive. */
  label: number;
  view: View | null;
  site: string;
  probability: number;
  /** The thresholds of the model that scored it (its site's `thresholds`). */
  thresholds: { photo: number; subject: number };
}

/** Spread of one metric's per-site point values (sites where it is defined). */
export interface Spread {
  min: number | null;
  max: number | null;
  /**
   * The sites at `min` and at `max` (several on a tie), so that an extreme can be read with that
   * site's caveats: an AUC of 0.889 from two positive people is not the same "best site" as one
   * from twenty.
   */
  minAt: string[];
  maxAt: string[];
  /** max - min. */
  range: number | null;
  /** Standard deviation across sites (n - 1 denominator; null with fewer than two sites). */
  sd: number | null;
  /** Sites where the metric is defined (e.g. AUC needs both classes in the site). */
  sites: number;
}

/** The result of {@link validateBySite}. */
export interface SiteValidation {
  column: string;
  /** The held-out values, in order. */
  sites: string[];
  bySite: Record<string, SiteResult>;
  /** All held-out predictions together (each photo predicted once, by the model that never saw its site). */
  pooled: GroupMetrics;
  /** Spread between sites of AUC, sensitivity and specificity, per level. */
  spread: { photo: Record<SpreadKey, Spread>; subject: Record<SpreadKey, Spread> };
  /** Every photo as predicted by the model trained without its site, in the order of the input rows. */
  predictions: SitePrediction[];
  /** In a ranking study: that the sites validate the binary model, not the differential. */
  differentialNote?: string;
}

const SPREAD_KEYS = ['auc', 'sensitivity', 'specificity'] as const;
type SpreadKey = (typeof SPREAD_KEYS)[number];

/** Input of {@link validateBySite}: the study's rows, their site, and the evaluation options. */
export type SiteValidationInput = StudyData &
  Pick<CrossValidationOptions, 'classifier' | 'seed' | 'prevalence' | 'bootstrap' | 'workers' | 'innerFolds' | 'features'> & {
    column: string;
    /** Each photo's value of `column`. */
    site: readonly (string | null | undefined)[];
    /**
     * With three or more classes: each photo's class, the positive (reference) class of the binary
     * model `y` encodes, and whether the study ranks the classes. A site whose held-out people are
     * the only ones of a class is warned about; with `ranking` the validation says that it covers
     * the binary model only.
     */
    classes?: { label: readonly string[]; positive: string; ranking: boolean };
  };

/** Values named in one error message; the rest are counted. */
const MAX_NAMED = 20;

function listed(items: string[]): string {
  const more = items.length - MAX_NAMED;
  return items.slice(0, MAX_NAMED).join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/**
 * The sites in order. E_MANIFEST listing the photos without a value, the subjects seen at two
 * sites, values that differ only in letter case or Unicode form, or a column with fewer than two values.
 */
function subjectSites(input: SiteValidationInput): string[] {
  const { column, site, subjects, photoIds } = input;
  const blank = photoIds.filter((_, i) => (site[i] ?? '') === '');
  if (blank.length > 0) {
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: ${blank.length} photo(s) have no "${column}" value, so they cannot be held out with a site: ${listed(blank.map((p) => `"${p}"`))}. Fill in the column for every row.`);
  }
  const seen = new Map<string, Set<string>>();
  subjects.forEach((s, i) => seen.set(s, (seen.get(s) ?? new Set()).add(site[i]!)));
  const twoSites = [...seen].filter(([, v]) => v.size > 1);
  if (twoSites.length > 0) {
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: ${twoSites.length} subject(s) appear under two or more values, and a person may not be on both sides of a split: ${listed(twoSites.map(([s, v]) => `"${s}" (${[...v].join(', ')})`))}. Give each person one ${column} (or keep only their photos from one).`);
  }
  const sites = [...new Set(site as string[])].sort();
  // "A" and "a" are one site typed two ways: held out apart, each would be scored by a model
  // trained on the other half of its own site, and the validation would flatter the model.
  const byForm = new Map<string, string[]>();
  for (const v of sites) {
    const form = v.normalize('NFC').toLowerCase();
    byForm.set(form, [...(byForm.get(form) ?? []), v]);
  }
  const lookalikes = [...byForm.values()].filter((names) => names.length > 1);
  if (lookalikes.length > 0) {
    const photos = (v: string) => site.filter((x) => x === v).length;
    const spelt = lookalikes.map((names) => `values ${names.map((v) => `${JSON.stringify(v)} (${photos(v)} photos)`).join(', ')}`);
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: ${listed(spelt)} differ only in letter case or Unicode form, so one site would be held out as ${lookalikes[0].length}, its other part left in training. Write each value one way.`);
  }
  if (sites.length < 2) {
    throw new PhenofaceError('E_MANIFEST', `--validate-by ${column}: the column has ${sites.length} value(s) (${sites.join(', ')}); leaving one out needs at least two.`);
  }
  return sites;
}

/**
 * One fold per site (test = its photos, train = the others). E_MANIFEST when the training sites of
 * a fold lack a class, or hold fewer than {@link MIN_INNER_CV_SUBJECTS} people of one: no model
 * could be fitted to hold that site out.
 */
export function siteFolds(input: SiteValidationInput): { sites: string[]; folds: IndexFold[] } {
  const sites = subjectSites(input);
  const folds = sites.map((value) => {
    const fold: IndexFold = { train: [], test: [] };
    input.site.forEach((s, i) => (s === value ? fold.test : fold.train).push(i));
    const people = [new Set<string>(), new Set<string>()];
    for (const i of fold.train) people[input.y[i]].add(input.subjects[i]);
    const missing = people.findIndex((p) => p.size === 0);
    if (missing !== -1) {
      throw new PhenofaceError('E_MANIFEST', `--validate-by ${input.column}: without "${value}", the other values hold only ${missing === 0 ? 'positive' : 'negative'} subjects; a model trained there could not tell the classes apart. Each site left out must leave both classes in the others.`);
    }
    const thin = people.findIndex((p) => p.size < MIN_INNER_CV_SUBJECTS);
    if (thin !== -1) {
      const who = [...people[thin]].map((p) => `"${p}"`).join(', ');
      throw new PhenofaceError('E_MANIFEST', `--validate-by ${input.column}: without "${value}", the other values hold ${people[thin].size} ${thin === 1 ? 'positive' : 'negative'} subject (${who}), and the inner cross-validation that tunes the classifier and fixes its thresholds needs ${MIN_INNER_CV_SUBJECTS} of each class. Each site left out must leave at least ${MIN_INNER_CV_SUBJECTS} people of each class in the others.`);
    }
    return fold;
  });
  return { sites, folds };
}

/** Min, max (with the sites at them), range and SD of the defined values; `values[k]` is site `names[k]`'s. */
export function spreadOf(values: (number | null)[], names: readonly string[]): Spread {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return { min: null, max: null, minAt: [], maxAt: [], range: null, sd: null, sites: 0 };
  const min = Math.min(...v), max = Math.max(...v);
  const at = (x: number) => names.filter((_, k) => values[k] === x);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  return { min, max, minAt: at(min), maxAt: at(max), range: max - min, sd, sites: v.length };
}

/**
 * The warnings of each held-out site (in the order of `sites`): a class of the study that none of
 * its training sites holds. That class's people are all at the held-out site, scored by a model
 * that never saw one; as negatives of the binary model they move its specificity for a reason that
 * is not the site (camera, population) but the class.
 */
export function siteWarnings(input: SiteValidationInput, sites: readonly string[], folds: readonly IndexFold[]): string[][] {
  const classes = input.classes;
  if (!classes) return sites.map(() => []);
  const all = [...new Set(classes.label)].sort();
  return sites.map((value, f) => {
    const trained = new Set(folds[f].train.map((i) => classes.label[i]));
    return all.filter((c) => !trained.has(c)).map((c) => {
      const people = new Set(folds[f].test.filter((i) => classes.label[i] === c).map((i) => input.subjects[i])).size;
      return `no other value of ${input.column} has a "${c}" person, so the model that predicts ${value} never saw that class: ${value}'s ${people} "${c}" ${people === 1 ? 'person counts' : 'people count'} as negatives of "${classes.positive}" against the rest, and ${value}'s specificity reflects a class unseen in training, not only how the model travels.`;
    });
  });
}

/** Why a site's figures have no interval, when the study has a bootstrap but the site too few people of a class. */
function intervalNote(m: GroupMetrics, bootstrap: number): string | undefined {
  const { positive, negative } = m.subject.n;
  const min = DEFAULTS.evaluate.groupBootstrapMinPerClass;
  if (bootstrap === 0 || [positive, negative].every((n) => n === 0 || n >= min)) return undefined;
  return `no interval: too few people (${positive} positive, ${negative} negative; the site's own bootstrap needs at least ${min} of each class it holds)`;
}

/**
 * Runs leave-one-site-out validation: one outer fold per value of `column`, with the study's
 * classifier, seed, bootstrap and prevalence. Deterministic given the seed.
 */
export async function validateBySite(input: SiteValidationInput): Promise<SiteValidation> {
  const { sites, folds } = siteFolds(input);
  const warnings = siteWarnings(input, sites, folds);
  const bootstrap = input.bootstrap ?? DEFAULTS.evaluate.bootstrap;
  const result = await crossValidate({
    ...input,
    subgroups: { [input.column]: input.site },
    subgroupBootstrap: 'within',
    splits: [folds],
    folds: sites.length,
    repeats: 1,
    permutations: 0,
    permutationRepeats: 1,
  });
  const subjectsIn = (rows: number[]) => new Set(rows.map((i) => input.subjects[i])).size;
  const bySite = nameMap<SiteResult>();
  sites.forEach((value, f) => {
    const metrics = result.bySubgroup[input.column][value];
    const note = intervalNote(metrics, bootstrap);
    bySite[value] = {
      metrics,
      train: { photos: folds[f].train.length, subjects: subjectsIn(folds[f].train) },
      thresholds: result.folds[f].thresholds,
      ...(note ? { intervalNote: note } : {}),
      warnings: warnings[f],
    };
  });
  const spreadAt = (level: keyof GroupMetrics) =>
    Object.fromEntries(SPREAD_KEYS.map((k) => [k, spreadOf(sites.map((s) => bySite[s].metrics[level][k].value), sites)])) as Record<SpreadKey, Spread>;
  // One repeat, one fold per site: each photo has exactly one prediction, from its site's fold.
  const predictions = result.predictions.map((p): SitePrediction => ({
    path: p.path, subject: p.subject, label: p.label, view: p.view, site: sites[p.fold], probability: p.probability, thresholds: result.folds[p.fold].thresholds,
  }));
  return {
    column: input.column, sites, bySite, pooled: { photo: result.photo, subject: result.subject }, spread: { photo: spreadAt('photo'), subject: spreadAt('subject') }, predictions,
    ...(input.classes?.ranking ? { differentialNote: differentialNote(input.column, input.classes.positive) } : {}),
  };
}

/** What leave-one-site-out covers in a ranking study. */
function differentialNote(column: string, positive: string): string {
  return `Leave-one-${column}-out validates the binary model ("${positive}" against all other classes pooled), not the ranked differential: the differential's figures come from the grouped K-fold alone.`;
}

/**
 * Calibration in the large from a reliability curve: mean predicted probability against the observed
 * positive rate over all units (Van Calster et al. 2016, J Clin Epidemiol 74:167-176). A model that
 * travels keeps the two close; a site whose prevalence or cameras differ pulls them apart.
 */
export function calibrationInTheLarge(bins: readonly CalibrationBin[]): { meanPredicted: number | null; observedRate: number | null } {
  const n = bins.reduce((a, b) => a + b.count, 0);
  if (n === 0) return { meanPredicted: null, observedRate: null };
  return {
    meanPredicted: bins.reduce((a, b) => a + b.count * b.meanPredicted, 0) / n,
    observedRate: bins.reduce((a, b) => a + b.count * b.observedRate, 0) / n,
  };
}

/** A level's metrics as JSON: estimates and counts, the ROC curve left out, calibration summarised with its bins. */
function levelJson(m: LevelMetrics): Record<string, unknown> {
  const { roc: _roc, calibration, ...rest } = m;
  return { ...rest, calibration: { ...calibrationInTheLarge(calibration), bins: calibration } };
}

const groupJson = (g: GroupMetrics) => ({ photo: levelJson(g.photo), subject: levelJson(g.subject) });

/** The validation as metrics.json's `sites` field (documented in the README); a site's `intervalNote` and `warnings` only when it has them. */
export function siteValidationJson(v: SiteValidation): Record<string, unknown> {
  return {
    column: v.column,
    method: 'leave-one-value-out',
    subjectPolicy: 'a subject under two values is an error',
    values: v.sites,
    ...(v.differentialNote ? { differentialNote: v.differentialNote } : {}),
    bySite: Object.fromEntries(v.sites.map((s) => {
      const r = v.bySite[s];
      return [s, { ...groupJson(r.metrics), train: r.train, thresholds: r.thresholds, ...(r.intervalNote ? { intervalNote: r.intervalNote } : {}), ...(r.warnings.length ? { warnings: r.warnings } : {}) }];
    })),
    pooled: groupJson(v.pooled),
    spread: v.spread,
  };
}
