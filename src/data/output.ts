/**
 * Where commands write. Every output goes through here so that no run can destroy what it reads or
 * leave a half-written result where a finished one was:
 *
 * - An output is never one of the run's inputs: the same file by real path or by device and inode
 *   (so symlinks, hard links and other spellings are caught). A result folder, which is replaced as
 *   a whole, never holds an input; and no output lies inside a folder the run walks for photos,
 *   where the next run would read it as one. Each is an `E_USAGE` error ({@link checkOutput}).
 * - A file is written under a hidden name beside its target and renamed over it once complete
 *   ({@link prepareOutputFile}, {@link writeOutputFile}): the target holds the old bytes or the new,
 *   never a truncated mix, and a run that fails leaves it as it was.
 * - A result folder is built beside its target and swapped in once complete
 *   ({@link prepareOutputDir}). An existing target is replaced only when it is empty or holds a
 *   finished output of the same kind (its marker file); entries the run keeps there (the embedding
 *   cache, so a killed run resumes) are carried over, and a folder holding anyone else's files is
 *   refused, so a user's file is never deleted or mixed with results. A run that fails removes the
 *   folders it made for its output while they are empty, and no folder that was there before it.
 * - File-system errors on outputs become `E_INPUT` errors naming the path and what was expected
 *   ({@link mapFsError}), never a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { constants, mkdirSync, statSync } from 'node:fs';
import { access, chmod, mkdir, open, readdir, readFile, realpath, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';

/** A path the run reads: absolute, and optionally as the user wrote it (for messages). */
export type InputPath = string | { abs: string; shown: string };

/** What an output must keep clear of, and how to name it in messages. */
export interface OutputGuard {
  /** The option that named the output, e.g. `--out`. */
  option: string;
  /** The output as the user wrote it (default: its absolute path). */
  shown?: string;
  /** Files and folders the run reads: the output may not be one, and a result folder may not hold one. */
  inputs?: Iterable<InputPath>;
  /** Folders the run walks for photos: an output inside one would be read as a photo next time. */
  inputFolders?: Iterable<InputPath>;
}

/** Why an errno code stops a write, as a clause for "Cannot write "X": ..." messages. */
const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is too large for the file system',
  EISDIR: 'it is a folder',
  EEXIST: 'something else already exists there',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
  EBUSY: 'it is busy (in use, or a mount point)',
  EXDEV: 'it is on another file system than its folder',
  EMFILE: 'too many open files',
  EIO: 'an input/output error occurred',
};

/** True for the errors Node's file system calls throw (`code` and `syscall` set). */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** The nearest existing ancestor of `abs` and whether it is a folder. */
async function nearestExisting(abs: string): Promise<{ at: string; isDir: boolean }> {
  for (let p = path.dirname(abs); ; p = path.dirname(p)) {
    const st = await stat(p).catch(() => undefined);
    if (st) return { at: p, isDir: st.isDirectory() };
    if (path.dirname(p) === p) return { at: p, isDir: true };
  }
}

/**
 * A file-system error on the output `target` as an `E_INPUT` error naming the path (as `shown`) and
 * what was expected; any other error is returned unchanged (rethrow the result either way).
 */
export async function mapFsError(err: unknown, target: string, shown = target, expected = 'a path in an existing folder you can write to, with free space'): Promise<unknown> {
  if (!isFsError(err)) return err;
  let reason = FS_REASONS[err.code!] ?? err.message;
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'EEXIST') {
    // Say which part of the path is wrong: a file where a folder should be, or a missing folder.
    const abs = path.resolve(target);
    const { at, isDir } = await nearestExisting(abs);
    if (!isDir) reason = `"${at}" is a file, not a folder`;
    else if (err.code !== 'EEXIST') reason = at === path.dirname(abs) ? `a file cannot be created in "${at}" (${err.code})` : `the folder "${path.dirname(abs)}" does not exist`;
  }
  return new PhenofaceError('E_INPUT', `Cannot write "${shown}": ${reason}. Should be ${expected}.`, { cause: err });
}

