/**
 * A classifier over feature blocks, and the honest choice between representations. Each block is
 * fitted (standardised) on the training rows and gets its own classifier, tuned by the usual inner
 * subject-grouped CV; several blocks are fused by stacking (Wolpert 1992): a small logistic
 * regression on the blocks' out-of-fold logits. Concatenation would not do: the classifier
 * standardises every column itself, so block weights would be undone and the wider block (1,536
 * region columns against 192 embedding ones) would take most of the penalty's budget.
 *
 * `auto` stacks every block it is given and drops the ones the combiner does not weigh. Every
 * single block and stacked combination is scored by the mean photo log-loss of its out-of-fold
 * probabilities on the training rows only (the blocks' inner OOF probabilities, and for a stack
 * the combiner cross-fitted on the same inner folds), and a smaller one replaces the full stack
 * only when clearly better. So the choice, like the hyperparameter, never sees the rows it will be
 * tested on.
 */
import { fitLogisticPacked } from '../classify/logistic.ts';
import { FittedLinear } from '../classify/linear.ts';
import { logLoss } from '../classify/loss.ts';
import { classifierFromJSON } from '../classify/registry.ts';
import type { Classifier, FitOptions, FittedClassifier } from '../classify/types.ts';
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { deriveSeed } from '../math/random.ts';
import { FittedGeometry, geometryContributions, type RegionContribution } from './geometry.ts';
import { embeddingBlock, featureBlock, fittedBlockFromJSON, type FeatureRequest } from './registry.ts';
import { readNumbers, readObject } from './json.ts';
import { availableFeatures } from './transfer.ts';
import type { FeatureModelJSON, FeatureName, FeatureSelection, FittedBlock, PhotoInputs, Stacker } from './types.ts';

/** One block of a fitted model: its fitted block and the classifier on its vectors. */
export interface ModelPart {
  block: FittedBlock;
  classifier: FittedClassifier;
}

/** The seed stream of the combiner's cross-fitting folds. */
const STACK_STREAM = 0x57ac;

/** Probabilities are clipped this far from 0 and 1 before their logits are stacked. */
const EPS = 1e-6;
const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A fitted classifier over feature blocks. */
export class FittedFeatureModel {
  constructor(
    readonly parts: readonly ModelPart[],
    readonly stacker: Stacker | null,
    /** Out-of-fold probabilities of the training rows (the basis for the decision thresholds). */
    readonly innerOof?: Float64Array,
    /** How `auto` chose this model, when it did. */
    readonly selection?: FeatureSelection,
  ) {
    if (parts.length === 0 || (parts.length > 1) !== (stacker !== null) || (stacker && stacker.weights.length !== parts.length)) {
      throw new PhenofaceError('E_BUNDLE', `A feature model needs one block, or several with a combiner of one weight each; got ${parts.length} block(s) and ${stacker ? stacker.weights.length : 'no'} weights.`);
    }
  }

  /** The blocks it reads, in order. */
  get features(): FeatureName[] {
    return this.parts.map((p) => p.block.name);
  }

  /** Each block's hyperparameters, keyed `block.name` (e.g. `embedding.C`). */
  get hyper(): Record<string, number> {
    return Object.fromEntries(this.parts.flatMap((p) => Object.entries(p.classifier.hyper).map(([k, v]) => [`${p.block.name}.${k}`, v])));
  }

  /** Each block's positive-class probability, one array per block. */
  blockProbabilities(rows: readonly PhotoInputs[]): number[][] {
    return this.parts.map((p) => p.classifier.predictProba(p.block.transform(rows)));
  }

  /** Probability of the positive class, one per row. */
  predictProba(rows: readonly PhotoInputs[]): number[] {
    return this.combine(this.blockProbabilities(rows));
  }

  /** The model's probabilities from its blocks' ({@link blockProbabilities}). */
  combine(probs: readonly (readonly number[])[]): number[] {
    const s = this.stacker;
    if (!s) return [...probs[0]];
    return probs[0].map((_, i) => sigmoid(s.bias + probs.reduce((z, p, k) => z + s.weights[k] * logit(p[i]), 0)));
  }

