/**
 * The file checks of manifest validation: the per-file verdicts the file-check threads give, the
 * fast test for paths already in normal form, and a manifest large enough to be checked on threads
 * reporting the same problems, in the same order, as the main thread's rules give.
 */
import { linkSync, mkdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { currentIdentity, FileStatPool, PLAIN_FILE, plainFileVerdicts } from '../../../src/data/file-stat.ts';
import { loadDataset } from '../../../src/data/manifest.ts';
import { isPlainDataPath, lexicalPathProblem, normalizeDataPath } from '../../../src/data/paths.ts';
import { manifestProblems, tempDir, writeManifest } from './fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

describe('isPlainDataPath', () => {
  const plain = ['a.png', 'img/a.png', 'img/0/12345.png', 'x/.hidden.jpg', 'a/.../b.png', 'a b/c d.png', 'a_b/c.png'];
  const notPlain = ['', ' a.png', 'a.png ', '/a.png', 'a//b.png', 'a/b/', './a.png', 'a/./b.png', 'a/../b.png', '..', '.', 'a\\b.png', 'C:/x.png', 'c:x.png', 'a\0b', 'ф/a.png', 'a/фото'];

  it('accepts paths already normal and lexically safe, and those only', () => {
    for (const p of plain) {
      expect(isPlainDataPath(p), p).toBe(true);
      expect(lexicalPathProblem(p), p).toBeUndefined();
      expect(normalizeDataPath(p), p).toBe(p);
    }
    for (const p of notPlain) expect(isPlainDataPath(p), JSON.stringify(p)).toBe(false);
  });

  it('never accepts a path that the full rules refuse or rewrite', () => {
    // Every path of up to 3 characters over an alphabet of the characters that matter.
    const alphabet = ['a', '.', '/', '\\', ' ', ':', '\0'];
    let paths = [''];
    for (let n = 0; n < 3; n++) paths = [...paths, ...paths.flatMap((p) => alphabet.map((c) => p + c))];
    for (const p of new Set(paths)) {
      if (isPlainDataPath(p)) expect([lexicalPathProblem(p), normalizeDataPath(p)], JSON.stringify(p)).toEqual([undefined, p]);
    }
  });
});

describe('file verdicts', () => {
  it('call plain only a regular, non-empty file that the mode bits let this user read', async () => {
    const dir = tmp.dir;
    writeFileSync(path.join(dir, 'ok.png'), 'x');
    writeFileSync(path.join(dir, 'empty.png'), '');
    mkdirSync(path.join(dir, 'folder'));
    symlinkSync('ok.png', path.join(dir, 'link.png'));
    const names = ['ok.png', 'empty.png', 'folder', 'link.png', 'missing.png', 'ok.png/below'];
    const expected = [PLAIN_FILE, 0, 0, 0, 0, 0];
    const paths = names.map((n) => path.join(dir, n));
    expect([...plainFileVerdicts(paths, currentIdentity())]).toEqual(expected);
    // The same on the threads: the pool starts them when told to expect many paths.
    const pool = new FileStatPool(DEFAULTS.data.fileCheckThreadsFromPaths);
    try {
      expect([...(await pool.verdicts(paths))]).toEqual(expected);
      expect(pool.threadCount).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
    const inline = new FileStatPool(1);
    expect([...(await inline.verdicts(paths))]).toEqual(expected);
    expect(inline.threadCount).toBe(0);
  });
});

describe('a manifest checked on file-check threads', () => {
  it('reports missing, empty, linked and folder entries at their rows, in row order', async () => {
    const rows = DEFAULTS.data.fileCheckThreadsFromPaths + 100;
    const root = path.join(tmp.dir, 'data');
    mkdirSync(path.join(root, 'img'), { recursive: true });
    const source = path.join(root, 'source.bin');
    writeFileSync(source, 'x');
    for (let i = 0; i < rows; i++) linkSync(source, path.join(root, 'img', `${i}.png`));
    unlinkSync(path.join(root, 'img', '7.png'));
    writeFileSync(path.join(root, 'img', '7.png'), ''); // empty: a file of its own, not a link to the source
    symlinkSync('3.png', path.join(root, 'img', `${rows}.png`)); // the same file as row 4, through a link
    mkdirSync(path.join(root, 'img', `${rows + 1}.png`));
    const lines = ['path,subject,label'];
    for (let i = 0; i < rows + 3; i++) lines.push(`img/${i}.png,s${i >> 1},${(i >> 1) % 2 ? 'vcfs' : 'control'}`);
    // rows + 2 does not exist; rows + 1 is a folder; rows is the link.
    const file = writeManifest(root, lines);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row, p.message.replace(/^row \d+ \(line \d+\): path "[^"]*" /, '')])).toEqual([
      ['unreadable-file', 8, 'is empty (0 bytes)'],
      ['duplicate-path', rows + 1, 'is the same file as "img/3.png" at row 4 (line 5) (through a symbolic link)'],
      ['unreadable-file', rows + 2, 'is a folder, not a file'],
      ['missing-file', rows + 3, 'does not exist'],
    ]);
  }, 120_000);
});
