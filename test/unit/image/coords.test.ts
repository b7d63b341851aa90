import { describe, expect, it } from 'vitest';
import { affineToDecoded, affineToOriginal, betweenSizes, mapBox, mapFace, mapPoint, toDecoded, toOriginal } from '../../../src/image/coords.ts';
import type { Face } from '../../../src/types.ts';

describe('coordinates between a photo and its decoded copy', () => {
  const img = { scale: 0.25 };

  it('maps corner-aligned by scale and back', () => {
    expect(mapPoint(toDecoded(img), [400, 80])).toEqual([100, 20]);
    expect(mapPoint(toOriginal(img), [100, 20])).toEqual([400, 80]);
    expect(mapBox(toOriginal(img), { x: 10, y: 20, width: 30, height: 40 })).toEqual({ x: 40, y: 80, width: 120, height: 160 });
  });

  it('maps pixel centres to pixel centres between a reduced copy and its source, each axis by its size ratio', () => {
    const up = betweenSizes({ width: 50, height: 40 }, { width: 100, height: 100 }, true);
    // (x + 0.5) * 2 - 0.5 and (y + 0.5) * 2.5 - 0.5
    expect(mapPoint(up, [0, 0])).toEqual([0.5, 0.75]);
    expect(mapBox(up, { x: 1.5, y: 3.5, width: 10, height: 4 })).toEqual({ x: 3.5, y: 9.5, width: 20, height: 10 });
  });

  it('carries a face as box, score and landmarks (pose and view belong to the target grid)', () => {
    const f: Face = { box: { x: 4, y: 8, width: 12, height: 16 }, score: 0.9, landmarks5: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], pose: { yaw: 1, pitch: 2, roll: 3 } };
    expect(mapFace(toOriginal({ scale: 0.5 }), f)).toEqual({ box: { x: 8, y: 16, width: 24, height: 32 }, score: 0.9, landmarks5: [[2, 4], [6, 8], [10, 12], [14, 16], [18, 20]] });
  });

  it('rescales the linear part of an alignment matrix, leaving the translation', () => {
    const decodedToCrop = [0.5, -0.25, 3, 0.25, 0.5, 7];
    const originalToCrop = affineToOriginal(decodedToCrop, img);
    expect(originalToCrop).toEqual([0.125, -0.0625, 3, 0.0625, 0.125, 7]);
    expect(affineToDecoded(originalToCrop, img)).toEqual(decodedToCrop);
    // The same point reaches the same crop pixel from either grid.
    const [x, y] = [400, 80];
    const [dx, dy] = mapPoint(toDecoded(img), [x, y]);
    const m = originalToCrop, n = decodedToCrop;
    expect([m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]]).toEqual([n[0] * dx + n[1] * dy + n[2], n[3] * dx + n[4] * dy + n[5]]);
  });
});
