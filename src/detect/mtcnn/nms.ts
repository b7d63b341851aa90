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
  const n = boxes.length;
  const order = byScoreDesc(boxes);
  const plus = minRule ? 1 : 0;
  // Coordinates in score order, in typed arrays: the inner loop reads them up to n^2 / 2 times
  // (P-Net's finest level passes a few hundred boxes), and property loads cost more than the maths.
  const x1 = new Float64Array(n), y1 = new Float64Array(n), x2 = new Float64Array(n), y2 = new Float64Array(n), area = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const b = boxes[order[r]];
    x1[r] = b.x1; y1[r] = b.y1; x2[r] = b.x2; y2[r] = b.y2;
    area[r] = (b.x2 - b.x1 + plus) * (b.y2 - b.y1 + plus);
  }
  // With a threshold >= 0, boxes that do not intersect (overlap 0) never suppress each other.
  const skipDisjoint = threshold >= 0;
  const suppressed = new Uint8Array(n);
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    if (suppressed[i]) continue;
    keep.push(order[i]);
    const ax1 = x1[i], ay1 = y1[i], ax2 = x2[i], ay2 = y2[i], aArea = area[i];
    for (let j = i + 1; j < n; j++) {
      if (suppressed[j]) continue;
      const w = Math.max(0, Math.min(ax2, x2[j]) - Math.max(ax1, x1[j]) + plus);
      if (w === 0 && skipDisjoint) continue;
      const h = Math.max(0, Math.min(ay2, y2[j]) - Math.max(ay1, y1[j]) + plus);
      const inter = w * h;
      const overlap = minRule ? inter / Math.min(aArea, area[j]) : inter / (aArea + area[j] - inter);
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
