import { describe, expect, it } from 'vitest';
import { l2normalizeInto, unitVector } from '../../../src/math/vector.ts';

describe('unitVector', () => {
  const direction = Array.from({ length: 192 }, (_, i) => Math.sin(i + 1));

  it('gives a rescaled copy the same unit vector, however large or small the scale', () => {
    const expected = unitVector(direction);
    for (const scale of [0.5, 1e-160, 1e-300, 1e160, 1e300]) {
      expect([...unitVector(direction.map((v) => v * scale))]).toEqual([...expected]);
    }
  });

  it('divides by the norm summed in double precision for ordinary values', () => {
    const n = Math.sqrt(direction.reduce((s, v) => s + v * v, 0));
    expect([...l2normalizeInto(direction, new Float64Array(direction.length))]).toEqual(direction.map((v) => v / n));
  });

  it('leaves a zero vector zero', () => {
    expect([...unitVector([0, 0, 0])]).toEqual([0, 0, 0]);
  });
});
