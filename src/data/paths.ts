/**
 * Path safety for data sets: a manifest path must name a regular, readable file inside the data
 * set's folder. Absolute paths and `..` are refused by looking at the text alone; symbolic links
 * are resolved one component at a time with `lstat`/`readlink`, and resolution stops the moment a
 * link points outside the folder, so nothing outside it is ever opened or even stat'ed.
 */
import { constants, type Stats } from 'node:fs';
import { access, lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';

/** Why a path was refused. */
export type PathProblemKind = 'path-escape' | 'missing-file' | 'unreadable-file';

/** A path resolved to a real file inside the root, or the reason it was refused. */
export type Resolved =
  | { ok: true; absPath: string; stats: Stats }
  | { ok: false; kind: PathProblemKind; reason: string };

/** Symbolic links followed before giving up (Linux's own limit is 40). */
const MAX_LINKS = 40;

/**
 * The manifest path in canonical form for comparisons: backslashes as `/` (manifests written on
 * Windows), `.` segments and repeated slashes removed. Two rows naming one file this way are
 * duplicates.
 */
export function normalizeDataPath(p: string): string {
  const s = path.posix.normalize(p.trim().replace(/\\/g, '/'));
  return s.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/**
 * A reason to refuse `p` on its text alone, before the file system is touched: absolute paths
 * (POSIX, drive letters, UNC) and any `..` segment. `..` is refused even when it would stay
 * inside, because with symlinks its meaning depends on the file system, not the text.
 */
export function lexicalPathProblem(p: string): string | undefined {
  const s = p.trim().replace(/\\/g, '/');
  if (s.includes('\0')) return 'contains a NUL character';
  if (s.startsWith('/') || /^[A-Za-z]:/.test(s)) return 'is absolute; paths must be relative to the data set\'s folder';
  if (s.split('/').includes('..')) return 'contains ".."; paths must stay inside the data set\'s folder';
  if (normalizeDataPath(s) === '' || normalizeDataPath(s) === '.') return 'names the data set\'s folder itself, not a file';
  return undefined;
}

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const COLON = 0x3a;

/** True for a printable ASCII character other than space: one that `trim` keeps. */
const isPrintableAscii = (c: number) => c > 0x20 && c < 0x7f;

/**
 * True when `p` is a relative path already in the form {@link normalizeDataPath} gives and that
 * {@link lexicalPathProblem} accepts: segments joined by single `/`, none empty, `.` or `..`, no
 * backslash or NUL, no drive letter, no white space at either end. Most manifest paths are; one
 * pass over the characters then replaces the regular expressions of those two functions, which a
 * million rows notice. False says nothing: ask those functions.
 */
export function isPlainDataPath(p: string): boolean {
  const n = p.length;
  if (n === 0 || !isPrintableAscii(p.charCodeAt(0)) || !isPrintableAscii(p.charCodeAt(n - 1))) return false;
  if (n >= 2 && p.charCodeAt(1) === COLON) return false; // perhaps a drive letter
  let segmentStart = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? p.charCodeAt(i) : SLASH;
    if (c === BACKSLASH || c === 0) return false;
    if (c !== SLASH) continue;
    const length = i - segmentStart;
    if (length === 0) return false;
    if (p.charCodeAt(segmentStart) === DOT && (length === 1 || (length === 2 && p.charCodeAt(segmentStart + 1) === DOT))) return false;
    segmentStart = i + 1;
  }
  return true;
}

function fsReason(err: unknown): { kind: PathProblemKind; reason: string } {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { kind: 'missing-file', reason: 'does not exist' };
  if (code === 'ENOTDIR') return { kind: 'missing-file', reason: 'does not exist (a parent is not a folder)' };
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'unreadable-file', reason: 'is not readable (permission denied)' };
  if (code === 'ENAMETOOLONG') return { kind: 'unreadable-file', reason: 'cannot be read (ENAMETOOLONG: its path is longer than the system takes)' };
  return { kind: 'unreadable-file', reason: `cannot be read (${code ?? (err as Error).message})` };
}

/**
 * A folder met in a walk that cannot be listed: permission denied (as `lost+found` at the top of a
 * mounted disk is to its users), or a path longer than the system takes. Each walker gives it a
 * record or problem of its own, naming the folder as it names photos, and goes on with the rest;
 * `reason` completes a sentence about the folder ("is not readable (permission denied)").
 */
export class UnlistedFolderError extends PhenofaceError {
  constructor(readonly rel: string, readonly reason: string, options: { cause: unknown }) {
    super('E_INPUT', `Folder "${rel === '' ? '.' : rel}" ${reason}: its photos cannot be listed.`, options);
    this.name = 'UnlistedFolderError';
  }
}

function isInside(rootReal: string, p: string): boolean {
  return p === rootReal || p.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep);
}