  /** A plain-JSON form that {@link FittedFeatureModel.fromJSON} restores. */
  toJSON(): FeatureModelJSON {
    return {
      kind: 'phenoface-feature-model',
      version: 1,
      features: this.features,
      blocks: this.parts.map((p) => p.block.toJSON()),
      classifiers: this.parts.map((p) => p.classifier.toJSON()),
      stacker: this.stacker && { weights: [...this.stacker.weights], bias: this.stacker.bias },
      ...(this.selection ? { selection: this.selection } : {}),
    };
  }

  /** Restores a model from its JSON; E_BUNDLE when malformed. */
  static fromJSON(json: unknown): FittedFeatureModel {
    const j = json as Partial<FeatureModelJSON> | undefined;
    if (j?.kind !== 'phenoface-feature-model' || j.version !== 1 || !Array.isArray(j.blocks) || !Array.isArray(j.classifiers) || j.blocks.length !== j.classifiers.length) {
      throw new PhenofaceError('E_BUNDLE', `Malformed feature model in the model bundle (kind ${JSON.stringify(j?.kind)} v${j?.version}). Expected "phenoface-feature-model" v1 with one classifier per block.`);
    }
    const parts = j.blocks.map((b, k) => ({ block: fittedBlockFromJSON(b), classifier: classifierFromJSON(j.classifiers![k]) }));
    parts.forEach(({ block, classifier }) => {
      if (block.dim !== classifier.dim) throw new PhenofaceError('E_BUNDLE', `The ${block.name} block gives ${block.dim} values but its classifier expects ${classifier.dim}.`);
    });
    return new FittedFeatureModel(parts, stackerFromJSON(j.stacker), undefined, j.selection);
  }
}

/**
 * A bundle's combiner, or null when it has none; E_BUNDLE unless its weights and bias are finite
 * numbers (the model checks there is one weight per block). A weight that is null or a string would otherwise count as 0 in the
 * sum of logits and silently drop its block from every call.
 */
function stackerFromJSON(json: unknown): Stacker | null {
  if (json === undefined || json === null) return null;
  const s = readObject(json, 'stacker');
  const weights = readNumbers(s.weights, 'stacker.weights');
  if (typeof s.bias !== 'number' || !Number.isFinite(s.bias)) throw new PhenofaceError('E_BUNDLE', `Invalid feature record: stacker.bias is ${JSON.stringify(s.bias)?.slice(0, 60)}. Expected a finite number.`);
  return { weights: [...weights], bias: s.bias };
}

/**
 * A bundle's classifier on raw embeddings (a bundle without feature blocks) as a feature model:
 * the embedding block without standardisation (the classifier standardises its input itself).
 */
export function embeddingOnlyModel(classifier: FittedClassifier): FittedFeatureModel {
  const identity = { mean: new Array<number>(classifier.dim).fill(0), scale: new Array<number>(classifier.dim).fill(1) };
  const block = embeddingBlock.fromJSON({ kind: 'phenoface-feature-block', version: 1, name: 'embedding', dim: classifier.dim, params: { standardiser: identity } });
  return new FittedFeatureModel([{ block, classifier }], null);
}

/**
 * The embedding's part of a feature model as a classifier on the backbone's raw L2-normalised
 * embeddings, what the heat maps differentiate: its decision is the part's contribution to the
 * model's logit (the combiner's weight times the block classifier's decision on the standardised
 * embedding; the other blocks' contributions are constant in the embedding), and its gradient is
 * exact. When the block also reads a second network's embedding, that half is held at its
 * training mean, as the geometry's contributions are taken from the training-mean face: the heat
 * maps show what the backbone's half sees (the second network's input is another crop, through
 * another network). Undefined when the model leaves the embedding out. Not for saving: the bundle
 * records the feature model.
 */
