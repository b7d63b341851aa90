import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseAffected, readSynthInput, synthesize, type PlantedRegion, type SynthOptions, type Truth } from '../../../src/workflows/synth/index.ts';
import type { Landmarks5 } from '../../../src/types.ts';
import { FACE_H, FACE_LANDMARKS, FACE_W, fakeDetect, firstFace, writeFaceJpeg } from './fixtures.ts';

let dir: string;
let profileSubject: string;
const SUBJECTS = ['s01', 's02', 's03', 's04', 's05', 's06'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'phenoface-synth-'));
  // Every subject has the same two photos (variant 0 and 1), so a case and a control photo made
  // from the same source can be compared pixel by pixel.
  for (const s of SUBJECTS) {
    await writeFaceJpeg(path.join(dir, 'in', s, 'a.jpg'), 0);
    await writeFaceJpeg(path.join(dir, 'in', s, 'b.jpg'), 1);
  }
  await writeFaceJpeg(path.join(dir, 'in', 's01', 'noface.jpg'), 0);
  await writeFile(path.join(dir, 'in', 's02', 'notes.jpg'), 'this is not an image');
  // A profile photo (view from the folder name) of an affected subject.
  profileSubject = [...chooseAffected(SUBJECTS, 0.5, 7)].sort()[0];
  await writeFaceJpeg(path.join(dir, 'in', profileSubject, 'profile', 'p.jpg'), 0);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(out: string, extra: Partial<SynthOptions> = {}) {
  const input = await readSynthInput(path.join(dir, 'in'));
  return synthesize({ rows: input.rows, inputErrors: input.errors, outDir: path.join(dir, out), regions: ['periorbital', 'perinasal', 'perioral', 'facelength'], strength: 1, seed: 7, detect: fakeDetect, chooseFace: firstFace, ...extra });
}

async function pixels(file: string): Promise<Buffer> {
  return sharp(file).raw().toBuffer();
}

function pairs(truth: Truth, photo: string) {
  const cases = truth.photos.filter((p) => p.label === 'vcfs' && p.source.endsWith(`/${photo}`) && !p.source.includes('profile'));
  const controls = truth.photos.filter((p) => p.label === 'control' && p.source.endsWith(`/${photo}`) && !p.source.includes('profile'));
  return { cases, control: controls[0] };
}

