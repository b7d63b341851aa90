/** `phenoface models build --dir`: a folder that cannot be written is a coded error naming it. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';

describe('phenoface models build --dir', () => {
  it.each([
    ['a file', 'notes.txt', /E_INPUT: --dir "notes\.txt" is a file\. Should be a folder/],
    ['a path below a file', 'notes.txt/models', /E_INPUT: Cannot write "notes\.txt\/models": ".*notes\.txt" is a file, not a folder/],
  ])('refuses %s (E_INPUT, exit 1), changing nothing', async (_, dirArg, message) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-models-out-'));
    writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    const io = memoryIO(dir);
    expect(await main(['models', 'build', '--dir', dirArg], io)).toBe(1);
    expect(io.stderr).toMatch(message);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});
