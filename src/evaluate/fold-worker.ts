/**
 * What a fold pool worker thread hosts (`pool.ts`; see `../pipeline/threads.ts` for the protocol): the data
 * and the tasks, received once; `drain()` then claims tasks from the shared counter until none are
 * left, announcing each start and outcome as events.
 */
import type { Notify } from '../pipeline/threads.ts';
import { unpackInputs, type PackedInputs } from '../features/index.ts';
import { classifierFromSpec, runFold, type ClassifierSpec, type FeatureTask, type FoldOutcome, type FoldTask } from './fold-task.ts';

/** What a worker is started with. Embeddings arrive as one flat buffer. */
export interface FoldWorkerInit {
  flat: Float32Array;
  dim: number;
  subjects: string[];
  classifier: ClassifierSpec;
  innerFolds: number;
  patience: number;
  tasks: FoldTask[];
  /** The feature blocks' inputs, when the study learns from them. */
  features?: FeatureTask & { packed: PackedInputs };
  /** Index of the next unclaimed task, shared by all threads (Atomics). */
  counter: Int32Array;
}

/**
 * What a worker reports while draining: a task it has claimed (so that the pool can give it to
 * another thread if this one dies), then that task's outcome.
 */
export type FoldEvent = { started: number } | { id: number; outcome: FoldOutcome };

/** The worker's factory. `drain()` throws the first task error (e.g. E_INPUT), after which the worker claims nothing more. */
export function foldWorker(init: FoldWorkerInit, notify: Notify<FoldEvent>) {
  const { flat, dim, subjects, classifier, innerFolds, patience, tasks, counter, features } = init;
  const X = Array.from({ length: flat.length / dim }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
  const inputs = features && { request: features.request, available: features.available, inputs: unpackInputs(features.packed) };
  const ctx = { X, subjects, classifier: classifierFromSpec(classifier), innerFolds, patience, ...(inputs ? { features: inputs } : {}) };
  return {
    drain(): void {
      for (let i = Atomics.add(counter, 0, 1); i < tasks.length; i = Atomics.add(counter, 0, 1)) {
        notify({ started: i });
        notify({ id: i, outcome: runFold(ctx, tasks[i]) });
      }
    },
  };
}
