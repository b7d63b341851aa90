/**
 * One outer fold as a self-contained task: fit on the training rows, predict the test rows. Plain
 * data in and out, so a task can run in this thread or in a worker with the same result.
 */
import { createClassifier, isRegistered } from '../classify/registry.ts';
import type { Classifier, Selection } from '../classify/types.ts';
import { groupedStratifiedKFold } from './splits.ts';

/** What a task needs besides its rows: the data and how to fit. */
export interface FoldContext {
  X: readonly Float32Array[];
  subjects: readonly string[];
  classifier: Classifier;
  innerFolds: number;
  patience: number;
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
}

/** Runs one task. */
export function runFold(ctx: FoldContext, task: FoldTask): FoldOutcome {
  const pick = <T>(items: readonly T[], rows: Int32Array): T[] => Array.from(rows, (i) => items[i]);
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
