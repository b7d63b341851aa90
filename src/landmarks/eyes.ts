/**
 * Eye refinement: MediaPipe's iris landmark model (Ablavatski et al. 2020) run on a crop around
 * each eye of a face's 68 points, its eye-contour points replacing the iBUG eye points 36-47.
 * MediaPipe's face pipeline does the same (iris_landmark_left_and_right_cpu.pbtxt; human's
 * `src/face/iris.ts` augmentIris): a whole-face network is dominated by its shape prior and
 * barely follows a change of one eye's shape, while the eye network, which sees only the eye (at
 * about the pixels per eye width of the mesh's crop), places the lids and canthi on what it sees.
 */
import { PhenofaceError } from '../errors.ts';
import { invertAffine, toPlanarFloat, warpAffine, type Affine } from '../image/index.ts';
import { loadModel, type InferenceModel } from '../runtime/index.ts';
import type { Point, RgbImage } from '../types.ts';

/** Registry name of the iris model (`models/manifest.json`). */
export const IRIS_MODEL = 'iris';
/** Side of the iris model's square input crop, in pixels. */
export const IRIS_INPUT_SIZE = 64;
/** Points per eye the iris model returns: 71 eye-contour and brow points, then 5 iris points. */
export const IRIS_OUTPUT_POINTS = 76;
/**
 * Side of the eye crop over the distance between the eye's corners: MediaPipe's
 * iris_landmark_left_and_right_cpu.pbtxt (RectTransformationCalculator scale 2.3, square_long),
 * human's getEyeBox default.
 */
export const EYE_CROP_SCALE = 2.3;

/**
 * Iris-model point of each iBUG eye point, for the image-left eye (36-41) and the image-right eye
 * (42-47). The model's first 16 points are the eye's lid contour, in the order of MediaPipe's mesh
 * annotations (human `facemeshcoords.ts` irisIndices): points 0-8 are `EyeLower0` (mesh 33, 7, 163,
 * 144, 145, 153, 154, 155, 133 for the subject's right eye; 263, 249, 390, 373, 374, 380, 381, 382,
 * 362 for the left), points 9-15 `EyeUpper0` (246, 161, 160, 159, 158, 157, 173; 466, 388, 387,
 * 386, 385, 384, 398). The lids take the iris point at the mesh vertex that `MESH468_TO_IBUG68`
 * gives them: 37/44 at 159/386 (point 12), 38/43 at 158/385 (13), 40/47 at 153/380 (5), 41/46 at
 * 144/373 (3). The corners take the contour's ends, points 0 (outer, 33/263) and 8 (inner,
 * 133/362), MediaPipe's own eye corners: on CFP-dev people 151-180 (120 frontal photos, against the
 * hand-placed corners, error over the inter-ocular distance) they are nearer than points 1 and 7
 * (the vertices the mesh map uses, 7/249 and 155/382): outer 0.052 against 0.059, inner 0.039
 * against 0.040 (scripts/derive-iris-eye-map.ts). Both eyes use the same model points because the
 * image-right eye is fed mirrored ({@link eyeCrops}).
 */
export const IRIS_TO_IBUG_EYES: readonly { ibug: readonly number[]; iris: readonly number[] }[] = [
  { ibug: [36, 37, 38, 39, 40, 41], iris: [0, 12, 13, 8, 5, 3] },
  { ibug: [42, 43, 44, 45, 46, 47], iris: [8, 13, 12, 0, 3, 5] },
];

/** The model's lid contour points: 0-8 the lower lid from the outer corner, 9-15 the upper lid. */
const LID_CONTOUR = Array.from({ length: 16 }, (_, k) => k);

/** The iBUG corner points of each eye, image-left point first: (36, 39) and (42, 45). */
const EYE_CORNERS: readonly [number, number][] = [[36, 39], [42, 45]];

/**
 * The crop of each eye (image-left eye, then image-right eye), as image -> crop similarity
 * transforms: centred on the midpoint of the eye's corners, rotated so the corners lie level (as
 * MediaPipe's eye rectangle is rotated by its two corner keypoints; the corners here are the 68's,
 * which for the mesh are vertices 7/155 and 382/249, beside MediaPipe's 33/133 and 362/263), `EYE_CROP_SCALE` corner
 * distances wide, `IRIS_INPUT_SIZE` pixels square. The image-right eye's crop is mirrored
 * (column `u` shows column `size - 1 - u`), so both crops show an eye with its outer corner on the
 * left, the subject's right eye the model learnt on (MediaPipe and human flip the other eye too).
 * Crop pixel `u` covers `[u, u + 1)` of the rectangle's `size` units, so the centre is at `size / 2 - 0.5`.
 */
