/**
 * A photo's geometry explanation is given only as numbers: a model whose geometry weights were
 * edited past reason (its id and checksum recomputed) overflows a region's contribution, which
 * JSON would write as null where the contract promises a contribution rounded to 4 decimals.
 */
import { describe, expect, it } from 'vitest';
import type { GeometryExplanation, PhotoInputs } from '../../../src/features/index.ts';
import { LANDMARK_REGIONS } from '../../../src/features/ibug68.ts';
import { geometryFields, geometryRegionShares } from '../../../src/workflows/screen/geometry.ts';

const row: PhotoInputs = { embedding: new Float32Array(4), view: 'frontal' };
/** An explanation that gives the first region `first` and every other 0.1. */
const explaining = (first: number): GeometryExplanation => () => LANDMARK_REGIONS.map((region, k) => ({ region, contribution: k === 0 ? first : 0.1 }));

describe('geometry fields of a screened photo', () => {
  it('gives the contributions and shares when they are numbers', () => {
    const fields = geometryFields(explaining(0.5), row, 'vcfs');
    expect(fields.geometryRegions![0]).toEqual({ name: LANDMARK_REGIONS[0], contribution: 0.5 });
    expect(geometryRegionShares(explaining(0.5), row)!.regions.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 4);
  });

  it('rounds a contribution too large to scale by 1e4 to itself, not to Infinity (null in the JSON)', () => {
    expect(geometryFields(explaining(5e305), row, 'vcfs').geometryRegions![0].contribution).toBe(5e305);
    expect(geometryFields(explaining(-5e305), row, 'vcfs').geometryRegions!.at(-1)!.contribution).toBe(-5e305);
  });

  it.each([Infinity, -Infinity, NaN])('leaves them out when a contribution is %s', (bad) => {
    expect(geometryFields(explaining(bad), row, 'vcfs')).toEqual({});
    expect(geometryRegionShares(explaining(bad), row)).toBeUndefined();
  });
});
