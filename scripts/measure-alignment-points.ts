/**
 * Which five points the ArcFace alignment should take: MTCNN's, or the five the dense landmarks give
 * (eye centroids, nose tip, mouth corners; `fivePointsOf68`). MTCNN's O-Net regresses its points
 * inside its box, and on close-ups whose face fills the photo (most of CFP's frontal photos) the box
 * overshoots the photo and the points land well off the features. This script embeds CFP-dev's
 * frontal photos (PEOPLE people, 4 photos each) aligned three ways with the default backbone (MTCNN's
 * points and the mesh's onto ArcFace's template; the mesh's onto their own, DENSE_TEMPLATE) and
 * prints the verification AUC of genuine against impostor pairs (cosine) for each, with how far
 * MTCNN's eye point lies from the mesh's (over the inter-ocular distance).
 *
 *   npx tsx scripts/measure-alignment-points.ts [PEOPLE=60]
 *
 * Needs the shared data folder and the built models.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { requireShared } from '../bench/common.ts';
import { alignFace } from '../src/align/index.ts';
import { decodeImage, mapLandmarks, toDecoded } from '../src/image/index.ts';
import { fivePointsOf68 } from '../src/landmarks/index.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { Landmarks5 } from '../src/types.ts';
const cfp = requireShared('data/cfp-dev');
const people = Number(process.argv[2] ?? 60), per = 4;
const rows = readFileSync(path.join(cfp, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter((r) => r[3] === 'frontal' && Number(r[1]) <= people);
const byP = new Map<string, string[]>();
for (const r of rows) { const a = byP.get(r[1]) ?? []; if (a.length < per) a.push(r[0]); byP.set(r[1], a); }
const pipeline = await Pipeline.create({ landmarks: true, config: { embed: { intraOpThreads: 2 } } });
const bb = pipeline.backbone!;
/** Where the mesh's five points sit in the ArcFace crop (`scripts/derive-dense-align-template.ts`, 552 LFW faces). */
const DENSE_TEMPLATE: Landmarks5 = [[37.78, 52.27], [72.53, 52.2], [55.05, 70.88], [41.75, 90.14], [69.3, 89.95]];
const emb: { p: string; a: Float32Array; b: Float32Array; c: Float32Array; off: number }[] = [];
for (const [p, files] of byP) for (const f of files) {
  const img = await decodeImage(path.join(cfp, f), pipeline.config.image);
  const faces = await pipeline.detectImage(img);
  const face = chooseFace(faces, img.originalWidth, img.originalHeight);
  if (!face?.landmarksDense) continue;
  const m5 = face.landmarks5, d5 = fivePointsOf68(face.landmarksDense) as Landmarks5;
  const iod = Math.hypot(d5[1][0] - d5[0][0], d5[1][1] - d5[0][1]);
  const off = Math.hypot(m5[0][0] - d5[0][0], m5[0][1] - d5[0][1]) / iod;
  const aligned = (points: Landmarks5, template: Readonly<Landmarks5>) => alignFace(img, mapLandmarks(toDecoded(img), points), template, bb.spec.inputSize).image;
  const [ea, eb, ec] = await bb.embed([aligned(m5, bb.spec.template), aligned(d5, bb.spec.template), aligned(d5, DENSE_TEMPLATE)]);
  emb.push({ p, a: ea.vector, b: eb.vector, c: ec.vector, off });
}
await pipeline.close();
const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0) / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
function auc(pos: number[], neg: number[]) { let w = 0; for (const a of pos) for (const b of neg) w += a > b ? 1 : a === b ? 0.5 : 0; return w / (pos.length * neg.length); }
const LABELS = { a: "MTCNN's points, ArcFace template", b: "mesh's points, ArcFace template", c: "mesh's points, their own template" } as const;
for (const key of ['a', 'b', 'c'] as const) {
  const gen: number[] = [], imp: number[] = [];
  for (let i = 0; i < emb.length; i++) for (let j = i + 1; j < emb.length; j++) (emb[i].p === emb[j].p ? gen : imp).push(cos(emb[i][key], emb[j][key]));
  console.log(`${LABELS[key]}: verification AUC ${auc(gen, imp).toFixed(4)}, genuine mean ${(gen.reduce((s, v) => s + v, 0) / gen.length).toFixed(3)}`);
}
const offs = emb.map((e) => e.off).sort((x, y) => x - y);
console.log(`photos ${emb.length}; MTCNN eye vs mesh eye, / IOD: median ${offs[Math.floor(offs.length / 2)].toFixed(3)}, > 0.1: ${(offs.filter((o) => o > 0.1).length / offs.length * 100).toFixed(0)}%`);
