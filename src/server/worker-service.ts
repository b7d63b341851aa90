/**
 * A {@link ScreenService} that runs in a worker thread. Screening does seconds of synchronous
 * JavaScript per photo (detection post-processing, Grad-CAM, overlays); on the server's own thread
 * that would stall every other request, so "busy" answers, health checks and the UI's files would
 * wait behind it. In a worker the HTTP thread stays free, and the bounded queue's 503s are instant.
 *
 * The worker runs the TypeScript sources through tsx (`../threads.ts`).
 * If the worker dies, pending screenings fail with E_INTERNAL and the next one starts a new worker.
 */
import type { Worker } from 'node:worker_threads';
import { PhenofaceError, type ErrorCode } from '../errors.ts';
import type { ScreenResult } from '../screen-types.ts';
import { startTsWorker } from '../threads.ts';
import type { ModelInfo, ScreenOptions, ScreenService, UploadedPhoto } from './types.ts';

type ErrorRecord = { code: string; message: string; name: string };

/** Messages to the worker. */
export type ToWorker =
  | { type: 'init'; module: string; exportName: string; args: unknown[] }
  | { type: 'screen'; id: number; photos: { name: string; bytes: Uint8Array }[]; opts?: ScreenOptions }
  | { type: 'close' };

/** Messages from the worker. */
export type FromWorker =
  | { type: 'ready'; info: ModelInfo }
  | { type: 'init-error'; error: ErrorRecord }
  | { type: 'warn'; message: string }
  | { type: 'result'; id: number; result: ScreenResult }
  | { type: 'error'; id: number; error: ErrorRecord }
  | { type: 'closed' };

/** Which service the worker builds: `module`'s export `exportName`, called as `(…args, warn)`. */
export interface WorkerServiceSpec {
  /** A file URL of the module (e.g. `new URL('./screener.ts', import.meta.url).href`). */
  module: string;
  exportName: string;
  /** Structured-clonable arguments before `warn` (e.g. the model folder). */
  args: unknown[];
}

function toError(e: ErrorRecord): Error {
  return new PhenofaceError(e.code as ErrorCode, e.message);
}

/** The service in a worker thread. */
export class WorkerScreenService implements ScreenService {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve(r: ScreenResult): void; reject(e: Error): void }>();
  private nextId = 1;
  private closing = false;

  private constructor(private readonly spec: WorkerServiceSpec, private readonly warn: (message: string) => void, private modelInfo: ModelInfo) {}

  /** Starts the worker and loads the service in it; rejects with the loader's error (e.g. E_BUNDLE). */
  static async start(spec: WorkerServiceSpec, warn: (message: string) => void = () => {}): Promise<WorkerScreenService> {
    const { worker, info } = await WorkerScreenService.boot(spec, warn);
    const service = new WorkerScreenService(spec, warn, info);
    service.attach(worker);
    return service;
  }

  private static boot(spec: WorkerServiceSpec, warn: (message: string) => void): Promise<{ worker: Worker; info: ModelInfo }> {
    return new Promise((resolve, reject) => {
      const worker = startTsWorker(new URL('./screen-worker.ts', import.meta.url));
      const onMessage = (m: FromWorker) => {
        if (m.type === 'warn') warn(m.message);
        else if (m.type === 'ready') { done(); resolve({ worker, info: m.info }); }
        else if (m.type === 'init-error') { done(); void worker.terminate(); reject(toError(m.error)); }
      };
      const onError = (err: Error) => { done(); reject(new PhenofaceError('E_INTERNAL', `The screening worker failed to start: ${err.message}`, { cause: err })); };
      const onExit = (code: number) => { done(); reject(new PhenofaceError('E_INTERNAL', `The screening worker exited (code ${code}) while starting.`)); };
      const done = () => { worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit); };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ type: 'init', module: spec.module, exportName: spec.exportName, args: spec.args } satisfies ToWorker);
    });
  }

  private attach(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'warn') this.warn(m.message);
      else if (m.type === 'result' || m.type === 'error') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.type === 'result') p?.resolve(m.result);
        else p?.reject(toError(m.error));
      }
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(new PhenofaceError('E_INTERNAL', `The screening worker stopped (${why}).`));
      this.pending.clear();
      if (!this.closing) this.warn(`Warning: the screening worker stopped (${why}); the next screening starts a new one.`);
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
  }

  info(): ModelInfo {
    return this.modelInfo;
  }

  async screen(photos: UploadedPhoto[], opts?: ScreenOptions): Promise<ScreenResult> {
    if (this.closing) throw new PhenofaceError('E_INTERNAL', 'The screening service is closed.');
    if (!this.worker) {
      const { worker, info } = await WorkerScreenService.boot(this.spec, this.warn);
      this.modelInfo = info;
      this.attach(worker);
    }
    const id = this.nextId++;
    return new Promise<ScreenResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ type: 'screen', id, photos: photos.map((p) => ({ name: p.name, bytes: p.bytes })), opts } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      worker.on('message', (m: FromWorker) => { if (m.type === 'closed') { clearTimeout(timer); resolve(); } });
      worker.once('exit', () => { clearTimeout(timer); resolve(); });
      worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
    await worker.terminate();
  }
}
