/**
 * Re-derives the five-point crop template of the 68-point landmark network (`landmarks/`,
 * LANDMARK68_TEMPLATE): where facenet-pytorch's MTCNN landmarks fall, on average, inside the
 * 112x112 crops that face-api feeds its FaceLandmark68Net (the SSD MobileNet v1 detection box,
 * clipped to the image, padded to a centred square, resized). The template is the raw mean, not
 * made left-right symmetric: the net learnt on crops like these, in which the face sits right of
 * centre (on LFW by about 2.8 px of 112); the symmetric variant is printed for comparison.
 *
 *   npx tsx scripts/derive-landmark68-template.ts [N=300]
 *
 * Needs the shared data folder (`$PHENOFACE_SHARED`, else `../shared`; LFW photos only, so the CFP
 * photos `bench:landmarks` measures on stay unseen) and face-api + TensorFlow.js. Prints the
 * symmetric variant, then the template (the raw mean) as the last line.
 */
import { imageTensor, lfwReferenceImages, loadFaceApi, type Pt } from './face-api-reference.ts';

const SIZE = 112;
const count = Number(process.argv[2] ?? 300);

const { tf, faceapi } = await loadFaceApi([]);
const images = lfwReferenceImages(count);
const sum: Pt[] = Array.from({ length: 5 }, () => [0, 0]);
let n = 0;
for (const image of images) {
  const { tensor, width, height } = await imageTensor(tf, image);
  const found = await faceapi.detectSingleFace(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.3 }));
  tensor.dispose();
  if (!found) continue;
  // face-api's extractFaceTensors: the box floored and clipped to the image.
  const x0 = Math.max(0, Math.floor(found.box.x)), y0 = Math.max(0, Math.floor(found.box.y));
  const x1 = Math.min(width, Math.floor(found.box.x + found.box.width)), y1 = Math.min(height, Math.floor(found.box.y + found.box.height));
  const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  const face = image.faces.find((f) => {
    const cx = f.box.x + f.box.width / 2, cy = f.box.y + f.box.height / 2;
    return cx > box.x && cx < box.x + box.width && cy > box.y && cy < box.y + box.height;
  });
  if (!face) continue;
  // padToSquare(centred), then resize to 112: crop pixel u is image x = ox + u * side / 112.
  const side = Math.max(box.width, box.height);
  const ox = box.x - Math.round((side - box.width) / 2), oy = box.y - Math.round((side - box.height) / 2);
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
console.log(`faces: ${n} of ${images.length} images; symmetric variant: ${JSON.stringify([eyeL, eyeR, [c, mean[2][1]], mouthL, mouthR].map((p) => round(p as Pt)))}`);
console.log(`template (mean landmarks in face-api's landmark crop): ${JSON.stringify(mean.map(round))}`);
