/**
 * Dense face landmarks: a network that places many points on a face (68 in the iBUG-300W scheme
 * for face-api's FaceLandmark68Net), run on the detected face. The face is cut out by a similarity
 * transform that maps its five detector landmarks onto the model's crop template, so the crop is
 * what the network learnt on and upright whatever the head's roll; the points are mapped back to
 * image pixels through the same transform, so they share the five points' coordinate system.
 * Geometry features (Procrustes shape, anthropometry) are computed from them.
 */
import { PhenofaceError } from '../errors.ts';
import { invertAffine, toPlanarFloat, warpAffine, type Affine } from '../image/index.ts';
import { loadModel, type InferenceModel } from '../runtime/index.ts';
import type { Landmarks5, Point, RgbImage } from '../types.ts';

import { EXTENDED_MIRROR, EXTENDED_POINTS, fivePointsOf68, IBUG68_MIRROR } from './ibug68.ts';
import { MESH468_POINTS, MESH468_SELECT } from './mediapipe468.ts';

export { EXTENDED_MIRROR, EXTENDED_POINTS, EXTRA_POINTS, IBUG68, IBUG68_MIRROR, IBUG68_POINTS, centroid, fivePointsOf68 } from './ibug68.ts';
export { EyeRefiner, EYE_CROP_SCALE, eyeCrops, eyePointsToImage, IRIS_INPUT_SIZE, IRIS_MODEL, IRIS_OUTPUT_POINTS, IRIS_TO_IBUG_EYES, withEyes } from './eyes.ts';
export { MESH468_EXTRAS, MESH468_POINTS, MESH468_SELECT, MESH468_TO_IBUG68 } from './mediapipe468.ts';

/**
 * The face mesh's crop is MediaPipe's (face_landmark_landmarks_to_roi.pbtxt: the box of the 468
 * points, rotated level with the outer eye corners, 1.5x, square). Its templates are fixed points of
 * that convention on LFW, found by iteration (scripts/derive-facemesh-template.ts, 8 iterations,
 * last change 0.01 px).
 */
const MESH_CROP = "MediaPipe's face-mesh crop (box of the 468 points, rotated level with vertices 33-263, scaled 1.5x, square, 192 px)";

/** What a dense landmark model needs to be run. */
export interface DenseLandmarkSpec {
  /** Registry name (the model's name in `models/manifest.json`). */
  name: string;
  /**
   * Points per face that {@link DenseLandmarker.predict} returns: the 68 of the iBUG-300W scheme,
   * then the first `points - 68` of its extra points (`EXTRA_POINTS`, at fixed indices from 68).
   */
  points: number;
  /**
   * How the model's output row holds its points: how many (`count`), how many values each
   * (`stride`: x, y, and z for a 3-D mesh, which is dropped), the factor from a value to crop
   * pixels (`toPixels`: the side for fractions of it, 1 for pixels), and which of them are the
   * returned {@link points} in order (`select`; absent when the model's points are those).
   */
  output: { count: number; stride: number; toPixels: number; select?: readonly number[] };
  /** Side of the square input crop, in pixels. */
  inputSize: number;
  /** Where the five detector landmarks (contract order) sit, on average, in the crop the model learnt on. */
  template: Landmarks5;
  /** Where the template comes from. */
  templateReference: string;
  /**
   * For a refining pass ({@link refinedCrops}): where the five points that the model's own points
   * define ({@link fivePointsOf68}) fall, on average, in first-pass crops.
   */
  refineTemplate: Landmarks5;
  /** Where the refinement template comes from. */
  refineTemplateReference: string;
  /**
   * Where the five points of the model's own points ({@link fivePointsOf68}) sit, on average, in
   * the 112x112 ArcFace crop (whose template holds MTCNN-style points): the template a face is
   * aligned onto by these points (`embed.alignOn`). They sit 1-2 px from ArcFace's (an eye
   * contour's centroid is not MTCNN's eye point), and aligning them onto ArcFace's own template
   * cost LFW 0.2 points (docs/decisions.md).
   */
  arcfaceTemplate: Landmarks5;
  /** Where the ArcFace-space template comes from. */
  arcfaceTemplateReference: string;
  /** Input normalisation `(x - mean) * scale` on RGB 0..255. */
  mean: number;
  scale: number;
  /** Each point's partner on a mirrored face, for flip averaging ({@link DenseLandmarker.predict}). */
  mirror: readonly number[];
}

