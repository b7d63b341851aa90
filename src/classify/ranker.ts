/**
 * The ranked differential's classifier: given a face, a probability for each of K classes
 * (syndromes, and controls when the data hold them), so the classes can be ranked as GestaltMatcher
 * ranks disorders (Hsieh et al. 2022). Two families: multinomial L2 logistic regression
 * (`multinomial.ts`) and a cosine gallery (`gallery.ts`). An inner subject-grouped CV on the
 * training rows chooses the family (in `auto`), its setting (C, or the gallery's k) and, for the
 * gallery, the softmax temperature, all by the mean out-of-fold cross-entropy over the classes
 * (a proper scoring rule, smooth in the setting where top-1 accuracy is a step function). Rows are
 * first scaled to unit length (a per-row step, so any backbone's embeddings are compared by
 * direction, as face embeddings are meant to be); each inner fold then standardises with its own
 * training rows, and the final model with all of them.
 */
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { fitGalleryPacked, galleryScores, type GalleryModel } from './gallery.ts';
import { checkRows, finiteNumber, numberArray, Standardiser, type Packed } from './linalg.ts';
import { unitVector } from '../math/vector.ts';
import { fitMultinomialPacked, softmaxInPlace, softmaxLogits, type SoftmaxModel } from './multinomial.ts';
import { classifierJSON, type ClassifierJSON, type GroupSplitter } from './types.ts';

/** The ranking families. */
export const RANKER_FAMILIES = ['multinomial', 'gallery'] as const;
export type RankerFamily = (typeof RANKER_FAMILIES)[number];
/** What `--classifier` may name for a ranking study: a family, or `auto` (the inner CV picks). */
export const RANKER_CHOICES = ['auto', ...RANKER_FAMILIES] as const;
export type RankerChoice = (typeof RANKER_CHOICES)[number];

/** How to fit a ranker. */
export interface RankerFitOptions {
  /** `auto` (default `DEFAULTS.classify.ranking.classifier`), `multinomial` or `gallery`. */
  classifier?: RankerChoice;
  seed: number;
  innerFolds: number;
  /** The inner splitter, stratified over classes (`groupedClassKFold` from `evaluate/`). */
  split: GroupSplitter;
  /** Stop a family's grid walk after this many values in a row fail to improve (default: whole grid). */
  patience?: number;
}

/** One setting the inner CV tried, with its out-of-fold cross-entropy. */
export interface RankCandidate {
  family: RankerFamily;
  /** C (multinomial) or k (gallery). */
  value: number;
  /** Softmax temperature of the scores (1 for the multinomial, whose logits are already fitted by cross-entropy). */
  temperature: number;
  logLoss: number;
}

/** The inner CV's record. */
export interface RankSelection {
  innerFolds: number;
  candidates: RankCandidate[];
  chosen: RankCandidate;
}

/** A family's solver on packed standardised rows. */
interface Family<M> {
  hyperName: string;
  grid: readonly number[];
  /** Standardised rows scaled to unit length (cosines). */
  unitRows: boolean;
  /** Choose a softmax temperature on held-out scores (scores that are not fitted logits). */
  calibrate: boolean;
  fit(Z: Packed, y: Int32Array, groups: readonly string[], classes: number, value: number, warm: M | undefined): M;
  /** Raw class scores of packed row `i` into `out`. */
  scores(m: M, Z: Packed, i: number, out: Float64Array): Float64Array;
}

const FAMILIES: { multinomial: Family<SoftmaxModel>; gallery: Family<GalleryModel> } = {
  multinomial: {
    hyperName: 'C',
    grid: DEFAULTS.classify.ranking.multinomial.grid,
    unitRows: false,
    calibrate: false,
    fit: (Z, y, _groups, classes, C, warm) => fitMultinomialPacked(Z, y, classes, C, warm),
    scores: (m, Z, i, out) => softmaxLogits(m, Z, i, out),
  },
  gallery: {
    hyperName: 'k',
    grid: DEFAULTS.classify.ranking.gallery.grid,
    unitRows: true,
    calibrate: true,
    fit: (Z, y, groups, classes, k) => fitGalleryPacked(Z, y, groups, classes, k),
    scores: (m, Z, i, out) => galleryScores(m, Z.rows, i * Z.d, out),
  },
};

/** Mean cross-entropy of softmax(scores / temperature) against classes `y`; scores are K per row. */
export function crossEntropy(scores: Float64Array, y: ArrayLike<number>, classes: number, temperature: number): number {
  const z = new Float64Array(classes);
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    for (let k = 0; k < classes; k++) z[k] = scores[i * classes + k] / temperature;
    const target = z[y[i]];
    sum += softmaxInPlace(z) - target;
  }
  return sum / y.length;
}

