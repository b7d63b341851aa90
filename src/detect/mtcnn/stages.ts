/**
 * The three MTCNN stages (Zhang et al., "Joint Face Detection and Alignment using Multi-task
 * Cascaded Convolutional Networks", IEEE SPL 2016), ported step for step from facenet-pytorch
 * `detect_face`: P-Net over the pyramid with NMS per scale and across scales, R-Net on 24 px crops,
 * O-Net on 48 px crops with 5 landmarks and the "Min" NMS.
 */
import type { DetectConfig } from '../../config.ts';
import { resizeAreaFromIntegral, type IntegralImage } from '../../image/index.ts';
import type { Tensor, InferenceModel } from '../../runtime/index.ts';
import { applyRegressionNoPlusOne, bbreg, cropWindow, generateBoundingBoxes, rerec, type Candidate } from './boxes.ts';
import { nmsMin, nmsUnion, type ScoredBox } from './nms.ts';
import { pyramidLevels } from './pyramid.ts';

/**
 * MTCNN's input normalisation: `(x - 127.5) * 0.0078125`, i.e. to [-1, 1). Every pyramid level and
 * crop is area-resampled from the photo's summed-area table and normalised in the same pass.
 */
export const NORM = { mean: 127.5, scale: 0.0078125 } as const;

async function runOne(model: InferenceModel, data: Float32Array, dims: number[]): Promise<Record<string, Tensor>> {
  return model.run({ [model.inputNames[0]]: { data, dims } });
}

/** Stage 1: P-Net over every pyramid level; returns refined, squared boxes (before R-Net). */
export async function stagePnet(img: IntegralImage, pnet: InferenceModel, cfg: DetectConfig): Promise<ScoredBox[]> {
  const levels = pyramidLevels(img.height, img.width, cfg.minFaceSizePx, cfg.scaleFactor, cfg.minFaceRatio);
  const kept: Candidate[] = [];
  for (const level of levels) {
    const resized = resizeAreaFromIntegral(img, 0, 0, img.width, img.height, level.width, level.height, NORM);
    const out = await runOne(pnet, resized, [1, 3, level.height, level.width]);
    const prob = out.prob;
    const [, , h, w] = prob.dims;
    const face = prob.data.subarray(h * w, 2 * h * w); // channel 1 = face
    const cands = generateBoundingBoxes(face, out.reg.data, h, w, level.scale, cfg.thresholds.pnet);
    for (const i of nmsUnion(cands, cfg.nms.perScale)) kept.push(cands[i]);
  }
  const pick = nmsUnion(kept, cfg.nms.acrossScales);
  return pick.map((i) => rerec(applyRegressionNoPlusOne(kept[i])));
}

/**
 * Crops each box's window (clipped to the image, as the reference's `pad` does) and resamples it to
 * `size` x `size` with area interpolation, normalised, into one NCHW batch. Boxes with an empty
 * window are dropped.
 */
function cropBatch(img: IntegralImage, boxes: ScoredBox[], size: number): { batch: Float32Array; boxes: ScoredBox[] } {
  const keptBoxes: ScoredBox[] = [];
  const per = 3 * size * size;
  const batch = new Float32Array(boxes.length * per);
  for (const b of boxes) {
    const win = cropWindow(b, img.width, img.height);
    if (!win) continue;
    resizeAreaFromIntegral(img, win.x0, win.y0, win.x1 - win.x0, win.y1 - win.y0, size, size, { ...NORM, out: batch, offset: keptBoxes.length * per });
    keptBoxes.push(b);
  }
  return { batch: batch.subarray(0, keptBoxes.length * per), boxes: keptBoxes };
}

/** Stage 2: R-Net rescoring and regression of P-Net's boxes; returns squared boxes for O-Net. */
export async function stageRnet(img: IntegralImage, boxes: ScoredBox[], rnet: InferenceModel, cfg: DetectConfig): Promise<ScoredBox[]> {
  if (boxes.length === 0) return [];
  const { batch, boxes: inBoxes } = cropBatch(img, boxes, 24);
  if (inBoxes.length === 0) return [];
  const out = await runOne(rnet, batch, [inBoxes.length, 3, 24, 24]);
  const passed: Candidate[] = [];
  inBoxes.forEach((b, k) => {
    const score = out.prob.data[2 * k + 1];
    if (score > cfg.thresholds.rnet) {
      const r = out.reg.data.subarray(4 * k, 4 * k + 4);
      passed.push({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score, reg: [r[0], r[1], r[2], r[3]] });
    }
  });
  return nmsUnion(passed, cfg.nms.rnet).map((i) => rerec(bbreg(passed[i], passed[i].reg)));
}

/** A face from O-Net: the regressed box `[x1, y1, x2, y2]`, its score and 5 landmarks. */
export interface RawFace extends ScoredBox {
  /** `[x, y]` x 5 in contract order. */
  points: [number, number][];
}

/**
 * O-Net on a prepared batch of 48 px crops, one per box (the boxes that entered O-Net): for each,
 * the face (regressed box, score, landmarks) or `undefined` when its score is under `thresholds.onet`.
 * Landmarks are placed on the box that entered O-Net, as `x1 + (x2 - x1 + 1) * p - 1` (the
 * reference's convention).
 */
export async function onetOnBatch(batch: Float32Array, boxes: ScoredBox[], onet: InferenceModel, cfg: DetectConfig): Promise<(RawFace | undefined)[]> {
  if (boxes.length === 0) return [];
  const out = await runOne(onet, batch, [boxes.length, 3, 48, 48]);
  return boxes.map((b, k) => {
    const score = out.prob.data[2 * k + 1];
    if (!(score > cfg.thresholds.onet)) return undefined;
    const p = out.landmarks.data.subarray(10 * k, 10 * k + 10);
    const w = b.x2 - b.x1 + 1;
    const h = b.y2 - b.y1 + 1;
    const points: [number, number][] = [];
    for (let j = 0; j < 5; j++) points.push([w * p[j] + b.x1 - 1, h * p[5 + j] + b.y1 - 1]);
    const box = bbreg({ ...b, score }, out.reg.data.subarray(4 * k, 4 * k + 4));
    return { ...box, points };
  });
}

/** Stage 3: O-Net rescoring, landmarks and final regression ({@link onetOnBatch}), then the "Min" NMS. */
export async function stageOnet(img: IntegralImage, boxes: ScoredBox[], onet: InferenceModel, cfg: DetectConfig): Promise<RawFace[]> {
  if (boxes.length === 0) return [];
  const { batch, boxes: inBoxes } = cropBatch(img, boxes, 48);
  if (inBoxes.length === 0) return [];
  const faces = (await onetOnBatch(batch, inBoxes, onet, cfg)).filter((f): f is RawFace => f !== undefined);
  return nmsMin(faces, cfg.nms.onet).map((i) => faces[i]);
}
