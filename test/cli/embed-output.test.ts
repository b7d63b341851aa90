/**
 * `phenoface embed --out`: an output that is one of the inputs (by any spelling, symlink or hard
 * link) is refused before anything is opened, and every output path problem is a coded error
 * naming the path, never a crash.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';
import { snapshot } from './snapshot.ts';

const require = createRequire(import.meta.url);
const sample = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample3.jpg');
const photoBytes = readFileSync(sample);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-embed-out-'));
  copyFileSync(sample, path.join(dir, 'face.jpg'));
  mkdirSync(path.join(dir, 'photos', 'p1'), { recursive: true });
  copyFileSync(sample, path.join(dir, 'photos', 'p1', 'a.jpg'));
  mkdirSync(path.join(dir, 'sub'));
  symlinkSync(path.join(dir, 'face.jpg'), path.join(dir, 'link.jsonl'));
  linkSync(path.join(dir, 'face.jpg'), path.join(dir, 'hard.jsonl'));
  writeFileSync(path.join(dir, 'photos', 'manifest.csv'), 'path,subject\np1/a.jpg,p1\n');
  writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
});

describe('phenoface embed --out: the output is never an input', () => {
  it.each([
    ['the same path', ['face.jpg', '--out', 'face.jpg']],
    ['another spelling of it', ['face.jpg', '--out', './sub/../face.jpg']],
    ['an absolute spelling of it', ['face.jpg', '--out', '@/face.jpg']],
    ['a symlink to it', ['face.jpg', '--out', 'link.jsonl']],
    ['a hard link to it', ['face.jpg', '--out', 'hard.jsonl']],
    ['a photo found in an input folder', ['photos', '--out', 'photos/p1/a.jpg']],
    ['the manifest', ['--manifest', 'photos/manifest.csv', '--out', 'photos/manifest.csv']],
    ['a photo the manifest lists', ['--manifest', 'photos/manifest.csv', '--out', 'photos/p1/a.jpg']],
  ])('refuses --out that is %s (E_USAGE, exit 2) and changes no file', async (_, args) => {
    const before = snapshot(dir);
    const io = memoryIO(dir);
    const argv = args.map((a) => a.replace('@', dir));
    expect(await main(['embed', ...argv, '--quiet'], io)).toBe(2);
    expect(io.stderr).toMatch(/^phenoface embed: E_USAGE: --out ".*" is the input ".*"/);
    expect(snapshot(dir)).toEqual(before);
    expect(readFileSync(path.join(dir, 'face.jpg')).equals(photoBytes)).toBe(true);
  });
});

describe('phenoface embed --out: unusable output paths are coded errors', () => {
  it.each([
    ['in a folder that does not exist', 'missing/out.jsonl', /E_INPUT: Cannot write "missing\/out\.jsonl": the folder ".*missing" does not exist\. Should be /],
    ['a folder', 'sub', /E_INPUT: --out "sub" is a folder\. Should be a file path/],
    ['below a file', 'notes.txt/out.jsonl', /E_INPUT: Cannot write "notes\.txt\/out\.jsonl": ".*notes\.txt" is a file, not a folder\. Should be /],
  ])('an output %s is E_INPUT (exit 1) naming the path, and nothing is written', async (_, out, message) => {
    const before = snapshot(dir);
    const io = memoryIO(dir);
    expect(await main(['embed', 'face.jpg', '--out', out, '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(message);
    expect(io.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(dir)).toEqual(before);
    expect(existsSync(path.join(dir, 'missing'))).toBe(false);
  });

  it('writes beside the inputs, in an input folder, and leaves no temporary file', async () => {
    const io = memoryIO(dir);
    expect(await main(['embed', 'photos', '--out', 'photos/out.jsonl', '--quiet'], io)).toBe(0);
    const lines = readFileSync(path.join(dir, 'photos', 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.path)).toEqual([path.join('photos', 'p1', 'a.jpg')]);
    expect(readdirSync(path.join(dir, 'photos')).sort()).toEqual(['manifest.csv', 'out.jsonl', 'p1']);
  });
});
