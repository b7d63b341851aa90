/**
 * Test helpers for the models converted from @vladmandic/human's TensorFlow.js graph models: the
 * reference (TensorFlow.js executing the model's own json and weights from the cached tarball) and
 * the converted model's input (RGB crops as an NCHW batch divided by 255, as human feeds them).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { modelSourceFiles, modelTarballPath } from '../../src/runtime/build/install.ts';
import { readTarGz } from '../../src/runtime/build/tar.ts';

const require = createRequire(import.meta.url);

/** TensorFlow.js (CPU backend) and the graph model `name` loaded from `package/models/<name>.json/.bin` of its tarball. */
export async function humanReference(name: string) {
  const tf = require('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  const files = readTarGz(readFileSync(modelTarballPath(name)), new Set(modelSourceFiles(name).files));
  const json = JSON.parse(new TextDecoder().decode(files.get(`package/models/${name}.json`)));
  const bin = files.get(`package/models/${name}.bin`)!;
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs, weightData: bin.slice().buffer, format: json.format, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
  }));
  return { tf, model };
}

/** Square RGB crops (`size` x `size`, interleaved bytes) as one NCHW batch of values / 255. */
export function nchwBatch(crops: readonly Uint8Array[], size: number): Float32Array {
  const s = size * size;
  const batch = new Float32Array(crops.length * 3 * s);
  crops.forEach((img, k) => {
    for (let i = 0; i < s; i++) for (let c = 0; c < 3; c++) batch[(k * 3 + c) * s + i] = img[3 * i + c] / 255;
  });
  return batch;
}
