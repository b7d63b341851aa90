/**
 * One outer fold as a self-contained task: fit on the training rows, predict the test rows. Plain
 * data in and out, so a task can run in this thread or in a worker with the same result.
 */
import { createClassifier, isRegistered } from '../classify/registry.ts';
import type { Classifier, Selection } from '../classify/types.ts';
import { fitFeatureModel, predictAll, type FeatureName, type FeatureRequest, type FeatureSelection, type PhotoInputs } from '../features/index.ts';
import { groupedStratifiedKFold } from './splits.ts';

/** The feature blocks a study learns from: what was asked and what the photos can supply. */
export interface FeatureTask {
  request: FeatureRequest;
  available: FeatureName[];
}

/** What a task needs besides its rows: the data and how to fit. */
export interface FoldContext {
  X: readonly Float32Array[];
  subjects: readonly string[];
  classifier: Classifier;
  innerFolds: number;
  patience: number;
  /** Learn from feature blocks of these inputs (one per row) instead of the classifier on `X`. */
  features?: FeatureTask & { inputs: readonly PhotoInputs[] };
}

/** One fit: rows to train on and to predict, the labels of all rows, a seed. */
export interface FoldTask {
  train: Int32Array;
  test: Int32Array;
  /** Labels of every row (permuted in the permutation test). */
  y: Uint8Array;
  seed: number;
  /** Fix the hyperparameter at the classifier's `fixedValue` (no tuning) and keep no inner OOF. */
  fixed: boolean;
}

/** What a task returns. */
export interface FoldOutcome {
  /** Positive-class probability of each test row, in `test` order. */
  probabilities: Float64Array;
  /** Inner out-of-fold probabilities of the training rows, in `train` order (absent when `fixed`). */
  innerOof?: Float64Array;
  hyper: Record<string, number>;
  selection?: Selection;
  /** The blocks the fold's model learnt from (with feature blocks). */
  features?: FeatureName[];
  /** How `auto` chose them on the training rows. */
  featureSelection?: FeatureSelection;
  /** Every candidate's test-row probabilities (with feature blocks, unless `fixed`): the side-by-side comparison. */
  candidates?: { features: FeatureName[]; probabilities: Float64Array }[];
}

const pick = <T>(items: readonly T[], rows: Int32Array): T[] => Array.from(rows, (i) => items[i]);

/** Runs one task with feature blocks: the fold's choice among them, and every candidate's test probabilities. */
function runFeatureFold(ctx: FoldContext, f: NonNullable<FoldContext['features']>, task: FoldTask): FoldOutcome {
  const test = pick(f.inputs, task.test);
  const { model, candidates } = fitFeatureModel(pick(f.inputs, task.train), Array.from(task.train, (i) => task.y[i]), pick(ctx.subjects, task.train), ctx.classifier, {
    request: f.request,
    available: f.available,
    seed: task.seed,
    innerFolds: ctx.innerFolds,
    split: groupedStratifiedKFold,
    patience: ctx.patience,
    ...(task.fixed ? { grid: [ctx.classifier.fixedValue], keepInnerOof: false } : {}),
  });
  const [probabilities, ...others] = predictAll(task.fixed ? [model] : [model, ...candidates], test).map((p) => Float64Array.from(p));
  return {
    probabilities,
    innerOof: task.fixed ? undefined : model.innerOof,
    hyper: model.hyper,
    features: model.features,
    ...(model.selection ? { featureSelection: model.selection } : {}),
    ...(task.fixed ? {} : { candidates: candidates.map((c, k) => ({ features: c.features, probabilities: others[k] })) }),
  };
}

/** Runs one task. */
export function runFold(ctx: FoldContext, task: FoldTask): FoldOutcome {
  if (ctx.features) return runFeatureFold(ctx, ctx.features, task);
  const model = ctx.classifier.fit(pick(ctx.X, task.train), Array.from(task.train, (i) => task.y[i]), pick(ctx.subjects, task.train), {
    seed: task.seed,
    innerFolds: ctx.innerFolds,
    split: groupedStratifiedKFold,
    patience: ctx.patience,
    ...(task.fixed ? { grid: [ctx.classifier.fixedValue], keepInnerOof: false } : {}),
  });
  return {
    probabilities: Float64Array.from(model.predictProba(pick(ctx.X, task.test))),
    innerOof: task.fixed ? undefined : model.innerOof,
    hyper: { ...model.hyper },
    selection: model.selection,
  };
}

/** A classifier as plain data, for rebuilding it in a worker. */
export interface ClassifierSpec {
  name: string;
  grid: number[];
  fixed: number;
}

/**
 * The spec of a registry classifier, or `undefined` for one built elsewhere (which then cannot run
 * in a worker).
 */
export function classifierSpec(c: Classifier): ClassifierSpec | undefined {
  return isRegistered(c) ? { name: c.name, grid: [...c.grid], fixed: c.fixedValue } : undefined;
}

/** Rebuilds a classifier from its spec. */
export function classifierFromSpec(spec: ClassifierSpec): Classifier {
  return createClassifier(spec.name, { grid: spec.grid, fixed: spec.fixed });
}