export function eyeCrops(points: readonly Point[]): [Affine, Affine] {
  const s = IRIS_INPUT_SIZE;
  const [left, right] = EYE_CORNERS.map(([a, b]): Affine => {
    const [ax, ay] = points[a], [bx, by] = points[b];
    const width = Math.hypot(bx - ax, by - ay);
    if (!(width > 0)) throw new PhenofaceError('E_INPUT', `Eye corners ${a} and ${b} coincide at (${ax}, ${ay}); expected an eye of positive width.`);
    const k = s / (EYE_CROP_SCALE * width);
    const cos = (k * (bx - ax)) / width, sin = (k * (by - ay)) / width;
    const cx = (ax + bx) / 2, cy = (ay + by) / 2, c = s / 2 - 0.5;
    return [cos, sin, c - cos * cx - sin * cy, -sin, cos, c + sin * cx - cos * cy];
  });
  const [a, b, c, d, e, f] = right;
  return [left, [-a, -b, s - 1 - c, d, e, f]];
}

/**
 * The model points `indices` of one crop's output row, in image pixels. The model gives x, y in
 * units of the crop's side over `IRIS_INPUT_SIZE` with 0 at the crop's edge (MediaPipe normalises
 * by the crop size), so crop pixel centres are at `x - 0.5`.
 */
export function eyePointsToImage(row: ArrayLike<number>, indices: readonly number[], toCrop: Affine): Point[] {
  const [a, b, c, d, e, f] = invertAffine(toCrop);
  return indices.map((k): Point => {
    const u = row[3 * k] - 0.5, v = row[3 * k + 1] - 0.5;
    return [a * u + b * v + c, d * u + e * v + f];
  });
}

/** The points with the eye points 36-47 replaced by the refined ones (`refined[eye]` in `IRIS_TO_IBUG_EYES` order). */
export function withEyes(points: readonly Point[], refined: readonly [Point[], Point[]]): Point[] {
  const out = points.slice();
  IRIS_TO_IBUG_EYES.forEach(({ ibug }, eye) => ibug.forEach((i, k) => (out[i] = refined[eye][k])));
  return out;
}

/** A loaded iris model that refines the eye points of 68-point faces. */
export class EyeRefiner {
  private constructor(private readonly model: InferenceModel) {}

  /** Loads the iris model (E_MODEL when not built). */
  static async load(opts: { threads: number }): Promise<EyeRefiner> {
    return new EyeRefiner(await loadModel(IRIS_MODEL, { threads: opts.threads }));
  }

  /**
   * Each face's points (iBUG 68 first, in the pixels of `image`) with the eye points 36-47 placed
   * by the iris model on crops around each eye ({@link eyeCrops}).
   */
  async refine(image: RgbImage, faces: readonly Point[][]): Promise<Point[][]> {
    const contours = await this.contours(image, faces);
    const pick = (contour: Point[], side: 0 | 1) => IRIS_TO_IBUG_EYES[side].iris.map((k) => contour[k]);
    return faces.map((p, i) => withEyes(p, [pick(contours[i][0], 0), pick(contours[i][1], 1)]));
  }

  /**
   * Each face's two lid contours (image-left eye, image-right eye) as the iris model places them
   * in the pixels of `image`: its points 0-15 ({@link IRIS_TO_IBUG_EYES} names them). Both eyes of
   * all faces run in one batch.
   */
  async contours(image: RgbImage, faces: readonly Point[][]): Promise<[Point[], Point[]][]> {
    if (faces.length === 0) return [];
    const s = IRIS_INPUT_SIZE, per = 3 * s * s, row = 3 * IRIS_OUTPUT_POINTS;
    const crops = faces.flatMap((p) => eyeCrops(p));
    const batch = new Float32Array(crops.length * per);
    // The model takes the RGB crop divided by 255 (human's face tensor, from which it cuts its eye crops).
    crops.forEach((m, i) => batch.set(toPlanarFloat(warpAffine(image, m, s, s), 0, 1 / 255), i * per));
    const out = (await this.model.run({ [this.model.inputNames[0]]: { data: batch, dims: [crops.length, 3, s, s] } }))[this.model.outputNames[0]];
    if (out.data.length !== crops.length * row) {
      throw new PhenofaceError('E_MODEL', `The iris model returned ${out.data.length} values for ${crops.length} eye crops; expected ${row} per crop.`);
    }
    const contour = (j: number) => eyePointsToImage(out.data.subarray(j * row, (j + 1) * row), LID_CONTOUR, crops[j]);
    return faces.map((_, i) => [contour(2 * i), contour(2 * i + 1)]);
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
