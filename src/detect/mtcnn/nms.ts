/**
 * Non-maximum suppression, in the two flavours facenet-pytorch's MTCNN uses
 * (`models/utils/detect_face.py`): torchvision's `nms` (IoU on continuous boxes) for the P-Net and
 * R-Net stages, and the original MTCNN's numpy NMS with the "Min" overlap (+1 pixel areas) after O-Net.
 */

/** A candidate box `[x1, y1, x2, y2]` with its score. */
export interface ScoredBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
}

/** Indices in descending score order; ties keep input order (stable). */
function byScoreDesc(boxes: readonly ScoredBox[]): number[] {
  return boxes.map((_, i) => i).sort((a, b) => boxes[b].score - boxes[a].score || a - b);
}

/**
 * torchvision.ops.nms: keep the best box, drop every box whose IoU with it is > `iouThreshold`,
 * repeat. Areas are `(x2 - x1) * (y2 - y1)`. Returns kept indices, best first.
 */
export function nmsUnion(boxes: readonly ScoredBox[], iouThreshold: number): number[] {
  return greedyNms(boxes, iouThreshold, false);
}

/**
 * The original MTCNN's NMS with the "Min" rule: overlap = intersection / smaller area, areas and
 * intersections counted in whole pixels (`+ 1`). facenet-pytorch applies it after O-Net (threshold 0.7),
 * which removes a small box nested inside a larger one. Returns kept indices, best first.
 */
export function nmsMin(boxes: readonly ScoredBox[], threshold: number): number[] {
  return greedyNms(boxes, threshold, true);
}

function greedyNms(boxes: readonly ScoredBox[], threshold: number, minRule: boolean): number[] {
  const order = byScoreDesc(boxes);
  const plus = minRule ? 1 : 0;
  const area = boxes.map((b) => (b.x2 - b.x1 + plus) * (b.y2 - b.y1 + plus));
  const suppressed = new Uint8Array(boxes.length);
  const keep: number[] = [];
  for (let oi = 0; oi < order.length; oi++) {
    const i = order[oi];
    if (suppressed[i]) continue;
    keep.push(i);
    const a = boxes[i];
    for (let oj = oi + 1; oj < order.length; oj++) {
      const j = order[oj];
      if (suppressed[j]) continue;
      const b = boxes[j];
      const w = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) + plus);
      const h = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) + plus);
      const inter = w * h;
      const overlap = minRule ? inter / Math.min(area[i], area[j]) : inter / (area[i] + area[j] - inter);
      if (overlap > threshold) suppressed[j] = 1;
    }
  }
  return keep;
}

/** Intersection over union of two `{x, y, width, height}` boxes (0 when either is empty). */
export function iou(a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}
