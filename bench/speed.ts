/**
 * `npm run bench:speed`: detect + align + embed time per photo, against face-api's own pipeline
 * (SSD MobileNet v1 + 68 landmarks + 128-D descriptor on TensorFlow.js' wasm backend) on the same
 * photos in the same run. Sets: 100 LFW photos (250x250), and face-api's six 1920-px demo photos.
 * Then peak RSS while embedding many photos through the `embed` command's batch path.
 * On the 1920-px photos the default embedding path first searches a copy scaled to a 384 px shorter
 * side (`detect.choiceSearchSidePx`); the full-size search (`choiceSearchSidePx` 0, as `detect` does)
 * is timed too, and the two are checked to choose the same face, with the cosine between their
 * embeddings next to the cosine that a 2-pixel shift of the photo gives (MTCNN's own jitter).
 * Rounds interleave ours and face-api (the machine may be shared); each row keeps its best round.
 * Target: >= 8x face-api's throughput on the 1920-px photos; peak RSS <= 1 GiB over 10,000 photos.
 * Env: SPEED_RSS=0 skips the RSS run, SPEED_REPEATS (default 3).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { PipelinePool } from '../src/pipeline/pool.ts';
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

interface Timing { wall: number; cpu: number }
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
/** Wall and process CPU (all threads) ms per photo of `fn` over `files`, `inFlight` photos at a time. */
async function timeOnce(files: string[], inFlight: number, fn: (f: string) => Promise<unknown>): Promise<Timing> {
  const t0 = performance.now(), c0 = cpuMs();
  await runOrdered(files, inFlight, fn, () => {});
  return { wall: (performance.now() - t0) / files.length, cpu: (cpuMs() - c0) / files.length };
}

console.log(`Speed (${await machineLine()})`);
const pipeline = await Pipeline.create();
const fullSearch = await Pipeline.create({ config: { detect: { choiceSearchSidePx: 0 } } });
// What `embed` and `study` run: one pipeline per core in worker threads, two photos each in flight.
const pool = await PipelinePool.create();

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

// The reduced-copy search must choose the same face as the full-size search, with an embedding as
// close as MTCNN's own jitter allows: the cosine the full-size search gives after a 2-px shift.
let sameChoice = 0;
const cosines: number[] = [], jitter: number[] = [];
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
for (const f of big) {
  const [a, b] = [await fullSearch.embedFile(f), await pipeline.embedFile(f)];
  const { data, info } = await sharp(f).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const shifted = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .extract({ left: 2, top: 2, width: info.width - 2, height: info.height - 2 }).png({ compressionLevel: 0 }).toBuffer();
  const c = await fullSearch.embedFile(shifted);
  const centre = (x: typeof a) => [x.face.box.x + x.face.box.width / 2, x.face.box.y + x.face.box.height / 2];
  const [ca, cb] = [centre(a), centre(b)];
  if (Math.hypot(ca[0] - cb[0], ca[1] - cb[1]) < 0.25 * a.face.box.width) sameChoice++;
  cosines.push(dot(a.embedding.vector, b.embedding.vector));
  jitter.push(dot(a.embedding.vector, c.embedding.vector));
}

// Rows, each timed once per round; rounds interleave ours and face-api, since the machine is shared
// and its load drifts; each row keeps its best round.
const rows: { name: string; files: string[]; inFlight: number; fn: (f: string) => Promise<unknown> }[] = [
  { name: 'ours LFW', files: lfw100, inFlight: 1, fn: (f) => pipeline.embedFile(f).catch(() => undefined) },
  { name: 'face-api LFW', files: lfw100, inFlight: 1, fn: faceApiEmbed },
  { name: 'ours 1920', files: big, inFlight: 1, fn: (f) => pipeline.embedFile(f) },
  // Throughput with two photos in flight (decode overlaps inference), as the CLI runs batches.
  { name: 'ours 1920 x2', files: big, inFlight: 2, fn: (f) => pipeline.embedFile(f) },
  { name: 'ours 1920 pool', files: [...big, ...big, ...big], inFlight: pool.capacity, fn: (f) => pool.embedFile(f) },
  { name: 'ours LFW pool', files: lfw100, inFlight: pool.capacity, fn: (f) => pool.embedFile(f).catch(() => undefined) },
  { name: 'full search 1920 x2', files: big, inFlight: 2, fn: (f) => fullSearch.embedFile(f) },
  { name: 'face-api 1920', files: big, inFlight: 1, fn: faceApiEmbed },
];
for (const r of rows) await r.fn(r.files[0]); // warm-up
const best = new Map<string, Timing>();
for (let round = 0; round < repeats; round++) {
  for (const r of rows) {
    const t = await timeOnce(r.files, r.inFlight, r.fn);
    const b = best.get(r.name) ?? { wall: Infinity, cpu: Infinity };
    best.set(r.name, { wall: Math.min(b.wall, t.wall), cpu: Math.min(b.cpu, t.cpu) });
  }
}
await pipeline.close();
await fullSearch.close();
await pool.close();

