/**
 * What the template-derivation scripts share: face-api on TensorFlow.js (WASM backend) with its
 * SSD MobileNet v1 detector loaded, and the LFW photos of the reference MTCNN outputs
 * (facenet-pytorch) in the shared data folder (`$PHENOFACE_SHARED`, else `../shared`), each decoded
 * into a tensor for face-api.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

/** A 2-D point `[x, y]` in pixels. */
export type Pt = [number, number];

/** One photo of the reference MTCNN outputs. */
export interface RefImage { path: string; faces: { box: { x: number; y: number; width: number; height: number }; landmarks5: Pt[] }[] }

/** The shared data folder: `$PHENOFACE_SHARED`, else `../shared` beside the repository. */
export const SHARED = process.env.PHENOFACE_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../..', 'shared');
const require = createRequire(import.meta.url);

/** TensorFlow.js on WASM, and face-api with its detector and the `extraNets` (e.g. `faceLandmark68Net`) loaded. */
export async function loadFaceApi(extraNets: string[] = []): Promise<{ tf: any; faceapi: any }> {
  const tf = require('@tensorflow/tfjs');
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
  await tf.setBackend('wasm');
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  for (const net of ['ssdMobilenetv1', ...extraNets]) await faceapi.nets[net].loadFromDisk(modelDir);
  return { tf, faceapi };
}

/** The first `count` LFW photos of the reference outputs. */
export function lfwReferenceImages(count: number): RefImage[] {
  return readFileSync(join(SHARED, 'reference/mtcnn-facenet-pytorch.jsonl'), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as RefImage).filter((r) => r.path.includes('/lfw/')).slice(0, count);
}

/** A reference photo as an int32 HxWx3 tensor, with its size. */
export async function imageTensor(tf: any, image: RefImage): Promise<{ tensor: any; width: number; height: number }> {
  const { data, info } = await sharp(join(SHARED, image.path)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { tensor: tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32'), width: info.width, height: info.height };
}
