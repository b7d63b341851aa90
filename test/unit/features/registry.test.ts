import { describe, expect, it } from 'vitest';
import { availableFeatures, featureBlock, fittedBlockFromJSON, installedFeatures, type PhotoInputs } from '../../../src/features/index.ts';
import { frontalFace, jittered } from './faces.ts';

const photo = (seed: number, landmarks = true): PhotoInputs => ({
  embedding: Float32Array.from({ length: 4 }, (_, k) => Math.sin(seed + k)),
  view: 'frontal',
  ...(landmarks ? { landmarks68: jittered(frontalFace(), 3, seed) } : {}),
});

describe('feature registry', () => {
  it('installs the geometry block', () => {
    expect(installedFeatures()).toContain('geometry');
    expect(featureBlock('geometry').name).toBe('geometry');
  });

  it('restores a fitted geometry block from its JSON, which transforms every photo as the fitted one', () => {
    const train = Array.from({ length: 14 }, (_, i) => photo(i + 1));
    const fitted = featureBlock('geometry').fit(train);
    const restored = fittedBlockFromJSON(JSON.parse(JSON.stringify(fitted.toJSON())));
    expect(restored.name).toBe('geometry');
    expect(restored.dim).toBe(fitted.dim);
    const rows = [...train.slice(0, 3), photo(99)];
    const want = fitted.transform(rows);
    restored.transform(rows).forEach((v, i) => v.forEach((x, k) => expect(x).toBeCloseTo(want[i][k], 5)));
  });

  it('refuses a block named after an object property (__proto__, constructor) as not installed, not as a crash', () => {
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const json = { kind: 'phenoface-feature-block', version: 1, name, dim: 4, params: {} };
      expect(() => fittedBlockFromJSON(json)).toThrow(expect.objectContaining({ code: 'E_BUNDLE', message: expect.stringContaining(`"${name}" features, which this installation cannot compute`) }));
      expect(() => featureBlock(name)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    }
  });

  it('offers geometry only when every photo has landmarks and some view has enough of them to fit', () => {
    const installed = installedFeatures();
    expect(availableFeatures(Array.from({ length: 12 }, (_, i) => photo(i)), installed)).toContain('geometry');
    expect(availableFeatures(Array.from({ length: 6 }, (_, i) => photo(i)), installed)).not.toContain('geometry');
    expect(availableFeatures(Array.from({ length: 12 }, (_, i) => photo(i, i > 0)), installed)).not.toContain('geometry');
  });
});