const ms = (name: string) => best.get(name)!;
const peerLfw = ms('face-api LFW'), peerBig = ms('face-api 1920');
console.log(`  face-api ${faceapi.version} on tfjs ${tf.version_core} (${tf.getBackend()} backend); best of ${repeats} interleaved rounds; CPU = process CPU time, all threads`);
console.log('  set                                  phenoface ms/photo (CPU)   face-api ms/photo (CPU)   speed-up');
const line = (label: string, ours: Timing, peer: Timing) =>
  console.log(`  ${label.padEnd(36)} ${ours.wall.toFixed(1).padStart(9)} (${ours.cpu.toFixed(0).padStart(5)})    ${peer.wall.toFixed(1).padStart(9)} (${peer.cpu.toFixed(0).padStart(5)})    ${(peer.wall / ours.wall).toFixed(1)}x`);
line('LFW 250 px (100)', ms('ours LFW'), peerLfw);
line('1920 px demo (6)', ms('ours 1920'), peerBig);
line('1920 px, 2 in flight', ms('ours 1920 x2'), peerBig);
line(`LFW, ${pool.capacity / 2} worker threads (embed, study)`, ms('ours LFW pool'), peerLfw);
line(`1920 px, ${pool.capacity / 2} worker threads (embed, study)`, ms('ours 1920 pool'), peerBig);
line('1920 px, full-size search, 2 in flight', ms('full search 1920 x2'), peerBig);
const fmt = (v: number[]) => v.map((c) => c.toFixed(3)).join(' ');
console.log(`  reduced-copy search chose the full-size search's face on ${sameChoice}/${big.length} photos; embedding cosine to it ${fmt(cosines)} (a 2-px shift of the photo gives ${fmt(jitter)})`);
const oursBig = Math.min(ms('ours 1920').wall, ms('ours 1920 x2').wall, ms('ours 1920 pool').wall);
const oursFull = ms('full search 1920 x2').wall;

// Peak RSS of a separate `phenoface embed` process over at least 10,000 photos (the LFW folder,
// named as many times as that takes; the shared folder holds the 7,701 photos of pairs.txt),
// polled from /proc. SPEED_RSS=0 skips it.
let peakMiB = NaN;
if (process.env.SPEED_RSS !== '0') {
  const { spawn } = await import('node:child_process');
  const t1 = performance.now();
  const times = Math.ceil(10_000 / lfwAll.length);
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'phenoface.mjs'), 'embed', ...new Array(times).fill(lfwRoot), '--out', '/dev/null', '--quiet'], { stdio: 'inherit' });
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
  const n = times * lfwAll.length;
  console.log(`  embed ${n} photos (LFW's ${lfwAll.length}, ${times}x) in a separate process: exit ${code}, ${((performance.now() - t1) / n).toFixed(1)} ms/photo, peak RSS ${peakMiB.toFixed(0)} MiB`);
}
console.log(`speed: ${(peerBig.wall / oursBig).toFixed(1)}x face-api on 1920-px photos (${oursBig.toFixed(0)} vs ${peerBig.wall.toFixed(0)} ms/photo; ${(peerBig.wall / oursFull).toFixed(1)}x searching the full-size photo), ${Number.isFinite(peakMiB) ? `peak RSS ${peakMiB.toFixed(0)} MiB` : "peak RSS not measured (SPEED_RSS=0)"}`);
