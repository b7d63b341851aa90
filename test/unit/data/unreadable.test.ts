/**
 * An unreadable photo (permission denied) is a manifest problem, and a folder that cannot be listed
 * is a problem or record of its own in every walk of a folder. Root reads everything, so when the
 * tests run as root (CI does) the loader runs in a child process as user `nobody`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { expandInputs } from '../../../src/cli/inputs.ts';
import { loadDataset } from '../../../src/data/manifest.ts';
import { readSynthInput } from '../../../src/workflows/synth/index.ts';
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
  return runAsUnprivileged(
    `import { loadDataset } from ${JSON.stringify(path.join(repo, 'src/data/manifest.ts'))};
     try { await loadDataset(${JSON.stringify(manifest)}, {}); console.log('[]'); }
     catch (e) { console.log(JSON.stringify((e.details ?? [{ kind: e.code, message: e.message }]).map((p) => [p.kind, p.row, p.message]))); }`,
  ) as [string, number, string][];
}

/** Runs a module (its text) as a user without root's override; returns the JSON its last line prints. */
function runAsUnprivileged(source: string): unknown {
  const script = path.join(tmp.dir, 'load.mts');
  writeFileSync(script, source);
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

/** A folder no one but its owner may list, as `lost+found` at the top of a mounted disk is to its users. */
async function lockedFolderBeside(root: string, photos: string[], locked: string): Promise<void> {
  await writeImages(root, [...photos, `${locked}/hidden.png`]);
  chmodSync(tmp.dir, 0o755); // mkdtemp makes it private to its owner
  chmodSync(path.join(root, locked), 0o000);
}

it.skipIf(!childCanRun)('gives a folder it has no permission to list a record of its own in detect, embed and screen, and takes the photos beside it', async () => {
  const root = path.join(tmp.dir, 'photos');
  await lockedFolderBeside(root, ['a.png', 'sub/b.png'], 'lost+found');
  const items = runAsUnprivileged(
    `import { expandInputs } from ${JSON.stringify(path.join(repo, 'src/cli/inputs.ts'))};
     console.log(JSON.stringify((await expandInputs(['photos'], ${JSON.stringify(tmp.dir)})).map((i) => [i.path, i.refused?.code ?? null, i.refused?.message ?? null])));`,
  );
  chmodSync(path.join(root, 'lost+found'), 0o755);
  expect(items).toEqual([
    ['photos/a.png', null, null],
    ['photos/lost+found', 'E_INPUT', 'Folder "photos/lost+found" is not readable (permission denied): its photos cannot be listed.'],
    ['photos/sub/b.png', null, null],
  ]);
});

it.skipIf(!childCanRun)("gives a study's folder layout with a folder it has no permission to list that folder's problem", async () => {
  const root = path.join(tmp.dir, 'data');
  await lockedFolderBeside(root, ['vcfs/p1/a.png', 'control/c1/b.png'], 'control/c2');
  const problems = runAsUnprivileged(
    `import { loadDataset } from ${JSON.stringify(path.join(repo, 'src/data/manifest.ts'))};
     try { await loadDataset(${JSON.stringify(root)}, {}); console.log('[]'); }
     catch (e) { console.log(JSON.stringify((e.details ?? [{ kind: e.code, message: e.message }]).map((p) => [p.kind, p.message]))); }`,
  );
  chmodSync(path.join(root, 'control/c2'), 0o755);
  expect(problems).toEqual([['unreadable-file', '"control/c2": a folder that is not readable (permission denied): its photos cannot be listed']]);
});

it.skipIf(!childCanRun)("gives synth's folder of people with a folder it has no permission to list that folder's error, and reads the others", async () => {
  const root = path.join(tmp.dir, 'people');
  await lockedFolderBeside(root, ['p1/a.png', 'p2/b.png'], 'p3');
  const read = runAsUnprivileged(
    `import { readSynthInput } from ${JSON.stringify(path.join(repo, 'src/workflows/synth/index.ts'))};
     const input = await readSynthInput(${JSON.stringify(root)});
     console.log(JSON.stringify({ rows: input.rows.map((r) => r.path), errors: input.errors.map((e) => [e.path, e.error.code, e.error.message]) }));`,
  );
  chmodSync(path.join(root, 'p3'), 0o755);
  expect(read).toEqual({ rows: ['p1/a.png', 'p2/b.png'], errors: [['p3', 'E_INPUT', '"p3" is not readable (permission denied): its photos cannot be listed.']] });
});

it('gives a folder whose path is longer than the system takes a record or error of its own in the walks of any depth', async () => {
  // Any user, root too, meets this one: 17 nested names of 250 characters pass PATH_MAX (4096).
  // A study's layout is three folders deep, too shallow to reach it.
  const people = path.join(tmp.dir, 'people');
  await writeImages(people, ['p1/a.png']);
  const name = 'd'.repeat(250);
  // `cd -P`: a shell's logical `cd` fails once its path passes that limit.
  const nest = (at: string) => spawnSync('sh', ['-c', `mkdir -p "$1" && cd "$1" && for i in $(seq 17); do mkdir ${name} && cd -P ${name} || exit 1; done`, 'sh', at]);
  try {
    expect(nest(path.join(people, 'p2')).status).toBe(0);
    const tooLong = /cannot be read \(ENAMETOOLONG: its path is longer than the system takes\): its photos cannot be listed/;
    const items = await expandInputs([people], tmp.dir);
    expect(items.map((i) => [path.relative(people, i.path).slice(0, 5), i.refused?.code, i.refused?.message])).toEqual([['p1/a.', undefined, undefined], ['p2/dd', 'E_INPUT', expect.stringMatching(tooLong)]]);
    const synth = await readSynthInput(people);
    expect(synth.rows.map((r) => r.path)).toEqual(['p1/a.png']);
    expect(synth.errors.map((e) => [e.error.code, e.error.message])).toEqual([['E_INPUT', expect.stringMatching(tooLong)]]);
  } finally {
    spawnSync('rm', ['-rf', people]); // rmSync cannot reach files under a path that long
  }
});
