/**
 * What a cached result is keyed on: the pipeline's version and the built models that computed it.
 * A model rebuilt with other weights, or by another conversion, has another ONNX checksum in
 * `models/manifest.json`; results cached from the old one must be computed again, and results of
 * models the run does not use must not be.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { cacheVersion, modelsDigest, pipelineVersion, secondEmbeddingVersion } from '../../../src/pipeline/pipeline.ts';
import type { ModelManifest } from '../../../src/runtime/index.ts';

const NAMES = ['pnet', 'rnet', 'onet', 'facemesh', 'face-landmark68', 'iris', 'mobilefacenet', 'dlib-resnet'];

function manifest(changed?: string, absent?: string): ModelManifest {
  const models = Object.fromEntries(NAMES.filter((n) => n !== absent).map((n) => [n, { onnx: { sha256: `${n}-${n === changed ? 'rebuilt' : 'built'}` } }]));
  return { contract: 1, note: '', models } as unknown as ModelManifest;
}

describe('cacheVersion', () => {
  const base = cacheVersion('mobilefacenet', DEFAULTS, manifest());

  it('is the pipeline version, the orientation check\'s settings and a digest of the models', () => {
    expect(base).toMatch(new RegExp(`^${pipelineVersion(DEFAULTS)}-turn1-[0-9a-f]{8}-models[0-9a-f]{12}$`));
    expect(cacheVersion('mobilefacenet', DEFAULTS, manifest())).toBe(base);
  });

  it('changes with the orientation check\'s settings, which the cached face\'s finding follows', () => {
    const check = (turnCheck: Partial<typeof DEFAULTS.detect.turnCheck>, minFaceSizePx = DEFAULTS.detect.minFaceSizePx) =>
      cacheVersion('mobilefacenet', { ...DEFAULTS, detect: { ...DEFAULTS.detect, minFaceSizePx, turnCheck: { ...DEFAULTS.detect.turnCheck, ...turnCheck } } }, manifest());
    expect(check({})).toBe(base);
    for (const changed of [{ belowScore: 0 }, { turnedScore: 0.95 }, { margin: 0.05 }, { cropScale: 2 }, { cropSidePx: 160 }]) expect(check(changed), JSON.stringify(changed)).not.toBe(base);
    expect(check({}, 96)).not.toBe(base);
  });

  it('changes when any model that computes the result is rebuilt or missing', () => {
    for (const name of ['pnet', 'rnet', 'onet', 'facemesh', 'iris', 'mobilefacenet']) {
      expect(cacheVersion('mobilefacenet', DEFAULTS, manifest(name)), name).not.toBe(base);
      expect(cacheVersion('mobilefacenet', DEFAULTS, manifest(undefined, name)), name).not.toBe(base);
    }
  });

  it('does not change for models the run does not use', () => {
    expect(cacheVersion('mobilefacenet', DEFAULTS, manifest('dlib-resnet'))).toBe(base);
    expect(cacheVersion('mobilefacenet', DEFAULTS, manifest('face-landmark68'))).toBe(base);
    const noIris = { ...DEFAULTS, landmarks: { ...DEFAULTS.landmarks, refineEyes: false } };
    expect(cacheVersion('mobilefacenet', noIris, manifest('iris'))).toBe(cacheVersion('mobilefacenet', noIris, manifest()));
  });

  it('follows the backbone', () => {
    const dlib = cacheVersion('dlib-resnet', DEFAULTS, manifest());
    expect(dlib).not.toBe(base);
    expect(cacheVersion('dlib-resnet', DEFAULTS, manifest('dlib-resnet'))).not.toBe(dlib);
    expect(cacheVersion('dlib-resnet', DEFAULTS, manifest('mobilefacenet'))).toBe(dlib);
  });
});

describe('secondEmbeddingVersion', () => {
  it('changes with the second network\'s own model only', () => {
    const v = secondEmbeddingVersion('dlib-resnet', manifest());
    expect(secondEmbeddingVersion('dlib-resnet', manifest('dlib-resnet'))).not.toBe(v);
    expect(secondEmbeddingVersion('dlib-resnet', manifest('mobilefacenet'))).toBe(v);
  });

  it('names the network and digests the checksums in order', () => {
    expect(secondEmbeddingVersion('dlib-resnet', manifest())).toMatch(/^second1-dlib-resnet-own-template-models[0-9a-f]{12}$/);
    expect(modelsDigest(['pnet', 'rnet'], manifest())).not.toBe(modelsDigest(['rnet', 'pnet'], manifest()));
  });
});
