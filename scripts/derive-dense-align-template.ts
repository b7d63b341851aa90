/**
 * The ArcFace template for the dense landmarks' five points (`fivePointsOf68`: the eye contours'
 * centroids, the nose tip, the mouth corners). ArcFace's template (Deng et al. 2019) holds where
 * MTCNN-style points sit in the 112x112 crop; the dense points sit 1-2 px away from those (the eye
 * contour's centroid is not MTCNN's eye point). This maps each face's dense five points through the
 * similarity that puts its MTCNN points on the ArcFace template, on LFW faces (centred, where
 * MTCNN's points fit), and prints their mean position: aligning dense points onto it reproduces
 * the ArcFace crop where both detectors agree, and follows the face where MTCNN's points are off.
 *
 *   npx tsx scripts/derive-dense-align-template.ts [NAMES=600] [MODEL=facemesh]
 *
 * Needs the shared data folder and the built models. Prints the faces used, the template, and
 * ArcFace's for comparison.
 */
import { readFileSync } from 'node:fs';
import { requireShared } from '../bench/common.ts';
import path from 'node:path';
import { alignmentMatrix, applyAffine, ARCFACE_TEMPLATE } from '../src/align/index.ts';
import { fivePointsOf68 } from '../src/landmarks/index.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
const root = requireShared('data/lfw');
const lines = readFileSync(path.join(root, 'pairs.txt'), 'utf8').trim().split('\n').slice(1);
const names = [...new Set(lines.map((l) => l.trim().split(/\s+/)[0]))].slice(0, Number(process.argv[2] ?? 600));
const dirs = names.map((n) => path.join(root, 'images_deepfunneled', n, `${n}_0001.jpg`));
const model = process.argv[3] ?? 'facemesh';
const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { landmarks: { model } } });
const sum = ARCFACE_TEMPLATE.map(() => [0, 0]);
let n = 0;
for (const f of dirs) {
  try {
    const r = await pipeline.detectFile(f);
    const face = chooseFace(r.faces, r.width, r.height);
    if (!face?.landmarksDense) continue;
    const m = alignmentMatrix(face.landmarks5);
    fivePointsOf68(face.landmarksDense).forEach((p, k) => { const q = applyAffine(m, p); sum[k][0] += q[0]; sum[k][1] += q[1]; });
    n++;
  } catch {
    // An unreadable photo is left out of the mean.
  }
}
await pipeline.close();
console.log(`${model}: faces ${n}`);
console.log(JSON.stringify(sum.map(([x, y]) => [Math.round((x / n) * 100) / 100, Math.round((y / n) * 100) / 100])));
console.log('arcface', JSON.stringify(ARCFACE_TEMPLATE));
