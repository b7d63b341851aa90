/**
 * Several {@link Pipeline}s in worker threads, for batches (`detect`, `embed`, `study`).
 *
 * onnxruntime-node runs a session synchronously on the calling JavaScript thread, so one pipeline
 * with two photos in flight overlaps only decoding with inference: MTCNN's many small operators
 * (R-Net on hundreds of 24 px crops) gain little from intra-operator threads. One pipeline per core,
 * each with one onnxruntime thread, keeps every core busy on its own photo (about 2x the throughput
 * of one two-thread pipeline on 2 cores; `npm run bench:speed`). Each worker holds its own models
 * (~100 MB). Results are the same as {@link Pipeline.embedFile}'s: the workers run the same code.
 */
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { resolveConfig, type PartialConfig, type PhenofaceConfig } from './config.ts';
import { PhenofaceError, type ErrorCode } from './errors.ts';
import type { DetectResult, EmbedResult, PipelineOptions } from './pipeline.ts';
import { startTsWorker } from './threads.ts';

type ErrorRecord = { code: string; message: string };

/** Messages to a pool worker. */
export type ToPoolWorker =
  | { type: 'init'; options: PipelineOptions }
  | { type: 'embed' | 'detect'; id: number; source: string | Uint8Array }
  | { type: 'close' };

/** Messages from a pool worker. */
export type FromPoolWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: ErrorRecord }
  | { type: 'result'; id: number; result: EmbedResult | DetectResult }
  | { type: 'error'; id: number; error: ErrorRecord }
  | { type: 'closed' };

/** Options of {@link PipelinePool.create}. */
export interface PipelinePoolOptions extends PipelineOptions {
  /** Worker threads (default `config.embed.workers`; 0 there = one per core). */
  workers?: number;
  /** Photos the batch holds, when known: no more workers than photos are started. */
  photos?: number;
}

interface Job { id: number; op: 'embed' | 'detect'; source: string | Uint8Array; resolve(r: EmbedResult | DetectResult): void; reject(e: Error): void }
interface Slot { worker: Worker; busy: number; dead: boolean; restarting: boolean }

/** Photos each worker holds at once, so that one decodes (libvips threads) while the other is inferred. */
export const PHOTOS_PER_WORKER = 2;

/**
 * Workers a pool starts: `workers`, else `config.embed.workers` (0 = one per core), and no more than
 * `photos` when the batch size is known.
 */
export function poolWorkers(config: PhenofaceConfig, workers?: number, photos?: number): number {
  const wanted = workers ?? (config.embed.workers > 0 ? config.embed.workers : os.availableParallelism());
  return photos === undefined ? wanted : Math.min(wanted, Math.max(1, photos));
}

/** Worker restarts a pool allows in its life (a worker lost to e.g. a heap out-of-memory is replaced). */
const MAX_RESTARTS = 4;

const toError = (e: ErrorRecord) => new PhenofaceError(e.code as ErrorCode, e.message);

/** A fixed set of pipeline workers; jobs queue and go to the least busy worker. */
export class PipelinePool {
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, { job: Job; slot: Slot }>();
  private nextId = 1;
  private closed = false;
  private restarts = 0;

  private constructor(private readonly slots: Slot[], private readonly options: PipelineOptions) {}

