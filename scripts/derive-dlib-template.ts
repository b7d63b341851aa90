/**
 * Re-derives the five-point alignment template of the `dlib-resnet` backbone (models.ts,
 * DLIB_SPEC.alignment): where facenet-pytorch's MTCNN landmarks fall, on average, inside the
 * 150x150 face crops that face-api feeds that network (its FaceRecognitionNet input: the box
 * `alignedRect` around its 68 landmarks, padded to a square, resized). The result is made
 * left-right symmetric about x = 75.
 *
 *   npx tsx scripts/derive-dlib-template.ts [N=150]
 *
 * Needs the shared data folder (`$PHENOFACE_SHARED`, else `../shared`) and face-api + TensorFlow.js
 * (dependencies of the project). Prints the raw mean and the symmetric template as the last line.
 */
import { imageTensor, lfwReferenceImages, loadFaceApi, type Pt } from './face-api-reference.ts';

const SIZE = 150;
const count = Number(process.argv[2] ?? 150);

const { tf, faceapi } = await loadFaceApi(['faceLandmark68Net']);
const images = lfwReferenceImages(count);
const sum: Pt[] = Array.from({ length: 5 }, () => [0, 0]);
let n = 0;
for (const image of images) {
  const { tensor } = await imageTensor(tf, image);
  const found = await faceapi.detectSingleFace(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.3 })).withFaceLandmarks();
  tensor.dispose();
  if (!found) continue;
  const box = found.alignedRect.box;
  // The reference face whose box centre lies in face-api's crop.
  const face = image.faces.find((f) => {
    const cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
    return cx > box.x && cx < box.x + box.width && cy > box.y && cy < box.y + box.height;
  });
  if (!face) continue;
  // face-api pads the crop to a square, centred, then resizes it to 150.
  const side = Math.max(box.width, box.height);
  const ox = box.x - (side - box.width) / 2, oy = box.y - (side - box.height) / 2;
  face.landmarks5.forEach(([x, y], j) => {
    sum[j][0] += ((x - ox) * SIZE) / side;
    sum[j][1] += ((y - oy) * SIZE) / side;
  });
  n++;
}
const mean = sum.map(([x, y]) => [x / n, y / n] as Pt);
const c = SIZE / 2;
/** A left/right pair placed symmetrically about the centre: same half-spread, mean height. */
const mirror = (left: Pt, right: Pt): [Pt, Pt] => {
  const half = (right[0] - left[0]) / 2;
  const y = (left[1] + right[1]) / 2;
  return [[c - half, y], [c + half, y]];
};
const [eyeL, eyeR] = mirror(mean[0], mean[1]);
const [mouthL, mouthR] = mirror(mean[3], mean[4]);
const round = (p: Pt) => p.map((v) => Math.round(v * 100) / 100);
console.log(`faces: ${n} of ${images.length} images; mean landmarks in face-api's crop: ${JSON.stringify(mean.map(round))}`);
console.log(`template: ${JSON.stringify([eyeL, eyeR, [c, mean[2][1]], mouthL, mouthR].map((p) => round(p as Pt)))}`);
