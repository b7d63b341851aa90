/**
 * A {@link ScreenService} that runs in a worker thread. Screening does seconds of synchronous
 * JavaScript per photo (detection post-processing, Grad-CAM, overlays); on the server's own thread
 * that would stall every other request, so "busy" answers, health checks and the UI's files would
 * wait behind it. In a worker the HTTP thread stays free, and the bounded queue's 503s are instant.
 *
 * The worker hosts the service a factory builds (`../pipeline/threads.ts` is the protocol). If the worker
 * dies, pending screenings fail with E_INTERNAL and the next one starts a new worker.
 */
import { PhenofaceError } from '../errors.ts';
import type { ScreenResult } from '../workflows/screen/result.ts';
import { WorkerThread, type Notify, type WorkerEntry } from '../pipeline/threads.ts';
import type { ModelInfo, ScreenOptions, ScreenService, UploadedPhoto } from './types.ts';

/**
 * A factory of the service the worker hosts, called there as `(...args, warn)`: the real one is
 * `loadScreenService` (`./bundle-service.ts`); tests give a fake.
 */
export type ScreenServiceFactory = (...args: [...unknown[], Notify<string>]) => Promise<ScreenService>;

/** Which service the worker builds: `module`'s export `exportName`, called as `(...args, warn)`. */
export type WorkerServiceSpec = WorkerEntry<ScreenServiceFactory>;

type ScreenThread = WorkerThread<ScreenService, string>;

/** The service in a worker thread. */
export class WorkerScreenService implements ScreenService {
  private thread: ScreenThread | undefined;
  private starting: Promise<ScreenThread> | undefined;
  private modelInfo!: ModelInfo;
  private closing = false;

  private constructor(private readonly spec: WorkerServiceSpec, private readonly warn: (message: string) => void) {}

  /** Starts the worker and loads the service in it; rejects with the loader's error (e.g. E_BUNDLE). */
  static async start(spec: WorkerServiceSpec, warn: (message: string) => void = () => {}): Promise<WorkerScreenService> {
    const service = new WorkerScreenService(spec, warn);
    await service.worker();
    return service;
  }

  /** The running worker, or a new one (one at a time, however many screenings ask). */
  private worker(): Promise<ScreenThread> {
    if (this.thread) return Promise.resolve(this.thread);
    this.starting ??= this.boot().finally(() => { this.starting = undefined; });
    return this.starting;
  }

  private async boot(): Promise<ScreenThread> {
    const thread: ScreenThread = WorkerThread.spawn<ScreenServiceFactory>(this.spec, {
      name: 'screening worker',
      onEvent: (message) => this.warn(message),
      onLost: (why) => this.lost(thread, why),
    });
    await thread.ready;
    this.modelInfo = await thread.call('info', []);
    this.thread = thread;
    return thread;
  }

  private lost(thread: ScreenThread, why: string): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    if (!this.closing) this.warn(`Warning: the screening worker stopped (${why}); the next screening starts a new one.`);
  }

  /** The model facts the worker reported when it started (read again when a new worker starts). */
  info(): ModelInfo {
    return this.modelInfo;
  }

  /** Screens the photos in the worker (their bytes are copied to it); starts a new worker first if the last one stopped. */
  async screen(photos: UploadedPhoto[], opts?: ScreenOptions): Promise<ScreenResult> {
    if (this.closing) throw new PhenofaceError('E_INTERNAL', 'The screening service is closed.');
    const thread = await this.worker();
    return thread.call('screen', [photos.map((p) => ({ name: p.name, bytes: p.bytes })), opts]);
  }

  /** Closes the service in the worker (after the screenings in progress), then stops the worker. */
  async close(): Promise<void> {
    this.closing = true;
    await this.starting?.catch(() => undefined);
    await this.thread?.close();
  }
}
