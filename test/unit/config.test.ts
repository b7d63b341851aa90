import { describe, expect, it } from 'vitest';
import { DEFAULTS, resolveConfig } from '../../src/config.ts';

describe('config: one DEFAULTS, one section per stage and workflow', () => {
  it('has a section for every stage and workflow', () => {
    expect(Object.keys(DEFAULTS).sort()).toEqual(['classify', 'data', 'demo', 'detect', 'embed', 'evaluate', 'explain', 'features', 'geometry', 'image', 'landmarks', 'measurements', 'people', 'pose', 'quality', 'server', 'synth'].sort());
  });
  it('is frozen all the way down', () => {
    expect(Object.isFrozen(DEFAULTS.server)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.classify.logistic.grid)).toBe(true);
    expect(Object.isFrozen(DEFAULTS.people.augment.scale)).toBe(true);
  });
  it('resolveConfig merges a partial section over the defaults and leaves the rest', () => {
    const c = resolveConfig({ evaluate: { folds: 10 }, server: { port: 0 } });
    expect(c.evaluate.folds).toBe(10);
    expect(c.evaluate.repeats).toBe(DEFAULTS.evaluate.repeats);
    expect(c.server.port).toBe(0);
    expect(c.server.host).toBe(DEFAULTS.server.host);
    expect(c.synth).toEqual(DEFAULTS.synth);
  });
  it('resolveConfig returns a copy the caller may change', () => {
    const c = resolveConfig();
    c.explain.study.maxPhotos = 1;
    expect(DEFAULTS.explain.study.maxPhotos).not.toBe(1);
  });
  it('rejects an unknown key, naming it and the allowed ones', () => {
    expect(() => resolveConfig({ synth: { fracton: 0.5 } })).toThrow(/Unknown config key "synth.fracton". Should be one of: fraction, seed, jitter, jpegQuality, previewPhotos\./);
  });
  it('rejects keys named like built-in properties as any other unknown key', () => {
    for (const key of ['constructor', 'toString', '__proto__']) {
      expect(() => resolveConfig(JSON.parse(`{"evaluate": {"${key}": 1}}`))).toThrow(new RegExp(`Unknown config key "evaluate.${key}"`));
    }
  });
  it('rejects a value of the wrong type, naming it', () => {
    expect(() => resolveConfig({ server: { port: '80' as unknown as number } })).toThrow(/Invalid config "server.port": "80". Should be a number\./);
  });
  it('takes one or two dense landmark passes, nothing else', () => {
    expect(resolveConfig({ landmarks: { passes: 1 } }).landmarks.passes).toBe(1);
    expect(() => resolveConfig({ landmarks: { passes: 3 } })).toThrow(/Invalid landmarks.passes: 3. Should be 1 or 2\./);
  });
});
