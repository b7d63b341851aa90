/**
 * Re-derives the refinement template of the 68-point landmark network (`landmarks/`,
 * `refineTemplate`): where the five points that the 68 define (`fivePointsOf68`: eye centroids,
 * nose tip, mouth corners) fall, on average, in the network's own crops, when those crops are cut
 * by MTCNN's five points (the first pass). A second pass cuts the crop from the first pass's 68
 * points onto this template, so a face whose five MTCNN points are off still ends up where the
 * network expects it.
 *
 *   npx tsx scripts/derive-landmark68-refine-template.ts [N=300]
 *
 * Needs the shared data folder (`$PHENOFACE_SHARED`, else `../shared`; LFW photos only, so the CFP
 * photos `bench:landmarks` measures on stay unseen). Prints the template as the last line.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyAffine, umeyama } from '../src/align/index.ts';
import { DENSE_LANDMARK_MODELS, fivePointsOf68 } from '../src/landmarks/index.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { Point } from '../src/types.ts';

const SHARED = process.env.PHENOFACE_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../..', 'shared');
const count = Number(process.argv[2] ?? 300);
const lfw = join(SHARED, 'data/lfw/images_deepfunneled');
// The first photo of each person, in name order: many people, one photo each.
const files = readdirSync(lfw).sort().slice(0, count).map((person) => join(lfw, person, readdirSync(join(lfw, person)).sort()[0]));

const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { embed: { intraOpThreads: 1 } } });
const sum: Point[] = Array.from({ length: 5 }, () => [0, 0]);
let n = 0;
for (const file of files) {
  const res = await pipeline.detectFile(file);
  const face = chooseFace(res.faces, res.width, res.height);
  if (!face?.landmarksDense || face.view !== 'frontal') continue;
  // The first pass's crop: MTCNN's five points onto the template (as the pipeline cuts it).
  const toCrop = umeyama(face.landmarks5, DENSE_LANDMARK_MODELS['face-landmark68'].template);
  fivePointsOf68(face.landmarksDense).forEach((p, j) => {
    const [x, y] = applyAffine(toCrop, p);
    sum[j][0] += x;
    sum[j][1] += y;
  });
  n++;
}
await pipeline.close();
const round = (v: number) => Math.round(v * 100) / 100;
console.log(`frontal faces: ${n} of ${files.length} photos`);
console.log(`refine template: ${JSON.stringify(sum.map(([x, y]) => [round(x / n), round(y / n)]))}`);