describe('synthesize', () => {
  it('labels half the subjects vcfs, writes manifest.csv per the contract and skips bad photos without stopping', async () => {
    const r = await run('out-basic');
    const labels = Object.values(r.truth.subjects).map((s) => s.label);
    expect(labels.filter((l) => l === 'vcfs')).toHaveLength(3);
    expect(labels.filter((l) => l === 'control')).toHaveLength(3);
    const manifest = (await readFile(r.manifestPath, 'utf8')).trim().split('\n');
    expect(manifest[0]).toBe('path,subject,label,view');
    expect(manifest).toHaveLength(1 + SUBJECTS.length * 2 + 1);
    for (const line of manifest.slice(1)) {
      const [p, subject, label, view] = line.split(',');
      expect(r.truth.subjects[subject].label).toBe(label);
      expect(['frontal', 'profile']).toContain(view);
      expect(p).toMatch(new RegExp(`^images/${subject}/`));
      expect((await sharp(path.join(dir, 'out-basic', p)).metadata()).format).toBe('jpeg');
    }
    // The photo without a face and the non-image are reported, not written, and did not stop the batch.
    const skipped = Object.fromEntries(r.truth.skipped.map((s) => [path.basename(s.path), s.error.code]));
    expect(skipped).toEqual({ 'noface.jpg': 'E_NO_FACE', 'notes.jpg': 'E_DECODE' });
    expect(manifest.some((l) => l.includes('noface') || l.includes('notes'))).toBe(false);
    expect(r.failed).toBe(2);
  });

  it('a zero-strength case is byte-identical to a control made from the same photo', async () => {
    const r = await run('out-zero', { strength: 0 });
    for (const photo of ['a.jpg', 'b.jpg']) {
      const { cases, control } = pairs(r.truth, photo);
      expect(cases.length).toBeGreaterThan(0);
      const controlBytes = await readFile(path.join(dir, 'out-zero', control.path));
      for (const c of cases) expect((await readFile(path.join(dir, 'out-zero', c.path))).equals(controlBytes)).toBe(true);
    }
  });

  it('truth.json matches the images: planted regions changed, everything outside them identical', async () => {
    const r = await run('out-full');
    const out = path.join(dir, 'out-full');
    for (const photo of ['a.jpg', 'b.jpg']) {
      const { cases, control } = pairs(r.truth, photo);
      const ctl = await pixels(path.join(out, control.path));
      for (const c of cases) {
        const img = await pixels(path.join(out, c.path));
        expect(img.length).toBe(FACE_W * FACE_H * 3);
        const planted = Object.values(c.regions) as PlantedRegion[];
        expect(planted.map((p) => 'centre' in p)).toEqual([true, true, true, true]);
        const circles: { centre: [number, number]; radius: number }[] = planted.flatMap((p) => p.parts ?? [{ centre: p.centre, radius: p.radius }]);
        const diff = (x: number, y: number) => Math.max(...[0, 1, 2].map((k) => Math.abs(img[(y * FACE_W + x) * 3 + k] - ctl[(y * FACE_W + x) * 3 + k])));
        // JPEG codes 8x8 blocks independently (4:4:4): a block outside every circle must be identical.
        let outsideBlocks = 0;
        for (let by = 0; by < FACE_H; by += 8) {
          for (let bx = 0; bx < FACE_W; bx += 8) {
            const touches = circles.some(({ centre: [cx, cy], radius }) => Math.hypot(Math.max(bx - cx, 0, cx - bx - 7), Math.max(by - cy, 0, cy - by - 7)) < radius);
            if (touches) continue;
            outsideBlocks++;
            for (let y = by; y < by + 8; y++) for (let x = bx; x < bx + 8; x++) expect(diff(x, y)).toBe(0);
          }
        }
        expect(outsideBlocks).toBeGreaterThan(100);
        // Inside each planted piece, pixels changed.
        for (const { centre: [cx, cy], radius } of circles) {
          let changed = 0;
          let total = 0;
          for (let y = Math.max(0, Math.floor(cy - radius)); y < Math.min(FACE_H, cy + radius); y++) {
            for (let x = Math.max(0, Math.floor(cx - radius)); x < Math.min(FACE_W, cx + radius); x++) {
              if (Math.hypot(x - cx, y - cy) >= radius * 0.8) continue;
              total++;
              if (diff(x, y) > 16) changed++;
            }
          }
          expect(changed / total).toBeGreaterThan(0.05);
        }
      }
    }
  });

  it('gives every photo of a subject the same parameters, and plants only profile-visible regions in profile', async () => {
    const r = await run('out-profile');
    const profile = r.truth.photos.find((p) => p.source.includes('profile/'))!;
    expect(profile.view).toBe('profile');
    expect(profile.viewSource).toBe('manifest');
    expect(profile.subject).toBe(profileSubject);
    expect(profile.label).toBe('vcfs');
    expect(profile.regions.periorbital).toEqual({ skipped: expect.stringContaining('profile') });
    expect(profile.regions.perioral).toEqual({ skipped: expect.stringContaining('profile') });
    expect(profile.regions.perinasal).toHaveProperty('centre');
    expect(profile.regions.facelength).toHaveProperty('centre');
    // Frontal photos carry the fake detector's view.
    expect(r.truth.photos.find((p) => !p.source.includes('profile/'))!.viewSource).toBe('detector');
    for (const [id, s] of Object.entries(r.truth.subjects)) {
      if (s.label === 'control') {
        expect(s).toEqual({ label: 'control', strength: 0, regions: [], params: {} });
        continue;
      }
      expect(s.strength).toBeGreaterThanOrEqual(0.8);
      expect(s.strength).toBeLessThanOrEqual(1.2);
      // Both frontal photos of an affected subject (same drawing, same landmarks) were warped identically.
      const photos = r.truth.photos.filter((p) => p.subject === id && !p.source.includes('profile'));
      expect(photos).toHaveLength(2);
      expect(photos[0].regions).toEqual(photos[1].regions);
    }
  });

  it('anchors the warp on the face\'s alignment points when the detector gives them, and records both sets of points', async () => {
    // A detector whose own five points sit 24 px above the drawn features (as MTCNN's do on close-ups),
    // with the dense landmarks' five points on them.
    const offDetector: SynthOptions['detect'] = async (p) => {
      const found = await fakeDetect(p);
      return { ...found, faces: found.faces.map((f) => ({ ...f, landmarks5: f.landmarks5.map(([x, y]) => [x, y - 24]) as Landmarks5, alignPoints: f.landmarks5 })) };
    };
    const r = await run('out-anchors', { detect: offDetector });
    const photo = r.truth.photos.find((p) => p.label === 'vcfs' && !p.source.includes('profile'))!;
    expect(photo.face.anchors).toEqual(FACE_LANDMARKS);
    expect(photo.face.landmarks5).toEqual(FACE_LANDMARKS.map(([x, y]) => [x, y - 24]));
    // The planted nose sits on the drawn nose, not on the detector's nose point.
    const nose = photo.regions.perinasal as PlantedRegion;
    const [nx, ny] = FACE_LANDMARKS[2];
    expect(Math.hypot(nose.centre[0] - nx, nose.centre[1] - ny)).toBeLessThan(Math.hypot(nose.centre[0] - nx, nose.centre[1] - (ny - 24)));
    // Without alignment points the detector's points are the anchors, as before.
    const plain = (await run('out-anchors-plain')).truth.photos.find((p) => p.label === 'vcfs' && !p.source.includes('profile'))!;
    expect(plain.face.anchors).toEqual(plain.face.landmarks5);
  });

  it('is deterministic for a seed: same files byte for byte; another seed picks other subjects', async () => {
    const a = await run('out-det-a');
    const b = await run('out-det-b');
    expect(await readFile(a.manifestPath, 'utf8')).toBe(await readFile(b.manifestPath, 'utf8'));
    expect(JSON.stringify(a.truth)).toBe(JSON.stringify(b.truth));
    for (const p of a.truth.photos) {
      expect((await readFile(path.join(dir, 'out-det-a', p.path))).equals(await readFile(path.join(dir, 'out-det-b', p.path)))).toBe(true);
    }
    const affected = (t: Truth) => Object.entries(t.subjects).filter(([, s]) => s.label === 'vcfs').map(([id]) => id).sort();
    const seeds = await Promise.all([8, 9, 10].map(async (seed) => affected((await run(`out-seed-${seed}`, { seed })).truth).join()));
    expect(seeds.some((s) => s !== affected(a.truth).join())).toBe(true);
    const third = await run('out-fraction', { fraction: 1 / 3 });
    expect(affected(third.truth)).toHaveLength(2);
  });

  it('writes a preview contact sheet: one row per affected photo, before / planted / strength 1', async () => {
    const r = await run('out-preview', { strength: 0.5, preview: true });
    const meta = await sharp(r.previewPath!).metadata();
    const affectedPhotos = r.truth.photos.filter((p) => p.label === 'vcfs').length;
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(3 * 256);
    // One row of 256-px tiles (plus the sheet's label strip) per affected photo.
    const rowPx = meta.height! / affectedPhotos;
    expect(Number.isInteger(rowPx) && rowPx >= 256 && rowPx < 2 * 256).toBe(true);
  });

  it('rejects bad options and a non-empty foreign output folder', async () => {
    await expect(run('out-bad', { regions: ['periorbital', 'ears'] })).rejects.toThrow('Unknown region "ears". Should be one of: periorbital, perinasal, perioral, facelength.');
    await expect(run('out-bad', { strength: 2 })).rejects.toMatchObject({ code: 'E_CONFIG', message: 'Invalid strength: 2. Should be a number in [0, 1].' });
    await expect(run('out-bad', { fraction: 1 })).rejects.toMatchObject({ code: 'E_CONFIG' });
    await expect(run('out-bad', { fraction: 0 })).rejects.toMatchObject({ code: 'E_CONFIG' });
    // A fraction that plants no one (or everyone) leaves a class empty: refused before anything is written.
    await expect(run('out-empty-class', { fraction: 0.01 })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(/^Class "vcfs" would hold no one \(control \d+, vcfs 0 of \d+ people, --fraction 0\.01\)/) });
    await expect(run('out-empty-class', { fraction: 0.99 })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('Class "control" would hold no one') });
    expect(existsSync(path.join(dir, 'out-empty-class'))).toBe(false);
    await expect(synthesize({ rows: [], outDir: path.join(dir, 'in'), regions: ['perioral'], strength: 1, detect: fakeDetect, chooseFace: firstFace })).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});

