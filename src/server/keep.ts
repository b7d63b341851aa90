/**
 * `serve --keep DIR`: an audit copy of every screening (its photos, named by position, never by the
 * client's name, and its result) in a new folder of DIR, private to the user. The folder is checked
 * when the server starts, so a bad path fails there and not on the first patient; a write that
 * fails later (disk full, folder removed) withholds the result with a coded error, because the
 * operator asked for every screening to be kept.
 */
import { constants } from 'node:fs';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { makeFolders } from '../data/output.ts';
import { PhenofaceError } from '../errors.ts';
import type { ScreenResult } from '../workflows/screen/result.ts';
import { ApiError } from './errors.ts';
import type { ReadPhoto } from './upload.ts';

/** What a file-system error code means, in words an operator acts on. */
const FS_FAULTS: Readonly<Record<string, string>> = {
  ENOENT: 'it does not exist',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'a file of that name exists',
  EIO: 'input/output error',
};

/** `CODE: meaning` of a file-system error (the code alone when it has no entry above). */
export function fsFault(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string') return err instanceof Error ? err.message : String(err);
  return FS_FAULTS[code] ? `${code}: ${FS_FAULTS[code]}` : code;
}

const EXPECTED_FOLDER = 'Expected an existing folder this user can write to.';

/**
 * Checks that `dir` exists, is a folder and can be written to; throws `E_CONFIG` naming the folder
 * and the fault otherwise.
 */
export async function checkKeepDir(dir: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (err) {
    throw new PhenofaceError('E_CONFIG', `The --keep folder "${dir}" cannot be used (${fsFault(err)}). ${EXPECTED_FOLDER}`, { cause: err });
  }
  if (!isDirectory) throw new PhenofaceError('E_CONFIG', `The --keep path "${dir}" is a file, not a folder. ${EXPECTED_FOLDER}`);
  try {
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new PhenofaceError('E_CONFIG', `The --keep folder "${dir}" is not writable (${fsFault(err)}). ${EXPECTED_FOLDER}`, { cause: err });
  }
}

/** Creates `dir` (private to the user) when it is missing, then {@link checkKeepDir}. */
export async function prepareKeepDir(dir: string): Promise<void> {
  try {
    await makeFolders(dir, 0o700);
  } catch (err) {
    throw new PhenofaceError('E_CONFIG', `Cannot create the --keep folder "${dir}" (${fsFault(err)}). Expected a folder this user can create and write to.`, { cause: err });
  }
  await checkKeepDir(dir);
}

/**
 * Writes one screening to a new folder of `dir` (each photo as `photo-N`, N its place in the request,
 * as in the result). On failure the partial folder is removed and an
 * `E_CONFIG` ApiError is thrown: 507 when the disk is full, 500 otherwise (the server's folder is
 * at fault, not the request). Its message names neither the folder nor any file.
 */
export async function keepScreening(dir: string, photos: ReadPhoto[], result: ScreenResult): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const folder = path.join(dir, `${stamp}-${randomBytes(3).toString('hex')}`);
  try {
    // Not recursive: a keep folder that has vanished (an unmounted disk) is a fault, not something to re-create.
    await mkdir(folder, { mode: 0o700 });
  } catch (err) {
    throw keepFailed(err);
  }
  try {
    await Promise.all(photos.map((p) => writeFile(path.join(folder, `photo-${p.position + 1}.${p.sniffed.ext}`), p.bytes, { mode: 0o600 })));
    await writeFile(path.join(folder, 'result.json'), JSON.stringify(result, null, 2) + '\n', { mode: 0o600 });
  } catch (err) {
    const cleanup = await rm(folder, { recursive: true, force: true }).then(() => undefined, (rmErr: unknown) => rmErr);
    throw keepFailed(err, cleanup);
  }
}

function keepFailed(err: unknown, cleanupError?: unknown): ApiError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const full = code === 'ENOSPC' || code === 'EDQUOT';
  const leftover = cleanupError === undefined ? '' : ` Its partial copy could not be removed (${fsFault(cleanupError)}).`;
  return new ApiError(
    full ? 507 : 500,
    'E_CONFIG',
    `The screening was done but could not be kept in the server's --keep folder (${fsFault(err)}), so its result is withheld: this server keeps every screening for audit.${leftover} Expected a --keep folder that exists, is writable and has free space; tell the server's operator.`,
    {},
    {},
    { cause: err },
  );
}
