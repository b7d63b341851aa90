/**
 * Worker side of the fold pool (`pool.ts`): receives the data and the tasks once, then claims
 * tasks from the shared counter until none are left, reporting each start and outcome.
 */
import { parentPort } from 'node:worker_threads';
import { classifierFromSpec, errorToRecord, runFold, type ClassifierSpec, type FoldOutcome, type FoldTask } from './fold-task.ts';

/** The one message a worker receives. Embeddings arrive as one flat buffer. */
export interface WorkerInit {
  flat: Float32Array;
  dim: number;
  subjects: string[];
  classifier: ClassifierSpec;
  innerFolds: number;
  patience: number;
  tasks: FoldTask[];
  /** Index of the next unclaimed task, shared by all threads (Atomics). */
  counter: Int32Array;
}

/** What a worker reports. */
export type WorkerMessage = { started: number } | { id: number; outcome: FoldOutcome } | { id: number; error: { code: string; message: string } };

parentPort?.once('message', (init: WorkerInit) => {
  const { flat, dim, subjects, classifier, innerFolds, patience, tasks, counter } = init;
  const X = Array.from({ length: flat.length / dim }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
  const ctx = { X, subjects, classifier: classifierFromSpec(classifier), innerFolds, patience };
  const post = (msg: WorkerMessage) => parentPort!.postMessage(msg);
  for (let i = Atomics.add(counter, 0, 1); i < tasks.length; i = Atomics.add(counter, 0, 1)) {
    post({ started: i });
    try {
      post({ id: i, outcome: runFold(ctx, tasks[i]) });
    } catch (err) {
      post({ id: i, error: errorToRecord(err) });
      return;
    }
  }
});
