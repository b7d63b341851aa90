/**
 * Paths escaping the data set's folder are refused without touching what they point at: every
 * call into node:fs/promises is recorded and none may name a path outside the folder.
 */
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadDataset } from '../../../src/data/manifest.ts';
import { manifestProblems, tempDir, writeImage, writeImages, writeManifest } from './fixtures.ts';

const touched: string[] = [];

vi.mock('node:fs/promises', async (importOriginal) => {
  const original = await importOriginal<Record<string, unknown>>();
  const wrapped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(original)) {
    wrapped[name] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            if (typeof args[0] === 'string') touched.push(args[0]);
            return (value as (...a: unknown[]) => unknown)(...args);
          }
        : value;
  }
  return { ...wrapped, default: wrapped };
});

let tmp: { dir: string; cleanup: () => void };
let root: string;
let outside: string;

beforeEach(async () => {
  tmp = tempDir();
  root = path.join(tmp.dir, 'data');
  outside = path.join(tmp.dir, 'outside');
  await writeImages(root, ['img/a.png', 'img/b.png']);
  await writeImage(path.join(outside, 'secret.png'));
  touched.length = 0;
});
afterEach(() => tmp.cleanup());

/** Paths the loader handed to node:fs/promises that lie in the outside folder. */
const outsideTouches = () => touched.filter((p) => path.resolve(p).startsWith(outside));

describe('path-escape refusal', () => {
  it('refuses an absolute path to an existing file outside, without touching it', async () => {
    const secret = path.join(outside, 'secret.png');
    const file = writeManifest(root, ['path,subject,label', 'img/a.png,s1,vcfs', `${secret},s2,control`]);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems).toEqual([
      { kind: 'path-escape', row: 2, line: 3, path: undefined, message: `row 2 (line 3): path "${secret}" is absolute; paths must be relative to the data set's folder` },
    ]);
    expect(touched.length).toBeGreaterThan(0); // the spy works
    expect(outsideTouches()).toEqual([]);
  });

  it('refuses Windows absolute paths', async () => {
    const file = writeManifest(root, ['path,subject,label', 'C:\\photos\\a.png,s1,vcfs', '\\\\server\\share\\b.png,s2,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['path-escape', 1],
      ['path-escape', 2],
    ]);
  });

  it('refuses ".." (even when it would come back inside), without touching the target', async () => {
    const file = writeManifest(root, ['path,subject,label', '../outside/secret.png,s1,vcfs', 'img/../img/a.png,s2,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['path-escape', 1],
      ['path-escape', 2],
    ]);
    expect(problems[0].message).toBe('row 1 (line 2): path "../outside/secret.png" contains ".."; paths must stay inside the data set\'s folder');
    expect(outsideTouches()).toEqual([]);
  });

  it('refuses symbolic links (relative, absolute, and via a linked folder) resolving outside, never stat-ing the target', async () => {
    symlinkSync('../../outside/secret.png', path.join(root, 'img/rel-link.png'));
    symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'img/abs-link.png'));
    symlinkSync(outside, path.join(root, 'linked-dir'));
    symlinkSync(`${root}/../outside/secret.png`, path.join(root, 'img/sneaky.png')); // starts with the root's path, then leaves
    const file = writeManifest(root, [
      'path,subject,label',
      'img/rel-link.png,s1,vcfs',
      'img/abs-link.png,s2,vcfs',
      'linked-dir/secret.png,s3,control',
      'img/sneaky.png,s4,control',
      'img/a.png,s5,control',
    ]);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['path-escape', 1],
      ['path-escape', 2],
      ['path-escape', 3],
      ['path-escape', 4],
    ]);
    expect(problems[0].message).toBe('row 1 (line 2): path "img/rel-link.png" leads outside the data set\'s folder through a symbolic link');
    expect(problems[1].message).toBe(`row 2 (line 3): path "img/abs-link.png" is a symbolic link to "${path.join(outside, 'secret.png')}", outside the data set's folder`);
    expect(outsideTouches()).toEqual([]);
  });

  it('refuses a symlink loop instead of hanging', async () => {
    symlinkSync('loop2.png', path.join(root, 'img/loop1.png'));
    symlinkSync('loop1.png', path.join(root, 'img/loop2.png'));
    const file = writeManifest(root, ['path,subject,label', 'img/loop1.png,s1,vcfs']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => p.kind)).toEqual(['unreadable-file']);
    expect(problems[0].message).toMatch(/more than 40 symbolic links/);
  });
});
