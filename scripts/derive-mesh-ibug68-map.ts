/**
 * Checks, and where CFP's hand-placed fiducials say otherwise corrects, the face mesh's 468 -> 68
 * correspondence (`landmarks/mediapipe468.ts`) for the iBUG points CFP marks (eye corners and lids,
 * nasion, nose tip, nostrils, mouth corner, lip midpoints, chin): for each such point, the mesh
 * vertex nearest, on average, to the hand-placed point, over CFP-dev people 151-250 (the photos
 * `bench:landmarks` measures on are people 1-60 by default, so they stay unseen). Pairs of points
 * are chosen together with the mesh's mirror partner (from human's UV map: the vertex nearest to
 * (1 - u, v)), so the map stays mirror-consistent; midline points only take midline vertices.
 * The mesh runs as the pipeline runs it (two passes, no flip) with the current map and templates.
 *
 *   npx tsx scripts/derive-mesh-ibug68-map.ts [FIRST_PERSON=151]
 *
 * Needs the shared data folder and the built models. Prints, per point, the current vertex and
 * error, the nearest vertex and its error; the last line is the map.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyAffine, invertAffine, umeyama, type Affine } from '../src/align/index.ts';
import { DEFAULTS } from '../src/config.ts';
import { decodeImage, toPlanarFloat, warpAffine, type DecodedImage } from '../src/image/index.ts';
import { DENSE_LANDMARK_MODELS, fivePointsOf68, IBUG68_MIRROR, MESH468_TO_IBUG68 } from '../src/landmarks/index.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import { loadModel, type InferenceModel } from '../src/runtime/index.ts';
import type { Landmarks5, Point } from '../src/types.ts';
import { SHARED } from './face-api-reference.ts';

const root = join(SHARED, 'data/cfp-dev');
const firstPerson = Number(process.argv[2] ?? 151);
/** CFP fiducial -> iBUG-68 point for image-left-marked photos (as bench/landmarks.ts). */
const MATCH: [number, number][] = [[12, 36], [13, 37], [14, 38], [15, 39], [16, 40], [17, 41], [18, 27], [21, 30], [22, 33], [23, 32], [24, 31], [25, 48], [26, 51], [27, 62], [28, 57], [29, 66], [8, 8]];
const CFP_EYE = [12, 13, 14, 15, 16, 17], CFP_NASION = 18;

/** human's UV coordinates of the 468 vertices, read from its source (data only). */
function uv468(): Point[] {
  const src = readFileSync(join(import.meta.dirname, '../node_modules/@vladmandic/human/src/face/facemeshcoords.ts'), 'utf8');
  const body = src.slice(src.indexOf('export const UV468'), src.indexOf('export const TRI468'));
  return JSON.parse(body.slice(body.indexOf('= [') + 2, body.lastIndexOf(']') + 1).replace(/,\s*\]$/, ']')) as Point[];
}
const uv = uv468();
const meshMirror = uv.map(([u, v]) => uv.reduce((best, q, j) => ((q[0] - (1 - u)) ** 2 + (q[1] - v) ** 2 < (uv[best][0] - (1 - u)) ** 2 + (uv[best][1] - v) ** 2 ? j : best), 0));

const spec = DENSE_LANDMARK_MODELS.facemesh;
async function mesh(model: InferenceModel, img: DecodedImage, toCrop: Affine): Promise<Point[]> {
  const out = (await model.run({ image: { data: toPlanarFloat(warpAffine(img, toCrop, 192, 192), 0, 1 / 255), dims: [1, 3, 192, 192] } })).mesh.data;
  const back = invertAffine(toCrop);
  return Array.from({ length: 468 }, (_, k) => applyAffine(back, [out[3 * k], out[3 * k + 1]]));
}

const rows = readFileSync(join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','))
  .filter((r) => r[3] === 'frontal' && Number(r[1]) >= firstPerson);
const pipeline = await Pipeline.create({ detectOnly: true, config: { embed: { intraOpThreads: 1 } } });
const model = await loadModel('facemesh', { threads: 1 });
// cost[k][v]: summed distance / IOD of vertex v to the fiducial of iBUG point k.
const cost = Array.from({ length: 68 }, () => new Float64Array(468));
const count = new Array<number>(68).fill(0);
for (const [file] of rows) {
  const res = await pipeline.detectFile(join(root, file)).catch(() => undefined);
  const face = res && chooseFace(res.faces, res.width, res.height);
  if (!face) continue;
  const img = await decodeImage(join(root, file), DEFAULTS.image);
  if (img.scale !== 1) continue;
  const truth = readFileSync(join(root, file.replace(/^Images/, 'Fiducials').replace(/\.jpg$/, '.txt')), 'utf8').trim().split('\n').map((l) => l.split(',').map(Number) as Point);
  const eye: Point = [0, 1].map((a) => CFP_EYE.reduce((s, i) => s + truth[i][a], 0) / CFP_EYE.length) as Point;
  const mirrored = eye[0] > truth[CFP_NASION][0];
  const iod = 2 * Math.hypot(eye[0] - truth[CFP_NASION][0], eye[1] - truth[CFP_NASION][1]);
  const first = await mesh(model, img, umeyama(face.landmarks5 as Landmarks5, spec.template));
  const pts = await mesh(model, img, umeyama(fivePointsOf68(MESH468_TO_IBUG68.map((v) => first[v])), spec.refineTemplate));
  for (const [c, left] of MATCH) {
    const k = mirrored ? IBUG68_MIRROR[left] : left;
    pts.forEach((p, v) => (cost[k][v] += Math.hypot(p[0] - truth[c][0], p[1] - truth[c][1]) / iod));
    count[k]++;
  }
}
await pipeline.close();
await model.dispose();

const map = [...MESH468_TO_IBUG68];
const err = (k: number, v: number) => cost[k][v] / Math.max(count[k], 1);
for (const [, k] of MATCH) {
  const m = IBUG68_MIRROR[k];
  const pairCost = (v: number) => (k === m ? (meshMirror[v] === v ? err(k, v) : Infinity) : (err(k, v) * count[k] + err(m, meshMirror[v]) * count[m]) / (count[k] + count[m]));
  const best = Array.from({ length: 468 }, (_, v) => v).reduce((b, v) => (pairCost(v) < pairCost(b) ? v : b), map[k]);
  console.log(`iBUG ${k}${k === m ? '' : `/${m}`}: vertex ${map[k]}${k === m ? '' : `/${map[m]}`} error ${pairCost(map[k]).toFixed(3)}; nearest ${best}${k === m ? '' : `/${meshMirror[best]}`} error ${pairCost(best).toFixed(3)} (${count[k] + (k === m ? 0 : count[m])} photos)`);
  map[k] = best;
  map[m] = meshMirror[best];
}
console.log(`map: ${JSON.stringify(map)}`);
