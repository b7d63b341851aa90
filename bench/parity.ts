/**
 * `npm run bench:parity`: our MTCNN against the reference (facenet-pytorch) detections on the
 * shared dev set. Faces are matched per image greedily by score at IoU >= 0.5; reported: recall of
 * reference faces, extra faces, median box IoU, median landmark error over the reference
 * inter-ocular distance (NME). Targets: recall >= 0.98, median IoU >= 0.95, median NME <= 0.03;
 * the reference README's tighter bars for a faithful port: extra <= 2%, IoU >= 0.97, NME <= 0.01.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { iou } from '../src/detect/mtcnn/index.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import type { Face } from '../src/types.ts';
import { machineLine, median, quantile, requireShared } from './common.ts';

interface RefFace { box: Face['box']; score: number; landmarks5: [number, number][] }
interface RefLine { path: string; width: number; height: number; faces: RefFace[] }

const refFile = requireShared('reference/mtcnn-facenet-pytorch.jsonl');
const shared = path.dirname(path.dirname(refFile));
const refs: RefLine[] = readFileSync(refFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const limit = Number(process.env.PARITY_LIMIT ?? refs.length);

const pipeline = await Pipeline.create({ detectOnly: true });
let refFaces = 0, found = 0, extra = 0, sizeMismatch = 0;
const ious: number[] = [], nmes: number[] = [], ms: number[] = [];
const bySource = new Map<string, { ref: number; found: number }>();
for (const ref of refs.slice(0, limit)) {
  const t0 = performance.now();
  const res = await pipeline.detectFile(path.join(shared, ref.path));
  ms.push(performance.now() - t0);
  if (res.width !== ref.width || res.height !== ref.height) sizeMismatch++;
  const source = ref.path.split('/')[1];
  const s = bySource.get(source) ?? { ref: 0, found: 0 };
  const used = new Set<number>();
  for (const rf of [...ref.faces].sort((a, b) => b.score - a.score)) {
    refFaces++; s.ref++;
    let best = -1, bestIou = 0.5;
    res.faces.forEach((f, i) => {
      if (used.has(i)) return;
      const v = iou(f.box, rf.box);
      if (v >= bestIou) { bestIou = v; best = i; }
    });
    if (best < 0) continue;
    used.add(best); found++; s.found++;
    ious.push(bestIou);
    const lm = res.faces[best].landmarks5;
    const iod = Math.hypot(rf.landmarks5[0][0] - rf.landmarks5[1][0], rf.landmarks5[0][1] - rf.landmarks5[1][1]);
    const err = lm.reduce((acc, p, k) => acc + Math.hypot(p[0] - rf.landmarks5[k][0], p[1] - rf.landmarks5[k][1]), 0) / 5;
    nmes.push(err / Math.max(iod, 1e-6));
  }
  extra += res.faces.length - used.size;
  bySource.set(source, s);
}
await pipeline.close();

console.log(`MTCNN parity vs facenet-pytorch on ${Math.min(limit, refs.length)} images, ${refFaces} reference faces (${await machineLine()})`);
for (const [src, s] of bySource) console.log(`  ${src.padEnd(16)} recall ${(s.found / s.ref).toFixed(3)} (${s.found}/${s.ref})`);
console.log(`  image size mismatches: ${sizeMismatch}`);
console.log(`  detection time: median ${median(ms).toFixed(0)} ms/image, mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(0)}, p95 ${quantile(ms, 0.95).toFixed(0)} (decode included)`);
console.log(`  IoU 5th pct ${quantile(ious, 0.05).toFixed(3)}, NME 95th pct ${quantile(nmes, 0.95).toFixed(3)}`);
console.log(`parity: recall ${(found / refFaces).toFixed(3)}, extra ${((100 * extra) / refFaces).toFixed(1)}%, median IoU ${median(ious).toFixed(3)}, median NME ${median(nmes).toFixed(4)}`);