describe('readSynthInput', () => {
  it('reads an unlabeled manifest, refusing bad rows one by one', async () => {
    const m = path.join(dir, 'in', 'manifest.csv');
    await writeFile(m, 'path,subject,view,label,age\ns01/a.jpg,s01,frontal,control,34\ns02/a.jpg,s02,,,\n../escape.jpg,s03,,,\ns04/missing.jpg,s04,,,\ns05/a.jpg,s05,sideways,,\ns06/a.jpg,,,,\n');
    const input = await readSynthInput(m);
    expect(input.rows.map((r) => [r.path, r.subject, r.view, r.meta])).toEqual([['s01/a.jpg', 's01', 'frontal', { age: '34' }], ['s02/a.jpg', 's02', undefined, undefined]]);
    expect(input.errors.map((e) => e.error.code)).toEqual(['E_MANIFEST', 'E_NOT_FOUND', 'E_MANIFEST', 'E_MANIFEST']);
    expect(input.errors[2].error.message).toContain('invalid view "sideways". Should be one of: frontal, oblique, profile.');
  });

  it("refuses the study's labelled layout ROOT/<label>/<subject>/<photo>, naming what it found and what synth reads", async () => {
    const root = path.join(dir, 'labelled');
    for (const s of ['c01', 'c02']) await writeFaceJpeg(path.join(root, 'control', s, 'a.jpg'));
    await writeFaceJpeg(path.join(root, 'vcfs', 'v01', 'frontal', 'a.jpg'));
    const refusal = await readSynthInput(root).then(() => undefined, (err: unknown) => err);
    expect(refusal).toMatchObject({ code: 'E_MANIFEST' });
    expect((refusal as Error).message).toBe(
      `Folder "${root}" holds photos in folders two levels down that are not views (frontal, oblique, profile): in "control" (2 such folders, e.g. "control/c01"), "vcfs" (1 such folder, e.g. "vcfs/v01"). ` +
      'That looks like the labelled layout ROOT/<label>/<subject>/<photo>, in which synth would take each first-level folder for one person. ' +
      `Synth reads control photos as ROOT/<subject>/<photo> or ROOT/<subject>/<view>/<photo>: pass one label's folder (e.g. "${path.join(root, 'control')}"), or a manifest CSV (path,subject[,view]).`,
    );
    // One label's folder, as the message says, is read one person per subject folder.
    const controls = await readSynthInput(path.join(root, 'control'));
    expect(controls.rows.map((r) => [r.path, r.subject, r.view])).toEqual([['c01/a.jpg', 'c01', undefined], ['c02/a.jpg', 'c02', undefined]]);
    expect((await readSynthInput(path.join(root, 'vcfs'))).rows.map((r) => [r.path, r.subject, r.view])).toEqual([['v01/frontal/a.jpg', 'v01', 'frontal']]);
  });

  it("reads CFP's ROOT/<subject>/<view>/<photo> beside ROOT/<subject>/<photo>, a view folder's own subfolders and a capitalised view folder", async () => {
    const root = path.join(dir, 'cfp-like');
    await writeFaceJpeg(path.join(root, '001', 'frontal', '01.jpg'));
    await writeFaceJpeg(path.join(root, '001', 'profile', '01.jpg'));
    await writeFaceJpeg(path.join(root, '002', 'frontal', 'day1', '01.jpg'));
    await writeFaceJpeg(path.join(root, '003', 'Frontal', '01.jpg'));
    await writeFaceJpeg(path.join(root, 'p1', 'a.jpg'));
    const input = await readSynthInput(root);
    expect(input.errors).toEqual([]);
    expect(input.rows.map((r) => [r.path, r.subject, r.view])).toEqual([
      ['001/frontal/01.jpg', '001', 'frontal'],
      ['001/profile/01.jpg', '001', 'profile'],
      ['002/frontal/day1/01.jpg', '002', 'frontal'],
      ['003/Frontal/01.jpg', '003', undefined],
      ['p1/a.jpg', 'p1', undefined],
    ]);
  });

  it('follows symbolic links inside the folder, and makes a linked photo it cannot follow an error, never a silent skip', async () => {
    const root = path.join(dir, 'linked');
    await writeFaceJpeg(path.join(root, 'store', 'a.jpg'));
    mkdirSync(path.join(root, 'p1'));
    symlinkSync('../store/a.jpg', path.join(root, 'p1', 'a.jpg'));
    symlinkSync(path.join(dir, 'in', 's01', 'a.jpg'), path.join(root, 'p1', 'out.jpg'));
    symlinkSync('nowhere.jpg', path.join(root, 'p1', 'gone.jpg'));
    symlinkSync('../store', path.join(root, 'p2')); // relative to ROOT: outside it, and not a photo: skipped
    symlinkSync('store', path.join(root, 'p3'));
    symlinkSync('..', path.join(root, 'p1', 'up')); // back up the tree: each folder is read once
    const input = await readSynthInput(root);
    // p3 links to the folder whose photo p1 links to: the one photo is p1's, and p3's is a record.
    expect(input.rows.map((r) => [r.path, r.subject])).toEqual([['p1/a.jpg', 'p1']]);
    expect(input.errors.map((e) => [e.path, e.error.code])).toEqual([['p1/gone.jpg', 'E_NOT_FOUND'], ['p1/out.jpg', 'E_MANIFEST'], ['p3/a.jpg', 'E_MANIFEST']]);
    expect(input.errors[2].error.message).toContain('the same photo as "p1/a.jpg"');
    // A folder of links that all leave it is those links' errors, not "No photos found".
    const only = await readSynthInput(path.join(root, 'p1'));
    expect(only.rows).toEqual([]);
    expect(only.errors.map((e) => [e.path, e.error.code])).toEqual([['a.jpg', 'E_MANIFEST'], ['gone.jpg', 'E_NOT_FOUND'], ['out.jpg', 'E_MANIFEST']]);
  });

  it('refuses a missing input and a manifest without a subject column', async () => {
    await expect(readSynthInput(path.join(dir, 'nope.csv'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    const m = path.join(dir, 'in', 'nosubject.csv');
    await writeFile(m, 'path,label\ns01/a.jpg,control\n');
    await expect(readSynthInput(m)).rejects.toMatchObject({ code: 'E_MANIFEST', message: expect.stringContaining('missing required column "subject"') });
  });
});
