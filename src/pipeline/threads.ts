/**
 * The one worker-thread protocol: the pipeline pool, the server's screening worker and the study's
 * fold pool all run through it, each keeping only its own domain logic.
 *
 * A worker hosts one object. Its module exports a factory, which the worker calls as
 * `factory(...args, notify)`; the methods of the object it returns answer requests:
 * {@link WorkerThread.call} names a method and its arguments, and gets its result or its error.
 * `notify` sends events back between answers (warnings, progress).
 *
 * - Errors travel as `{code, message}` records and are rebuilt as PhenofaceErrors in the caller.
 * - A worker that stops unasked (a fatal error, a heap out-of-memory) fails every pending request
 *   with `E_INTERNAL`, and its owner hears of it through `onLost`, to replace it or take its work.
 * - Arguments and events may name transfer lists: bytes made for the worker move instead of being copied.
 *
 * Workers run these TypeScript sources: a worker does not inherit the parent's module hooks, so the
 * bootstrap registers tsx itself, as `bin/phenoface.mjs` does for the main thread, and then loads the
 * module it is given. That bootstrap is the only code that imports a module whose name is computed
 * at run time.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, Worker, workerData, type TransferListItem } from 'node:worker_threads';
import { PhenofaceError, toErrorRecord, type ErrorCode } from '../errors.ts';

/** Sends an event from a worker to its owner (`onEvent`), moving the buffers listed in `transfer`. */
export type Notify<Event> = (event: Event, transfer?: readonly TransferListItem[]) => void;

/** What a worker module exports: a factory of the object whose methods answer requests. */
export type WorkerFactory = (...args: any[]) => object | Promise<object>;

/** The arguments a factory takes before its trailing `notify`, when it takes one. */
export type FactoryArgs<F extends WorkerFactory> = Parameters<F> extends [...infer A, Notify<any>] ? A : Parameters<F>;

/** The events a factory's `notify` sends (`never` when it takes none). */
export type FactoryEvent<F extends WorkerFactory> = Parameters<F> extends [...unknown[], Notify<infer E>] ? E : never;

/** The object a factory builds. */
export type FactoryApi<F extends WorkerFactory> = Awaited<ReturnType<F>>;

/** Which factory a worker runs, and with what. */
export interface WorkerEntry<F extends WorkerFactory = WorkerFactory> {
  /** The module, as a file URL (e.g. `new URL('./pool-worker.ts', import.meta.url)`). */
  module: URL | string;
  /** Its export that is the factory. */
  exportName: string;
  /** Structured-clonable arguments before `notify` (a SharedArrayBuffer among them is shared, not copied). */
  args: FactoryArgs<F>;
  /** Buffers among `args` to move to the worker instead of copying. */
  transfer?: readonly TransferListItem[];
}

/** Options of {@link WorkerThread.spawn}. */
export interface SpawnOptions<Event> {
  /** What the worker is, in messages (`The screening worker stopped ...`). */
  name: string;
  /** Receives the worker's events, in the order they were sent, before the answers sent after them. */
  onEvent?: (event: Event) => void;
  /**
   * Called once when the worker stops without {@link WorkerThread.close} having been asked,
   * including when its factory fails; pending requests have failed by then.
   */
  onLost?: (why: string) => void;
}

/** The methods of `Api`, by name. */
type MethodName<Api> = { [K in keyof Api]: Api[K] extends (...args: any[]) => unknown ? K : never }[keyof Api] & string;
type Method<Api, K extends MethodName<Api>> = Api[K] extends (...args: infer A) => infer R ? { args: A; result: Awaited<R> } : never;

/** An error crossing the boundary as data. */
type ErrorRecord = { code: string; message: string };

/** Messages to a worker. */
type ToWorker =
  | { type: 'call'; id: number; method: string; args: unknown[] }
  | { type: 'close' };

/** Messages from a worker. */
type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: ErrorRecord }
  | { type: 'event'; event: unknown }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ErrorRecord }
  | { type: 'closed'; error?: ErrorRecord };

/** What the bootstrap reads from `workerData`: a bare module, or a factory to host. */
interface BootData {
  module: string;
  exportName?: string;
  args?: unknown[];
}

