/**
 * A model is described by what it reads: a model that leaves the embedding out is never described
 * as reading the backbone's face-recognition embedding, and the region-pooled maps are named as the
 * backbone's, since they come from its inner layers.
 */
import { describe, expect, it } from 'vitest';
import { modelFeatures, modelReads, readsBackbone } from '../../../src/features/describe.ts';
import type { FeatureName } from '../../../src/features/types.ts';

const backbone = { name: 'mobilefacenet' };
const withBlocks = (features: FeatureName[], second?: string) => ({ features: { features }, backbone: second ? { ...backbone, second: { name: second } } : backbone });

describe('modelReads', () => {
  it('names the backbone\'s embedding only for a model that reads it', () => {
    expect(modelReads({ backbone })).toBe("mobilefacenet's face-recognition embedding");
    expect(modelReads(withBlocks(['embedding']))).toBe("mobilefacenet's face-recognition embedding");
    expect(modelReads(withBlocks(['embedding'], 'dlib-resnet'))).toBe("mobilefacenet's and dlib-resnet's face-recognition embeddings");
    expect(modelReads(withBlocks(['embedding', 'geometry', 'regions']))).toBe(
      "mobilefacenet's face-recognition embedding, face geometry (landmarks and measurements) and mobilefacenet's mid-level maps pooled in facial regions",
    );
  });

  it('says a model without the embedding block reads no face-recognition embedding', () => {
    expect(modelReads(withBlocks(['geometry']))).toBe('face geometry (landmarks and measurements); no face-recognition embedding');
    expect(modelReads(withBlocks(['geometry'], 'dlib-resnet'))).toBe('face geometry (landmarks and measurements); no face-recognition embedding');
    expect(modelReads(withBlocks(['regions']))).toBe("mobilefacenet's mid-level maps pooled in facial regions; no face-recognition embedding");
    expect(modelReads(withBlocks(['geometry', 'regions']))).toBe("face geometry (landmarks and measurements) and mobilefacenet's mid-level maps pooled in facial regions; no face-recognition embedding");
  });

  it('lists the blocks, the embedding alone for a model without any, and whether the backbone is read at all', () => {
    expect(modelFeatures({})).toEqual(['embedding']);
    expect(modelFeatures(withBlocks(['geometry', 'regions']))).toEqual(['geometry', 'regions']);
    expect(readsBackbone({})).toBe(true);
    expect(readsBackbone(withBlocks(['regions']))).toBe(true);
    expect(readsBackbone(withBlocks(['geometry']))).toBe(false);
  });
});
