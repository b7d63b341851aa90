/**
 * Which of the iris model's lid-contour points are the eye corners (`IRIS_TO_IBUG_EYES` in
 * `landmarks/eyes.ts`), and how the refined eye points compare with the mesh's: against CFP's
 * hand-placed fiducials (the marked eye's outer corner 12, upper lid 13-14, inner corner 15, lower
 * lid 16-17), over CFP-dev's frontal photos 01-04 of `COUNT` people from `FIRST_PERSON` (default
 * 151-180, disjoint from people 1-60 that `bench:landmarks` measures on). The candidates for each
 * corner are the contour's end (point 0 outer, 8 inner: MediaPipe's corners, mesh 33/133) and its
 * neighbour (1 and 7: mesh 7/155, the vertices `MESH468_TO_IBUG68` uses). Errors are over the
 * inter-ocular distance the fiducials imply (as bench/landmarks.ts). The mesh runs as the pipeline
 * runs it (two passes, no flip); the iris model on the crops its 68 points give.
 *
 *   npx tsx scripts/derive-iris-eye-map.ts [FIRST_PERSON=151] [COUNT=30]
 *
 * Needs the shared data folder and the built models. Prints the mean errors per candidate and the
 * median milliseconds of the iris model per face (both eyes, one core).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS } from '../src/config.ts';
import { decodeImage } from '../src/image/index.ts';
import { EyeRefiner, IRIS_TO_IBUG_EYES } from '../src/landmarks/index.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { Point } from '../src/types.ts';
import { SHARED } from './face-api-reference.ts';

const root = join(SHARED, 'data/cfp-dev');
const firstPerson = Number(process.argv[2] ?? 151);
const count = Number(process.argv[3] ?? 30);
const CFP_EYE = [12, 13, 14, 15, 16, 17], CFP_NASION = 18;
/** CFP lid fiducials 13, 14, 16, 17 and the iBUG points they match on an image-left-marked photo. */
const LIDS: [number, number][] = [[13, 37], [14, 38], [16, 40], [17, 41]];

const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);

function photos(): string[] {
  const rows = readFileSync(join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const people = new Set([...new Set(rows.map((r) => r[1]))].slice(firstPerson - 1, firstPerson - 1 + count));
  return rows.filter((r) => r[3] === 'frontal' && people.has(r[1]) && /\/0[1-4]\.jpg$/.test(r[0])).map((r) => r[0]);
}

/** The fiducials, whether they mark the image-right half, and the inter-ocular distance they imply. */
function truthOf(file: string): { truth: Point[]; mirrored: boolean; iod: number } {
  const truth = readFileSync(join(root, file.replace(/^Images/, 'Fiducials').replace(/\.jpg$/, '.txt')), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number) as Point);
  const eye: Point = [mean(CFP_EYE.map((i) => truth[i][0])), mean(CFP_EYE.map((i) => truth[i][1]))];
  return { truth, mirrored: eye[0] > truth[CFP_NASION][0], iod: 2 * dist(eye, truth[CFP_NASION]) };
}

const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 } } });
const refiner = await EyeRefiner.load({ threads: 1 });
const errors: Record<string, number[]> = {};
const add = (name: string, e: number) => (errors[name] ??= []).push(e);
const times: number[] = [];
for (const file of photos()) {
  const found = await pipeline.detectFile(join(root, file));
  const mesh = chooseFace(found.faces, found.width, found.height)?.landmarksDense;
  if (!mesh) continue;
  const img = await decodeImage(join(root, file), DEFAULTS.image);
  if (img.scale !== 1) throw new Error(`${file} was downscaled when decoded; this script maps points at full size only.`);
  const { truth, mirrored, iod } = truthOf(file);
  const t = performance.now();
  const [[left, right]] = await refiner.contours(img, [mesh]);
  times.push(performance.now() - t);
  // The marked eye's iBUG points (image-right: the mirror partners) and its model contour.
  const ibug = (k: number) => (mirrored ? [45, 44, 43, 42, 47, 46][k - 36] : k);
  const contour = mirrored ? right : left;
  const lidIris = (k: number) => IRIS_TO_IBUG_EYES[0].iris[k - 36];
  add('mesh outer', dist(mesh[ibug(36)], truth[12]) / iod);
  add('mesh inner', dist(mesh[ibug(39)], truth[15]) / iod);
  add('mesh lids', mean(LIDS.map(([c, k]) => dist(mesh[ibug(k)], truth[c]))) / iod);
  for (const k of [0, 1]) add(`iris point ${k} (outer)`, dist(contour[k], truth[12]) / iod);
  for (const k of [8, 7]) add(`iris point ${k} (inner)`, dist(contour[k], truth[15]) / iod);
  add('iris lids', mean(LIDS.map(([c, k]) => dist(contour[lidIris(k)], truth[c]))) / iod);
}
await pipeline.close();
await refiner.dispose();
console.log(`CFP-dev people ${firstPerson}-${firstPerson + count - 1}, ${errors['mesh outer']?.length ?? 0} frontal photos: mean error / inter-ocular distance`);
for (const [name, e] of Object.entries(errors)) console.log(`  ${name.padEnd(22)} ${mean(e).toFixed(4)}`);
const sorted = times.sort((a, b) => a - b);
console.log(`iris model: ${sorted[sorted.length >> 1]?.toFixed(2)} ms per face (median; both eyes, one core)`);
