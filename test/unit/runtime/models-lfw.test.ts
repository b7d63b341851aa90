/**
 * End-to-end checks of the converted models on real faces (LFW, with facenet-pytorch's reference
 * MTCNN boxes and landmarks): they pin what unit tests cannot, the image orientation and the
 * meaning of each output channel. Skips without the shared data folder or without built models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadManifest, loadModel, MODEL_NAMES, modelPath } from '../../../src/runtime/models.ts';

/** The shared data folder: `$PHENOFACE_SHARED`, else `../shared` beside the repository (as bench/common.ts). */
const SHARED = process.env.PHENOFACE_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../..', 'shared');
const REFERENCE = join(SHARED, 'reference/mtcnn-facenet-pytorch.jsonl');
const ready = existsSync(REFERENCE) && MODEL_NAMES.every((n) => existsSync(modelPath(n)));
if (!ready) console.warn(`models-lfw.test.ts: skipped, needs ${SHARED} (LFW + reference; set PHENOFACE_SHARED) and built models (\`npx phenoface models build\`).`);

type Pt = [number, number];
interface RefFace { box: { x: number; y: number; width: number; height: number }; score: number; landmarks5: Pt[] }
interface RefImage { path: string; width: number; height: number; faces: RefFace[] }

function lfwReference(): RefImage[] {
  return readFileSync(REFERENCE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RefImage).filter((r) => r.path.includes('/lfw/'));
}

/** RGB bytes -> NCHW floats, (x - 127.5) * 0.0078125. */
function normalise(rgb: Uint8Array, w: number, h: number): Float32Array {
  const out = new Float32Array(3 * w * h);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) out[c * w * h + i] = (rgb[3 * i + c] - 127.5) * 0.0078125;
  return out;
}

async function rgb(path: string, resize?: { width: number; height: number }, crop?: { left: number; top: number; width: number; height: number }) {
  let img = sharp(path).removeAlpha();
  if (crop) img = img.extract(crop);
  if (resize) img = img.resize(resize.width, resize.height, { fit: 'fill' });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** The largest reference face of each image whose squared box (facenet-pytorch `rerec`) lies inside the image. */
function squaredInside(images: RefImage[]) {
  const out: { image: RefImage; face: RefFace; crop: { left: number; top: number; width: number; height: number } }[] = [];
  for (const image of images) {
    const face = image.faces[0];
    const side = Math.round(Math.max(face.box.width, face.box.height));
    const left = Math.round(face.box.x + face.box.width / 2 - side / 2);
    const top = Math.round(face.box.y + face.box.height / 2 - side / 2);
    if (left >= 0 && top >= 0 && left + side <= image.width && top + side <= image.height) out.push({ image, face, crop: { left, top, width: side, height: side } });
  }
  return out;
}

const dist = (a: Pt, b: Pt) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Least-squares similarity transform (Umeyama 1991) taking `src` points onto `dst`: [a, -b, tx; b, a, ty]. */
function similarity(src: Pt[], dst: Pt[]): number[] {
  const n = src.length;
  const ms = [0, 1].map((k) => src.reduce((s, p) => s + p[k], 0) / n);
  const md = [0, 1].map((k) => dst.reduce((s, p) => s + p[k], 0) / n);
  let sxx = 0, sxy = 0, var_ = 0;
  for (let i = 0; i < n; i++) {
    const [x, y] = [src[i][0] - ms[0], src[i][1] - ms[1]];
    const [u, v] = [dst[i][0] - md[0], dst[i][1] - md[1]];
    sxx += x * u + y * v;
    sxy += x * v - y * u;
    var_ += x * x + y * y;
  }
  const a = sxx / var_, b = sxy / var_;
  return [a, -b, md[0] - (a * ms[0] - b * ms[1]), b, a, md[1] - (b * ms[0] + a * ms[1])];
}

/** Warps a face so its landmarks land on `template` in a `size` square, bilinear (throwaway; the real one is src/align). */
function align(img: { data: Uint8Array; width: number; height: number }, points: Pt[], template: Pt[], size: number): Uint8Array {
  const [a, nb, tx, b, , ty] = similarity(points, template);
  const det = a * a + b * b;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      // Invert [a -b; b a]: source = R^-1 (dst - t).
      const dx = x - tx, dy = y - ty;
      const sx = (a * dx + b * dy) / det, sy = (nb * dx + a * dy) / det;
      const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= img.width || yy >= img.height ? 0 : img.data[3 * (yy * img.width + xx) + c]);
        const v = (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
        out[3 * (y * size + x) + c] = Math.round(v);
      }
    }
  return out;
}

/** Area under the ROC curve: P(score of a same pair > score of a different pair). */
function auc(same: number[], diff: number[]): number {
  let wins = 0;
  for (const s of same) for (const d of diff) wins += s > d ? 1 : s === d ? 0.5 : 0;
  return wins / (same.length * diff.length);
}

