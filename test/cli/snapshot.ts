/** Before/after views of a folder, for tests that check what a command left untouched. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Every file below `root` (hidden ones included), by relative path, with its bytes in base64. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[path.relative(root, path.join(e.parentPath, e.name))] = readFileSync(path.join(e.parentPath, e.name)).toString('base64');
  }
  return out;
}

/** Entries beside `target` named after it with a leading dot: the staging and set-aside copies of an output. */
export function leftovers(target: string): string[] {
  return readdirSync(path.dirname(target)).filter((n) => n.startsWith(`.${path.basename(target)}.`));
}
