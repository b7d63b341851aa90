/**
 * The explanation files a study writes beside its model (`explain-scale.json`,
 * `explain-reference.json`) are optional, and a bundle folder is something anyone can edit: a pipe
 * or device in a file's place would block screening forever on reading it.
 */
import { readFile, stat } from 'node:fs/promises';
import { notARegularFile } from '../errors.ts';

/**
 * Whether the bundle's optional file `file` is there to read: false when absent, true for a
 * regular file; `bad(why)` is thrown for anything else (a folder, pipe, device or socket).
 */
export async function optionalBundleFile(file: string, bad: (why: string) => Error): Promise<boolean> {
  const st = await stat(file).catch(() => undefined);
  if (!st) return false;
  const kind = notARegularFile(st);
  if (kind) throw bad(`it is ${kind}`);
  return true;
}

/**
 * The bundle's optional file `file` parsed as one JSON object; `bad(why)` is thrown when it is not.
 * The parser's own message is not passed on: it quotes the file's first characters, and a file in
 * a bundle may be a link to anything on this machine. A byte-order mark is dropped, as in `model.json`.
 */
export async function readBundleObject(file: string, bad: (why: string) => Error): Promise<Record<string, unknown>> {
  let j: unknown;
  try {
    j = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (err) {
    throw bad(err instanceof SyntaxError ? 'it is not valid JSON' : `it cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw bad(`it holds ${j === null ? 'null' : Array.isArray(j) ? 'an array' : `a ${typeof j}`}, not a JSON object`);
  return j as Record<string, unknown>;
}