export function embeddingClassifier(model: FittedFeatureModel): FittedClassifier | undefined {
  const k = model.features.indexOf('embedding');
  if (k < 0) return undefined;
  const { block, classifier } = model.parts[k];
  const { decision, decisionGradient } = classifier;
  if (!decision || !decisionGradient) return undefined;
  const weight = model.stacker ? model.stacker.weights[k] : 1;
  const bias = model.stacker ? model.stacker.bias : 0;
  const { standardiser, secondDim } = block.toJSON().params as { standardiser: { mean: number[]; scale: number[] }; secondDim?: number };
  const dim = block.dim - (secondDim ?? 0);
  const second = secondDim ? { secondEmbedding: Float32Array.from(standardiser.mean.slice(dim)) } : {};
  const asInputs = (X: readonly Float32Array[]) => block.transform(X.map((embedding) => ({ embedding, ...second })));
  const scores = (X: readonly Float32Array[]) => decision.call(classifier, asInputs(X)).map((s) => bias + weight * s);
  return {
    name: classifier.name,
    dim,
    hyper: classifier.hyper,
    predictProba: (X) => scores(X).map(sigmoid),
    decision: scores,
    decisionGradient: (x) => {
      const g = decisionGradient.call(classifier, asInputs([x])[0]);
      return g.subarray(0, dim).map((v, a) => (weight * v) / standardiser.scale[a]);
    },
    toJSON: () => {
      throw new PhenofaceError('E_INTERNAL', 'The embedding part of a feature model is not saved on its own: save the feature model.');
    },
  };
}

/**
 * One photo's geometry explanation: each facial region's contribution to the model's logit (log-odds
 * of the positive class) through its geometry part, relative to the training-mean face.
 */
export type GeometryExplanation = (row: PhotoInputs) => RegionContribution[] | undefined;

/**
 * The geometry part of a feature model as an exact, local explanation (gradient x input of a linear
 * score, Baehrens et al. 2010): the part adds `w_s (a · d(x) + b)` to the model's logit, where `w_s`
 * is the combiner's weight (1 without a combiner), `d(x)` the block classifier's decision on the
 * block's vector `x`, and `a`, `b` the map from decision to the block's logit (logistic regression:
 * 1, 0; a Platt-scaled SVM: its sigmoid's slope and offset). With `d` linear, the part's logit less
 * its value at the training-mean face (`x = 0`) is `w_s a w · x`, and {@link geometryContributions}
 * splits that exactly among the regions. Undefined when the model has no geometry part, or when its
 * classifier is not linear (the centroid classifier's score is a cosine of unit vectors: its parts
 * would not add up to the score, so there is no exact split to report). The returned function gives
 * undefined for a photo whose geometry the block imputes as the mean (no landmarks, or a view the
 * block has no columns for). Exact up to the combiner's clipping of block probabilities to
 * [1e-6, 1 - 1e-6] before their logits are taken.
 */
export function geometryExplanation(model: FittedFeatureModel): GeometryExplanation | undefined {
  const k = model.features.indexOf('geometry');
  if (k < 0) return undefined;
  const { block, classifier } = model.parts[k];
  if (!(classifier instanceof FittedLinear) || classifier.standardiser.unit || !(block instanceof FittedGeometry)) return undefined;
  const slope = (model.stacker ? model.stacker.weights[k] : 1) * (classifier.platt ? classifier.platt.a : 1);
  const { weights } = classifier.model;
  const scale = classifier.standardiser.scale;
  const w = weights.map((v, a) => (slope * v) / scale[a]);
  return (row) => (row.landmarks68 && block.group(row.view) ? geometryContributions(block, row, w) : undefined);
}

/** What each block needs from every photo, for the error when a requested one cannot be had. */
const NEEDS: Record<FeatureName, string> = {
  embedding: '',
  geometry: ` (it needs 68 landmarks on every photo and ${DEFAULTS.geometry.minViewPhotos} training photos of one view; a study from --embeddings has no landmarks)`,
  regions: ' (it needs the region-pooled maps of every photo)',
};

/** Options of {@link fitFeatureModel}: the classifier's, and what to learn from. */
export interface FeatureFitOptions extends FitOptions {
  request: FeatureRequest;
  /** The blocks every row can supply (`auto` stacks those also in `autoCandidates`). */
  available: readonly FeatureName[];
  /** The combiner's C (default `features.stackC`). */
  stackC?: number;
  /** The gain a smaller candidate needs over the stack of every block (default `features.fusionMinGain`). */
  minGain?: number;
  /** The blocks `auto` stacks, when available (default `features.autoCandidates`). */
  autoCandidates?: readonly string[];
}

/** A fitted model and every candidate it was chosen from (all fitted on the same rows). */
export interface FeatureFit {
  model: FittedFeatureModel;
  candidates: FittedFeatureModel[];
}

