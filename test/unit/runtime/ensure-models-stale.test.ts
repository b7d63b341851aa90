/**
 * The installer rebuilds a model whose spec or conversion code changed even though its package
 * files did not. A tiny fake model (one package file of three floats, a MUL and an ADD) stands in
 * for the real networks, so the test needs no download and leaves `models/` alone.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelSpec, PackageSource } from '../../../src/runtime/build/model-specs.ts';
import { converterHash, specHash } from '../../../src/runtime/build/fingerprint.ts';
import { ensureModels } from '../../../src/runtime/build/install.ts';
import { loadManifest } from '../../../src/runtime/models.ts';
import { OnnxModel } from '../../../src/runtime/session.ts';
import { GraphBuilder, random } from './graph-builder.ts';

/** A gzipped tar of plain files (ustar headers), as `npm pack` writes one. */
function tgz(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, body] of Object.entries(files)) {
    const header = new Uint8Array(512);
    const put = (s: string, at: number) => header.set(new TextEncoder().encode(s), at);
    put(name, 0);
    put('0000644\0', 100);
    put(`${body.length.toString(8).padStart(11, '0')}\0`, 124);
    put('0', 156);
    put('ustar\0', 257);
    const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
    padded.set(body);
    blocks.push(header, padded);
  }
  blocks.push(new Uint8Array(1024));
  return gzipSync(Buffer.concat(blocks));
}

const FILE = 'package/scale.bin';
const tarball = tgz({ [FILE]: new Uint8Array(Float32Array.of(0.5, -1, 2).buffer) });
const source: PackageSource = {
  package: 'phenoface-fake-model',
  version: '1.0.0',
  integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
  license: 'MIT',
};

/** y = x * scale + 1, with the product `t2` available as an extra output. */
function fakeGraph(files: ReadonlyMap<string, Uint8Array>) {
  const g = new GraphBuilder(random(1));
  const x = g.value([1, 3]);
  const bytes = files.get(FILE)!;
  const scaled = g.op('MUL', [x, g.constant([3], new Float32Array(bytes.buffer, bytes.byteOffset, 3))], [1, 3]);
  const y = g.op('ADD', [scaled, g.constant([3], [1, 1, 1])], [1, 3]);
  return g.graph(x, [y]);
}

const spec: ModelSpec = {
  name: 'fake',
  description: 'a fake model for the installer tests',
  source,
  files: [FILE],
  graph: fakeGraph,
  normalisation: { layout: 'NCHW', channels: 'RGB', mean: 0, scale: 1, reference: 'none' },
  convert: { name: 'fake', transposeSpatial: false, input: { name: 'x', dims: ['N', 3] }, outputs: { t4: { name: 'y', dims: ['N', 3] } } },
};
/** The same model with a new output node: the spec changed, the package did not. */
const withFeatures: ModelSpec = { ...spec, convert: { ...spec.convert, outputs: { ...spec.convert.outputs, t2: { name: 'scaled', dims: ['N', 3] } } } };

const root = mkdtempSync(join(tmpdir(), 'phenoface-models-stale-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function outputNames(dir: string): Promise<string[]> {
  const model = await OnnxModel.load(join(dir, 'fake.onnx'), { threads: 1 });
  const names = [...model.outputNames];
  await model.dispose();
  return names;
}

describe('specHash', () => {
  it('depends on the spec data, not on key order nor on the graph function object', () => {
    const reordered = { ...(Object.fromEntries(Object.entries(spec).reverse()) as unknown as ModelSpec), graph: (files: ReadonlyMap<string, Uint8Array>) => fakeGraph(files) };
    expect(Object.keys(reordered)[0]).toBe('convert');
    expect(specHash(reordered)).toBe(specHash(spec));
    expect(specHash(withFeatures)).not.toBe(specHash(spec));
    expect(specHash({ ...spec, normalisation: { ...spec.normalisation, scale: 2 } })).not.toBe(specHash(spec));
  });
});

describe('ensureModels after a spec or converter change', () => {
  const dir = join(root, 'models');
  mkdirSync(join(dir, '.cache'), { recursive: true });
  writeFileSync(join(dir, '.cache', 'phenoface-fake-model-1.0.0.tgz'), tarball);

  it('records the spec and converter hashes, and leaves a current model alone', async () => {
    expect(await ensureModels({ dir, specs: [spec] })).toEqual({ ready: [], built: ['fake'] });
    expect(loadManifest(dir).models.fake.build).toEqual({ spec: specHash(spec), converter: converterHash() });
    expect(await ensureModels({ dir, specs: [spec] })).toEqual({ ready: ['fake'], built: [] });
    expect(await outputNames(dir)).toEqual(['y']);
  });

  it('rebuilds when the spec gains an output though the package files are unchanged', async () => {
    const log: string[] = [];
    expect(await ensureModels({ dir, specs: [withFeatures], log: (l) => log.push(l) })).toEqual({ ready: [], built: ['fake'] });
    expect(log.join('\n')).toContain('fake: rebuilding (its spec changed)');
    expect(await outputNames(dir)).toEqual(['y', 'scaled']);
    expect(loadManifest(dir).models.fake.outputs.map((o) => o.name)).toEqual(['y', 'scaled']);
    expect(await ensureModels({ dir, specs: [withFeatures] })).toEqual({ ready: ['fake'], built: [] });
  });

  it('rebuilds a model the manifest says other conversion code built, or that predates the build record', async () => {
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    manifest.models.fake.build.converter = 'an older converter';
    writeFileSync(path, JSON.stringify(manifest));
    const log: string[] = [];
    expect(await ensureModels({ dir, specs: [withFeatures], log: (l) => log.push(l) })).toEqual({ ready: [], built: ['fake'] });
    expect(log.join('\n')).toContain('fake: rebuilding (the conversion code changed)');
    expect(loadManifest(dir).models.fake.build?.converter).toBe(converterHash());

    delete manifest.models.fake.build;
    writeFileSync(path, JSON.stringify(manifest));
    expect(await ensureModels({ dir, specs: [withFeatures] })).toEqual({ ready: [], built: ['fake'] });
    expect(await ensureModels({ dir, specs: [withFeatures] })).toEqual({ ready: ['fake'], built: [] });
  });
});