/** An error record rebuilt as the PhenofaceError it was. */
function fromErrorRecord(e: ErrorRecord): PhenofaceError {
  return new PhenofaceError(e.code as ErrorCode, e.message);
}

/**
 * Bytes that crossed a thread boundary (structured cloning turns a Buffer into a plain Uint8Array)
 * seen as a Buffer again, without a copy.
 */
export function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The parent's side of one worker thread: requests by method name, each answered once; events;
 * an orderly close. Requests made before the worker is ready wait in it until its factory is done.
 */
export class WorkerThread<Api extends object, Event = never> {
  /** Resolves once the factory has built the hosted object; rejects with its error (or the thread's end). */
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, { resolve(value: any): void; reject(err: Error): void }>();
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private isReady = false;
  private ended: PhenofaceError | undefined;
  private settleReady!: (err?: Error) => void;
  private onClosed: ((error?: ErrorRecord) => void) | undefined;

  private constructor(private readonly worker: Worker, private readonly options: SpawnOptions<Event>) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => {}); // a failed start also reaches every request and onLost
    worker.on('message', (m: FromWorker) => this.receive(m));
    worker.on('error', (err) => this.end(err.message, `failed to start: ${err.message}`));
    worker.on('exit', (code) => this.end(`exit code ${code}`, `exited (code ${code}) while starting`));
  }

  /**
   * Starts a worker thread on `entry`'s factory. Returns at once; await {@link ready} to know the
   * factory succeeded (its error, e.g. E_MODEL, rejects it).
   */
  static spawn<F extends WorkerFactory>(entry: WorkerEntry<F>, options: SpawnOptions<FactoryEvent<F>>): WorkerThread<FactoryApi<F>, FactoryEvent<F>> {
    const data: BootData = { module: String(entry.module), exportName: entry.exportName, args: entry.args as unknown[] };
    return new WorkerThread(startBootstrap(data, entry.transfer), options);
  }

  /** True until the thread has ended (asked or not). */
  get running(): boolean {
    return this.ended === undefined;
  }

  /**
   * Calls `method` of the hosted object with `args` (structured-cloned; the buffers in `transfer`
   * are moved instead) and resolves with its result, or rejects with its error rebuilt as a
   * PhenofaceError. Rejects with E_INTERNAL when the worker stops first or is closed.
   */
  call<K extends MethodName<Api>>(method: K, args: Method<Api, K>['args'], transfer: readonly TransferListItem[] = []): Promise<Method<Api, K>['result']> {
    if (this.ended) return Promise.reject(this.ended);
    if (this.closing) return Promise.reject(new PhenofaceError('E_INTERNAL', `The ${this.options.name} is closed.`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'call', id, method, args } satisfies ToWorker, transfer);
    });
  }

  /**
   * Asks the hosted object to close once the requests in progress are answered (its `close()`, if
   * it has one), waits for that at most `graceMs`, then ends the thread. Rejects with the error of
   * that `close()` after the thread has ended.
   */
  close(graceMs = 10_000): Promise<void> {
    this.closing ??= this.shutDown(graceMs);
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    let error: ErrorRecord | undefined;
    if (this.running && graceMs > 0) {
      error = await new Promise<ErrorRecord | undefined>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.onClosed = (e) => { clearTimeout(timer); resolve(e); };
        this.worker.postMessage({ type: 'close' } satisfies ToWorker);
      });
    }
    await this.worker.terminate();
    if (error) throw fromErrorRecord(error);
  }

  /** Ends the thread at once, unasked, as a fatal error in it would: pending requests fail and `onLost` runs. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private receive(m: FromWorker): void {
    if (m.type === 'event') this.options.onEvent?.(m.event as Event);
    else if (m.type === 'ready') { this.isReady = true; this.settleReady(); }
    else if (m.type === 'init-error') this.fail(fromErrorRecord(m.error), m.error.message);
    else if (m.type === 'result' || m.type === 'error') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.type === 'result') p?.resolve(m.value);
      else p?.reject(fromErrorRecord(m.error));
    } else if (m.type === 'closed') this.onClosed?.(m.error);
  }

  /** The thread has ended: `why` for a running worker, `whileStarting` before it was ready. */
  private end(why: string, whileStarting: string): void {
    const name = this.options.name;
    this.fail(new PhenofaceError('E_INTERNAL', this.isReady ? `The ${name} stopped (${why}).` : `The ${name} ${whileStarting}.`), why);
  }

  private fail(error: PhenofaceError, why: string): void {
    if (this.ended) return;
    this.ended = error;
    this.settleReady(error);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.onClosed?.();
    void this.worker.terminate();
    if (!this.closing) this.options.onLost?.(why);
  }
}