/** What identifies a path: absolute and real spellings, and device and inode when it exists. */
interface Identity {
  abs: string;
  real: string;
  shown: string;
  dev?: number;
  ino?: number;
  isDir?: boolean;
}

/** Real path of `abs` whether or not it exists (its nearest existing ancestor resolved, the rest appended). */
async function realOf(abs: string): Promise<string> {
  const direct = await realpath(abs).catch(() => undefined);
  if (direct) return direct;
  const parent = path.dirname(abs);
  return parent === abs ? abs : path.join(await realOf(parent), path.basename(abs));
}

/** The identity of `p`; without `real`, only what one `stat` tells (enough to tell the same file, not containment). */
async function identify(p: InputPath, real = true): Promise<Identity> {
  const abs = path.resolve(typeof p === 'string' ? p : p.abs);
  const shown = typeof p === 'string' ? abs : p.shown;
  const st = await stat(abs).catch(() => undefined);
  return { abs, shown, real: real ? await realOf(abs) : '', ...(st && { dev: st.dev, ino: st.ino, isDir: st.isDirectory() }) };
}

const sameFile = (a: Identity, b: Identity) => a.abs === b.abs || (a.real !== '' && a.real === b.real) || (a.dev !== undefined && a.dev === b.dev && a.ino === b.ino);
const under = (p: string, folder: string) => p !== '' && folder !== '' && p.startsWith(folder.endsWith(path.sep) ? folder : folder + path.sep);
const inside = (a: Identity, folder: Identity) => under(a.abs, folder.abs) || under(a.real, folder.real) || under(a.abs, folder.real) || under(a.real, folder.abs);

/**
 * Throws `E_USAGE` when the output `target` is one of the guard's inputs, lies inside (or is) one of
 * its input folders, or, when it is a folder the run replaces (`replaces`), holds an input.
 */
export async function checkOutput(target: string, guard: OutputGuard, replaces = false): Promise<void> {
  const out = await identify({ abs: target, shown: guard.shown ?? path.resolve(target) });
  const name = `${guard.option} "${out.shown}"`;
  for (const f of guard.inputFolders ?? []) {
    const folder = await identify(f);
    if (sameFile(out, folder)) throw new PhenofaceError('E_USAGE', `${name} is the input folder "${folder.shown}". Should be a folder outside it.`);
    if (inside(out, folder)) throw new PhenofaceError('E_USAGE', `${name} lies inside the input folder "${folder.shown}", which this run reads: what it writes there would be read as input next time. Should be outside it.`);
  }
  // An output that does not exist yet is no existing input, nor holds one: compare spellings only.
  // A file output is told apart by device and inode; a replaced folder needs real paths for containment.
  const exists = out.dev !== undefined;
  for (const p of guard.inputs ?? []) {
    const input = exists ? await identify(p, replaces) : { abs: path.resolve(typeof p === 'string' ? p : p.abs), real: '', shown: typeof p === 'string' ? p : p.shown };
    if (sameFile(out, input)) throw new PhenofaceError('E_USAGE', `${name} is the input "${input.shown}": writing it would destroy the input. Should be a path this run does not read.`);
    if (replaces && exists && inside(input, out)) throw new PhenofaceError('E_USAGE', `${name} holds the input "${input.shown}", and the output folder is replaced as a whole. Should be a folder that holds none of the inputs.`);
  }
}

