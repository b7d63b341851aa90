import { describe, expect, it } from 'vitest';
import { nmsMin, nmsUnion, iou } from '../../../src/detect/mtcnn/nms.ts';
import { applyRegressionNoPlusOne, bbreg, cropWindow, generateBoundingBoxes, rerec } from '../../../src/detect/mtcnn/boxes.ts';
import { pyramidLevels } from '../../../src/detect/mtcnn/pyramid.ts';

const box = (x1: number, y1: number, x2: number, y2: number, score: number) => ({ x1, y1, x2, y2, score });

describe('NMS (torchvision IoU rule)', () => {
  // IoU of [0,0,10,10] and [1,1,11,11] = 81 / (100 + 100 - 81) = 0.6807
  const boxes = [box(1, 1, 11, 11, 0.8), box(0, 0, 10, 10, 0.9), box(20, 20, 30, 30, 0.7)];
  it('suppresses an overlapping lower-scored box above the threshold', () => {
    expect(nmsUnion(boxes, 0.5)).toEqual([1, 2]);
  });
  it('keeps it below the threshold, best first', () => {
    expect(nmsUnion(boxes, 0.7)).toEqual([1, 0, 2]);
  });
  it('handles no boxes', () => expect(nmsUnion([], 0.5)).toEqual([]));
});

describe('NMS ("Min" rule of the original MTCNN)', () => {
  it('removes a small box nested in a bigger one although their IoU is small', () => {
    // big: 10x10 px (+1 convention), small: 4x4 px inside -> intersection / min area = 16 / 16 = 1
    const b = [box(0, 0, 9, 9, 0.99), box(2, 2, 5, 5, 0.98)];
    expect(nmsUnion(b, 0.7)).toEqual([0, 1]);
    expect(nmsMin(b, 0.7)).toEqual([0]);
  });
});

describe('NMS against a plain transcription of the reference loop', () => {
  /** The reference's greedy loop, written out with no shortcut (torchvision nms / MTCNN "Min"). */
  function naive(boxes: { x1: number; y1: number; x2: number; y2: number; score: number }[], t: number, minRule: boolean): number[] {
    const order = boxes.map((_, i) => i).sort((a, b) => boxes[b].score - boxes[a].score || a - b);
    const p = minRule ? 1 : 0;
    const area = (b: (typeof boxes)[number]) => (b.x2 - b.x1 + p) * (b.y2 - b.y1 + p);
    const keep: number[] = [];
    const gone = new Set<number>();
    for (const i of order) {
      if (gone.has(i)) continue;
      keep.push(i);
      for (const j of order) {
        if (j === i || gone.has(j) || keep.includes(j)) continue;
        const a = boxes[i], b = boxes[j];
        const inter = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) + p) * Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) + p);
        const o = minRule ? inter / Math.min(area(a), area(b)) : inter / (area(a) + area(b) - inter);
        if (o > t) gone.add(j);
      }
    }
    return keep;
  }
  it('keeps exactly the same boxes, in the same order, on random clustered and tied boxes', () => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 40; trial++) {
      const boxes = Array.from({ length: 150 }, () => {
        const x = Math.floor(rnd() * 20) * 10 + rnd() * 6, y = Math.floor(rnd() * 10) * 12 + rnd() * 6, w = 8 + rnd() * 30;
        return { x1: x, y1: y, x2: x + w, y2: y + w * (0.8 + 0.4 * rnd()), score: Math.round(rnd() * 20) / 20 };
      });
      for (const t of [0, 0.3, 0.5, 0.7]) {
        expect(nmsUnion(boxes, t)).toEqual(naive(boxes, t, false));
        expect(nmsMin(boxes, t)).toEqual(naive(boxes, t, true));
      }
    }
  });
});

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint, 1/7 for half-shifted', () => {
    const a = { x: 0, y: 0, width: 2, height: 2 };
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x: 5, y: 5, width: 2, height: 2 })).toBe(0);
    expect(iou(a, { x: 1, y: 1, width: 2, height: 2 })).toBeCloseTo(1 / 7, 12);
  });
});