/**
 * Starts a worker thread running the TypeScript module `entry` as it is, with no protocol: for
 * tests that exercise threads themselves. Everything else goes through {@link WorkerThread}.
 */
export function startTsWorker(entry: URL): Worker {
  return startBootstrap({ module: entry.href });
}

/** A worker thread on the bootstrap, given what to load. */
function startBootstrap(data: BootData, transfer: readonly TransferListItem[] = []): Worker {
  return new Worker(bootstrapSource(), { eval: true, workerData: data, transferList: [...transfer] });
}

/** The bootstrap's source: register tsx (found through its package.json exports), then {@link runBootstrap}. */
function bootstrapSource(): string {
  const require = createRequire(import.meta.url);
  const tsxPackage = require.resolve('tsx/package.json');
  const api = new URL(require('tsx/package.json').exports['./esm/api'].import.default, pathToFileURL(tsxPackage)).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); }).then((threads) => threads.runBootstrap());`;
}

/**
 * Runs in a new worker thread: loads the module named in `workerData` (the one import of a
 * computed module name), then, when an export is named, hosts the object its factory builds.
 * @internal
 */
export async function runBootstrap(): Promise<void> {
  const data = workerData as BootData;
  if (data.exportName === undefined) {
    await import(data.module);
    return;
  }
  const exportName = data.exportName;
  hostFactory(import(data.module).then((mod: Record<string, unknown>) => {
    const factory = mod[exportName];
    if (typeof factory !== 'function') throw new PhenofaceError('E_INTERNAL', `${data.module} does not export a function ${exportName}.`);
    return factory as WorkerFactory;
  }), data.args ?? []);
}

/** The worker's side: builds the hosted object, then answers calls and the close request. */
function hostFactory(factory: Promise<WorkerFactory>, args: unknown[]): void {
  if (!parentPort) throw new Error('threads.ts: the bootstrap must run in a worker thread');
  const port = parentPort;
  const send = (m: FromWorker, transfer: readonly TransferListItem[] = []) => port.postMessage(m, transfer);
  const notify: Notify<unknown> = (event, transfer) => send({ type: 'event', event }, transfer);
  const hosted = factory.then((f) => f(...args, notify) as Record<string, unknown>);
  hosted.then(() => send({ type: 'ready' }), (err) => send({ type: 'init-error', error: toErrorRecord(err) }));
  const inProgress = new Set<Promise<unknown>>();

  const answer = async (m: Extract<ToWorker, { type: 'call' }>) => {
    try {
      const target = await hosted;
      const method = target[m.method];
      if (typeof method !== 'function') throw new PhenofaceError('E_INTERNAL', `The worker's object has no method ${m.method}.`);
      send({ type: 'result', id: m.id, value: await method.apply(target, m.args) });
    } catch (err) {
      send({ type: 'error', id: m.id, error: toErrorRecord(err) });
    }
  };
  const close = async () => {
    await Promise.allSettled(inProgress);
    try {
      const target = await hosted.catch(() => undefined); // a failed start was reported as init-error: nothing to close
      if (typeof target?.close === 'function') await target.close();
      send({ type: 'closed' });
    } catch (err) {
      send({ type: 'closed', error: toErrorRecord(err) });
    }
  };
  port.on('message', (m: ToWorker) => {
    if (m.type === 'close') { void close(); return; }
    const call = answer(m);
    inProgress.add(call);
    void call.finally(() => inProgress.delete(call));
  });
}