/**
 * Each model's probabilities on `rows`, computing each block's (shared between the candidates of one
 * fit) once.
 */
export function predictAll(models: readonly FittedFeatureModel[], rows: readonly PhotoInputs[]): number[][] {
  const known = new Map<ModelPart, number[]>();
  const of = (p: ModelPart) => {
    if (!known.has(p)) known.set(p, p.classifier.predictProba(p.block.transform(rows)));
    return known.get(p)!;
  };
  return models.map((m) => m.combine(m.parts.map(of)));
}

/** Every non-empty subset of `0..n-1`, singles first, then by size, each in index order. */
function subsets(n: number): number[][] {
  const all: number[][] = [];
  for (let mask = 1; mask < 1 << n; mask++) all.push(Array.from({ length: n }, (_, k) => k).filter((k) => mask & (1 << k)));
  return all.sort((a, b) => a.length - b.length);
}

/**
 * Fits the combiner on the rows `rows` of the per-block logits `L` (`L[k][i]`), with non-negative
 * weights (Breiman 1996, "Stacked regressions"): a block whose weight comes out negative is dropped
 * and the rest refitted. A block without signal has out-of-fold scores slightly anti-correlated
 * with the labels (each fold's training mean moves away from its held-out subjects), which an
 * unconstrained combiner would exploit in sample and lose on new photos.
 */
function fitStacker(L: readonly Float64Array[], y: readonly number[], rows: readonly number[], C: number): Stacker {
  const active = L.map((_, k) => k);
  for (;;) {
    const d = active.length;
    const packed = { n: rows.length, d, rows: new Float64Array(rows.length * d) };
    rows.forEach((i, r) => active.forEach((k, j) => (packed.rows[r * d + j] = L[k][i])));
    const m = fitLogisticPacked(packed, Float64Array.from(rows, (i) => y[i]), C);
    const worst = m.weights.reduce((w, v, j) => (v < m.weights[w] ? j : w), 0);
    if (d > 0 && m.weights[worst] < 0) {
      active.splice(worst, 1);
      continue;
    }
    const weights = L.map(() => 0);
    active.forEach((k, j) => (weights[k] = m.weights[j]));
    return { weights, bias: m.bias };
  }
}

/** Fewest subjects in a class (the inner CV's fold count cannot exceed it). */
function minSubjectsPerClass(y: readonly number[], groups: readonly string[]): number {
  const sets = [new Set<string>(), new Set<string>()];
  y.forEach((v, i) => sets[v].add(groups[i]));
  return Math.min(sets[0].size, sets[1].size);
}

/**
 * A stack of `parts` with its combiner fitted on all rows, and its out-of-fold probabilities from
 * the combiner cross-fitted on `folds` (inner folds of the training rows).
 */
function stackCandidate(parts: ModelPart[], y: readonly number[], folds: { train: number[]; test: number[] }[], C: number): FittedFeatureModel {
  const L = parts.map((p) => Float64Array.from(p.classifier.innerOof!, logit));
  const oof = new Float64Array(y.length);
  for (const fold of folds) {
    const s = fitStacker(L, y, fold.train, C);
    for (const i of fold.test) oof[i] = sigmoid(s.bias + L.reduce((z, l, k) => z + s.weights[k] * l[i], 0));
  }
  return new FittedFeatureModel(parts, fitStacker(L, y, y.map((_, i) => i), C), oof);
}

/**
 * Fits a classifier over the requested blocks on `rows` only (see the module doc): every block and
 * its classifier, the candidates (for `auto`, each block alone and each stack of several; else the
 * one requested), and the chosen model ({@link chooseCandidate}).
 */
