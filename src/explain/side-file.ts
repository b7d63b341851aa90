/**
 * The explanation files a study writes beside its model (`explain-scale.json`,
 * `explain-reference.json`) are optional, and a bundle folder is something anyone can edit: a pipe
 * or device in a file's place would block screening forever on reading it.
 */
import { stat } from 'node:fs/promises';
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