  /**
   * Starts the workers and loads their models; rejects with a worker's load error (e.g. E_MODEL).
   * Each worker runs onnxruntime with one thread per operator unless `config.embed.intraOpThreads`
   * is given explicitly in `opts.config`.
   */
  static async create(opts: PipelinePoolOptions = {}): Promise<PipelinePool> {
    const config = resolveConfig(opts.config);
    const n = poolWorkers(config, opts.workers, opts.photos);
    if (!Number.isInteger(n) || n < 1) throw new PhenofaceError('E_CONFIG', `Invalid worker count: ${n}. Should be an integer >= 1.`);
    const workerConfig: PartialConfig = { ...opts.config, embed: { intraOpThreads: 1, ...opts.config?.embed } };
    const options: PipelineOptions = { config: workerConfig, backbone: opts.backbone, detectOnly: opts.detectOnly, flip: opts.flip };
    const started = await Promise.allSettled(Array.from({ length: n }, () => PipelinePool.boot(options)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.terminate() : undefined)));
      throw failed.reason;
    }
    const slots = started.map((s) => ({ worker: (s as PromiseFulfilledResult<Worker>).value, busy: 0, dead: false, restarting: false }));
    const pool = new PipelinePool(slots, options);
    for (const slot of slots) pool.attach(slot);
    return pool;
  }

  private static boot(options: PipelineOptions): Promise<Worker> {
    return new Promise((resolve, reject) => {
      const worker = startTsWorker(new URL('./pipeline-worker.ts', import.meta.url));
      const done = () => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit); };
      const onMessage = (m: FromPoolWorker) => {
        if (m.type === 'ready') { done(); resolve(worker); }
        else if (m.type === 'init-error') { done(); void worker.terminate(); reject(toError(m.error)); }
      };
      const onError = (err: Error) => { done(); reject(new PhenofaceError('E_INTERNAL', `A pipeline worker failed to start: ${err.message}`, { cause: err })); };
      const onExit = (code: number) => { done(); reject(new PhenofaceError('E_INTERNAL', `A pipeline worker exited (code ${code}) while starting.`)); };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ type: 'init', options } satisfies ToPoolWorker);
    });
  }

  private attach(slot: Slot): void {
    const worker = slot.worker;
    worker.on('message', (m: FromPoolWorker) => {
      if (slot.worker !== worker || (m.type !== 'result' && m.type !== 'error')) return;
      const run = this.running.get(m.id);
      if (!run) return;
      this.running.delete(m.id);
      slot.busy--;
      if (m.type === 'result') run.job.resolve(m.result);
      else run.job.reject(toError(m.error));
      this.pump();
    });
    const lost = (why: string) => {
      if (slot.worker !== worker || slot.dead) return;
      slot.dead = true;
      // Its photos fail (a photo that crashes a worker must not be retried forever); the rest go on,
      // on the other workers and on a replacement for this one.
      for (const [id, run] of this.running) {
        if (run.slot !== slot) continue;
        this.running.delete(id);
        run.job.reject(new PhenofaceError('E_INTERNAL', `The pipeline worker stopped (${why}) while processing this photo.`));
      }
      if (!this.closed && this.restarts < MAX_RESTARTS) {
        this.restarts++;
        slot.restarting = true;
        PipelinePool.boot(this.options).then((replacement) => {
          slot.restarting = false;
          if (this.closed) { void replacement.terminate(); return; }
          Object.assign(slot, { worker: replacement, busy: 0, dead: false });
          this.attach(slot);
          this.pump();
        }, () => { slot.restarting = false; this.failIfAllLost(why); });
      }
      this.failIfAllLost(why);
      this.pump();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => { if (!this.closed) lost(`exit code ${code}`); });
  }

  /** With no worker left and none starting, the queued photos fail. */
  private failIfAllLost(why: string): void {
    if (this.slots.every((s) => s.dead && !s.restarting)) {
      for (const job of this.queue.splice(0)) job.reject(new PhenofaceError('E_INTERNAL', `Every pipeline worker stopped (${why}).`));
    }
  }

  /** Photos the pool works on at once (two per worker, so decoding overlaps inference). */
  get capacity(): number {
    return this.slots.length * PHOTOS_PER_WORKER;
  }

  /** {@link Pipeline.embedFile} in a worker. A file path is read by the worker; bytes are copied to it. */
  embedFile(source: string | Buffer): Promise<EmbedResult> {
    return this.submit('embed', source) as Promise<EmbedResult>;
  }

  /** {@link Pipeline.detectFile} in a worker: every face, as `detect` lists them. */
  detectFile(source: string | Buffer): Promise<DetectResult> {
    return this.submit('detect', source);
  }

  private submit(op: 'embed' | 'detect', source: string | Buffer): Promise<EmbedResult | DetectResult> {
    if (this.closed) return Promise.reject(new PhenofaceError('E_INTERNAL', 'The pipeline pool is closed.'));
    if (this.slots.every((s) => s.dead && !s.restarting)) return Promise.reject(new PhenofaceError('E_INTERNAL', 'Every pipeline worker has stopped.'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, op, source: typeof source === 'string' ? source : new Uint8Array(source), resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.filter((s) => !s.dead && s.busy < PHOTOS_PER_WORKER).sort((a, b) => a.busy - b.busy)[0];
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.busy++;
      this.running.set(job.id, { job, slot });
      slot.worker.postMessage({ type: job.op, id: job.id, source: job.source } satisfies ToPoolWorker);
    }
  }

  /** Releases the models and stops the workers (after the photos in progress). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map(async (slot) => {
      if (!slot.dead) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 10_000);
          slot.worker.on('message', (m: FromPoolWorker) => { if (m.type === 'closed') { clearTimeout(timer); resolve(); } });
          slot.worker.once('exit', () => { clearTimeout(timer); resolve(); });
          slot.worker.postMessage({ type: 'close' } satisfies ToPoolWorker);
        });
      }
      await slot.worker.terminate();
    }));
  }
}