export function fitFeatureModel(rows: readonly PhotoInputs[], y: readonly number[], groups: readonly string[], classifier: Classifier, opts: FeatureFitOptions): FeatureFit {
  // A training fold can hold fewer photos of a view than the whole study: what these rows supply.
  const available = availableFeatures(rows, opts.available);
  const auto = opts.autoCandidates ?? DEFAULTS.features.autoCandidates;
  const names = opts.request === 'auto' ? available.filter((n) => auto.includes(n)) : opts.request;
  if (names.length === 0) throw new PhenofaceError('E_INPUT', 'No feature block to learn from. Expected at least one (the embedding is always available).');
  const missing = names.find((n) => !available.includes(n));
  if (missing) throw new PhenofaceError('E_INPUT', `The photos cannot supply the "${missing}" features${NEEDS[missing]}. Available: ${available.join(', ')}.`);
  const needOof = names.length > 1 || opts.keepInnerOof !== false;
  const parts = names.map((name): ModelPart => {
    const block = featureBlock(name).fit(rows);
    return { block, classifier: classifier.fit(block.transform(rows), y, groups, { ...opts, keepInnerOof: needOof }) };
  });
  const sets = opts.request === 'auto' ? subsets(parts.length) : [parts.map((_, k) => k)];
  const innerFolds = Math.min(opts.innerFolds, minSubjectsPerClass(y, groups));
  // Folds of their own: the blocks' inner folds would pair each held-out fold with the one inner
  // model that scored it, whose offset and scale the combiner never saw.
  const folds = sets.some((s) => s.length > 1) ? opts.split(y, groups, innerFolds, deriveSeed(opts.seed, STACK_STREAM)) : [];
  const C = opts.stackC ?? DEFAULTS.features.stackC;
  const candidates = sets.map((set) => {
    const chosenParts = set.map((k) => parts[k]);
    return chosenParts.length === 1 ? new FittedFeatureModel(chosenParts, null, chosenParts[0].classifier.innerOof) : stackCandidate(chosenParts, y, folds, C);
  });
  if (candidates.length === 1) return { model: candidates[0], candidates };
  return chooseCandidate(candidates, y, innerFolds, opts.minGain ?? DEFAULTS.features.fusionMinGain);
}

/**
 * The stack of every block (Breiman 1996): its combiner's non-negative weights already weigh the
 * blocks, so the blocks it gives weight 0 are dropped, and a smaller candidate (one block or a
 * stack of fewer) is taken instead only when it lowers the stack's inner out-of-fold log-loss by
 * more than `minGain`. Choosing the best of the seven candidates outright cost 0.01-0.04 of subject
 * AUC on planted CFP sets: their inner log-losses differ by less than the inner CV's noise
 * (docs/decisions.md). When the stack weighs no block (no signal), the best single block by inner
 * log-loss, so the model still ranks photos rather than giving them all one probability.
 */
function chooseCandidate(candidates: FittedFeatureModel[], y: readonly number[], innerFolds: number, minGain: number): FeatureFit {
  const scored = candidates.map((model) => ({ model, logLoss: logLoss(model.innerOof!, y) }));
  const best = (list: typeof scored) => list.reduce<(typeof scored)[number] | undefined>((a, c) => (a === undefined || c.logLoss < a.logLoss ? c : a), undefined);
  const all = scored.reduce((a, c) => (c.model.parts.length > a.model.parts.length ? c : a));
  const smaller = best(scored.filter((c) => c !== all));
  const taken = smaller && smaller.logLoss < all.logLoss - minGain ? smaller : all;
  const m = withoutUnweighted(taken.model) ?? best(scored.filter((c) => c.model.parts.length === 1))!.model;
  const selection: FeatureSelection = {
    candidates: scored.map((c) => ({ features: c.model.features, logLoss: c.logLoss })),
    chosen: taken.model.features,
    kept: m.features,
    innerFolds,
    minGain,
  };
  return { model: new FittedFeatureModel(m.parts, m.stacker, m.innerOof, selection), candidates };
}

/**
 * A stack without the blocks its combiner gave weight 0 (the same probabilities): one block left is
 * that block alone, with its own out-of-fold probabilities; none left, undefined.
 */
function withoutUnweighted(model: FittedFeatureModel): FittedFeatureModel | undefined {
  const s = model.stacker;
  if (!s) return model;
  const keep = s.weights.map((w, k) => (w > 0 ? k : -1)).filter((k) => k >= 0);
  if (keep.length === 0) return undefined;
  if (keep.length === 1) {
    const part = model.parts[keep[0]];
    return new FittedFeatureModel([part], null, part.classifier.innerOof);
  }
  if (keep.length === model.parts.length) return model;
  return new FittedFeatureModel(keep.map((k) => model.parts[k]), { weights: keep.map((k) => s.weights[k]), bias: s.bias }, model.innerOof);
}
