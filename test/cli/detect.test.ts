/**
 * `phenoface detect` end to end on real faces (face-api's demo photos, from an installed npm
 * package) and on every kind of bad input, all in ONE batch: each input gets its own
 * record, the batch goes on, the exit code is 3.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { createInterface } from 'node:readline';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { DEFAULTS } from '../../src/config.ts';
import { denseLandmarkSpec } from '../../src/landmarks/index.ts';
import { pngBomb } from '../fixtures-gen/images.ts';
import { memoryIO } from '../support/io.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const sample = (i: number) => path.join(demo, `sample${i}.jpg`);

let dir: string;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-detect-'));
  const put = (name: string, data: Buffer | string) => { const p = path.join(dir, name); writeFileSync(p, data); files[name] = p; return p; };
  const face = await sharp(sample(2)).resize({ width: 640 }).jpeg().toBuffer();
  put('zero.jpg', Buffer.alloc(0));
  put('text.jpg', 'this is not an image\n');
  put('truncated.jpg', face.subarray(0, Math.floor(face.length / 2)));
  put('png-named.jpg', await sharp(face).png().toBuffer());
  put('cmyk.jpg', await sharp(face).toColourspace('cmyk').jpeg().toBuffer());
  put('sixteen.png', await sharp(face).toColourspace('rgb16').png().toBuffer());
  put('alpha.png', await sharp(face).ensureAlpha(0.5).png().toBuffer());
  put('grey.jpg', await sharp(face).greyscale().jpeg().toBuffer());
  // stored rotated by 90° with EXIF orientation 6: decoders that honour EXIF see it upright
  put('exif-rotated.jpg', await sharp(face).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer());
  put('anim.gif', await sharp(face).gif().toBuffer());
  put('photo.webp', await sharp(face).webp().toBuffer());
  put('photo.avif', await sharp(face).avif({ effort: 0 }).toBuffer());
  put('one.png', await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer());
  put('bomb.png', pngBomb(30000)); // a valid PNG header claiming 30000x30000 pixels, tiny body
  put('big.jpg', await sharp(sample(2)).resize(12000, 9000, { fit: 'fill' }).jpeg({ quality: 60 }).toBuffer());
  put('upside-down.jpg', await sharp(sample(3)).rotate(180).jpeg().toBuffer());
  put('noface.png', await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).png().toBuffer());
  const tile = await sharp(sample(2)).resize({ width: 480 }).jpeg().toBuffer();
  const meta = await sharp(tile).metadata();
  put('many.jpg', await sharp({ create: { width: 960, height: meta.height! * 2, channels: 3, background: '#fff' } })
    .composite([0, 1, 2, 3].map((k) => ({ input: tile, left: (k % 2) * 480, top: Math.floor(k / 2) * meta.height! })))
    .jpeg().toBuffer());
  const odd = path.join(dir, "-odd name ü 'q\".jpg");
  copyFileSync(sample(2), odd);
  files.odd = odd;
}, 120_000);

describe('phenoface detect', () => {
  it('finds the faces in a real photo with landmarks, pose and view (contract v1)', async () => {
    const io = memoryIO();
    expect(await main(['detect', '--json', sample(2)], io)).toBe(0);
    const [rec] = io.lines();
    expect(rec.contract).toBe(1);
    expect(rec.path).toBe(sample(2));
    expect(rec.width).toBeGreaterThan(1000);
    expect(rec.faces.length).toBeGreaterThanOrEqual(1);
    const f = rec.faces[0];
    expect(Object.keys(f.box)).toEqual(['x', 'y', 'width', 'height']);
    expect(f.score).toBeGreaterThan(0.7);
    expect(f.landmarks5).toHaveLength(5);
    expect(f.landmarks5[0][0]).toBeLessThan(f.landmarks5[1][0]); // image-left eye first
    expect(['frontal', 'oblique', 'profile']).toContain(f.view);
    expect(Object.keys(f.pose)).toEqual(['yaw', 'pitch', 'roll']);
  });

  it('names the turn in which a face is found when none is found upright, and only then', async () => {
    const io = memoryIO();
    expect(await main(['detect', '--json', files['upside-down.jpg'], files['noface.png']], io)).toBe(0);
    const [down, none] = io.lines();
    expect(down.faces).toEqual([]);
    expect(down.turnedFace).toBe(180);
    expect(none.faces).toEqual([]);
    expect(none).not.toHaveProperty('turnedFace');
    const text = memoryIO();
    expect(await main(['detect', files['upside-down.jpg']], text)).toBe(0);
    expect(text.stdout).toMatch(/0 faces \(a face is found with the photo turned 180 degrees clockwise: its orientation tag may be missing\)/);
  });

  it("--landmarks dense adds the default model's points per face (the 68, then its extras) beside the unchanged five-point record; without it there are none", async () => {
    const plain = memoryIO();
    await main(['detect', '--json', sample(2)], plain);
    const io = memoryIO();
    expect(await main(['detect', '--json', '--landmarks', 'dense', sample(2)], io)).toBe(0);
    const [rec] = io.lines();
    const [before] = plain.lines();
    expect(before.faces[0].landmarksDense).toBeUndefined();
    for (const [i, f] of rec.faces.entries()) {
      const { landmarksDense, ...fivePoint } = f;
      expect(fivePoint).toEqual(before.faces[i]);
      expect(landmarksDense).toHaveLength(denseLandmarkSpec(DEFAULTS.landmarks.model).points);
      expect(landmarksDense.length).toBeGreaterThanOrEqual(68);
      expect(landmarksDense.every((p: number[]) => p.length === 2 && p.every(Number.isFinite))).toBe(true);
    }
    expect(await main(['detect', '--landmarks', 'sparse', sample(2)], memoryIO())).toBe(2);
  });

  it('gives a photo too small for --min-face its own E_TOO_SMALL record, not an empty face list, and goes on (exit 3)', async () => {
    const io = memoryIO();
    expect(await main(['detect', '--json', '--min-face', '600', files['png-named.jpg'], sample(2)], io)).toBe(3);
    const [small, large] = io.lines();
    expect(small.error.code).toBe('E_TOO_SMALL');
    expect(small.error.message).toMatch(/640x455 pixels: no face of 600 pixels.*--min-face/);
    expect(Array.isArray(large.faces)).toBe(true);
  });

  it('gives every bad input its own record and goes on with the batch (exit 3)', async () => {
    const io = memoryIO(dir);
    const names = Object.keys(files);
    const code = await main(['detect', '--json', ...names.map((n) => files[n]), path.join(dir, 'missing.jpg')], io);
    expect(code).toBe(3);
    const recs = io.lines();
    expect(recs).toHaveLength(names.length + 1);
    const by = Object.fromEntries(recs.map((r) => [path.basename(r.path), r]));
    const err = (n: string) => by[path.basename(files[n])]?.error?.code;
    const faces = (n: string) => by[path.basename(files[n])]?.faces?.length;
    expect(err('zero.jpg')).toBe('E_DECODE');
    expect(err('text.jpg')).toBe('E_DECODE');
    expect(err('truncated.jpg')).toBe('E_DECODE');
    expect(err('one.png')).toBe('E_TOO_SMALL');
    expect(err('bomb.png')).toBe('E_TOO_LARGE');
    expect(by['missing.jpg'].error.code).toBe('E_NOT_FOUND');
    for (const n of ['png-named.jpg', 'cmyk.jpg', 'sixteen.png', 'alpha.png', 'grey.jpg', 'exif-rotated.jpg', 'anim.gif', 'photo.webp', 'photo.avif', 'big.jpg', 'odd']) {
      expect(faces(n), n).toBeGreaterThanOrEqual(1);
    }
    expect(faces('noface.png')).toBe(0);
    expect(faces('many.jpg')).toBeGreaterThanOrEqual(4);
    // EXIF orientation: the reported size is the upright photo's
    const upright = by['exif-rotated.jpg'];
    const plain = by['png-named.jpg'];
    expect([upright.width, upright.height]).toEqual([plain.width, plain.height]);
    expect(upright.faces[0].box.x).toBeCloseTo(plain.faces[0].box.x, -1);
    // big photo: coordinates in full-size pixels
    expect(by['big.jpg'].width).toBe(12000);
    expect(by['big.jpg'].faces[0].box.width).toBeGreaterThan(1000);
    for (const r of recs) if (r.error) expect(r.error.message.length).toBeGreaterThan(10);
  });

  it('ends quietly (exit 0) when its reader closes standard output, with photos still in progress', async () => {
    // A real process and pipe: `phenoface detect photos/ --json | head -1`. Small photos keep the
    // worker threads in onnxruntime most of the time, where stopping a thread aborted the process;
    // three runs, as the moment the pipe closes falls anywhere.
    const many = path.join(dir, 'many-photos');
    mkdirSync(many);
    const photo = await sharp(sample(2)).resize({ width: 250 }).jpeg().toBuffer();
    for (let i = 0; i < 24; i++) writeFileSync(path.join(many, `p${String(i).padStart(2, '0')}.jpg`), photo);
    for (let run = 0; run < 3; run++) {
      const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../../bin/phenoface.mjs'), 'detect', many, '--json', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const first = await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next();
      expect(JSON.parse(first.value as string).path).toBe(path.join(many, 'p00.jpg'));
      child.stdout.destroy();
      expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: '' });
    }
  }, 120_000);

  it("goes on with every photo when the reader of its progress (stderr) closes it, and writes each record to stdout", async () => {
    const many = path.join(dir, 'progress-photos');
    mkdirSync(many);
    const photo = await sharp(sample(2)).resize({ width: 250 }).jpeg().toBuffer();
    for (let i = 0; i < 60; i++) writeFileSync(path.join(many, `p${String(i).padStart(2, '0')}.jpg`), photo);
    const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../../bin/phenoface.mjs'), 'detect', many, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The first progress line, then the reader goes away (`2> >(head -1)`).
    await new Promise((resolve) => child.stderr.once('data', resolve));
    child.stderr.destroy();
    expect(await exited).toBe(0);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l).path)).toEqual(Array.from({ length: 60 }, (_, i) => path.join(many, `p${String(i).padStart(2, '0')}.jpg`)));
  }, 120_000);

  it('walks folders for image files only', async () => {
    const io = memoryIO(dir);
    await main(['detect', '--json', '.'], io);
    const paths = io.lines().map((r) => r.path);
    expect(paths).toContain('zero.jpg');
    expect(paths.every((p) => /\.(jpe?g|png|gif|webp|avif)$/i.test(p))).toBe(true);
  });

  it('gives a folder without a photo, or a folder named like one, a record of its own (exit 3)', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'phenoface-empty-'));
    mkdirSync(path.join(empty, 'photo.jpg'));
    mkdirSync(path.join(empty, 'notes'));
    writeFileSync(path.join(empty, 'notes', 'a.txt'), 'not a photo\n');
    const io = memoryIO(empty);
    expect(await main(['detect', '--json', 'photo.jpg', 'notes', files['grey.jpg']], io)).toBe(3);
    const recs = io.lines();
    expect(recs.map((r) => [r.path, r.error?.code])).toEqual([['photo.jpg', 'E_NOT_FOUND'], ['notes', 'E_NOT_FOUND'], [files['grey.jpg'], undefined]]);
    expect(recs[1].error.message).toMatch(/Folder "notes" holds no photo/);
    // A missing file is named as given: the record carries no folder of this machine.
    const missing = memoryIO(empty);
    await main(['detect', '--json', 'gone.jpg'], missing);
    expect(missing.lines()[0].error).toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringContaining('"gone.jpg"') });
    expect(missing.lines()[0].error.message).not.toContain(empty);
  });

  it('follows symbolic links inside the folder given, and gives a linked photo it cannot follow a record of its own, never a silent skip', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-links-'));
    mkdirSync(path.join(root, 'store'));
    mkdirSync(path.join(root, 'person'));
    copyFileSync(files['grey.jpg'], path.join(root, 'store', 'face.jpg'));
    symlinkSync('../store/face.jpg', path.join(root, 'person', 'a.jpg'));
    symlinkSync('nowhere.jpg', path.join(root, 'person', 'gone.jpg'));
    symlinkSync(files['grey.jpg'], path.join(root, 'person', 'out.jpg'));
    symlinkSync('..', path.join(root, 'person', 'up')); // back up the tree: walked once
    const io = memoryIO(root);
    expect(await main(['detect', '--json', '.'], io)).toBe(3);
    const recs = io.lines();
    expect(recs.map((r) => [r.path, r.error?.code])).toEqual([['person/a.jpg', undefined], ['person/gone.jpg', 'E_NOT_FOUND'], ['person/out.jpg', 'E_INPUT'], ['store/face.jpg', undefined]]);
    expect(recs[0].faces).toEqual(recs[3].faces);
    expect(recs[2].error.message).toContain('outside the data set\'s folder');
    // Given the person's folder alone, the link to ../store leaves it: a record, not "holds no photo".
    const alone = memoryIO(root);
    expect(await main(['detect', '--json', 'person'], alone)).toBe(3);
    expect(alone.lines().map((r) => [r.path, r.error?.code])).toEqual([['person/a.jpg', 'E_INPUT'], ['person/gone.jpg', 'E_NOT_FOUND'], ['person/out.jpg', 'E_INPUT']]);
  });

  it('prints a file name holding a terminal escape or a right-to-left override as escapes in its text lines, and as it is in JSON', async () => {
    const sub = mkdtempSync(path.join(os.tmpdir(), 'phenoface-detect-names-'));
    const name = 'a\u001b]0;owned\u0007b\u202Ec.jpg';
    writeFileSync(path.join(sub, name), 'not an image');
    const text = memoryIO(sub);
    expect(await main(['detect', name], text)).toBe(3);
    expect(text.stdout).toContain('a\\u{1b}]0;owned\\u{7}b\\u{202e}c.jpg: E_DECODE');
    for (const raw of ['\u001b', '\u0007', '\u202e']) expect(text.stdout).not.toContain(raw);
    const json = memoryIO(sub);
    await main(['detect', '--json', name], json);
    expect(json.lines()[0].path).toBe(name);
  });
});

