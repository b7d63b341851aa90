/**
 * The demo's people when the user names no photos: every face in the group photos that ship with
 * `@vladmandic/face-api` (its `demo/sample1..6.jpg`, 1920 px, ~22 different people) becomes one
 * "person", and seeded augmentation (small rotation, scale and shift, mirror, brightness, contrast,
 * colour and blur jitter, JPEG quality) turns each face into several photos, as a person's photos
 * differ from one visit to the next. Nothing is downloaded: the photos come with `npm install`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import type { AugmentConfig, PeopleConfig } from '../../config.ts';
import { PhenofaceError } from '../../errors.ts';
import { cropPad, decodeImage, warpAffine, type Affine } from '../../image/index.ts';
import type { Pipeline } from '../../pipeline/pipeline.ts';
import { seededStream } from '../../math/random.ts';
import type { SynthRow } from '../synth/index.ts';
import type { Face, RgbImage } from '../../types.ts';

/** The npm package whose demo photos the demo uses, and the photos. */
export const BUNDLED_PHOTOS = { package: '@vladmandic/face-api', files: [1, 2, 3, 4, 5, 6].map((i) => `demo/sample${i}.jpg`) } as const;


/** One photo's augmentation. */
export interface Augmentation {
  rotationDeg: number;
  scale: number;
  shiftX: number;
  shiftY: number;
  mirror: boolean;
  brightness: number;
  contrast: number;
  saturation: number;
  warmth: number;
  blurSigma: number;
  jpegQuality: number;
}

/**
 * The augmentation of photo `index` of `person`, drawn from `(seed, person, index)` alone. Photo 0
 * is the face as found (no geometric or colour change) so every person has one unaltered photo.
 */
export function drawAugmentation(seed: number, person: string, index: number, ranges: AugmentConfig): Augmentation {
  if (index === 0) return { rotationDeg: 0, scale: 1, shiftX: 0, shiftY: 0, mirror: false, brightness: 1, contrast: 1, saturation: 1, warmth: 0, blurSigma: 0, jpegQuality: 95 };
  const rand = seededStream(seed, `demo-augment:${person}:${index}`);
  const R = ranges;
  const between = ([lo, hi]: readonly [number, number]) => lo + (hi - lo) * rand();
  const sym = (half: number) => half * (2 * rand() - 1);
  return {
    rotationDeg: sym(R.rotationDeg),
    scale: between(R.scale),
    shiftX: sym(R.shift),
    shiftY: sym(R.shift),
    mirror: rand() < 0.5,
    brightness: between(R.brightness),
    contrast: between(R.contrast),
    saturation: between(R.saturation),
    warmth: sym(R.warmth),
    blurSigma: between(R.blurSigma),
    jpegQuality: Math.round(between(R.jpegQuality)),
  };
}

/**
 * Renders one augmented photo (JPEG bytes) of a person's base crop: a similarity transform about
 * the crop's centre (bilinear, as the shared `warpAffine`), optional mirror, then colour and blur
 * with sharp. Deterministic: the same base and augmentation give the same bytes.
 */
export async function renderAugmented(base: RgbImage, a: Augmentation, photoPx: number): Promise<Buffer> {
  const t = (a.rotationDeg * Math.PI) / 180;
  const c = a.scale * Math.cos(t);
  const s = a.scale * Math.sin(t);
  const bx = (base.width - 1) / 2, by = (base.height - 1) / 2;
  const ox = (photoPx - 1) / 2 + a.shiftX * photoPx, oy = (photoPx - 1) / 2 + a.shiftY * photoPx;
  // out = scale * R * (p - baseCentre) + outCentre; a mirror flips x about the photo's centre.
  let m: Affine = [c, -s, ox - c * bx + s * by, s, c, oy - s * bx - c * by];
  if (a.mirror) m = [-m[0], -m[1], photoPx - 1 - m[2], m[3], m[4], m[5]];
  const warped = warpAffine(base, m, photoPx, photoPx);
  // Contrast about mid-grey and white balance as one linear map per channel.
  const gain = [a.contrast * (1 + a.warmth), a.contrast, a.contrast * (1 - a.warmth)];
  let img = sharp(warped.data, { raw: { width: photoPx, height: photoPx, channels: 3 } })
    .modulate({ brightness: a.brightness, saturation: a.saturation })
    .linear(gain, gain.map((g) => 128 * (1 - g)));
  if (a.blurSigma >= 0.3) img = img.blur(a.blurSigma);
  return img.jpeg({ quality: a.jpegQuality }).toBuffer();
}

