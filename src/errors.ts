/**
 * Typed errors. Every failure Phenoface reports carries a stable `code` that the CLI maps
 * to exit codes and per-file error records (see `../shared/docs/cli-contract.md`), and the
 * server maps to HTTP statuses. Messages name the bad value and what was expected.
 */

/** Stable error codes. Add codes freely; never rename one (outside tools match on them). */
export type ErrorCode =
  | 'E_USAGE' // a command line that cannot be parsed (exit code 2)
  | 'E_INPUT' // a bad argument or file path given by the user
  | 'E_NOT_FOUND' // a file or folder that does not exist
  | 'E_DECODE' // bytes that are not a decodable image (zero-byte, truncated, non-image)
  | 'E_UNSUPPORTED' // an image format or pixel layout we refuse (e.g. animated, unknown)
  | 'E_TOO_LARGE' // an image over the pixel or byte limit (decompression bombs)
  | 'E_TOO_SMALL' // an image too small to hold a face
  | 'E_NO_FACE' // no face found
  | 'E_MODEL' // a model missing, corrupt, or of the wrong shape
  | 'E_CONFIG' // an invalid configuration value
  | 'E_MANIFEST' // a manifest or data-set folder problem
  | 'E_BUNDLE' // a model bundle that cannot be loaded or does not match
  | 'E_NETWORK' // a download failed (only at model install time)
  | 'E_UNAUTHORIZED' // an API request without the required token (HTTP 401)
  | 'E_FORBIDDEN' // an API request from a foreign host or origin (HTTP 403)
  | 'E_BUSY' // the screening queue is full; retry later (HTTP 503)
  | 'E_NO_USABLE_PHOTO' // none of the photos of a screening had a usable face (HTTP 422)
  | 'E_INTERNAL';

/** The base of every error Phenoface throws on purpose. */
export class PhenofaceError extends Error {
  readonly code: ErrorCode;
  /** Optional structured details (e.g. the manifest rows at fault). */
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PhenofaceError';
    this.code = code;
    this.details = options?.details;
  }
}

/** Any thrown value as a `{code, message}` record, the shape of the contract's per-file errors. */
export function toErrorRecord(err: unknown): { code: ErrorCode; message: string } {
  if (err instanceof PhenofaceError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'E_INTERNAL', message };
}

/**
 * An error record that names a file as the user gave it (`given`), not as it was opened
 * (`opened`, an absolute path of this machine): records are shared, folders are not. Messages
 * quote a path as a JSON string, so a path holding a quote, a backslash or a control character
 * appears there escaped: that form is replaced too, or the folder would stay in the record.
 */
export function namedAsGiven<E extends { message: string }>(error: E, opened: string | undefined, given: string): E {
  if (!opened || opened === given) return error;
  const quoted = (p: string) => JSON.stringify(p).slice(1, -1);
  const message = error.message.split(opened).join(given).split(quoted(opened)).join(quoted(given));
  return { ...error, message };
}

/** True when `err` is a PhenofaceError with the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof PhenofaceError && err.code === code;
}

/**
 * What a path is when it is not a regular file, for an error message ("a folder", or "not a regular
 * file (a device, pipe or socket)"), or undefined for a regular file. Reading a pipe or device
 * would block or never end, so every reader of a named input file refuses one in these words.
 */
export function notARegularFile(st: { isFile(): boolean; isDirectory(): boolean }): string | undefined {
  return st.isFile() ? undefined : st.isDirectory() ? 'a folder' : 'not a regular file (a device, pipe or socket)';
}