describe.skipIf(!ready)('converted models on LFW faces', () => {
  it('O-Net: reference face crops score > 0.9 and its landmarks (5 x, then 5 y) land on the reference landmarks', async () => {
    const faces = squaredInside(lfwReference()).slice(0, 40);
    const batch = new Float32Array(faces.length * 3 * 48 * 48);
    for (const [k, f] of faces.entries()) {
      const img = await rgb(join(SHARED, f.image.path), { width: 48, height: 48 }, f.crop);
      batch.set(normalise(img.data, 48, 48), k * 3 * 48 * 48);
    }
    const onet = await loadModel('onet', { threads: 2 });
    const out = await onet.run({ image: { data: batch, dims: [faces.length, 3, 48, 48] } });
    await onet.dispose();
    const errors: number[] = [];
    faces.forEach((f, k) => {
      expect(out.prob.data[2 * k + 1], f.image.path).toBeGreaterThan(0.9);
      const p = out.landmarks.data.subarray(10 * k, 10 * k + 10);
      const ours: Pt[] = [0, 1, 2, 3, 4].map((j) => [f.crop.left + f.crop.width * p[j], f.crop.top + f.crop.height * p[5 + j]]);
      const ref = f.face.landmarks5;
      const interocular = dist(ref[0], ref[1]);
      errors.push(Math.max(...ours.map((q, j) => dist(q, ref[j]) / interocular)));
    });
    console.log(`O-Net on ${faces.length} LFW reference crops: worst-landmark error / inter-ocular distance, median ${median(errors).toFixed(3)}, max ${Math.max(...errors).toFixed(3)}`);
    // The crop differs from the box the reference fed O-Net (it saw the box before O-Net's own
    // regression), so small errors are expected; swapped x/y or a transposed image would give ~1.
    expect(median(errors)).toBeLessThan(0.1);
    expect(Math.max(...errors)).toBeLessThan(0.3);
  });

  it('P-Net: on a whole LFW image scaled so the face is 12 px, the most face-like window is on the face', async () => {
    const images = lfwReference().filter((r) => r.faces.length === 1).slice(0, 20);
    const pnet = await loadModel('pnet', { threads: 2 });
    for (const image of images) {
      const { box } = image.faces[0];
      const scale = 12 / Math.max(box.width, box.height);
      const [h, w] = [Math.ceil(image.height * scale), Math.ceil(image.width * scale)];
      const img = await rgb(join(SHARED, image.path), { width: w, height: h });
      const out = await pnet.run({ image: { data: normalise(img.data, w, h), dims: [1, 3, h, w] } });
      const [, , mh, mw] = out.prob.dims;
      const face = out.prob.data.subarray(mh * mw);
      let best = 0;
      for (let i = 1; i < face.length; i++) if (face[i] > face[best]) best = i;
      const [row, col] = [Math.floor(best / mw), best % mw];
      // facenet-pytorch generateBoundingBox: window (2 col, 2 row) to (2 col + 12, 2 row + 12) at this scale.
      const cx = (2 * col + 6) / scale, cy = (2 * row + 6) / scale;
      expect(face[best], image.path).toBeGreaterThan(0.9);
      expect(Math.abs(cx - (box.x + box.width / 2)), `${image.path} x`).toBeLessThan(box.width / 3);
      expect(Math.abs(cy - (box.y + box.height / 2)), `${image.path} y`).toBeLessThan(box.height / 3);
    }
    await pnet.dispose();
  });

  for (const backbone of ['mobilefacenet', 'dlib-resnet']) {
    it(`${backbone}: LFW same-person pairs are closer (cosine) than different-person pairs, aligned as the manifest says`, async () => {
      const { alignment, normalisation, outputs } = loadManifest().models[backbone];
      const size = alignment!.size;
      const dim = outputs[0].dims[1] as number;
      const ref = new Map(lfwReference().map((r) => [r.path, r]));
      const path = (name: string, n: string) => `data/lfw/images_deepfunneled/${name}/${name}_${n.padStart(4, '0')}.jpg`;
      const same: [string, string][] = [];
      for (const line of readFileSync(join(SHARED, 'data/lfw/pairs.txt'), 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length === 3 && ref.has(path(f[0], f[1])) && ref.has(path(f[0], f[2]))) same.push([path(f[0], f[1]), path(f[0], f[2])]);
      }
      const pairs = same.slice(0, 60);
      // Different-person pairs (pairs.txt's own mismatched pairs barely overlap the reference set):
      // the first photo of each listed pair with the second photo of the next pair of another person.
      const person = (p: string) => p.split('/')[3];
      const diff = pairs.map((p, i) => {
        const other = [...pairs.slice(i + 1), ...pairs.slice(0, i)].find((q) => person(q[1]) !== person(p[0]))!;
        return [p[0], other[1]] as [string, string];
      });
      const paths = [...new Set([...pairs, ...diff].flat())];
      const per = 3 * size * size;
      const batch = new Float32Array(paths.length * per);
      for (const [k, p] of paths.entries()) {
        const face = align(await rgb(join(SHARED, p)), ref.get(p)!.faces[0].landmarks5, alignment!.template, size);
        for (let i = 0; i < size * size; i++) for (let c = 0; c < 3; c++) batch[k * per + c * size * size + i] = (face[3 * i + c] - normalisation.mean) * normalisation.scale;
      }
      const model = await loadModel(backbone, { threads: 2 });
      const out = await model.run({ image: { data: batch, dims: [paths.length, 3, size, size] } });
      await model.dispose();
      const vec = (p: string) => {
        const k = paths.indexOf(p);
        const v = out.embedding.data.subarray(dim * k, dim * k + dim);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      };
      const cos = ([a, b]: [string, string]) => vec(a).reduce((s, x, i) => s + x * vec(b)[i], 0);
      const s = pairs.map(cos);
      const d = diff.map(cos);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const area = auc(s, d);
      console.log(`${backbone} on ${s.length} same / ${d.length} different LFW pairs: mean cosine ${mean(s).toFixed(3)} vs ${mean(d).toFixed(3)}, AUC ${area.toFixed(3)}`);
      expect(mean(s)).toBeGreaterThan(mean(d));
      expect(area).toBeGreaterThan(0.95);
    });
  }
});
