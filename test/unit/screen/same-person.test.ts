/**
 * A screening fuses its photos as one person's, so a frontal photo that matches the person's other
 * frontal photos less than one person's photos do is warned as perhaps another person's.
 */
import { describe, expect, it } from 'vitest';
import { otherPersonWarnings } from '../../../src/workflows/screen/same-person.ts';

/** A unit vector near axis `k` of 8 dimensions (cosine about 0.95 between two of one axis). */
const near = (k: number, jitter: number): number[] => Array.from({ length: 8 }, (_, i) => (i === k ? 1 : 0) + (i === (k + 1) % 8 ? jitter : 0));

describe('otherPersonWarnings', () => {
  it('warns the frontal photo of someone else, and only it', () => {
    const faces = [
      { vector: near(0, 0.1), view: 'frontal' as const },
      { vector: near(0, -0.2), view: 'frontal' as const },
      { vector: near(0, 0.3), view: 'frontal' as const },
      { vector: near(4, 0), view: 'frontal' as const },
    ];
    const w = otherPersonWarnings(faces, 'mobilefacenet', 0.3);
    expect(w.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(w[3]).toBe("may show another person: this face matches the person's other frontal photos at cosine 0.00, where 99.5% of one person's frontal photos match their others at 0.3 or more (mobilefacenet, CFP-dev); check that every photo is of this person, since the result averages them all");
  });

  it('compares frontal photos only, needs two of them, and a threshold for the backbone', () => {
    const two = [{ vector: near(0, 0), view: 'frontal' as const }, { vector: near(4, 0), view: 'profile' as const }];
    expect(otherPersonWarnings(two, 'mobilefacenet', 0.3)).toEqual([undefined, undefined]);
    const apart = [{ vector: near(0, 0), view: 'frontal' as const }, { vector: near(4, 0), view: 'frontal' as const }];
    expect(otherPersonWarnings(apart, 'mobilefacenet', 0.3).every((x) => x !== undefined)).toBe(true);
    expect(otherPersonWarnings(apart, 'some-other-net')).toEqual([undefined, undefined]);
  });
});
