import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/registry.ts';
import type { FoldTask } from '../../../src/evaluate/fold-task.ts';
import type { FeatureName } from '../../../src/features/index.ts';
import { runFolds } from '../../../src/evaluate/fold-pool.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { hasCode } from '../../../src/errors.ts';
import { syntheticStudy } from './synthetic-embeddings.ts';
import { plantedNoseStudy } from '../features/faces.ts';

describe('fold pool', () => {
  const data = syntheticStudy({ subjects: 24, photosPerSubject: 3, dim: 128, signal: 3, seed: 61 });
  const ctx = { X: data.X, subjects: data.subjects, classifier: createClassifier('logistic'), innerFolds: 3, patience: 1 };
  const tasks: FoldTask[] = groupedStratifiedKFold(data.y, data.subjects, 4, 1).map((fold, f) => ({
    train: Int32Array.from(fold.train),
    test: Int32Array.from(fold.test),
    y: Uint8Array.from(data.y),
    seed: f,
    fixed: f % 2 === 1,
  }));

  it('returns the same outcomes in task order on one thread and on workers', async () => {
    const here = await runFolds(ctx, tasks, 0);
    const pooled = await runFolds(ctx, tasks, 2);
    expect(pooled.map((o) => [...o.probabilities])).toEqual(here.map((o) => [...o.probabilities]));
    expect(here[1].innerOof).toBeUndefined();
    expect(here[0].innerOof).toHaveLength(tasks[0].train.length);
  });

  it('returns the same outcomes on workers with feature blocks: the landmarks travel in full precision', async () => {
    const d = plantedNoseStudy(); // jittered points: doubles that single precision would round
    const fctx = { X: d.rows.map((r) => r.embedding), subjects: d.subjects, classifier: createClassifier('logistic'), innerFolds: 3, patience: 1, features: { request: ['embedding', 'geometry'] as FeatureName[], available: ['embedding', 'geometry'] as FeatureName[], inputs: d.rows } };
    // Enough tasks that the workers, once booted, take some of them from this thread.
    const ftasks: FoldTask[] = [1, 2, 3, 4, 5, 6].flatMap((r) => groupedStratifiedKFold(d.y, d.subjects, 4, r).map((fold, f) => ({ train: Int32Array.from(fold.train), test: Int32Array.from(fold.test), y: Uint8Array.from(d.y), seed: 10 * r + f, fixed: false })));
    const here = await runFolds(fctx, ftasks, 0);
    const pooled = await runFolds(fctx, ftasks, 2);
    expect(pooled.map((o) => [...o.probabilities])).toEqual(here.map((o) => [...o.probabilities]));
  });

  it('passes a task error on with its code, whichever thread ran it', async () => {
    const oneClass = { ...tasks[2], y: Uint8Array.from(data.y, () => 1) };
    for (const workers of [0, 1]) {
      let err: unknown;
      try {
        await runFolds(ctx, [tasks[0], tasks[1], oneClass, tasks[3]], workers);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'E_INPUT')).toBe(true);
    }
  });
});
