/**
 * Which five points the ArcFace alignment should take: MTCNN's, or the five the dense landmarks give
 * (eye centroids, nose tip, mouth corners; `fivePointsOf68`). MTCNN's O-Net regresses its points
 * inside its box, and on close-ups whose face fills the photo (most of CFP's frontal photos) the box
 * overshoots the photo and the points land well off the features. This script embeds CFP-dev's
 * photos (PEOPLE people, 4 frontal and 4 profile photos each) aligned three ways with the default
 * backbone (MTCNN's points and the mesh's onto ArcFace's template; the mesh's onto their own, as the
 * pipeline aligns: `alignDecoded`) and prints the verification AUC of genuine against impostor pairs
 * (cosine) for each, frontal with frontal, frontal with profile and profile with profile, with how
 * far MTCNN's eye point lies from the mesh's on the frontal photos (over the inter-ocular distance).
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
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { Landmarks5 } from '../src/types.ts';
const cfp = requireShared('data/cfp-dev');
const people = Number(process.argv[2] ?? 60), per = 4;
const rows = readFileSync(path.join(cfp, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')).filter((r) => Number(r[1]) <= people);
const chosen = new Map<string, string[]>();
for (const r of rows) { const key = `${r[1]}|${r[3]}`; const a = chosen.get(key) ?? []; if (a.length < per) a.push(r[0]); chosen.set(key, a); }
const pipeline = await Pipeline.create({ landmarks: true, config: { embed: { intraOpThreads: 2 } } });
const bb = pipeline.backbone!;
type Way = 'a' | 'b' | 'c';
const emb: ({ p: string; pose: string; off: number } & Record<Way, Float32Array>)[] = [];
for (const [key, files] of chosen) for (const f of files) {
  const [p, pose] = key.split('|');
  const img = await decodeImage(path.join(cfp, f), pipeline.config.image);
  const face = chooseFace(await pipeline.detectImage(img), img.originalWidth, img.originalHeight);
  if (!face?.alignPoints) continue;
  // The mesh's own five points, as the pipeline aligns on them (before the iris model moves the eye points).
  const m5 = face.landmarks5, d5 = face.alignPoints;
  const iod = Math.hypot(d5[1][0] - d5[0][0], d5[1][1] - d5[0][1]);
  const off = Math.hypot(m5[0][0] - d5[0][0], m5[0][1] - d5[0][1]) / iod;
  const aligned = (points: Landmarks5, template: Readonly<Landmarks5>) => alignFace(img, mapLandmarks(toDecoded(img), points), template, bb.spec.inputSize).image;
  const [a, b, c] = await bb.embed([aligned(m5, bb.spec.template), aligned(d5, bb.spec.template), pipeline.alignDecoded(img, face).image]);
  emb.push({ p, pose, off, a: a.vector, b: b.vector, c: c.vector });
}
await pipeline.close();
const cos = (x: Float32Array, y: Float32Array) => x.reduce((s, v, i) => s + v * y[i], 0) / Math.sqrt(x.reduce((s, v) => s + v * v, 0) * y.reduce((s, v) => s + v * v, 0));
function auc(pos: number[], neg: number[]) { let w = 0; for (const a of pos) for (const b of neg) w += a > b ? 1 : a === b ? 0.5 : 0; return w / (pos.length * neg.length); }
const LABELS: Record<Way, string> = { a: "MTCNN's points, ArcFace template", b: "mesh's points, ArcFace template", c: "mesh's points, their own template" };
for (const [first, second] of [['frontal', 'frontal'], ['frontal', 'profile'], ['profile', 'profile']]) {
  for (const key of ['a', 'b', 'c'] as const) {
    const gen: number[] = [], imp: number[] = [];
    for (let i = 0; i < emb.length; i++) for (let j = 0; j < emb.length; j++) {
      // Each unordered pair once: ordered by index when both photos have the same pose.
      if (emb[i].pose !== first || emb[j].pose !== second || (first === second && j <= i)) continue;
      (emb[i].p === emb[j].p ? gen : imp).push(cos(emb[i][key], emb[j][key]));
    }
    console.log(`${first}-${second}, ${LABELS[key]}: verification AUC ${auc(gen, imp).toFixed(4)}, genuine mean ${(gen.reduce((s, v) => s + v, 0) / gen.length).toFixed(3)} (${gen.length} genuine pairs)`);
  }
}
const offs = emb.filter((e) => e.pose === 'frontal').map((e) => e.off).sort((x, y) => x - y);
console.log(`frontal photos ${offs.length}; MTCNN eye vs mesh eye, / IOD: median ${offs[Math.floor(offs.length / 2)].toFixed(3)}, > 0.1: ${(offs.filter((o) => o > 0.1).length / offs.length * 100).toFixed(0)}%`);