/** The dense landmark models, by name. */
export const DENSE_LANDMARK_MODELS: Readonly<Record<string, DenseLandmarkSpec>> = {
  'face-landmark68': {
    name: 'face-landmark68',
    points: 68,
    inputSize: 112,
    template: [[39.06, 42.33], [78.55, 41.32], [59.12, 65.09], [42.49, 85.52], [77.03, 84.66]],
    templateReference: "mean position of facenet-pytorch's MTCNN landmarks in face-api's own landmark crops (SSD MobileNet v1 box, padded to a centred square, 112 px) over 278 LFW faces; scripts/derive-landmark68-template.ts",
    refineTemplate: [[37.72, 41.34], [76.54, 40.77], [57.72, 64.03], [41.85, 82.87], [74.75, 82.61]],
    refineTemplateReference: 'mean position of the five points of the 68 (eye centroids, nose tip, mouth corners) in first-pass crops of 250 frontal LFW faces; scripts/derive-landmark68-refine-template.ts',
    arcfaceTemplate: [[36.91, 51.22], [71.81, 51.15], [54.48, 72.07], [39.95, 89.24], [69.65, 89.48]],
    arcfaceTemplateReference: "mean position of the five points of the 68 (two passes) in the ArcFace crop that MTCNN's points align, over 552 LFW faces; scripts/derive-dense-align-template.ts",
    output: { count: 68, stride: 2, toPixels: 112 },
    // The graph normalises (face-api's mean RGB and /255), so it takes raw values.
    mean: 0,
    scale: 1,
    mirror: IBUG68_MIRROR,
  },
  facemesh: {
    name: 'facemesh',
    // The 68 and both nasal sidewalls (mediapipe468.ts).
    points: EXTENDED_POINTS,
    inputSize: 192,
    template: [[74, 73.16], [120.59, 72.71], [97.34, 100.52], [77.23, 124.35], [117.9, 123.99]],
    templateReference: `mean position of facenet-pytorch's MTCNN landmarks in ${MESH_CROP} over 300 LFW faces, iterated to a fixed point; scripts/derive-facemesh-template.ts`,
    refineTemplate: [[73.22, 72.7], [119.03, 72.7], [95.91, 97.72], [78.68, 123.02], [114.38, 122.83]],
    refineTemplateReference: `mean position of the five points of the mesh's own 68 in ${MESH_CROP} over the same 300 LFW faces, so a second pass crops as MediaPipe tracks; scripts/derive-facemesh-template.ts`,
    arcfaceTemplate: [[37.78, 52.27], [72.53, 52.2], [55.05, 70.88], [41.75, 90.14], [69.3, 89.95]],
    arcfaceTemplateReference: "mean position of the five points of the mesh's 68 (two passes) in the ArcFace crop that MTCNN's points align, over 552 LFW faces; scripts/derive-dense-align-template.ts",
    output: { count: MESH468_POINTS, stride: 3, toPixels: 1, select: MESH468_SELECT },
    // human's facemeshutil.ts cutAndResize: the crop divided by 255.
    mean: 0,
    scale: 1 / 255,
    // The 70 mesh vertices are mirror-consistent (mediapipe468.ts), so the iBUG partners apply.
    mirror: EXTENDED_MIRROR,
  },
};

/**
 * The spec of a dense landmark model by name.
 * @throws PhenofaceError `E_CONFIG` naming the known models otherwise.
 */
export function denseLandmarkSpec(name: string): DenseLandmarkSpec {
  const spec = DENSE_LANDMARK_MODELS[name];
  if (!spec) throw new PhenofaceError('E_CONFIG', `Unknown dense landmark model: "${name}". Should be one of: ${Object.keys(DENSE_LANDMARK_MODELS).join(', ')}.`);
  return spec;
}

