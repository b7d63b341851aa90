/**
 * Runs fold tasks on all cores: worker threads pull tasks from a shared queue and this thread
 * works through the same queue meanwhile, so nothing waits for the workers to boot. Every task
 * carries its own seed, so results do not depend on which thread ran what. A worker that fails
 * (to boot or later) hands its task back to this thread.
 *
 * Workers run the TypeScript sources through tsx, the same way `bin/phenoface.mjs` does: a worker
 * does not inherit the parent's module hooks, so its entry registers tsx itself.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PhenofaceError, type ErrorCode } from '../errors.ts';
import { classifierSpec, runFold, type FoldContext, type FoldOutcome, type FoldTask } from './fold-task.ts';
import type { WorkerInit } from './worker.ts';

/** An ES-module worker entry: register tsx, then load `worker.ts`. */
function workerSource(): string {
  const require = createRequire(import.meta.url);
  const tsxPackage = require.resolve('tsx/package.json');
  const api = new URL(require('tsx/package.json').exports['./esm/api'].import.default, pathToFileURL(tsxPackage)).href;
  const entry = new URL('./worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

function initMessage(ctx: FoldContext): WorkerInit | undefined {
  const spec = classifierSpec(ctx.classifier);
  if (!spec) return undefined;
  const dim = ctx.X[0].length;
  const flat = new Float32Array(ctx.X.length * dim);
  ctx.X.forEach((row, i) => flat.set(row, i * dim));
  return { flat, dim, subjects: [...ctx.subjects], classifier: spec, innerFolds: ctx.innerFolds, patience: ctx.patience };
}

const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `tasks` and returns their outcomes in task order, using up to `workers` worker threads
 * besides this one (0 = this thread only; classifiers outside the registry always run here).
 * The first task error (e.g. `E_INPUT`) is rethrown after the workers stop.
 */
export async function runFolds(ctx: FoldContext, tasks: readonly FoldTask[], workers: number): Promise<FoldOutcome[]> {
  const results: FoldOutcome[] = new Array(tasks.length);
  const init = workers > 0 && tasks.length > 1 ? initMessage(ctx) : undefined;
  if (!init) {
    tasks.forEach((task, i) => (results[i] = runFold(ctx, task)));
    return results;
  }
  let next = 0;
  const handedBack: number[] = [];
  let failure: unknown;
  const take = (): number => handedBack.pop() ?? (next < tasks.length ? next++ : -1);
  const pool = Array.from({ length: Math.min(workers, tasks.length - 1) }, () => new Worker(workerSource(), { eval: true }));
  const finished = pool.map(
    (worker) =>
      new Promise<void>((resolve) => {
        let current = -1;
        const give = () => {
          current = failure === undefined ? take() : -1;
          if (current < 0) resolve();
          else worker.postMessage({ id: current, task: tasks[current] });
        };
        const fail = () => {
          if (current >= 0 && results[current] === undefined) handedBack.push(current);
          current = -1;
          resolve();
        };
        worker.on('message', (msg: { ready?: true; id?: number; outcome?: FoldOutcome; error?: { code: string; message: string } }) => {
          if (msg.error) {
            failure ??= new PhenofaceError(msg.error.code as ErrorCode, msg.error.message);
            resolve();
            return;
          }
          if (msg.outcome) results[msg.id!] = msg.outcome;
          give();
        });
        worker.on('error', fail);
        worker.on('exit', fail);
        worker.postMessage({ init });
      }),
  );
  try {
    for (let i = take(); i >= 0 && failure === undefined; i = take()) {
      results[i] = runFold(ctx, tasks[i]);
      await yieldToEvents();
    }
    await Promise.all(finished);
    for (let i = take(); i >= 0 && failure === undefined; i = take()) results[i] = runFold(ctx, tasks[i]);
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  if (failure !== undefined) throw failure;
  return results;
}
