/**
 * The face mesh converted from human's tfjs graph model against TensorFlow.js executing the same
 * `facemesh.json` and weights (`loadGraphModel` from memory), on crops of a face photo from
 * face-api's demo folder; and the graph-model reader's refusals. The parity check needs the built
 * model and the cached human tarball (`npx phenoface models build`); it skips otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { modelTarballPath } from '../../../src/runtime/build/install.ts';
import { tfjsGraphModel } from '../../../src/runtime/build/tfjs-graph-model.ts';
import { halfToFloat } from '../../../src/runtime/build/tfjs-weights.ts';
import { loadManifest, loadModel, modelPath } from '../../../src/runtime/models.ts';
import { humanReference, nchwBatch } from '../../support/human-graph.ts';

const require = createRequire(import.meta.url);
const built = existsSync(modelPath('facemesh')) && existsSync(modelTarballPath('facemesh')) && loadManifest().models.facemesh !== undefined;
if (!built) console.warn('facemesh.test.ts: parity skipped, the facemesh model is not built (run `npx phenoface models build`).');

/** Two 192x192 RGB crops around the face of face-api's sample1.jpg (MTCNN box: x 833, y 425, 204 x 234 px), one looser and shifted. */
async function faceCrops192(): Promise<Uint8Array[]> {
  const demo = `${dirname(require.resolve('@vladmandic/face-api/package.json'))}/demo`;
  const regions = [{ left: 770, top: 375, width: 330, height: 330 }, { left: 740, top: 360, width: 390, height: 390 }];
  return Promise.all(regions.map(async (region) => new Uint8Array(await sharp(`${demo}/sample1.jpg`).extract(region).resize(192, 192).removeAlpha().raw().toBuffer())));
}

describe.skipIf(!built)('facemesh: onnxruntime = TensorFlow.js executing human\'s graph model', () => {
  it('gives the same 468 points on real face crops, batched', async () => {
    const { tf, model: reference } = await humanReference('facemesh');

    const crops = await faceCrops192();
    const batch = nchwBatch(crops, 192);
    const model = await loadModel('facemesh', { threads: 1 });
    const got = await model.run({ image: { data: batch, dims: [crops.length, 3, 192, 192] } });
    await model.dispose();
    expect(got.mesh.dims).toEqual([crops.length, 1404]);
    for (const [k, img] of crops.entries()) {
      const input = tf.tensor4d(Float32Array.from(img, (v) => v / 255), [1, 192, 192, 3]);
      const out = reference.execute(input, 'Identity_2:0');
      const want = (await out.data()) as Float32Array;
      tf.dispose([input, out]);
      // Crop pixels: 1e-3 of a pixel of the 192 px crop.
      const diff = Math.max(...Array.from(want, (v, i) => Math.abs(v - got.mesh.data[1404 * k + i])));
      expect(diff, `crop ${k}`).toBeLessThan(1e-3);
      // Not a degenerate net: the points spread over the face, inside the crop.
      const xs = Array.from(want).filter((_, i) => i % 3 === 0);
      expect(Math.max(...xs) - Math.min(...xs), `crop ${k}`).toBeGreaterThan(60);
      expect(Math.min(...xs)).toBeGreaterThan(0);
      expect(Math.max(...xs)).toBeLessThan(192);
    }
    reference.dispose();
  }, 60_000);
});

describe('tfjs graph-model reader', () => {
  const model = (node: unknown[], weights: unknown[] = []) => new TextEncoder().encode(JSON.stringify({
    format: 'graph-model',
    signature: { inputs: { x: { name: 'x:0' } }, outputs: { y: { name: 'y:0' } } },
    modelTopology: { node },
    weightsManifest: [{ paths: ['w.bin'], weights }],
  }));
  const placeholder = { name: 'x', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '4' }, { size: '4' }, { size: '2' }] } } } };

  it('reads an op chain, float16 weights included, and renames the output to its signature key', () => {
    const alpha = new Uint16Array([0x3800, 0xbc00]); // 0.5, -1 in half precision
    const graph = tfjsGraphModel(model([placeholder, { name: 'a', op: 'Const' }, { name: 'y', op: 'Prelu', input: ['x', 'a'] }],
      [{ name: 'a', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } }]), () => new Uint8Array(alpha.buffer), ['y']);
    expect(graph.operators.map((o) => o.op)).toEqual(['PRELU']);
    expect(graph.tensors[graph.outputs[0]]).toMatchObject({ name: 'y', shape: [1, 4, 4, 2] });
    expect([...new Float32Array(graph.tensors[graph.operators[0].inputs[1]].data!.slice().buffer)]).toEqual([0.5, -1]);
  });

  it('reads ConcatV2 as a concatenation on its axis, and a signature kept in userDefinedMetadata (as tfjs-converter\'s GraphModel does)', () => {
    const axis = new Int32Array([3]);
    const json = new TextEncoder().encode(JSON.stringify({
      format: 'graph-model',
      userDefinedMetadata: { signature: { inputs: { x: { name: 'x:0' } }, outputs: { 'y:0': { name: 'y:0' } } } },
      modelTopology: { node: [placeholder, { name: 'r', op: 'Relu', input: ['x'] }, { name: 'axis', op: 'Const' }, { name: 'y', op: 'ConcatV2', input: ['x', 'r', 'axis'] }] },
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'axis', shape: [], dtype: 'int32' }] }],
    }));
    const graph = tfjsGraphModel(json, () => new Uint8Array(axis.buffer), ['y:0']);
    expect(graph.operators.map((o) => o.op)).toEqual(['RELU', 'CONCATENATION']);
    expect(graph.operators[1].options).toMatchObject({ axis: 3 });
    expect(graph.tensors[graph.outputs[0]]).toMatchObject({ name: 'y:0', shape: [1, 4, 4, 4] });
  });

  it('refuses ops outside its set, naming the op', () => {
    expect(() => tfjsGraphModel(model([placeholder, { name: 'y', op: 'Softplus', input: ['x'] }]), () => new Uint8Array(), ['y'])).toThrow(/unsupported TF op Softplus/);
  });

  it('refuses an unknown signature output, naming the known ones', () => {
    expect(() => tfjsGraphModel(model([placeholder]), () => new Uint8Array(), ['mesh'])).toThrow(/no signature output "mesh".*y/);
  });

  it('decodes IEEE half precision as tfjs does', () => {
    expect([0x0000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00].map(halfToFloat)).toEqual([0, 1, -2, 65504, 2 ** -24, Infinity]);
  });
});
