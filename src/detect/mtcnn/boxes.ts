/**
 * Box arithmetic of MTCNN, ported from facenet-pytorch `models/utils/detect_face.py`
 * (`generateBoundingBox`, `bbreg`, `rerec`, `pad`), keeping its pixel conventions exactly:
 * parity with the reference depends on them.
 */
import type { ScoredBox } from './nms.ts';

/** A candidate with the regression offsets the network predicted for it. */
export interface Candidate extends ScoredBox {
  /** Box regression `[dx1, dy1, dx2, dy2]`, in units of the box size. */
  reg: [number, number, number, number];
}

/** P-Net's receptive field and stride on the pyramid level (Zhang et al. 2016). */
const PNET_STRIDE = 2;
const PNET_CELL = 12;

/**
 * Turns one P-Net output map into candidates in original-image pixels:
 * cell (x, y) with face probability >= `threshold` maps to
 * `[floor((2x + 1) / scale), floor((2y + 1) / scale), floor((2x + 12) / scale), floor((2y + 12) / scale)]`.
 * `prob` is the face channel `[h, w]`, `reg` is `[4, h, w]`, both row-major. Row-major order is kept
 * (as `torch.nonzero` gives it), so NMS ties break as in the reference.
 */
export function generateBoundingBoxes(prob: Float32Array, reg: Float32Array, h: number, w: number, scale: number, threshold: number): Candidate[] {
  const out: Candidate[] = [];
  const plane = h * w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const score = prob[i];
      if (!(score >= threshold)) continue;
      out.push({
        x1: Math.floor((PNET_STRIDE * x + 1) / scale),
        y1: Math.floor((PNET_STRIDE * y + 1) / scale),
        x2: Math.floor((PNET_STRIDE * x + PNET_CELL) / scale),
        y2: Math.floor((PNET_STRIDE * y + PNET_CELL) / scale),
        score,
        reg: [reg[i], reg[plane + i], reg[2 * plane + i], reg[3 * plane + i]],
      });
    }
  }
  return out;
}

/** The first-stage refinement: offsets scaled by `x2 - x1` (no +1), as in detect_face after P-Net. */
export function applyRegressionNoPlusOne(c: Candidate): ScoredBox {
  const w = c.x2 - c.x1;
  const h = c.y2 - c.y1;
  return { x1: c.x1 + c.reg[0] * w, y1: c.y1 + c.reg[1] * h, x2: c.x2 + c.reg[2] * w, y2: c.y2 + c.reg[3] * h, score: c.score };
}

/** `bbreg`: offsets scaled by the box size in whole pixels (`x2 - x1 + 1`), after R-Net and O-Net. */
export function bbreg(b: ScoredBox, reg: ArrayLike<number>): ScoredBox {
  const w = b.x2 - b.x1 + 1;
  const h = b.y2 - b.y1 + 1;
  return { x1: b.x1 + reg[0] * w, y1: b.y1 + reg[1] * h, x2: b.x2 + reg[2] * w, y2: b.y2 + reg[3] * h, score: b.score };
}

/** `rerec`: grows the box to a square on its longer side, about the same centre. */
export function rerec(b: ScoredBox): ScoredBox {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const l = Math.max(w, h);
  const x1 = b.x1 + w * 0.5 - l * 0.5;
  const y1 = b.y1 + h * 0.5 - l * 0.5;
  return { x1, y1, x2: x1 + l, y2: y1 + l, score: b.score };
}

/**
 * `pad`: the integer crop window `[x0, x1) x [y0, y1)` (0-based, end-exclusive) that feeds R-Net/O-Net.
 * The reference truncates towards zero, clamps to the image (`x >= 1`, `ex <= w` in its 1-based terms)
 * and crops `img[y - 1 : ey, x - 1 : ex]`: out-of-image parts are cut, not zero-padded.
 * Returns undefined for an empty window (the reference skips those).
 */
export function cropWindow(b: ScoredBox, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } | undefined {
  const x = Math.max(1, Math.trunc(b.x1));
  const y = Math.max(1, Math.trunc(b.y1));
  const ex = Math.min(width, Math.trunc(b.x2));
  const ey = Math.min(height, Math.trunc(b.y2));
  if (!(ey > y - 1 && ex > x - 1)) return undefined;
  return { x0: x - 1, y0: y - 1, x1: ex, y1: ey };
}
