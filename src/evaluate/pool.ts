/**
 * Runs fold tasks on all cores. Every thread (workers and this one) claims the next task from a
 * shared atomic counter, so workers never wait on this thread: while it is busy elsewhere (the
 * bootstrap of results already in) they carry on, and it joins in whenever it awaits `until`.
 * Every task carries its own seed, so results do not depend on which thread ran what. A worker
 * that fails (to boot or later) leaves its unfinished tasks to this thread.
 *
 * Workers run the TypeScript sources through tsx (`../threads.ts`).
 */
import type { Worker } from 'node:worker_threads';
import { PhenofaceError, type ErrorCode } from '../errors.ts';
import { startTsWorker } from '../threads.ts';
import { classifierSpec, runFold, type FoldContext, type FoldOutcome, type FoldTask } from './fold-task.ts';
import type { WorkerInit, WorkerMessage } from './worker.ts';

const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A batch of fold tasks being run. `until(k)` resolves when tasks 0..k-1 are done, this thread
 * working on tasks meanwhile; `close()` stops the workers. Task errors (e.g. `E_INPUT`) are
 * rethrown by `until`.
 */
export class FoldPool {
  readonly outcomes: FoldOutcome[];
  private readonly counter: Int32Array;
  private readonly workers: Worker[] = [];
  private readonly orphans: number[] = [];
  private failure: unknown;
  private wake: (() => void) | undefined;

  /** Starts `tasks` on up to `workers` worker threads (0 = this thread only; classifiers outside the registry always run here). */
  constructor(
    private readonly ctx: FoldContext,
    private readonly tasks: readonly FoldTask[],
    workers: number,
  ) {
    this.outcomes = new Array(tasks.length);
    this.counter = new Int32Array(new SharedArrayBuffer(4));
    const spec = classifierSpec(ctx.classifier);
    const count = spec ? Math.min(workers, tasks.length - 1) : 0;
    if (count <= 0) return;
    const dim = ctx.X[0].length;
    const flat = new Float32Array(ctx.X.length * dim);
    ctx.X.forEach((row, i) => flat.set(row, i * dim));
    const init: WorkerInit = { flat, dim, subjects: [...ctx.subjects], classifier: spec!, innerFolds: ctx.innerFolds, patience: ctx.patience, tasks: [...tasks], counter: this.counter };
    for (let w = 0; w < count; w++) {
      const worker = startTsWorker(new URL('./worker.ts', import.meta.url));
      const started = new Set<number>();
      worker.on('message', (msg: WorkerMessage) => {
        if ('started' in msg) started.add(msg.started);
        else if ('error' in msg) this.fail(new PhenofaceError(msg.error.code as ErrorCode, msg.error.message));
        else {
          started.delete(msg.id);
          this.finish(msg.id, msg.outcome);
        }
      });
      const lost = () => {
        for (const i of started) if (this.outcomes[i] === undefined) this.orphans.push(i);
        started.clear();
        this.wake?.();
      };
      worker.on('error', lost);
      worker.on('exit', lost);
      worker.postMessage(init);
      this.workers.push(worker);
    }
  }

  private finish(i: number, outcome: FoldOutcome): void {
    this.outcomes[i] = outcome;
    this.wake?.();
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    Atomics.store(this.counter, 0, this.tasks.length); // nobody starts anything new
    this.wake?.();
  }

  private claim(): number {
    const orphan = this.orphans.pop();
    if (orphan !== undefined) return orphan;
    const i = Atomics.add(this.counter, 0, 1);
    return i < this.tasks.length ? i : -1;
  }

  /** Resolves once tasks 0..count-1 have outcomes, running tasks on this thread meanwhile. */
  async until(count: number): Promise<FoldOutcome[]> {
    let next = 0; // first task of the prefix without an outcome (holes are skipped by every(), hence the loop)
    const ready = () => {
      while (next < count && this.outcomes[next] !== undefined) next++;
      return next === count;
    };
    while (this.failure === undefined && !ready()) {
      const i = this.claim();
      if (i >= 0) {
        try {
          this.finish(i, runFold(this.ctx, this.tasks[i]));
        } catch (err) {
          this.fail(err);
        }
        await yieldToEvents();
      } else {
        // everything is claimed: wait for a worker to report (or die and leave orphans)
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    }
    if (this.failure !== undefined) throw this.failure;
    return this.outcomes.slice(0, count);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/** Runs `tasks` to completion and returns their outcomes in task order (see {@link FoldPool}). */
export async function runFolds(ctx: FoldContext, tasks: readonly FoldTask[], workers: number): Promise<FoldOutcome[]> {
  const pool = new FoldPool(ctx, tasks, workers);
  try {
    return await pool.until(tasks.length);
  } finally {
    await pool.close();
  }
}
