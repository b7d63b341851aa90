/**
 * Vitest global setup: every test file's temporary folders go under one fresh folder, removed when
 * the run ends, so a run leaves nothing behind in the OS temp dir (tests write fixture photos,
 * bundles and overlays there; several create folders without removing them). `os.tmpdir()` reads
 * TMPDIR, and the forked test workers inherit it.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-test-'));
  // Open to other users with the sticky bit, as the OS temp dir is: a test runs a child as
  // `nobody` on files in its own folder, and tsx caches under TMPDIR (test/unit/data/unreadable.test.ts).
  chmodSync(root, 0o1777);
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
