/**
 * An unreadable photo (permission denied) is a manifest problem. Root reads everything, so when
 * the tests run as root (CI does) the loader runs in a child process as user `nobody`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadDataset } from '../../../src/data/manifest.ts';
import { manifestProblems, tempDir, writeImages, writeManifest } from './fixtures.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const NOBODY = 65534;
let tmp: { dir: string; cleanup: () => void };

/** As root, the child runs as `nobody`, who must be able to read the repository (not so when it is cloned under /root). */
const childCanRun =
  process.getuid?.() !== 0 ||
  spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(repo, 'node_modules/tsx/package.json'))}, 4); require('fs').accessSync(${JSON.stringify(path.join(repo, 'src/data/manifest.ts'))}, 4)`], { uid: NOBODY, gid: NOBODY }).status === 0;
if (!childCanRun) console.warn(`unreadable.test.ts: skipped, user nobody (${NOBODY}) cannot read ${repo}, so permission checks cannot be tested as root`);

beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** Load the manifest as a user without root's override; returns the problems' [kind, row, message]. */
function problemsAsUnprivileged(manifest: string): [string, number, string][] {
  const script = path.join(tmp.dir, 'load.mts');
  writeFileSync(
    script,
    `import { loadDataset } from ${JSON.stringify(path.join(repo, 'src/data/manifest.ts'))};
     try { await loadDataset(${JSON.stringify(manifest)}, {}); console.log('[]'); }
     catch (e) { console.log(JSON.stringify((e.details ?? [{ kind: e.code, message: e.message }]).map((p) => [p.kind, p.row, p.message]))); }`,
  );
  const asRoot = process.getuid?.() === 0;
  const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, HOME: tmp.dir },
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  if (run.status !== 0) throw new Error(`child failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

it.skipIf(!childCanRun)('reports a photo it has no permission to read', async () => {
  const root = path.join(tmp.dir, 'data');
  await writeImages(root, ['img/a.png', 'img/locked.png']);
  const manifest = writeManifest(root, ['path,subject,label', 'img/a.png,s1,vcfs', 'img/locked.png,s2,control']);
  chmodSync(tmp.dir, 0o755); // mkdtemp makes it private to its owner
  chmodSync(path.join(root, 'img/locked.png'), 0o000);
  expect(problemsAsUnprivileged(manifest)).toEqual([['unreadable-file', 2, 'row 2 (line 3): path "img/locked.png" is not readable (permission denied)']]);
  // The same data set with the permission restored loads (so the failure above is the permission).
  chmodSync(path.join(root, 'img/locked.png'), 0o644);
  expect(problemsAsUnprivileged(manifest)).toEqual([]);
  if (process.getuid?.() !== 0) {
    chmodSync(path.join(root, 'img/locked.png'), 0o000);
    const { problems } = await manifestProblems(() => loadDataset(manifest, {}));
    expect(problems.map((p) => p.kind)).toEqual(['unreadable-file']);
  }
});