/** A person found in a bundled photo. */
export interface BundledPerson {
  id: string;
  /** Package-relative photo the face was cropped from, and its box there. */
  source: string;
  box: Face['box'];
  photos: string[];
}

/** The bundled photos' folder: the installed package's, found through Node's resolution. */
export function bundledPhotoPaths(): string[] {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${BUNDLED_PHOTOS.package}/package.json`);
  } catch (err) {
    throw new PhenofaceError('E_NOT_FOUND', `The package ${BUNDLED_PHOTOS.package}, whose demo photos the demo uses, is not installed. Run \`npm install\`, or name your own photos with --photos FOLDER.`, { cause: err });
  }
  return BUNDLED_PHOTOS.files.map((f) => path.join(path.dirname(pkgJson), f));
}

/**
 * Crops every face of the bundled photos into a person and writes `photosPerPerson` augmented
 * photos of each to `outDir/<person>/<nn>.jpg`. Returns the people and the rows synth reads.
 * Persons are numbered in photo order, and left to right within a photo.
 */
export async function buildBundledPeople(opts: {
  outDir: string;
  pipeline: Pick<Pipeline, 'detectImage'>;
  photosPerPerson: number;
  seed: number;
  /** Which faces become people, and their photos (`DEFAULTS.people` at the demo's entry). */
  people: PeopleConfig;
  sources?: string[];
  onPerson?: (person: BundledPerson) => void;
}): Promise<{ people: BundledPerson[]; rows: SynthRow[] }> {
  const P = opts.people;
  const sources = opts.sources ?? bundledPhotoPaths();
  const people: BundledPerson[] = [];
  const rows: SynthRow[] = [];
  for (const file of sources) {
    const img = await decodeImage(file);
    const faces = (await opts.pipeline.detectImage(img))
      .filter((f) => Math.min(f.box.width, f.box.height) >= P.minFacePx && f.score >= P.minScore)
      .sort((a, b) => a.box.x - b.box.x);
    for (const face of faces) {
      const id = `person-${String(people.length + 1).padStart(2, '0')}`;
      // Boxes are in full-size pixels; the decoded photo may be smaller (scale < 1 above maxSidePx).
      const k = img.scale;
      const side = Math.round(P.cropFaces * Math.max(face.box.width, face.box.height) * k);
      const x0 = Math.round((face.box.x + face.box.width / 2) * k - side / 2);
      const y0 = Math.round((face.box.y + face.box.height / 2) * k - side / 2);
      const crop = cropPad(img, x0, y0, x0 + side, y0 + side);
      const { data } = await sharp(crop.data, { raw: { width: side, height: side, channels: 3 } }).resize(P.basePx, P.basePx).raw().toBuffer({ resolveWithObject: true });
      const base: RgbImage = { width: P.basePx, height: P.basePx, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      const person: BundledPerson = { id, source: path.relative(path.dirname(path.dirname(file)), file), box: face.box, photos: [] };
      await mkdir(path.join(opts.outDir, id), { recursive: true });
      for (let i = 0; i < opts.photosPerPerson; i++) {
        const rel = `${id}/${String(i + 1).padStart(2, '0')}.jpg`;
        const abs = path.join(opts.outDir, rel);
        await writeFile(abs, await renderAugmented(base, drawAugmentation(opts.seed, id, i, P.augment), P.photoPx));
        person.photos.push(rel);
        rows.push({ path: rel, absPath: abs, subject: id });
      }
      people.push(person);
      opts.onPerson?.(person);
    }
  }
  return { people, rows };
}