/**
 * Crops for a refining pass: each face's first-pass points, reduced to five ({@link fivePointsOf68}),
 * mapped onto the refinement template by a least-squares similarity (`similarity(from, to)`, e.g.
 * Umeyama's). Where the detector's five points are off (MTCNN on faces that fill the photo), the
 * first pass still finds the face, and the second sees it where the network expects it.
 */
export function refinedCrops(spec: DenseLandmarkSpec, firstPass: readonly Point[][], similarity: (from: Point[], to: readonly Point[]) => Affine): Affine[] {
  return firstPass.map((points) => similarity(fivePointsOf68(points), spec.refineTemplate));
}

/** A loaded dense landmark model. */
export class DenseLandmarker {
  private constructor(readonly spec: DenseLandmarkSpec, private readonly model: InferenceModel) {}

  /** Loads a model by name (E_CONFIG when unknown, E_MODEL when not built). */
  static async load(name: string, opts: { threads: number }): Promise<DenseLandmarker> {
    const spec = denseLandmarkSpec(name);
    return new DenseLandmarker(spec, await loadModel(spec.name, { threads: opts.threads }));
  }

  /**
   * The points of each face, in the pixels of `image`. `toCrop[i]` maps image pixels to face i's
   * crop (`inputSize` square; see {@link DenseLandmarker.spec}.template), e.g. the similarity
   * transform of its five landmarks onto the template. With `flip`, each face is also run mirrored
   * and every point is averaged with its mirror partner's point from the mirrored run, mapped back
   * (the crop's columns reversed: column `u` shows column `inputSize - 1 - u`). All crops run in one batch.
   */
  async predict(image: RgbImage, toCrop: readonly Affine[], flip = false): Promise<Point[][]> {
    if (toCrop.length === 0) return [];
    const { inputSize: s, mean, scale, mirror, output } = this.spec;
    const row = output.count * output.stride;
    const mirrored = ([a, b, c, d, e, f]: Affine): Affine => [-a, -b, s - 1 - c, d, e, f];
    const crops = flip ? [...toCrop, ...toCrop.map(mirrored)] : toCrop;
    const per = 3 * s * s;
    const batch = new Float32Array(crops.length * per);
    crops.forEach((m, i) => batch.set(toPlanarFloat(warpAffine(image, m, s, s), mean, scale), i * per));
    const out = (await this.model.run({ [this.model.inputNames[0]]: { data: batch, dims: [crops.length, 3, s, s] } }))[this.model.outputNames[0]];
    if (out.data.length !== crops.length * row) {
      throw new PhenofaceError('E_MODEL', `Dense landmark model "${this.spec.name}" returned ${out.data.length} values for ${crops.length} crops; expected ${row} per crop.`);
    }
    const placed = crops.map((m, i) => cropToImage(out.data.subarray(i * row, (i + 1) * row), output, invertAffine(m)));
    if (!flip) return placed;
    return toCrop.map((_, i) => {
      const direct = placed[i], other = placed[toCrop.length + i];
      return direct.map(([x, y], k): Point => [(x + other[mirror[k]][0]) / 2, (y + other[mirror[k]][1]) / 2]);
    });
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * One crop's output row to image pixels: the selected points' x, y in crop pixels (`value *
 * toPixels`; for fractions of the side this is face-api's convention, its resize maps input index
 * `u` to source index `u * side / 112`), then the inverse crop transform.
 */
function cropToImage(row: Float32Array, output: DenseLandmarkSpec['output'], fromCrop: Affine): Point[] {
  const [a, b, c, d, e, f] = fromCrop;
  const { stride, toPixels } = output;
  const indices = output.select ?? Array.from({ length: output.count }, (_, k) => k);
  return indices.map((k): Point => {
    const u = row[k * stride] * toPixels, v = row[k * stride + 1] * toPixels;
    return [a * u + b * v + c, d * u + e * v + f];
  });
}
