/**
 * Making output folders with their parents: Node's `mkdir(dir, { recursive: true })` loops for ever
 * when a folder's parent exists but refuses new entries with ENOENT (under /proc), which hung
 * `screen --explain /proc/x`, `serve --keep /proc/x` and `study --cache /proc/x/c.sqlite`; the folders are made one level at a time.
 */
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../../../src/data/cache.ts';
import { makeFolders, prepareOutputFolder } from '../../../src/data/output.ts';
import { prepareKeepDir } from '../../../src/server/keep.ts';

describe('makeFolders', () => {
  it('makes a folder with its parents and returns the first it made, as mkdir -p', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-make-'));
    expect(await makeFolders(path.join(dir, 'a', 'b', 'c'))).toBe(path.join(dir, 'a'));
    expect(statSync(path.join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
    expect(await makeFolders(path.join(dir, 'a', 'b'))).toBeUndefined();
    writeFileSync(path.join(dir, 'file'), 'x');
    await expect(makeFolders(path.join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeFolders(path.join(dir, 'file'))).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it.skipIf(!existsSync('/proc/self'))('fails at once, with E_INPUT or E_CONFIG, on a folder where none can be made (/proc)', async () => {
    await expect(makeFolders('/proc/phenoface-no-such/x')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(prepareOutputFolder('/proc/phenoface-no-such', { option: '--explain' })).rejects.toMatchObject({ code: 'E_INPUT' });
    await expect(prepareKeepDir('/proc/phenoface-no-such')).rejects.toMatchObject({ code: 'E_CONFIG' });
    expect(() => EmbeddingCache.open('/proc/phenoface-no-such/cache.sqlite')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  }, 10_000);
});
