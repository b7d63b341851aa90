/**
 * `phenoface screen --explain DIR`: the heatmaps never land in the model folder, in a folder that is
 * walked for photos, or over a photo being screened, and an unusable DIR is a coded error; all
 * refused before the model is loaded. With heat maps, the JSON says what part of the model's score
 * they follow.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runStudy } from '../../src/workflows/study/study.ts';
import { memoryIO } from '../support/io.ts';
import { QUICK_STUDY, writeStudyData } from './study-fixture.ts';
import { snapshot } from './snapshot.ts';

const require = createRequire(import.meta.url);
const sample = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample3.jpg');

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-screen-out-'));
  const cache = path.join(dir, 'cache.sqlite');
  const data = await writeStudyData(path.join(dir, 'data'), cache);
  await runStudy({ source: data.manifest, out: path.join(dir, 'study'), cache, ...QUICK_STUDY });
  copyFileSync(sample, path.join(dir, 'face.jpg'));
  mkdirSync(path.join(dir, 'person', 'a'), { recursive: true });
  copyFileSync(sample, path.join(dir, 'person', 'a', 'x.jpg'));
  // The heatmap of the first photo, x.jpg, would be named 01-x.heatmap.png: here it is the second photo.
  copyFileSync(sample, path.join(dir, 'person', '01-x.heatmap.png'));
  writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
  mkdirSync(path.join(dir, 'no-photos'));
});

describe('phenoface screen --explain DIR', () => {
  it.each([
    ['the model folder', ['face.jpg', '--explain', 'study/model'], 2, /E_USAGE: --explain ".*model" is the input folder ".*model"/],
    ['a folder inside the model folder', ['face.jpg', '--explain', 'study/model/heatmaps'], 2, /E_USAGE: --explain ".*heatmaps" lies inside the input folder ".*model"/],
    ['a folder inside a photo folder being screened', ['person', '--explain', 'person/heatmaps'], 2, /E_USAGE: --explain ".*heatmaps" lies inside the input folder "person"/],
    ['a photo being screened', ['face.jpg', '--explain', 'face.jpg'], 2, /E_USAGE: --explain "face\.jpg" is the input "face\.jpg"/],
    ['a folder where a heatmap would replace a photo being screened', ['person/a/x.jpg', 'person/01-x.heatmap.png', '--explain', 'person'], 2, /E_USAGE: --explain ".*01-x\.heatmap\.png" is the input "person\/01-x\.heatmap\.png"/],
    ['an existing file', ['face.jpg', '--explain', 'notes.txt'], 1, /E_INPUT: --explain "notes\.txt" is a file\. Should be a folder/],
    ['a path below a file', ['face.jpg', '--explain', 'notes.txt/heat'], 1, /E_INPUT: Cannot write "notes\.txt\/heat": ".*notes\.txt" is a file, not a folder/],
  ])('refuses %s, changing no file', async (_, args, code, message) => {
    const before = snapshot(dir);
    const io = memoryIO(dir);
    expect(await main(['screen', ...args, '--model', 'study/model'], io)).toBe(code);
    expect(io.stderr).toMatch(message);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('phenoface screen --explain DIR, twice', () => {
  it('never replaces the heat maps of an earlier screening in that folder', async () => {
    expect(await main(['screen', 'face.jpg', '--model', 'study/model', '--explain', 'heat-twice', '--json'], memoryIO(dir))).toBe(0);
    const before = snapshot(dir);
    const io = memoryIO(dir);
    expect(await main(['screen', 'face.jpg', '--model', 'study/model', '--explain', 'heat-twice', '--json'], io)).toBe(2);
    expect(io.stderr).toMatch(/E_USAGE: --explain "heat-twice" already holds "heat-twice\/01-face\.heatmap\.png", which this screening would replace\. Give an empty or new folder\./);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('phenoface screen --explain DIR beside the photos', () => {
  it('writes heat maps that a later screening of the folder does not take for more photos of the person', async () => {
    mkdirSync(path.join(dir, 'walk'));
    copyFileSync(sample, path.join(dir, 'walk', 'front.jpg'));
    expect(await main(['screen', 'walk/front.jpg', '--model', 'study/model', '--explain', 'walk', '--json'], memoryIO(dir))).toBe(0);
    expect(readdirSync(path.join(dir, 'walk')).sort()).toEqual(['01-front.heatmap-aligned.png', '01-front.heatmap.png', 'front.jpg']);
    const io = memoryIO(dir);
    expect(await main(['screen', 'walk', '--model', 'study/model', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdout).photos.map((p: { path: string }) => p.path)).toEqual([path.join('walk', 'front.jpg')]);
    // Named, a heat map is tried like any file.
    const named = memoryIO(dir);
    await main(['screen', 'walk/01-front.heatmap.png', '--model', 'study/model', '--json'], named);
    expect(JSON.parse(named.stdout).photos.map((p: { path: string }) => p.path)).toEqual(['walk/01-front.heatmap.png']);
  });
});

describe('phenoface screen --explain DIR --json', () => {
  it("says what part of the model's score the heat maps follow, and only when a photo has one", async () => {
    const io = memoryIO(dir);
    expect(await main(['screen', 'face.jpg', '--model', 'study/model', '--explain', 'heat', '--json'], io)).toBe(0);
    const result = JSON.parse(io.stdout);
    expect(result.photos[0].regions.length).toBeGreaterThan(0);
    // The fixture's model reads both networks' embeddings, so the maps follow one of them only.
    expect(result.model.heatMapScope).toMatch(/dlib-resnet's held at its training mean\.$/);
    const plain = memoryIO(dir);
    expect(await main(['screen', 'face.jpg', '--model', 'study/model', '--json'], plain)).toBe(0);
    expect(JSON.parse(plain.stdout).model.heatMapScope).toBeUndefined();
  });
});

describe('phenoface screen --json, inputs that cannot be screened', () => {
  it('gives a folder without photos its own record and screens the rest (exit 3)', async () => {
    const io = memoryIO(dir);
    expect(await main(['screen', 'no-photos', 'face.jpg', '--model', 'study/model', '--json'], io)).toBe(3);
    const result = JSON.parse(io.stdout);
    expect(result.photos.map((p: { path: string; error?: { code: string } }) => [p.path, p.error?.code])).toEqual([['no-photos', 'E_NOT_FOUND'], ['face.jpg', undefined]]);
    expect(result.subject.photos).toBe(1);
    expect(result.subject.error).toBeUndefined();
  });

  it('says why there is no probability when no photo could be screened', async () => {
    const io = memoryIO(dir);
    expect(await main(['screen', 'no-photos', 'notes.txt', '--model', 'study/model', '--json'], io)).toBe(3);
    const { subject } = JSON.parse(io.stdout);
    expect(subject).toMatchObject({ probability: null, label: null, photos: 0, error: { code: 'E_NO_USABLE_PHOTO' } });
    expect(subject.error.message).toMatch(/None of the 2 photos could be screened/);
    const one = memoryIO(dir);
    expect(await main(['screen', 'notes.txt', '--model', 'study/model', '--json'], one)).toBe(3);
    expect(JSON.parse(one.stdout).subject.error.message).toBe('The one photo could not be screened (its error says why), so there is no score ("probability") and no label.');
  });
});