/**
 * Resolve the relative path `rel` under `rootReal` (a real path, no symlinks) to the real path of
 * what it names, following symlinks only while they stay inside `rootReal`. Does not require the
 * result to be a file; see {@link checkReadableFile}. Call {@link lexicalPathProblem} first.
 */
export async function resolveInside(rootReal: string, rel: string): Promise<Resolved> {
  const pending = rel.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  let current = rootReal;
  let stats: Stats | undefined;
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      // Only symlink targets bring `..` here; `current` is real, so its dirname is the real parent.
      if (current === rootReal) return { ok: false, kind: 'path-escape', reason: 'leads outside the data set\'s folder through a symbolic link' };
      current = path.dirname(current);
      stats = undefined;
      continue;
    }
    const next = path.join(current, part);
    try {
      stats = await lstat(next);
    } catch (err) {
      return { ok: false, ...fsReason(err) };
    }
    if (stats.isSymbolicLink()) {
      if (++links > MAX_LINKS) return { ok: false, kind: 'unreadable-file', reason: `goes through more than ${MAX_LINKS} symbolic links (a loop?)` };
      let target: string;
      try {
        target = await readlink(next);
      } catch (err) {
        return { ok: false, ...fsReason(err) };
      }
      if (path.isAbsolute(target)) {
        if (!isInside(rootReal, target)) {
          return { ok: false, kind: 'path-escape', reason: `is a symbolic link to "${target}", outside the data set's folder` };
        }
        current = rootReal;
        pending.unshift(...target.slice(rootReal.length).split(path.sep).filter((s) => s !== '' && s !== '.'));
      } else {
        pending.unshift(...target.split(path.sep).filter((s) => s !== '' && s !== '.'));
      }
      stats = undefined;
      continue;
    }
    if (pending.length > 0 && !stats.isDirectory()) {
      return { ok: false, kind: 'missing-file', reason: `does not exist ("${path.relative(rootReal, next)}" is not a folder)` };
    }
    current = next;
  }
  try {
    stats ??= await lstat(current);
  } catch (err) {
    return { ok: false, ...fsReason(err) };
  }
  return { ok: true, absPath: current, stats };
}

/** A visible entry of a folder inside a data set's root; a symbolic link is the entry it leads to. */
export interface FolderEntry {
  name: string;
  /** Its path under the root, with `/`. */
  rel: string;
  kind: 'dir' | 'file' | 'other';
  /** The real path of what it names. */
  absPath: string;
}

/** A symbolic link of a folder that leaves the root or leads nowhere: not followed. */
export interface RefusedLink {
  name: string;
  rel: string;
  kind: 'refused';
  problem: PathProblemKind;
  reason: string;
}

/**
 * The visible entries (names not starting with `.`) of the folder `dirReal`, which is `relDir`
 * under `rootReal`, sorted by name, with symbolic links followed while they stay inside the root
 * ({@link resolveInside}: nothing outside is opened or stat'ed) and the others listed, in their
 * place, as refused. Every walk of a folder of photos (a study's layout, synth's, a folder given to
 * the CLI) lists folders this way, so they agree on which linked photos a folder holds.
 * @throws UnlistedFolderError when the folder itself cannot be listed
 */
export async function listInside(rootReal: string, relDir: string, dirReal: string): Promise<(FolderEntry | RefusedLink)[]> {
  let dirents;
  try {
    dirents = await readdir(dirReal, { withFileTypes: true });
  } catch (err) {
    throw new UnlistedFolderError(relDir, fsReason(err).reason, { cause: err });
  }
  const list = dirents.filter((e) => !e.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: (FolderEntry | RefusedLink)[] = [];
  for (const e of list) {
    const rel = relDir === '' ? e.name : `${relDir}/${e.name}`;
    if (!e.isSymbolicLink()) {
      out.push({ name: e.name, rel, kind: e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other', absPath: path.join(dirReal, e.name) });
      continue;
    }
    const r = await resolveInside(rootReal, rel);
    out.push(r.ok ? { name: e.name, rel, kind: r.stats.isDirectory() ? 'dir' : r.stats.isFile() ? 'file' : 'other', absPath: r.absPath } : { name: e.name, rel, kind: 'refused', problem: r.kind, reason: r.reason });
  }
  return out;
}

/** Why the resolved file cannot serve as a photo (not a file, empty, unreadable), or undefined. */
export async function checkReadableFile(resolved: { absPath: string; stats: Stats }): Promise<{ kind: PathProblemKind; reason: string } | undefined> {
  if (!resolved.stats.isFile()) return { kind: 'unreadable-file', reason: resolved.stats.isDirectory() ? 'is a folder, not a file' : 'is not a regular file' };
  if (resolved.stats.size === 0) return { kind: 'unreadable-file', reason: 'is empty (0 bytes)' };
  try {
    await access(resolved.absPath, constants.R_OK);
  } catch (err) {
    return fsReason(err);
  }
  return undefined;
}
