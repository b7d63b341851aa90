/**
 * One manifest reader: `embed --manifest` and `synth` read a manifest as `loadDataset` does, so a
 * manifest Phenoface wrote (its cells guarded against formula injection) comes back as written.
 */
import { constants } from 'node:buffer';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { manifestInputs } from '../../../src/cli/inputs.ts';
import { formatCsv } from '../../../src/data/csv.ts';
import { loadDataset, readManifestTable } from '../../../src/data/manifest.ts';
import { readSynthInput } from '../../../src/workflows/synth/index.ts';
import { tempDir } from './fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

/** Subjects and paths a spreadsheet would run as formulas: Phenoface writes them guarded (`'=1+1`). */
const ROWS = [
  { path: '-p/a.jpg', subject: '=1+1' },
  { path: '@q/b.jpg', subject: '+2' },
  { path: 'plain/c.jpg', subject: "'quoted'" },
];

/** A manifest written by Phenoface's CSV writer, and a file for each of its paths. */
function writeGuardedManifest(): string {
  const root = path.join(tmp.dir, 'data');
  for (const r of ROWS) {
    mkdirSync(path.dirname(path.join(root, r.path)), { recursive: true });
    writeFileSync(path.join(root, r.path), 'x');
  }
  const file = path.join(root, 'manifest.csv');
  writeFileSync(file, formatCsv(['path', 'subject'], ROWS.map((r) => [r.path, r.subject])));
  return file;
}

describe('manifests Phenoface wrote, read back by every command', () => {
  it('the file holds the guards a spreadsheet needs', () => {
    expect(readFileSync(writeGuardedManifest(), 'utf8')).toContain(`"'-p/a.jpg","'=1+1"`);
  });

  it('readManifestTable gives the values as written, with their rows and lines', async () => {
    const rows = await readManifestTable(writeGuardedManifest(), { required: ['path', 'subject'], expected: 'path, subject' });
    expect(rows.map((r) => [r.row, r.line, r.cells.path, r.cells.subject])).toEqual(ROWS.map((r, i) => [i + 1, i + 2, r.path, r.subject]));
  });

  it('synth reads the paths and subjects as written', async () => {
    const input = await readSynthInput(writeGuardedManifest());
    expect(input.errors).toEqual([]);
    expect(input.rows.map((r) => [r.path, r.subject])).toEqual(ROWS.map((r) => [r.path, r.subject]));
  });

  it('embed --manifest reads the paths as written', async () => {
    const file = writeGuardedManifest();
    const items = await manifestInputs(file, tmp.dir);
    expect(items.map((i) => [i.path, i.refused])).toEqual(ROWS.map((r) => [r.path, undefined]));
    expect(items.map((i) => i.abs)).toEqual(ROWS.map((r) => expect.stringMatching(new RegExp(`${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))));
  });

  it('a manifest without the needed column is one E_MANIFEST naming it', async () => {
    const file = path.join(tmp.dir, 'no-path.csv');
    writeFileSync(file, 'photo,subject\na.jpg,s1\n');
    await expect(manifestInputs(file, tmp.dir)).rejects.toMatchObject({ code: 'E_MANIFEST', message: expect.stringMatching(/missing required column "path"; found "photo", "subject"; expected a "path" column/) });
    await expect(manifestInputs(path.join(tmp.dir, 'nope.csv'), tmp.dir)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    // A device is there, but is no manifest: not "does not exist".
    await expect(manifestInputs('/dev/null', tmp.dir)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('is not a regular file') });
  });

  it('a manifest longer than one string can be is refused by its size before it is read, by every reader', async () => {
    // Sparse: the size is what matters, and a file of that much text (Node aborts the process
    // decoding it) would take half a gigabyte of disk.
    const file = path.join(tmp.dir, 'huge.csv');
    writeFileSync(file, 'path,subject,label\na.jpg,s1,vcfs\n');
    truncateSync(file, constants.MAX_STRING_LENGTH + 1);
    const refused = { code: 'E_INPUT', message: expect.stringContaining(`is ${constants.MAX_STRING_LENGTH + 1} bytes, more than Phenoface reads as one text`) };
    await expect(loadDataset(file, {})).rejects.toMatchObject(refused);
    await expect(manifestInputs(file, tmp.dir)).rejects.toMatchObject(refused);
    await expect(readSynthInput(file)).rejects.toMatchObject(refused);
  });
});
