import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/registry.ts';
import type { FoldTask } from '../../../src/evaluate/fold-task.ts';
import type { FeatureName } from '../../../src/features/index.ts';
import { FoldPool, runFolds } from '../../../src/evaluate/fold-pool.ts';
import type { FoldContext } from '../../../src/evaluate/fold-task.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { hasCode } from '../../../src/errors.ts';
import { syntheticStudy } from './synthetic-embeddings.ts';
import { plantedNoseStudy } from '../features/faces.ts';

/**
 * Runs every task on two workers: this thread claims nothing until the workers have finished all
 * of them (it would otherwise take the first tasks while they boot, and a small batch could end
 * before they ran any).
 */
async function onWorkersOnly(ctx: FoldContext, tasks: readonly FoldTask[]) {
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const pool = new FoldPool(ctx, tasks, 2, (n, total) => n === total && allDone());
  try {
    await done;
    return await pool.until(tasks.length);
  } finally {
    await pool.close();
  }
}

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

  it('returns the same outcomes in task order on one thread and on workers', { timeout: 60_000 }, async () => {
    const here = await runFolds(ctx, tasks, 0);
    const pooled = await onWorkersOnly(ctx, tasks);
    expect(pooled.map((o) => [...o.probabilities])).toEqual(here.map((o) => [...o.probabilities]));
    expect(here[1].innerOof).toBeUndefined();
    expect(here[0].innerOof).toHaveLength(tasks[0].train.length);
  });

  it('returns the same outcomes on workers with feature blocks: the landmarks travel in full precision', { timeout: 60_000 }, async () => {
    const d = plantedNoseStudy(); // jittered points: doubles that single precision would round
    const fctx = { X: d.rows.map((r) => r.embedding), subjects: d.subjects, classifier: createClassifier('logistic'), innerFolds: 3, patience: 1, features: { request: ['embedding', 'geometry'] as FeatureName[], available: ['embedding', 'geometry'] as FeatureName[], inputs: d.rows } };
    const ftasks: FoldTask[] = [1, 2].flatMap((r) => groupedStratifiedKFold(d.y, d.subjects, 4, r).map((fold, f) => ({ train: Int32Array.from(fold.train), test: Int32Array.from(fold.test), y: Uint8Array.from(d.y), seed: 10 * r + f, fixed: false })));
    const here = await runFolds(fctx, ftasks, 0);
    const pooled = await onWorkersOnly(fctx, ftasks);
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
