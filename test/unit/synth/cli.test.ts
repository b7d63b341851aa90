import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { synthCommand } from '../../../src/cli/synth.ts';
import type { CliIO } from '../../../src/cli/io.ts';
import { fakeDetect, firstFace, writeFaceJpeg } from './fixtures.ts';

let dir: string;
let closed = 0;
const fakeDetector = async () => ({ detectFile: fakeDetect, chooseFace: firstFace, close: async () => void closed++ });

function captureIO(): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, cwd: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  io.cwd = dir;
  return io;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'phenoface-synth-cli-'));
  for (const s of ['p1', 'p2', 'p3', 'p4']) await writeFaceJpeg(path.join(dir, 'photos', s, '1.jpg'));
  await writeFile(path.join(dir, 'photos', 'p2', 'broken.png'), Buffer.from('not a png'));
  await writeFile(path.join(dir, 'manifest.csv'), 'path,subject\nphotos/p1/1.jpg,p1\nphotos/p2/1.jpg,p2\nphotos/p2/broken.png,p2\nphotos/p3/1.jpg,p3\nphotos/p4/1.jpg,p4\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('phenoface synth: usage errors (exit 2, before any model loads)', () => {
  const base = ['synth', '--manifest', 'manifest.csv', '--out', 'o'];
  it.each([
    [[...base, '--regions', 'periorbital,ears', '--strength', '1'], 'Unknown region "ears". Should be one of: periorbital, perinasal, perioral, facelength.'],
    [[...base, '--regions', 'all', '--strength', '2'], 'Invalid --strength: "2". Should be a number in [0, 1].'],
    [[...base, '--regions', 'all', '--strength', 'strong'], 'Invalid --strength: "strong". Should be a number in [0, 1].'],
    [[...base, '--regions', 'all', '--strength', '0.5', '--fraction', '1'], 'Invalid --fraction: 1. Should be a number in (0, 1).'],
    [[...base, '--regions', 'all', '--strength', '0.5', '--seed', '1.5'], 'Invalid --seed: "1.5". Should be an integer between -(2^53 - 1) and 2^53 - 1.'],
    [[...base, '--regions', 'all', '--strength', '0.5', '--seed', '99999999999999999999'], 'Invalid --seed: "99999999999999999999". Should be an integer between -(2^53 - 1) and 2^53 - 1.'],
    [[...base, '--regions', 'all', '--strength', '0.5', '--quality', '0'], 'Invalid --quality: "0". Should be an integer in [1, 100].'],
    [[...base, '--regions', 'all', '--strength', '0.5', '--quality', '101'], 'Invalid --quality: "101". Should be an integer in [1, 100].'],
    [['synth', '--manifest', 'manifest.csv', '--regions', 'all', '--strength', '1'], 'Missing --out.'],
    [[...base, '--regions', 'all', '--strength', '1', '--colour'], 'Unknown option "--colour"'],
  ])('%j', async (argv, message) => {
    const io = captureIO();
    expect(await main(argv, io)).toBe(2);
    expect(io.stderr).toContain(message);
  });

  it('a missing manifest is E_NOT_FOUND (exit 1)', async () => {
    const io = captureIO();
    expect(await main(['synth', '--manifest', 'nope.csv', '--out', 'o', '--regions', 'all', '--strength', '1'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_NOT_FOUND: Input "[^"]*nope.csv" does not exist/);
  });

  it("a folder in the study's labelled layout ROOT/<label>/<subject>/<photo> is E_MANIFEST (exit 1), before any model loads", async () => {
    for (const p of ['control/c1/1.jpg', 'control/c2/1.jpg', 'vcfs/v1/1.jpg']) await writeFaceJpeg(path.join(dir, 'labelled', p));
    const io = captureIO();
    expect(await main(['synth', '--manifest', 'labelled', '--out', 'o', '--regions', 'all', '--strength', '1'], io)).toBe(1);
    expect(io.stderr).toContain(`E_MANIFEST: Folder "${path.join(dir, 'labelled')}" holds photos in folders two levels down that are not views`);
    expect(io.stderr).toContain(`pass one label's folder (e.g. "${path.join(dir, 'labelled', 'control')}"), or a manifest CSV (path,subject[,view])`);
    expect(existsSync(path.join(dir, 'o'))).toBe(false);
  });

  it('--help lists the regions', async () => {
    const io = captureIO();
    expect(await main(['synth', '--help'], io)).toBe(0);
    expect(io.stdout).toContain('periorbital, perinasal, perioral, facelength');
  });
});

describe('phenoface synth: a run', () => {
  it('writes the data set, prints a line for the bad file (a JSON record with --json), and exits 3', async () => {
    const io = captureIO();
    const code = await synthCommand(fakeDetector)(['--manifest', 'manifest.csv', '--out', 'out', '--regions', 'perioral,facelength', '--strength', '0.5', '--seed', '3'], io);
    expect(code).toBe(3);
    expect(io.stdout).toMatch(/^photos\/p2\/broken\.png: E_DECODE: .*broken\.png.*\n$/);
    const json = captureIO();
    expect(await synthCommand(fakeDetector)(['--manifest', 'manifest.csv', '--out', 'out', '--regions', 'perioral,facelength', '--strength', '0.5', '--seed', '3', '--json'], json)).toBe(3);
    const records = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toEqual([{ contract: 1, path: 'photos/p2/broken.png', error: { code: 'E_DECODE', message: expect.stringContaining('broken.png') } }]);
    expect(io.stderr).toMatch(/wrote 4 photos of 4 subjects \(2 vcfs, 2 control; strength 0.5, regions perioral, facelength\)/);
    const manifest = await readFile(path.join(dir, 'out', 'manifest.csv'), 'utf8');
    expect(manifest.trim().split('\n')).toHaveLength(5);
    const truth = JSON.parse(await readFile(path.join(dir, 'out', 'truth.json'), 'utf8'));
    expect(truth).toMatchObject({ contract: 1, options: { regions: ['perioral', 'facelength'], strength: 0.5, fraction: 0.5, seed: 3, jpegQuality: 95 } });
    expect(closed).toBe(2);
  });

  it('exits 3 when every input is refused (each has its record, as in detect, embed and screen), saying the data set is empty', async () => {
    for (const s of ['q1', 'q2']) await writeFile(path.join(dir, `${s}.png`), Buffer.from('not a png'));
    await writeFile(path.join(dir, 'only-broken.csv'), 'path,subject\nq1.png,q1\nq2.png,q2\n');
    const io = captureIO();
    expect(await synthCommand(fakeDetector)(['--manifest', 'only-broken.csv', '--out', 'out-empty', '--regions', 'perioral', '--strength', '0.5', '--json'], io)).toBe(3);
    const records = io.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toEqual(['q1.png', 'q2.png'].map((p) => ({ contract: 1, path: p, error: { code: 'E_DECODE', message: expect.stringContaining(`"${p}"`) } })));
    // The photo is named as listed, never by this machine's folder (records are shared, folders are not).
    expect(io.stdout).not.toContain(dir);
    expect(io.stderr).toContain('synth: wrote 0 photos of 0 subjects (strength 0.5, regions perioral) to out-empty; 2 inputs failed');
    expect(io.stderr).toContain('synth: no photo could be used, so the data set is empty.');
  });

  it('counts in its summary only the people it wrote a photo of', async () => {
    await writeFile(path.join(dir, 'photos', 'p5.png'), Buffer.from('not a png'));
    await writeFile(path.join(dir, 'with-failed.csv'), 'path,subject\nphotos/p1/1.jpg,p1\nphotos/p2/1.jpg,p2\nphotos/p3/1.jpg,p3\nphotos/p4/1.jpg,p4\nphotos/p5.png,p5\n');
    const io = captureIO();
    expect(await synthCommand(fakeDetector)(['--manifest', 'with-failed.csv', '--out', 'out-failed', '--regions', 'perioral', '--strength', '0.5', '--seed', '3'], io)).toBe(3);
    const people = (await readFile(path.join(dir, 'out-failed', 'manifest.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => l.split(',')[1]);
    expect(new Set(people).size).toBe(4);
    expect(io.stderr).toMatch(/wrote 4 photos of 4 subjects \(\d vcfs, \d control;/);
    const [vcfs, control] = /\((\d) vcfs, (\d) control;/.exec(io.stderr)!.slice(1).map(Number);
    expect(vcfs + control).toBe(4);
  });

  it('writes a photo listed twice (again, under another person, or through a link) once: each later row is its E_MANIFEST record (exit 3)', async () => {
    const { symlink } = await import('node:fs/promises');
    await symlink('1.jpg', path.join(dir, 'photos', 'p4', 'again.jpg'));
    await writeFile(path.join(dir, 'twice.csv'), 'path,subject\nphotos/p1/1.jpg,p1\nphotos/p1/1.jpg,p9\nphotos/p2/1.jpg,p2\n./photos/p2/1.jpg,p2\nphotos/p3/1.jpg,p3\nphotos/p4/1.jpg,p4\nphotos/p4/again.jpg,p4\n');
    const io = captureIO();
    expect(await synthCommand(fakeDetector)(['--manifest', 'twice.csv', '--out', 'out-twice', '--regions', 'perioral', '--strength', '0.5', '--json'], io)).toBe(3);
    const records = io.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toEqual([
      { contract: 1, path: 'photos/p1/1.jpg', error: { code: 'E_MANIFEST', message: expect.stringMatching(/^row 2: .*the same photo as row 1's/) } },
      { contract: 1, path: './photos/p2/1.jpg', error: { code: 'E_MANIFEST', message: expect.stringMatching(/^row 4: .*the same photo as row 3's/) } },
      { contract: 1, path: 'photos/p4/again.jpg', error: { code: 'E_MANIFEST', message: expect.stringMatching(/^row 7: .*the same photo as row 6's/) } },
    ]);
    const rows = (await readFile(path.join(dir, 'out-twice', 'manifest.csv'), 'utf8')).trim().split('\n').slice(1);
    expect(rows.map((l) => l.split(',')[1])).toEqual(['p1', 'p2', 'p3', 'p4']);

    // A folder whose person links to another's photo: the photo stays the first person's.
    const io2 = captureIO();
    expect(await synthCommand(fakeDetector)(['--manifest', 'photos', '--out', 'out-twice-folder', '--regions', 'perioral', '--strength', '0.5', '--json'], io2)).toBe(3);
    const folderRecords = io2.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(folderRecords).toContainEqual({ contract: 1, path: 'p4/again.jpg', error: { code: 'E_MANIFEST', message: expect.stringContaining('the same photo as "p4/1.jpg"') } });
    await rm(path.join(dir, 'photos', 'p4', 'again.jpg'));
  });

  it('refuses (E_CONFIG, nothing written) a data set in which a class is left with no one, its people drawn having no usable face', async () => {
    const { chooseAffected } = await import('../../../src/workflows/synth/index.ts');
    const people = ['f1', 'f2', 'f3', 'f4'];
    const affected = chooseAffected(people, 0.5, 1);
    for (const s of people) await writeFaceJpeg(path.join(dir, 'faceless-affected', s, affected.has(s) ? 'noface.jpg' : '1.jpg'));
    const direct = captureIO();
    await expect(synthCommand(fakeDetector)(['--manifest', 'faceless-affected', '--out', 'out-faceless', '--regions', 'perioral', '--strength', '0.5', '--quiet'], direct)).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: expect.stringMatching(/^Class "vcfs" holds no one with a usable face/),
    });
    expect(direct.stdout).toMatch(/noface\.jpg: E_NO_FACE/);
    expect(existsSync(path.join(dir, 'out-faceless'))).toBe(false);
  });

  it('refuses an output folder inside the input folder', async () => {
    const io = captureIO();
    await expect(synthCommand(fakeDetector)(['--manifest', 'photos', '--out', 'photos/planted', '--regions', 'all', '--strength', '1'], io)).rejects.toMatchObject({ code: 'E_USAGE' });
  });
});
