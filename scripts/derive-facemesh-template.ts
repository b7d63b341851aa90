/**
 * Derives the five-point crop templates of the MediaPipe face mesh (`landmarks/`, `facemesh`):
 * where facenet-pytorch's MTCNN landmarks fall, on average, inside the crop the mesh network was
 * trained on. That crop is MediaPipe's own (google/mediapipe
 * `face_landmark/face_landmark_landmarks_to_roi.pbtxt`): the bounding box of the 468 points,
 * rotated so that the line from vertex 33 to vertex 263 (the outer eye corners) is horizontal,
 * scaled 1.5x and made square on its long side, resized to 192 px. The face's points are not known
 * before the mesh runs, so the template is found by iteration on LFW faces: crop each face by its
 * MTCNN points and the current template, run the mesh, build MediaPipe's crop from the mesh's
 * points, and take the mean position of the MTCNN points in those crops as the next template. The
 * refinement template is the mean position, in the same crops, of the five points the mesh's own
 * 68 define (`fivePointsOf68`): a second pass cropped by it is MediaPipe's crop of the first pass.
 *
 *   npx tsx scripts/derive-facemesh-template.ts [N=300] [ITERATIONS=8]
 *
 * Needs the shared data folder (`$PHENOFACE_SHARED`, else `../shared`; LFW photos only, so the CFP
 * photos `bench:landmarks` measures on stay unseen) and the built `facemesh` model. Prints each
 * iteration's template and its change; the last two lines are the templates.
 */
import { join } from 'node:path';
import { applyAffine, invertAffine, umeyama, type Affine } from '../src/align/index.ts';
import { DEFAULTS } from '../src/config.ts';
import { decodeImage, toPlanarFloat, warpAffine } from '../src/image/index.ts';
import { DENSE_LANDMARK_MODELS, fivePointsOf68, MESH468_TO_IBUG68 } from '../src/landmarks/index.ts';
import { loadModel } from '../src/runtime/index.ts';
import type { Landmarks5, Point } from '../src/types.ts';
import { lfwReferenceImages, SHARED } from './face-api-reference.ts';

const SIZE = 192;
const count = Number(process.argv[2] ?? 300);
const iterations = Number(process.argv[3] ?? 8);

/** MediaPipe's crop of a face from its mesh points (image pixels): the image-to-crop similarity. */
function mediapipeCrop(mesh: Point[]): Affine {
  const xs = mesh.map((p) => p[0]), ys = mesh.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
  const side = 1.5 * Math.max(x1 - x0, y1 - y0);
  const angle = Math.atan2(mesh[263][1] - mesh[33][1], mesh[263][0] - mesh[33][0]);
  const k = SIZE / side, cos = Math.cos(-angle) * k, sin = Math.sin(-angle) * k;
  // p' = k R(-angle) (p - c) + SIZE / 2
  return [cos, -sin, SIZE / 2 - cos * cx + sin * cy, sin, cos, SIZE / 2 - sin * cx - cos * cy];
}

const model = await loadModel('facemesh', { threads: 1 });
const images = lfwReferenceImages(count).filter((r) => r.faces.length > 0);
const decoded = await Promise.all(images.map((r) => decodeImage(join(SHARED, r.path), DEFAULTS.image)));
const round = (pts: Point[]) => pts.map((p) => p.map((v) => Math.round(v * 100) / 100));
let template: Landmarks5 = DENSE_LANDMARK_MODELS['face-landmark68'].template.map(([x, y]) => [(x * SIZE) / 112, (y * SIZE) / 112]) as Landmarks5;
let refine: Point[] = [];
for (let it = 0; it < iterations; it++) {
  const sum: Point[] = Array.from({ length: 5 }, () => [0, 0]);
  const sumRefine: Point[] = Array.from({ length: 5 }, () => [0, 0]);
  let n = 0;
  for (const [i, img] of decoded.entries()) {
    const five = images[i].faces[0].landmarks5.map(([x, y]) => [x * img.scale, y * img.scale] as Point) as Landmarks5;
    const toCrop = umeyama(five, template);
    const input = toPlanarFloat(warpAffine(img, toCrop, SIZE, SIZE), 0, 1 / 255);
    const out = (await model.run({ image: { data: input, dims: [1, 3, SIZE, SIZE] } })).mesh.data;
    const fromCrop = invertAffine(toCrop);
    const mesh = Array.from({ length: 468 }, (_, k) => applyAffine(fromCrop, [out[3 * k], out[3 * k + 1]]));
    const roi = mediapipeCrop(mesh);
    five.forEach((p, j) => {
      const q = applyAffine(roi, p);
      sum[j][0] += q[0];
      sum[j][1] += q[1];
    });
    fivePointsOf68(MESH468_TO_IBUG68.map((k) => applyAffine(roi, mesh[k]))).forEach((q, j) => {
      sumRefine[j][0] += q[0];
      sumRefine[j][1] += q[1];
    });
    n++;
  }
  const next = sum.map(([x, y]) => [x / n, y / n]) as Landmarks5;
  refine = sumRefine.map(([x, y]) => [x / n, y / n]);
  const change = Math.max(...next.map((p, j) => Math.hypot(p[0] - template[j][0], p[1] - template[j][1])));
  console.log(`iteration ${it + 1}: ${n} LFW faces; template ${JSON.stringify(round(next))}, largest change ${change.toFixed(2)} px`);
  template = next;
}
await model.dispose();
console.log(`refine template (the mesh's five points in MediaPipe's crop): ${JSON.stringify(round(refine))}`);
console.log(`template (MTCNN's five points in MediaPipe's crop): ${JSON.stringify(round(template))}`);
