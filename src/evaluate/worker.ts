/**
 * Worker side of the fold pool (`pool.ts`): receives the data once, then runs fold tasks.
 */
import { parentPort } from 'node:worker_threads';
import { classifierFromSpec, errorToRecord, runFold, type ClassifierSpec, type FoldContext, type FoldTask } from './fold-task.ts';

/** The first message: the data and how to fit. Embeddings arrive as one flat buffer. */
export interface WorkerInit {
  flat: Float32Array;
  dim: number;
  subjects: string[];
  classifier: ClassifierSpec;
  innerFolds: number;
  patience: number;
}

let ctx: FoldContext | undefined;

parentPort?.on('message', (msg: { init: WorkerInit } | { id: number; task: FoldTask }) => {
  if ('init' in msg) {
    const { flat, dim, subjects, classifier, innerFolds, patience } = msg.init;
    const X = Array.from({ length: flat.length / dim }, (_, i) => flat.subarray(i * dim, (i + 1) * dim));
    ctx = { X, subjects, classifier: classifierFromSpec(classifier), innerFolds, patience };
    parentPort!.postMessage({ ready: true });
    return;
  }
  try {
    parentPort!.postMessage({ id: msg.id, outcome: runFold(ctx!, msg.task) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: errorToRecord(err) });
  }
});