/** The temperature (from `DEFAULTS.classify.ranking.galleryTemperatures`) with the lowest cross-entropy, or 1 when the family needs none. */
function bestTemperature(calibrate: boolean, scores: Float64Array, y: ArrayLike<number>, classes: number): { temperature: number; logLoss: number } {
  const temperatures = calibrate ? DEFAULTS.classify.ranking.galleryTemperatures : [1];
  let best = { temperature: temperatures[0], logLoss: Infinity };
  for (const t of temperatures) {
    const loss = crossEntropy(scores, y, classes, t);
    if (loss < best.logLoss) best = { temperature: t, logLoss: loss };
  }
  return best;
}

/** The inner CV of one family along its grid: each setting's out-of-fold cross-entropy and temperature. */
function innerCurve<M>(name: RankerFamily, fam: Family<M>, X: readonly Float32Array[], y: Int32Array, groups: readonly string[], classes: number, o: RankerFitOptions): RankCandidate[] {
  const n = y.length;
  const folds = o.split([...y], groups, o.innerFolds, o.seed).map((f) => {
    const { standardiser, packed } = Standardiser.fitTransform(X, f.train, fam.unitRows);
    return { ...f, Z: packed, Zt: standardiser.pack(X, f.test), yt: Int32Array.from(f.train, (i) => y[i]), gt: f.train.map((i) => groups[i]), warm: undefined as M | undefined };
  });
  const out: RankCandidate[] = [];
  let sinceBest = 0;
  for (const value of fam.grid) {
    const oof = new Float64Array(n * classes);
    const row = new Float64Array(classes);
    for (const f of folds) {
      f.warm = fam.fit(f.Z, f.yt, f.gt, classes, value, f.warm);
      f.test.forEach((i, j) => oof.set(fam.scores(f.warm!, f.Zt, j, row), i * classes));
    }
    const fitted = bestTemperature(fam.calibrate, oof, y, classes);
    const best = Math.min(...out.map((c) => c.logLoss));
    out.push({ family: name, value, ...fitted });
    sinceBest = fitted.logLoss < best ? 0 : sinceBest + 1;
    if (o.patience !== undefined && sinceBest > o.patience) break;
  }
  return out;
}

/** Checks the training rows and classes; returns the dimension. */
function checkRankData(X: readonly Float32Array[], y: readonly number[], groups: readonly string[], labels: readonly string[]): number {
  const d = checkRows(X);
  if (y.length !== X.length || groups.length !== X.length) {
    throw new PhenofaceError('E_INPUT', `Training data differ in length: ${X.length} embeddings, ${y.length} classes, ${groups.length} subject ids. Should be one of each per photo.`);
  }
  if (labels.length < 2) throw new PhenofaceError('E_INPUT', `A ranking needs at least two classes; got ${labels.length}.`);
  y.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0 || c >= labels.length) throw new PhenofaceError('E_INPUT', `Invalid class at row ${i}: ${JSON.stringify(c)}. Should be an integer in [0, ${labels.length - 1}].`);
  });
  return d;
}

/**
 * Fits a ranker on `X` (one embedding per row), classes `y` (indices into `labels`) and subject ids
 * `groups`: the inner CV picks the family (when `auto`), its setting and temperature; the final
 * model is then fitted on every row.
 */
export function fitRanker(rows: readonly Float32Array[], y: readonly number[], groups: readonly string[], labels: readonly string[], o: RankerFitOptions): FittedRanker {
  checkRankData(rows, y, groups, labels);
  const X = rows.map(unitVector);
  const choice = o.classifier ?? DEFAULTS.classify.ranking.classifier;
  if (!(RANKER_CHOICES as readonly string[]).includes(choice)) {
    throw new PhenofaceError('E_CONFIG', `Unsupported ranking classifier: ${JSON.stringify(choice)}. Should be one of: ${RANKER_CHOICES.join(', ')}.`);
  }
  const classes = labels.length;
  const yi = Int32Array.from(y);
  const families = choice === 'auto' ? RANKER_FAMILIES : [choice];
  const candidates = families.flatMap((name) => innerCurve(name, FAMILIES[name] as Family<unknown>, X, yi, groups, classes, o));
  const chosen = candidates.reduce((a, b) => (b.logLoss < a.logLoss ? b : a));
  const fam = FAMILIES[chosen.family] as Family<SoftmaxModel | GalleryModel>;
  const all = Array.from({ length: X.length }, (_, i) => i);
  const { standardiser, packed } = Standardiser.fitTransform(X, all, fam.unitRows);
  const model = fam.fit(packed, yi, groups, classes, chosen.value, undefined);
  return new FittedRanker(chosen.family, [...labels], standardiser, model, chosen.value, chosen.temperature, { innerFolds: o.innerFolds, candidates, chosen });
}

/** A fitted ranker: class probabilities for each face. */
export class FittedRanker {
  readonly name = 'ranking';
  readonly dim: number;
  readonly hyper: Readonly<Record<string, number>>;

