/**
 * Runs fold tasks on all cores. Every thread (workers and this one) claims the next task from a
 * shared atomic counter, so workers never wait on this thread: while it is busy elsewhere (the
 * bootstrap of results already in) they carry on, and it joins in whenever it awaits `until`.
 * Every task carries its own seed, so results do not depend on which thread ran what. A worker
 * that fails (to boot or later) leaves its unfinished tasks to this thread.
 *
 * Workers run through the worker-thread protocol of `../pipeline/threads.ts`.
 */
import { packInputs } from '../features/index.ts';
import { WorkerThread } from '../pipeline/threads.ts';
import { classifierSpec, runFold, type FoldContext, type FoldOutcome, type FoldTask } from './fold-task.ts';
import type { foldWorker, FoldWorkerInit } from './fold-worker.ts';

const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A batch of fold tasks being run. `until(k)` resolves when tasks 0..k-1 are done, this thread
 * working on tasks meanwhile; `close()` stops the workers. Task errors (e.g. `E_INPUT`) are
 * rethrown by `until`.
 */
export class FoldPool {
  /** Each task's outcome, by task index, as it arrives (holes until then). */
  readonly outcomes: FoldOutcome[];
  private readonly counter: Int32Array;
  private readonly workers: WorkerThread<ReturnType<typeof foldWorker>>[] = [];
  private readonly orphans: number[] = [];
  private failure: unknown;
  private wake: (() => void) | undefined;
  private finished = 0;

  /**
   * Starts `tasks` on up to `workers` worker threads (0 = this thread only; classifiers outside the
   * registry always run here). `onFinish` hears the number of tasks done, and of tasks, after each.
   */
  constructor(
    private readonly ctx: FoldContext,
    private readonly tasks: readonly FoldTask[],
    workers: number,
    private readonly onFinish?: (done: number, total: number) => void,
  ) {
    this.outcomes = new Array(tasks.length);
    this.counter = new Int32Array(new SharedArrayBuffer(4));
    const spec = classifierSpec(ctx.classifier);
    const count = spec ? Math.min(workers, tasks.length - 1) : 0;
    if (count <= 0) return;
    const dim = ctx.X[0].length;
    const flat = new Float32Array(ctx.X.length * dim);
    ctx.X.forEach((row, i) => flat.set(row, i * dim));
    const f = ctx.features;
    const features = f && { request: f.request, available: f.available, packed: packInputs(f.inputs) };
    const init: FoldWorkerInit = { flat, dim, subjects: [...ctx.subjects], classifier: spec!, innerFolds: ctx.innerFolds, patience: ctx.patience, tasks: [...tasks], counter: this.counter, ...(features ? { features } : {}) };
    for (let w = 0; w < count; w++) this.workers.push(this.startWorker(init));
  }

  /**
   * A worker draining the shared counter. The tasks it has started but not finished go back to
   * this thread if it stops; a task error it reports fails the batch.
   */
  private startWorker(init: FoldWorkerInit): WorkerThread<ReturnType<typeof foldWorker>> {
    const started = new Set<number>();
    const worker = WorkerThread.spawn<typeof foldWorker>({ module: new URL('./fold-worker.ts', import.meta.url), exportName: 'foldWorker', args: [init] }, {
      name: 'fold worker',
      onEvent: (event) => {
        if ('started' in event) started.add(event.started);
        else {
          started.delete(event.id);
          this.finish(event.id, event.outcome);
        }
      },
      onLost: () => {
        for (const i of started) if (this.outcomes[i] === undefined) this.orphans.push(i);
        started.clear();
        this.wake?.();
      },
    });
    worker.call('drain', []).catch((err) => {
      if (worker.running) this.fail(err); // else it stopped, and its tasks are orphans
    });
    return worker;
  }

  private finish(i: number, outcome: FoldOutcome): void {
    if (this.outcomes[i] === undefined) this.onFinish?.(++this.finished, this.tasks.length);
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

  /** Stops the workers, at once: anything they are still running is no longer wanted. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close(0)));
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
