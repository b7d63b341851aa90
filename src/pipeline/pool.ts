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
import { resolveConfig, type PartialConfig, type PhenofaceConfig } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import type { DetectResult, EmbedResult, PipelineOptions } from './pipeline.ts';
import type { PhotoSource, pipelineWorker } from './pool-worker.ts';
import { WorkerThread } from './threads.ts';

/** Options of {@link PipelinePool.create}. */
export interface PipelinePoolOptions extends PipelineOptions {
  /** Worker threads (default `config.embed.workers`; 0 there = one per core). */
  workers?: number;
  /** Photos the batch holds, when known: no more workers than photos are started. */
  photos?: number;
}

type PipelineThread = WorkerThread<Awaited<ReturnType<typeof pipelineWorker>>>;
type Op = 'embedFile' | 'detectFile';

interface Job { op: Op; source: PhotoSource; resolve(r: EmbedResult | DetectResult): void; reject(e: unknown): void }
/** One worker's place in the pool; a replacement takes the place of a worker that was lost. */
interface Slot { worker: PipelineThread | undefined; busy: number; dead: boolean; restarting: boolean }

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

/**
 * The pipeline options each worker gets: one onnxruntime thread per operator unless
 * `config.embed.intraOpThreads` is given explicitly.
 */
function workerOptions(opts: PipelinePoolOptions): PipelineOptions {
  const config: PartialConfig = { ...opts.config, embed: { intraOpThreads: 1, ...opts.config?.embed } };
  return { config, backbone: opts.backbone, detectOnly: opts.detectOnly, flip: opts.flip, landmarks: opts.landmarks, regions: opts.regions, second: opts.second };
}

/** A fixed set of pipeline workers; jobs queue and go to the least busy worker. */
export class PipelinePool {
  private readonly queue: Job[] = [];
  private readonly slots: Slot[];
  private closed = false;
  private restarts = 0;

  private constructor(private readonly options: PipelineOptions, workers: number) {
    this.slots = Array.from({ length: workers }, () => ({ worker: undefined, busy: 0, dead: true, restarting: false }));
  }

  /**
   * Starts the workers and loads their models; rejects with a worker's load error (e.g. E_MODEL).
   * Each worker runs onnxruntime with one thread per operator unless `config.embed.intraOpThreads`
   * is given explicitly in `opts.config`.
   */
  static async create(opts: PipelinePoolOptions = {}): Promise<PipelinePool> {
    const n = poolWorkers(resolveConfig(opts.config), opts.workers, opts.photos);
    if (!Number.isInteger(n) || n < 1) throw new PhenofaceError('E_CONFIG', `Invalid worker count: ${n}. Should be an integer >= 1.`);
    const pool = new PipelinePool(workerOptions(opts), n);
    const started = await Promise.allSettled(pool.slots.map((slot) => pool.start(slot)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    return pool;
  }

  /** Starts a worker for `slot` (its first or a replacement) and puts it there once its models are loaded. */
  private async start(slot: Slot): Promise<void> {
    const worker: PipelineThread = WorkerThread.spawn<typeof pipelineWorker>(
      { module: new URL('./pool-worker.ts', import.meta.url), exportName: 'pipelineWorker', args: [this.options] },
      { name: 'pipeline worker', onLost: (why) => this.lost(slot, worker, why) },
    );
    await worker.ready;
    if (this.closed) {
      await worker.close();
      return;
    }
    Object.assign(slot, { worker, busy: 0, dead: false });
  }

  /**
   * A worker stopped: its photos have failed (a photo that crashes a worker must not be retried
   * forever); the rest go on, on the other workers and on a replacement for this one.
   */
  private lost(slot: Slot, worker: PipelineThread, why: string): void {
    if (slot.worker !== worker || slot.dead) return;
    slot.dead = true;
    if (!this.closed && this.restarts < MAX_RESTARTS) {
      this.restarts++;
      slot.restarting = true;
      this.start(slot).then(
        () => { slot.restarting = false; this.pump(); },
        () => { slot.restarting = false; this.failIfAllLost(why); },
      );
    }
    this.failIfAllLost(why);
    this.pump();
  }

  /** With no worker left and none starting, the queued photos fail. */
  private failIfAllLost(why: string): void {
    if (this.allLost()) {
      for (const job of this.queue.splice(0)) job.reject(new PhenofaceError('E_INTERNAL', `Every pipeline worker stopped (${why}).`));
    }
  }

  private allLost(): boolean {
    return this.slots.every((s) => s.dead && !s.restarting);
  }

  /** Photos the pool works on at once (two per worker, so decoding overlaps inference). */
  get capacity(): number {
    return this.slots.length * PHOTOS_PER_WORKER;
  }

  /** {@link Pipeline.embedFile} in a worker. A file path is read by the worker; bytes are copied to it. */
  embedFile(source: string | Buffer): Promise<EmbedResult> {
    return this.submit('embedFile', source) as Promise<EmbedResult>;
  }

  /** {@link Pipeline.detectFile} in a worker: every face, as `detect` lists them. */
  detectFile(source: string | Buffer): Promise<DetectResult> {
    return this.submit('detectFile', source);
  }

  private submit(op: Op, source: string | Buffer): Promise<EmbedResult | DetectResult> {
    if (this.closed) return Promise.reject(new PhenofaceError('E_INTERNAL', 'The pipeline pool is closed.'));
    if (this.allLost()) return Promise.reject(new PhenofaceError('E_INTERNAL', 'Every pipeline worker has stopped.'));
    return new Promise((resolve, reject) => {
      // A copy of its own, so that it can move to the worker (the caller's buffer stays theirs).
      this.queue.push({ op, source: typeof source === 'string' ? source : new Uint8Array(source), resolve, reject });
      this.pump();
    });
  }

  /** Sends queued jobs to the least busy workers with room. */
  private pump(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.filter((s) => !s.dead && s.busy < PHOTOS_PER_WORKER).sort((a, b) => a.busy - b.busy)[0];
      if (!slot) return;
      const job = this.queue.shift()!;
      const worker = slot.worker!;
      slot.busy++;
      worker.call(job.op, [job.source], typeof job.source === 'string' ? [] : [job.source.buffer as ArrayBuffer])
        .then(job.resolve, job.reject)
        .finally(() => {
          if (slot.worker === worker) slot.busy--;
          this.pump();
        });
    }
  }

  /** Releases the models and stops the workers (after the photos in progress); queued photos fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new PhenofaceError('E_INTERNAL', 'The pipeline pool is closed.'));
    await Promise.all(this.slots.map((slot) => slot.worker?.close()));
  }
}