  constructor(
    readonly family: RankerFamily,
    /** The class names, in the order of the probabilities. */
    readonly labels: readonly string[],
    readonly standardiser: Standardiser,
    readonly model: SoftmaxModel | GalleryModel,
    /** The family's setting: C (multinomial) or k (gallery). */
    readonly value: number,
    readonly temperature: number,
    readonly rankSelection?: RankSelection,
  ) {
    this.dim = standardiser.mean.length;
    this.hyper = { [FAMILIES[family].hyperName]: value, temperature };
  }

  /** Class probabilities (in `labels` order), one array per row. */
  rank(X: readonly Float32Array[]): Float64Array[] {
    checkRows(X, this.dim);
    const fam = FAMILIES[this.family] as Family<SoftmaxModel | GalleryModel>;
    const Z = this.standardiser.pack(X.map(unitVector), X.map((_, i) => i));
    return X.map((_, i) => {
      const z = fam.scores(this.model, Z, i, new Float64Array(this.labels.length));
      for (let k = 0; k < z.length; k++) z[k] /= this.temperature;
      softmaxInPlace(z);
      return z;
    });
  }

  toJSON(): ClassifierJSON {
    const m = this.model;
    const model = this.family === 'multinomial'
      ? { weights: [...(m as SoftmaxModel).weights], bias: [...(m as SoftmaxModel).bias] }
      : { k: (m as GalleryModel).k, entries: [...(m as GalleryModel).entries], entryClass: [...(m as GalleryModel).entryClass], centroids: [...(m as GalleryModel).centroids] };
    return classifierJSON(this, { family: this.family, labels: [...this.labels], temperature: this.temperature, standardiser: this.standardiser.toJSON(), model });
  }

  /** Restores a ranker from {@link toJSON}; throws `E_BUNDLE` on a malformed record. */
  static fromJSON(json: ClassifierJSON): FittedRanker {
    if (json?.kind !== 'phenoface-classifier' || json.name !== 'ranking' || !(Number.isInteger(json.dim) && json.dim > 0) || typeof json.params !== 'object' || json.params === null) {
      throw new PhenofaceError('E_BUNDLE', 'Invalid ranking classifier record: expected a "phenoface-classifier" named "ranking" with a positive dim and params.');
    }
    const p = json.params as { family?: unknown; labels?: unknown; temperature?: unknown; standardiser?: unknown; model?: Record<string, unknown> };
    const family = p.family as RankerFamily;
    if (!RANKER_FAMILIES.includes(family)) throw new PhenofaceError('E_BUNDLE', `Invalid ranking classifier: family ${JSON.stringify(p.family)}. Should be one of: ${RANKER_FAMILIES.join(', ')}.`);
    // A name listed twice would be one class shown twice in the differential.
    if (!Array.isArray(p.labels) || p.labels.length < 2 || p.labels.some((l) => typeof l !== 'string' || l === '') || new Set(p.labels).size !== p.labels.length) {
      throw new PhenofaceError('E_BUNDLE', 'Invalid ranking classifier: labels should be two or more distinct class names.');
    }
    const labels = p.labels as string[];
    const K = labels.length;
    const d = json.dim;
    const m = p.model ?? {};
    let model: SoftmaxModel | GalleryModel;
    if (family === 'multinomial') {
      model = { classes: K, weights: numberArray(m.weights, K * d, 'model.weights'), bias: numberArray(m.bias, K, 'model.bias') };
    } else {
      const entryClass = Int32Array.from(Array.isArray(m.entryClass) ? (m.entryClass as number[]) : []);
      if (entryClass.length === 0 || entryClass.some((c) => c < 0 || c >= K)) throw new PhenofaceError('E_BUNDLE', 'Invalid ranking classifier: model.entryClass should list a class index per gallery entry.');
      // k = 0 scores by the centroids, k >= 1 by that many nearest people: another k takes none or all but one.
      const k = finiteNumber(m.k, 'model.k');
      if (!Number.isInteger(k) || k < 0) throw new PhenofaceError('E_BUNDLE', `Invalid ranking classifier: model.k is ${k}. Should be 0 (class centroids) or a whole number of nearest people.`);
      model = { classes: K, k, d, entries: numberArray(m.entries, entryClass.length * d, 'model.entries'), entryClass, centroids: numberArray(m.centroids, K * d, 'model.centroids') };
    }
    const value = finiteNumber(json.hyper?.[FAMILIES[family].hyperName], `hyper.${FAMILIES[family].hyperName}`);
    // The scores are divided by it: 0 makes every probability NaN, a negative one ranks the classes upside down.
    const temperature = finiteNumber(p.temperature, 'temperature');
    if (!(temperature > 0)) throw new PhenofaceError('E_BUNDLE', `Invalid ranking classifier: temperature is ${temperature}. Should be a positive number.`);
    return new FittedRanker(family, labels, Standardiser.fromJSON(p.standardiser, d), model, value, temperature);
  }
}
