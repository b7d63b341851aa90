/**
 * The one system call per photo that validating a manifest cannot avoid, spread over worker threads.
 *
 * Whether a photo exists, is a regular file, holds bytes and may be read is a property of its inode,
 * so every photo of a manifest costs one `lstat`; on a virtual machine with page-table isolation that
 * is 5-9 us, most of validating a million rows (`bench:manifest`). The calls are independent, so
 * {@link FileStatPool} answers them in batches on worker threads while the main thread goes on
 * parsing and checking rows. A worker only says "plainly fine" or "look closer": everything else
 * (links, missing or unreadable files, their messages) stays with the main thread's checks in
 * `manifest.ts` and `paths.ts`, so the rules live in one place.
 */
import { lstatSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DEFAULTS } from '../config.ts';
import { WorkerThread } from '../pipeline/threads.ts';

/** The process's POSIX user and groups, to read mode bits as the kernel does; absent on Windows. */
export interface Identity {
  uid?: number;
  gids: number[];
}

/** This process's {@link Identity}. */
export function currentIdentity(): Identity {
  const gid = process.getgid?.();
  return { uid: process.getuid?.(), gids: [...(gid === undefined ? [] : [gid]), ...(process.getgroups?.() ?? [])] };
}

/**
 * The mode bits of the class `who` falls in for this file (owner, else group, else other, the
 * order the kernel checks them) allow reading. False without POSIX ids: ask `access` then.
 */
export function modeGrantsRead(stats: Stats, who: Identity): boolean {
  if (who.uid === undefined) return false;
  if (stats.uid === who.uid) return (stats.mode & 0o400) !== 0;
  if (who.gids.includes(stats.gid)) return (stats.mode & 0o040) !== 0;
  return (stats.mode & 0o004) !== 0;
}

/** A verdict of {@link plainFileVerdicts}: a regular, non-empty file whose mode bits let `who` read it. */
export const PLAIN_FILE = 1;
/** A verdict of {@link plainFileVerdicts}: anything else (missing, a link, empty, unreadable): check it fully. */
export const CHECK_FULLY = 0;

const NO_THROW_IF_MISSING = { throwIfNoEntry: false } as const;

/** One verdict ({@link PLAIN_FILE} or {@link CHECK_FULLY}) per absolute path, by one `lstat` each. */
export function plainFileVerdicts(absPaths: readonly string[], who: Identity): Uint8Array {
  const out = new Uint8Array(absPaths.length);
  for (let i = 0; i < absPaths.length; i++) {
    let stats: Stats | undefined;
    try {
      stats = lstatSync(absPaths[i], NO_THROW_IF_MISSING);
    } catch {
      continue; // the full check tells why
    }
    if (stats !== undefined && stats.isFile() && stats.size > 0 && modeGrantsRead(stats, who)) out[i] = PLAIN_FILE;
  }
  return out;
}

/** A worker thread's object (runs in the worker): {@link plainFileVerdicts} as a method. */
export function createFileStatWorker(who: Identity) {
  return { verdicts: (absPaths: string[]) => plainFileVerdicts(absPaths, who) };
}

type FileStatThread = WorkerThread<ReturnType<typeof createFileStatWorker>>;

/**
 * Verdicts for batches of paths, on `DEFAULTS.data.fileCheckThreads` worker threads started on
 * first use (inline for small manifests, where starting a thread costs more than it saves). A
 * thread that fails or cannot start leaves its batches to the main thread: the answer is the same,
 * only slower.
 */
export class FileStatPool {
  private threads: FileStatThread[] | undefined;
  private next = 0;
  private readonly who = currentIdentity();

  /** `expectedPaths`: how many paths the pool will be asked about, to decide whether threads pay. */
  constructor(private readonly expectedPaths: number) {}

  /** The verdicts of `absPaths`, in their order. */
  async verdicts(absPaths: string[]): Promise<Uint8Array> {
    const threads = this.start();
    if (threads.length === 0) return plainFileVerdicts(absPaths, this.who);
    const thread = threads[this.next++ % threads.length];
    try {
      return await thread.call('verdicts', [absPaths]);
    } catch {
      return plainFileVerdicts(absPaths, this.who); // a thread lost or not started: the main thread answers
    }
  }

  /** How many threads were started (none before the first batch, nor for a small manifest). */
  get threadCount(): number {
    return this.threads?.length ?? 0;
  }

  /** Ends the threads. */
  async close(): Promise<void> {
    await Promise.all((this.threads ?? []).map((t) => t.close(0)));
  }

  private start(): FileStatThread[] {
    if (this.threads !== undefined) return this.threads;
    const { fileCheckThreads, fileCheckThreadsFromPaths } = DEFAULTS.data;
    const count = this.expectedPaths < fileCheckThreadsFromPaths ? 0 : Math.min(fileCheckThreads, availableParallelism());
    this.threads = Array.from({ length: count }, () =>
      WorkerThread.spawn<typeof createFileStatWorker>(
        { module: new URL('./file-stat.ts', import.meta.url), exportName: 'createFileStatWorker', args: [this.who] },
        { name: 'file-check worker' },
      ),
    );
    return this.threads;
  }
}
