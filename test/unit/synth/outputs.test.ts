/**
 * Where `phenoface synth` writes: never over or around its inputs, and all at once: a re-run
 * replaces an earlier data set as a whole (no photo of the earlier run stays behind to be mixed
 * into the new one), and a run that fails midway leaves the earlier data set as it was.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { synthCommand } from '../../../src/cli/synth.ts';
import { readSynthInput, synthesize } from '../../../src/workflows/synth/index.ts';
import { memoryIO } from '../../support/io.ts';
import { fakeDetect, firstFace, writeFaceJpeg } from './fixtures.ts';
import { leftovers, snapshot } from '../../cli/snapshot.ts';

let dir: string;
const fakeDetector = async () => ({ detectFile: fakeDetect, chooseFace: firstFace, close: async () => {} });
const synth = (args: string[]) => synthCommand(fakeDetector)([...args, '--regions', 'all', '--strength', '1', '--quiet'], memoryIO(dir));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'phenoface-synth-out-'));
  for (const s of ['p1', 'p2', 'p3', 'p4']) await writeFaceJpeg(path.join(dir, 'photos', s, '1.jpg'));
  await writeFile(path.join(dir, 'photos.csv'), 'path,subject\nphotos/p1/1.jpg,p1\nphotos/p2/1.jpg,p2\nphotos/p3/1.jpg,p3\nphotos/p4/1.jpg,p4\n');
  await writeFile(path.join(dir, 'two.csv'), 'path,subject\nphotos/p1/1.jpg,p1\nphotos/p2/1.jpg,p2\n');
  await writeFile(path.join(dir, 'notes.txt'), 'mine\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const images = (out: string) => readdirSync(path.join(dir, out, 'images'), { recursive: true }).filter((f) => String(f).endsWith('.jpg')).map(String).sort();

describe('phenoface synth --out: refused before anything is written', () => {
  it('an output folder that holds its input manifest and photos (a synth of a synth, into itself)', async () => {
    expect(await synth(['--manifest', 'photos.csv', '--out', 'first'])).toBe(0);
    const before = snapshot(path.join(dir, 'first'));
    await expect(synth(['--manifest', 'first/manifest.csv', '--out', 'first'])).rejects.toMatchObject({
      code: 'E_USAGE',
      message: expect.stringMatching(/^--out ".*first" holds the input ".*manifest\.csv"/),
    });
    expect(snapshot(path.join(dir, 'first'))).toEqual(before);
  });

  it('an output folder inside a folder input, which the next run would walk', async () => {
    await expect(synth(['--manifest', 'photos', '--out', 'photos/planted'])).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/lies inside the input folder ".*photos"/) });
    await expect(synth(['--manifest', 'photos', '--out', 'photos'])).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(existsSync(path.join(dir, 'photos', 'planted'))).toBe(false);
  });

  it('an output that is a file, or below one, is E_INPUT (exit 1) naming it', async () => {
    let io = memoryIO(dir);
    expect(await main(['synth', '--manifest', 'photos.csv', '--out', 'notes.txt', '--regions', 'all', '--strength', '1'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: --out ".*notes\.txt" is a file\. Should be a folder/);
    io = memoryIO(dir);
    expect(await main(['synth', '--manifest', 'photos.csv', '--out', 'notes.txt/out', '--regions', 'all', '--strength', '1'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: Cannot write ".*notes\.txt\/out": ".*notes\.txt" is a file, not a folder/);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });
});

describe('phenoface synth --out: replaced all at once', () => {
  it('a re-run into an earlier data set replaces it: only the new photos are there', async () => {
    expect(await synth(['--manifest', 'photos.csv', '--out', 'rerun'])).toBe(0);
    expect(images('rerun')).toHaveLength(4);
    expect(await synth(['--manifest', 'two.csv', '--out', 'rerun'])).toBe(0);
    const manifest = readFileSync(path.join(dir, 'rerun', 'manifest.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort();
    expect(images('rerun').map((f) => `images/${f}`)).toEqual(manifest);
    expect(images('rerun')).toHaveLength(2);
    expect(leftovers(path.join(dir, 'rerun'))).toEqual([]);
  });

  it('a run that fails midway leaves the earlier data set as it was', async () => {
    expect(await synth(['--manifest', 'photos.csv', '--out', 'kept', '--seed', '1'])).toBe(0);
    const before = snapshot(path.join(dir, 'kept'));
    const input = await readSynthInput(path.join(dir, 'photos.csv'));
    let seen = 0;
    await expect(synthesize({
      rows: input.rows, outDir: path.join(dir, 'kept'), regions: ['perioral'], strength: 0.5, seed: 2, detect: fakeDetect, chooseFace: firstFace, concurrency: 1,
      onPhoto: () => { if (++seen === 2) throw new Error('stopped on purpose'); },
    })).rejects.toThrow('stopped on purpose');
    expect(snapshot(path.join(dir, 'kept'))).toEqual(before);
    expect(leftovers(path.join(dir, 'kept'))).toEqual([]);
  });

  it('refuses a folder of other files, and an earlier data set that also holds files synth did not write', async () => {
    await mkdir(path.join(dir, 'foreign'));
    await writeFile(path.join(dir, 'foreign', 'a.txt'), 'mine');
    await expect(synth(['--manifest', 'photos.csv', '--out', 'foreign'])).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/is not empty and holds no earlier synth output \(truth\.json\)/) });
    expect(await synth(['--manifest', 'photos.csv', '--out', 'annotated'])).toBe(0);
    await writeFile(path.join(dir, 'annotated', 'my-notes.txt'), 'mine');
    const before = snapshot(path.join(dir, 'annotated'));
    await expect(synth(['--manifest', 'two.csv', '--out', 'annotated'])).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('my-notes.txt') });
    expect(snapshot(path.join(dir, 'annotated'))).toEqual(before);
  });
});