/** True while a process of this id runs (a staging entry of a live run must not be removed). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A hidden name beside `base` for this process's staging file or folder. */
const stagingName = (base: string) => `.${base}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Removes staging entries beside `base` left by runs that were killed (their process is gone). */
async function removeStale(folder: string, base: string): Promise<void> {
  const pattern = new RegExp(`^\\.${escapeRe(base)}\\.partial-(\\d+)-[0-9a-f]+$`);
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const m = pattern.exec(name);
    if (m && !alive(Number(m[1]))) await rm(path.join(folder, name), { recursive: true, force: true });
  }
}

/**
 * An output file being written: {@link write} in order, then {@link commit} to move it into place,
 * or {@link abort} to drop it. Until `commit`, the target is untouched. A target that is a device,
 * pipe or socket (`--out /dev/stdout`, a FIFO) is written to directly: it holds nothing to keep, and
 * renaming over it would replace the device node itself.
 */
export class OutputFile {
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(
    /** The real path the file is moved to on commit. */
    readonly target: string,
    /** The staging file; undefined when writing to a device or pipe directly. */
    private readonly temp: string | undefined,
    private readonly handle: FileHandle,
    private readonly shown: string,
  ) {}

  /** Opens a staging file for `target` after {@link checkOutput}; see {@link prepareOutputFile}. */
  static async open(target: string, guard: OutputGuard): Promise<OutputFile> {
    const abs = path.resolve(target);
    const shown = guard.shown ?? abs;
    await checkOutput(abs, guard);
    const real = await realOf(abs);
    const st = await stat(real).catch(() => undefined);
    if (st?.isDirectory()) throw new PhenofaceError('E_INPUT', `${guard.option} "${shown}" is a folder. Should be a file path (e.g. out.jsonl).`);
    if (st && !st.isFile()) {
      const direct = await open(real, 'w').catch(async (err) => { throw await mapFsError(err, abs, shown); });
      return new OutputFile(real, undefined, direct, shown);
    }
    const folder = path.dirname(real);
    const folderSt = await stat(folder).catch(async (err) => { throw await mapFsError(err, abs, shown); });
    if (!folderSt.isDirectory()) throw await mapFsError(Object.assign(new Error('not a directory'), { code: 'ENOTDIR', syscall: 'open' }), abs, shown);
    await removeStale(folder, path.basename(real));
    const temp = path.join(folder, stagingName(path.basename(real)));
    const handle = await open(temp, 'wx').catch(async (err) => { throw await mapFsError(err, abs, shown); });
    // A replaced file keeps its permissions.
    if (st) await chmod(temp, st.mode & 0o7777).catch(() => undefined);
    return new OutputFile(real, temp, handle, shown);
  }

  /** Appends `data`; writes happen in order, and the first failure is reported by {@link commit}. */
  write(data: string | Uint8Array): void {
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      try {
        const bytes = typeof data === 'string' ? Buffer.from(data) : data;
        for (let off = 0; off < bytes.length;) off += (await this.handle.write(bytes, off)).bytesWritten;
      } catch (err) {
        this.failure = err;
      }
    });
  }

  /** Flushes, and renames the file over its target. On failure the target is left as it was. */
  async commit(): Promise<void> {
    await this.chain;
    try {
      if (this.failure !== undefined) throw this.failure;
      if (this.temp === undefined) return await this.handle.close();
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temp, this.target);
    } catch (err) {
      await this.abort();
      throw await mapFsError(err, this.target, this.shown);
    }
  }

  /** Drops the staging file; the target stays as it was. */
  async abort(): Promise<void> {
    await this.chain;
    await this.handle.close().catch(() => undefined);
    if (this.temp !== undefined) await unlink(this.temp).catch(() => undefined);
  }
}

/**
 * Checks `target` against `guard` (E_USAGE), then opens a staging file beside it (E_INPUT when the
 * folder is missing or unwritable, or `target` is a folder). Nothing is truncated or replaced
 * until {@link OutputFile.commit}. A symlinked target is written through: its target is replaced.
 */
export function prepareOutputFile(target: string, guard: OutputGuard): Promise<OutputFile> {
  return OutputFile.open(target, guard);
}

/** Writes `data` to `target` all at once (staged and renamed), after the checks of {@link prepareOutputFile}. */
export async function writeOutputFile(target: string, data: string | Uint8Array, guard: OutputGuard = { option: 'output' }): Promise<void> {
  const file = await prepareOutputFile(target, guard);
  file.write(data);
  await file.commit();
}

/**
 * A folder the run adds files to (not replaced as a whole): checked against `guard` (E_USAGE),
 * created with its parents, and E_INPUT when it is a file or cannot be created.
 */
export async function prepareOutputFolder(target: string, guard: OutputGuard): Promise<string> {
  const abs = path.resolve(target);
  const shown = guard.shown ?? abs;
  await checkOutput(abs, guard);
  const st = await stat(abs).catch(() => undefined);
  if (st && !st.isDirectory()) throw new PhenofaceError('E_INPUT', `${guard.option} "${shown}" is a file. Should be a folder (new, or one to add files to).`);
  const expected = 'a folder path you can write to';
  await makeFolders(abs).catch(async (err) => { throw await mapFsError(err, abs, shown, expected); });
  await access(abs, constants.W_OK).catch(async (err) => { throw await mapFsError(err, abs, shown, expected); });
  return abs;
}

/**
 * Makes `dir` with its missing parents, one level at a time, and returns the first folder it made
 * (undefined when `dir` was there), as `mkdir(dir, { recursive: true })` does. That call loops for
 * ever on a folder whose parent exists but refuses new entries with ENOENT (under /proc); here the
 * error is thrown: ENOENT from `mkdir`, ENOTDIR when a parent is a file, EEXIST when `dir` is one.
 * A handful of system calls, so it is synchronous underneath ({@link makeFoldersSync}).
 */
export async function makeFolders(dir: string, mode?: number): Promise<string | undefined> {
  return makeFoldersSync(dir, mode);
}

/** {@link makeFolders} for synchronous callers (opening the embedding cache). */
export function makeFoldersSync(dir: string, mode?: number): string | undefined {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  for (let p = abs; ; p = path.dirname(p)) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory()) mkdirSync(p); // EEXIST
      break;
    }
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      mkdirSync(p, mode === undefined ? {} : { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // made meanwhile by another run
    }
  }
  return missing[0];
}

/** The folders `mkdir(dir, { recursive: true })` made, deepest first, given the first one it reports having made. */
function madeFolders(dir: string, first: string | undefined): string[] {
  if (first === undefined) return [];
  const made: string[] = [];
  for (let p = dir; ; p = path.dirname(p)) {
    made.push(p);
    if (p === path.resolve(first) || path.dirname(p) === p) return made;
  }
}

/**
 * Removes `folders` (deepest first) while each is empty, so that a failed run leaves no empty folder
 * it made; one holding anything (an embedding cache a re-run resumes from) stays, with its parents.
 */
async function removeEmpty(folders: readonly string[]): Promise<void> {
  for (const folder of folders) if (!(await rmdir(folder).then(() => true, () => false))) return;
}

/** A kind of result folder: how a finished one is recognised, and which entries it writes. */
export interface OutputKind {
  /** The command, for messages: `study`, `synth`, `demo`. */
  name: string;
  /** The file in a finished output that says what wrote it. */
  marker: string;
  /** True when the marker's parsed JSON is this kind's. */
  isMarker(json: unknown): boolean;
  /** Entries the output writes: those of an earlier run are replaced. */
  owned: readonly string[];
}

/** Entries operating systems add to any folder shown in a file manager; no sign of a user's data. */
const SYSTEM_ENTRIES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini']);

async function hasMarker(folder: string, kind: OutputKind): Promise<boolean> {
  try {
    return kind.isMarker(JSON.parse(await readFile(path.join(folder, kind.marker), 'utf8')));
  } catch {
    return false;
  }
}

/**
 * A result folder being built: write into {@link dir}; {@link commit} swaps it in for the target,
 * {@link abort} drops it. Paths under `dir` name the staging copy until then: report them to the
 * user through {@link finalPath} or {@link relocate}.
 */
export class StagedDir {
  private constructor(
    /** The real path of the result folder. */
    readonly target: string,
    /** The staging folder, beside the target, to write the results into. */
    readonly dir: string,
    private readonly kind: OutputKind,
    private readonly keep: ReadonlySet<string>,
    private readonly shown: string,
    /** Folders this run made for the output (the target, missing parents), deepest first. */
    private readonly made: readonly string[],
  ) {}

  /** See {@link prepareOutputDir}. */
  static async open(target: string, kind: OutputKind, guard: OutputGuard, keep: readonly string[] = []): Promise<StagedDir> {
    const abs = path.resolve(target);
    const shown = guard.shown ?? abs;
    const real = await StagedDir.check(abs, kind, guard, keep);
    const keepSet = new Set(keep);
    const expected = 'a folder path you can write to (the results are built beside it, then moved into place)';
    // The target itself is made only when entries are kept in it (a cache filled during the run).
    const parent = path.dirname(real);
    const first = await makeFolders(keep.length > 0 ? real : parent).catch(async (err) => { throw await mapFsError(err, abs, shown, expected); });
    const made = madeFolders(keep.length > 0 ? real : parent, first);
    await removeStale(parent, path.basename(real));
    const dir = path.join(parent, stagingName(path.basename(real)));
    await mkdir(dir).catch(async (err) => {
      await removeEmpty(made);
      throw await mapFsError(err, abs, shown, expected);
    });
    return new StagedDir(real, dir, kind, keepSet, shown, made);
  }

  /** See {@link checkOutputDir}; returns the target's real path. */
  static async check(target: string, kind: OutputKind, guard: OutputGuard, keep: readonly string[]): Promise<string> {
    const abs = path.resolve(target);
    const shown = guard.shown ?? abs;
    await checkOutput(abs, guard, true);
    const real = await realOf(abs);
    const st = await stat(real).catch(() => undefined);
    if (st && !st.isDirectory()) throw new PhenofaceError('E_INPUT', `${guard.option} "${shown}" is a file. Should be a folder (new, empty, or an earlier ${kind.name} output).`);
    if (st) await StagedDir.checkOwned(real, shown, kind, new Set(keep));
    return real;
  }

  /** E_INPUT unless `folder` is empty, holds only kept entries, or is a finished output of `kind` and nothing else. */
  private static async checkOwned(folder: string, shown: string, kind: OutputKind, keep: ReadonlySet<string>): Promise<void> {
    const entries = await readdir(folder).catch(async (err) => { throw await mapFsError(err, folder, shown, 'a folder you can read and write'); });
    const foreign = entries.filter((n) => !kind.owned.includes(n) && !keep.has(n) && !SYSTEM_ENTRIES.has(n));
    const earlier = entries.some((n) => kind.owned.includes(n));
    const finished = earlier && (await hasMarker(folder, kind));
    const list = (names: string[]) => names.slice(0, 5).map((n) => `"${n}"`).join(', ') + (names.length > 5 ? `, and ${names.length - 5} more` : '');
    const should = `Should be a new or empty folder, or an earlier ${kind.name} output folder holding nothing else`;
    if (earlier && !finished) {
      throw new PhenofaceError('E_INPUT', `Output folder "${shown}" is not empty and holds no earlier ${kind.name} output (${kind.marker}); it holds ${list(entries)}. ${should}.`);
    }
    if (foreign.length > 0) {
      const what = finished ? `holds an earlier ${kind.name} output and also files ${kind.name} did not write` : `is not empty and holds no earlier ${kind.name} output (${kind.marker}); it holds`;
      throw new PhenofaceError('E_INPUT', `Output folder "${shown}" ${what}: ${list(foreign)}. ${should} (a re-run replaces the folder, so nothing else may be in it).`);
    }
  }

  /** `p` with the staging folder replaced by the target (for paths shown to the user or written into results). */
  finalPath(p: string): string {
    if (p === this.dir) return this.target;
    return under(p, this.dir) ? path.join(this.target, path.relative(this.dir, p)) : p;
  }

  /** A copy of a JSON-like value with every string path under the staging folder moved to the target. */
  relocate<T>(value: T): T {
    const visit = (v: unknown): unknown => {
      if (typeof v === 'string') return this.finalPath(v);
      if (Array.isArray(v)) return v.map(visit);
      if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, visit(x)]));
      return v;
    };
    return visit(value) as T;
  }

  /**
   * Swaps the staging folder in for the target: the earlier output is moved aside, the new one
   * renamed into place, the kept entries (and anything not owned that appeared meanwhile) moved
   * back into it, and the earlier output removed.
   */
  async commit(): Promise<void> {
    const parent = path.dirname(this.target);
    const aside = path.join(parent, `.${path.basename(this.target)}.replaced-${process.pid}-${randomBytes(4).toString('hex')}`);
    let moved = false;
    try {
      try {
        await rename(this.target, aside);
        moved = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      try {
        await rename(this.dir, this.target);
      } catch (err) {
        if (moved) await rename(aside, this.target);
        throw err;
      }
    } catch (err) {
      await this.abort();
      throw await mapFsError(err, this.target, this.shown);
    }
    if (!moved) return;
    const produced = new Set(await readdir(this.target));
    for (const name of await readdir(aside)) {
      const from = path.join(aside, name);
      if (this.kind.owned.includes(name) && !this.keep.has(name)) await rm(from, { recursive: true, force: true });
      else if (!produced.has(name)) await rename(from, path.join(this.target, name));
    }
    // Only an emptied folder is removed: whatever could not be moved back stays, never deleted.
    await rmdir(aside).catch(() => undefined);
  }

  /**
   * Drops the staging folder, and the folders this run made for the output while they are empty;
   * the target stays as it was. Best effort: the caller's error is the one to report.
   */
  async abort(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
    await removeEmpty(this.made);
  }

  /**
   * An error from writing into the staging folder as E_INPUT naming the final path (a failed
   * `write` call names no path: it is put on the target folder); other errors unchanged.
   */
  async mapError(err: unknown): Promise<unknown> {
    if (!isFsError(err)) return err;
    if (typeof err.path === 'string') return err.path === this.dir || under(err.path, this.dir) ? mapFsError(err, this.finalPath(err.path), this.finalPath(err.path)) : err;
    return err.syscall === 'write' ? mapFsError(err, this.target, this.shown) : err;
  }

  /**
   * Runs `build` on the staging folder, then commits; on any error, drops the staging folder
   * (the target stays as it was) and rethrows, file-system errors named by their final path.
   */
  async run<T>(build: (dir: string) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await build(this.dir);
    } catch (err) {
      await this.abort();
      throw await this.mapError(err);
    }
    await this.commit();
    return result;
  }
}

/**
 * Prepares the result folder `target` of a run of `kind`: E_USAGE when it is, holds, or lies in an
 * input ({@link checkOutput}); E_INPUT when it is a file, cannot be created, or holds anything but a
 * finished output of this kind and the `keep` entries (e.g. `cache.sqlite`, which stays in the
 * target so that a killed run resumes from it). Creates a staging folder beside the target (and,
 * when entries are kept, the target, for them to live in); staging folders of killed runs are removed.
 */
export function prepareOutputDir(target: string, kind: OutputKind, guard: OutputGuard, keep: readonly string[] = []): Promise<StagedDir> {
  return StagedDir.open(target, kind, guard, keep);
}

/**
 * The checks of {@link prepareOutputDir} without creating anything: for commands to refuse a bad
 * output folder before they load models.
 */
export async function checkOutputDir(target: string, kind: OutputKind, guard: OutputGuard, keep: readonly string[] = []): Promise<void> {
  await StagedDir.check(target, kind, guard, keep);
}

/**
 * The entries to keep in a result folder for an embedding cache file at `cacheFile` (with SQLite's
 * side files): none when the cache lies outside `folder`, else the top-level entry holding it.
 */
export async function cacheEntries(folder: string, cacheFile: string): Promise<string[]> {
  const rel = path.relative(await realOf(path.resolve(folder)), await realOf(path.resolve(cacheFile)));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return [];
  const [top, ...rest] = rel.split(path.sep);
  return rest.length > 0 ? [top] : [top, `${top}-wal`, `${top}-shm`, `${top}-journal`];
}