describe('P-Net boxes', () => {
  it('maps a cell to the reference window floor((2x+1)/s) .. floor((2x+12)/s)', () => {
    const prob = new Float32Array([0, 0, 0, 0, 0, 0.9]); // h=2, w=3, hit at y=1, x=2
    const reg = new Float32Array(4 * 6);
    reg[5] = 0.1; reg[6 + 5] = 0.2; reg[12 + 5] = -0.1; reg[18 + 5] = 0.3;
    const [c, ...rest] = generateBoundingBoxes(prob, reg, 2, 3, 0.5, 0.6);
    expect(rest).toHaveLength(0);
    expect([c.x1, c.y1, c.x2, c.y2]).toEqual([10, 6, 32, 28]);
    expect(c.score).toBeCloseTo(0.9, 6);
    expect(c.reg.map((v) => Math.round(v * 10) / 10)).toEqual([0.1, 0.2, -0.1, 0.3]);
    // first-stage regression uses x2 - x1 (22) as the width, no +1
    const r = applyRegressionNoPlusOne(c);
    expect(r.x1).toBeCloseTo(10 + 0.1 * 22, 5);
    expect(r.y2).toBeCloseTo(28 + 0.3 * 22, 5);
  });
  it('keeps probabilities equal to the threshold (>=), as the reference does', () => {
    expect(generateBoundingBoxes(new Float32Array([0.5]), new Float32Array(4), 1, 1, 1, 0.5)).toHaveLength(1);
  });
});

describe('bbreg / rerec / crop window', () => {
  it('bbreg scales offsets by the size in whole pixels (+1)', () => {
    const b = bbreg(box(10, 20, 19, 39, 1), [0.1, -0.1, 0.2, 0.05]);
    expect([b.x1, b.y1, b.x2, b.y2].map((v) => +v.toFixed(6))).toEqual([11, 18, 21, 40]);
  });
  it('rerec squares a box on its longer side about its centre', () => {
    const b = rerec(box(0, 0, 10, 20, 1));
    expect([b.x1, b.y1, b.x2, b.y2]).toEqual([-5, 0, 15, 20]);
  });
  it('crop window truncates towards zero and clips to the image', () => {
    expect(cropWindow(box(-5.7, 2.3, 15.9, 20.2, 1), 10, 10)).toEqual({ x0: 0, y0: 1, x1: 10, y1: 10 });
    expect(cropWindow(box(20, 20, 30, 30, 1), 10, 10)).toBeUndefined();
  });
});

describe('pyramid', () => {
  it('follows facenet-pytorch: scales 12/minsize * 0.709^k while the shorter side >= 12', () => {
    const levels = pyramidLevels(250, 250, 20, 0.709);
    // 150, 106.35, 75.40, 53.46, 37.91, 26.87, 19.05, 13.51 -> 8 levels (9.58 < 12 stops)
    expect(levels).toHaveLength(8);
    expect(levels[0]).toEqual({ scale: 0.6, height: 151, width: 151 });
    expect(levels[1].scale).toBeCloseTo(0.6 * 0.709, 12);
    expect(levels[1].height).toBe(Math.trunc(250 * 0.6 * 0.709 + 1));
  });
  it('drops large scales when faces are bounded relative to the photo', () => {
    const all = pyramidLevels(2000, 1500, 20, 0.709);
    const bounded = pyramidLevels(2000, 1500, 20, 0.709, 0.2); // faces >= 300 px
    expect(bounded.length).toBeLessThan(all.length);
    expect(bounded[bounded.length - 1]).toEqual(all[all.length - 1]);
    // the largest kept level can still see a 300 px face: 12 / scale <= 300 * 1/0.709
    expect(12 / bounded[0].scale).toBeLessThanOrEqual(300 / 0.709 + 1e-9);
    expect(12 / bounded[0].scale).toBeGreaterThan(300 * 0.709 * 0.709);
  });
});
