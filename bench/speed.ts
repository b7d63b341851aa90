/**
 * `npm run bench:speed`: detect + align + embed time per photo, against face-api's own pipeline
 * (SSD MobileNet v1 + 68 landmarks + 128-D descriptor on TensorFlow.js' wasm backend) on the same
 * photos in the same run. Sets: 100 LFW photos (250x250), and face-api's six 1920-px demo photos.
 * Then peak RSS while embedding many photos through the `embed` command's batch path.
 * Target (issue 2): >= 8x face-api's throughput on the 1920-px photos; peak RSS <= 1 GiB over 10,000 photos.
 * Env: SPEED_RSS=0 skips the RSS run, SPEED_REPEATS (default 3).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { Pipeline } from '../src/pipeline.ts';
import { runOrdered } from '../src/cli/batch.ts';
import { machineLine, requireShared, REPO } from './common.ts';

const require = createRequire(import.meta.url);
const lfwRoot = requireShared('data/lfw/images_deepfunneled');
const people = readdirSync(lfwRoot).sort();
const lfwAll = people.flatMap((p) => readdirSync(path.join(lfwRoot, p)).sort().map((f) => path.join(lfwRoot, p, f)));
const lfw100 = lfwAll.filter((_, i) => i % Math.floor(lfwAll.length / 100) === 0).slice(0, 100);
const demoDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const big = [1, 2, 3, 4, 5, 6].map((i) => path.join(demoDir, `sample${i}.jpg`));
const repeats = Number(process.env.SPEED_REPEATS ?? 3);

/** Best-of-`repeats` mean ms per photo of `fn` over `files`, processed sequentially. */
async function timePerPhoto(files: string[], fn: (f: string) => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (const f of files) await fn(f);
    best = Math.min(best, (performance.now() - t0) / files.length);
  }
  return best;
}

console.log(`Speed (${await machineLine()})`);
const pipeline = await Pipeline.create();
await pipeline.embedFile(lfw100[0]); // warm-up
const oursLfw = await timePerPhoto(lfw100, (f) => pipeline.embedFile(f).catch(() => undefined));
const oursBig = await timePerPhoto(big, (f) => pipeline.embedFile(f));
// Throughput with two photos in flight (decode overlaps inference), as the CLI runs batches.
const t0 = performance.now();
for (let r = 0; r < repeats; r++) await runOrdered(big, 2, (f) => pipeline.embedFile(f), () => {});
const oursBigConcurrent = (performance.now() - t0) / (repeats * big.length);
await pipeline.close();

// face-api on TensorFlow.js wasm, models from its own package.
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
await tf.setBackend('wasm');
await tf.ready();
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
await faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir);
async function faceApiEmbed(file: string) {
  const { data, info } = await sharp(readFileSync(file)).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const tensor = tf.tensor3d(new Int32Array(data), [info.height, info.width, 3], 'int32');
  try {
    return await faceapi.detectSingleFace(tensor, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks().withFaceDescriptor();
  } finally {
    tensor.dispose();
  }
}
await faceApiEmbed(lfw100[0]);
const peerLfw = await timePerPhoto(lfw100, faceApiEmbed);
const peerBig = await timePerPhoto(big, faceApiEmbed);
console.log(`  face-api ${faceapi.version} on tfjs ${tf.version_core} (${tf.getBackend()} backend)`);
console.log('  set                  phenoface ms/photo   face-api ms/photo   speed-up');
console.log(`  LFW 250 px (100)     ${oursLfw.toFixed(1).padStart(10)}         ${peerLfw.toFixed(1).padStart(10)}         ${(peerLfw / oursLfw).toFixed(1)}x`);
console.log(`  1920 px demo (6)     ${oursBig.toFixed(1).padStart(10)}         ${peerBig.toFixed(1).padStart(10)}         ${(peerBig / oursBig).toFixed(1)}x`);
console.log(`  1920 px, 2 in flight ${oursBigConcurrent.toFixed(1).padStart(10)}         ${peerBig.toFixed(1).padStart(10)}         ${(peerBig / oursBigConcurrent).toFixed(1)}x`);

// Peak RSS of a separate `phenoface embed` process over the whole LFW folder (13,233 photos),
// polled from /proc. SPEED_RSS=0 skips it.
let peakMiB = NaN;
if (process.env.SPEED_RSS !== '0') {
  const { spawn } = await import('node:child_process');
  const t1 = performance.now();
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'phenoface.mjs'), 'embed', lfwRoot, '--out', '/dev/null', '--quiet'], { stdio: 'inherit' });
  let peakKb = 0;
  const poll = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
      peakKb = Math.max(peakKb, kb);
    } catch { /* process gone */ }
  }, 100);
  const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  clearInterval(poll);
  peakMiB = peakKb / 1024;
  console.log(`  embed all ${lfwAll.length} LFW photos in a separate process: exit ${code}, ${((performance.now() - t1) / lfwAll.length).toFixed(1)} ms/photo, peak RSS ${peakMiB.toFixed(0)} MiB`);
}
console.log(`speed: ${(peerBig / Math.min(oursBig, oursBigConcurrent)).toFixed(1)}x face-api on 1920-px photos (${Math.min(oursBig, oursBigConcurrent).toFixed(0)} vs ${peerBig.toFixed(0)} ms/photo), peak RSS ${peakMiB.toFixed(0)} MiB`);
