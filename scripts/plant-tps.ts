/**
 * A second planting tool, independent of `phenoface synth`, so that a figure is not measured only
 * on the planting it was tuned on. It plants the same kind of 22q11.2DS-like shape change, but by
 * other means: the 68 iBUG points of face-api's landmark net (`face-landmark68`, two passes,
 * mirrored; not the face mesh the pipeline aligns on) are displaced, and a thin-plate spline
 * (Bookstein 1989) through the displaced points and 36 fixed points (the image border and an
 * ellipse well outside the face) carries the whole photo along. Synth instead warps with windowed
 * kernels placed from five points of the face mesh.
 *
 * Displacements at strength 1, in inter-ocular distances (before each person's 0.8-1.2 jitter):
 * - periorbital: each eye's points 12% closer to its inner canthus (a shorter fissure), 8% closer
 *   to the eye's centre vertically (a narrower one), the outer half lifted by up to 0.03;
 * - perinasal: the nostril points 31, 32, 34, 35 15% closer to the subnasale's vertical, and the
 *   lower nose (32-34) 0.05 lower;
 * - perioral: the lips 12% narrower about the mouth's centre, the upper lip 0.02 higher;
 * - facelength: the chin 0.08 lower (jaw points 4-12 tapering), the lower lip following.
 *
 *   npx tsx scripts/plant-tps.ts CONTROLS OUT STRENGTH [REGIONS=all] [SEED=16]
 *
 * CONTROLS is a manifest or folder as `phenoface synth` reads it; its frontal photos (view column,
 * or every photo when there is none) are planted, half of the people (drawn from SEED) affected.
 * REGIONS is `all` or a comma list of periorbital, perinasal, perioral, facelength. OUT gets
 * `images/`, `manifest.csv` (path, subject, label, view: ready for `phenoface study`) and
 * `truth.json` (who was planted, how strongly, each photo's smallest warp Jacobian). Photos without
 * a face are left out and listed in truth.json. Needs the built models.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeImage, encodeJpeg } from '../src/image/index.ts';
import { solveLinear } from '../src/math/linear.ts';
import { mulberry32 } from '../src/math/random.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { Point, RgbImage } from '../src/types.ts';
import { readSynthInput, remapImage, SYNTH_REGIONS, type SynthRegion } from '../src/workflows/synth/index.ts';

const [controls, out, strengthArg, regionsArg = 'all', seedArg = '16'] = process.argv.slice(2);
if (!controls || !out || !strengthArg) {
  console.error('Usage: npx tsx scripts/plant-tps.ts CONTROLS OUT STRENGTH [REGIONS=all] [SEED=16]');
  process.exit(2);
}
const strength = Number(strengthArg);
const seed = Number(seedArg);
const regions: readonly SynthRegion[] = regionsArg === 'all' ? SYNTH_REGIONS : (regionsArg.split(',') as SynthRegion[]);
if (regions.some((r) => !SYNTH_REGIONS.includes(r)) || !(strength >= 0) || !Number.isInteger(seed)) {
  console.error(`Bad arguments: REGIONS is all or a comma list of ${SYNTH_REGIONS.join(', ')}; STRENGTH a number >= 0; SEED an integer.`);
  process.exit(2);
}
/** Thin-plate smoothing (in inter-ocular units): a closed mouth's inner lip points nearly coincide. */
const LAMBDA = 1e-3;
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const mean = (pts: Point[]): Point => [pts.reduce((a, p) => a + p[0], 0) / pts.length, pts.reduce((a, p) => a + p[1], 0) / pts.length];

/** The face frame: origin between the eyes' centroids, x along the eye line, unit the inter-ocular distance. */
interface Frame { o: Point; ex: Point; ey: Point; iod: number }
function faceFrame(lm: Point[]): Frame {
  const l = mean(range(36, 41).map((i) => lm[i]));
  const r = mean(range(42, 47).map((i) => lm[i]));
  const iod = Math.hypot(r[0] - l[0], r[1] - l[1]);
  const ex: Point = [(r[0] - l[0]) / iod, (r[1] - l[1]) / iod];
  return { o: [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2], ex, ey: [-ex[1], ex[0]], iod };
}
function toFrame(f: Frame, p: Point): Point {
  const dx = p[0] - f.o[0], dy = p[1] - f.o[1];
  return [(dx * f.ex[0] + dy * f.ex[1]) / f.iod, (dx * f.ey[0] + dy * f.ey[1]) / f.iod];
}

/** Displacements of the 68 points in face units at strength `s` (see the module comment). */
function displacements(u: Point[], s: number): Point[] {
  const d: Point[] = u.map(() => [0, 0]);
  const add = (i: number, dx: number, dy: number) => { d[i][0] += dx * s; d[i][1] += dy * s; };
  if (regions.includes('periorbital')) {
    for (const [ids, inner, outer] of [[range(36, 41), 39, 36], [range(42, 47), 42, 45]] as const) {
      const c = mean(ids.map((i) => u[i]));
      for (const i of ids) {
        const t = (u[i][0] - u[inner][0]) / (u[outer][0] - u[inner][0]);
        add(i, -0.12 * (u[i][0] - u[inner][0]), -0.08 * (u[i][1] - c[1]) - 0.03 * Math.max(0, t));
      }
    }
  }
  if (regions.includes('perinasal')) {
    for (const i of [31, 32, 34, 35]) add(i, -0.15 * (u[i][0] - u[33][0]), 0);
    for (const i of [32, 33, 34]) add(i, 0, 0.05);
  }
  if (regions.includes('perioral')) {
    const cx = (u[48][0] + u[54][0]) / 2;
    for (const i of range(48, 67)) add(i, -0.12 * (u[i][0] - cx), 0);
    for (const i of [49, 50, 51, 52, 53, 61, 62, 63]) add(i, 0, -0.02);
  }
  if (regions.includes('facelength')) {
    for (const i of range(4, 12)) add(i, 0, 0.08 * (1 - Math.abs(i - 8) / 4));
    const top = (u[48][1] + u[54][1]) / 2, chin = u[8][1];
    for (const i of [55, 56, 57, 58, 59, 65, 66, 67]) add(i, 0, 0.08 * Math.min(1, Math.max(0, (u[i][1] - top) / (chin - top))));
  }
  return d;
}

/** A thin-plate spline displacement field through control points (coordinates divided by `scale`). */
function thinPlate(from: Point[], to: Point[], scale: number): (x: number, y: number) => Point {
  const U = (r2: number) => (r2 === 0 ? 0 : r2 * Math.log(r2));
  const c = from.map(([x, y]): Point => [x / scale, y / scale]);
  const n = c.length;
  const A = Array.from({ length: n + 3 }, () => new Array<number>(n + 3).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) A[i][j] = U((c[i][0] - c[j][0]) ** 2 + (c[i][1] - c[j][1]) ** 2);
    A[i][i] = LAMBDA;
    A[i][n] = A[n][i] = 1;
    A[i][n + 1] = A[n + 1][i] = c[i][0];
    A[i][n + 2] = A[n + 2][i] = c[i][1];
  }
  // The displacement is fitted, so strength 0 is exactly the identity.
  const sol = solveLinear(A, [...from.map((p, i) => [(to[i][0] - p[0]) / scale, (to[i][1] - p[1]) / scale]), [0, 0], [0, 0], [0, 0]]);
  if (!sol) throw new Error('the thin-plate system is singular (two control points coincide)');
  const [w, a] = [sol.slice(0, n), sol.slice(n)];
  return (x, y) => {
    const xs = x / scale, ys = y / scale;
    let dx = a[0][0] + a[1][0] * xs + a[2][0] * ys, dy = a[0][1] + a[1][1] * xs + a[2][1] * ys;
    for (let i = 0; i < n; i++) {
      const u = U((xs - c[i][0]) ** 2 + (ys - c[i][1]) ** 2);
      dx += w[i][0] * u;
      dy += w[i][1] * u;
    }
    return [x + dx * scale, y + dy * scale];
  };
}

/** Fixed points: 16 on the image border, 20 on an ellipse at 1.13x the landmarks' box. */
function fixedPoints(lm: Point[], w: number, h: number): Point[] {
  const pts: Point[] = [];
  for (let k = 0; k < 4; k++) {
    const t = k / 4;
    pts.push([t * (w - 1), 0], [w - 1, t * (h - 1)], [(1 - t) * (w - 1), h - 1], [0, (1 - t) * (h - 1)]);
  }
  const xs = lm.map((p) => p[0]), ys = lm.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const [rx, ry] = [0.8 * (x1 - x0) * Math.SQRT2, 0.8 * (y1 - y0) * Math.SQRT2];
  for (let k = 0; k < 20; k++) pts.push([(x0 + x1) / 2 + rx * Math.cos((Math.PI * k) / 10), (y0 + y1) / 2 + ry * Math.sin((Math.PI * k) / 10)]);
  return pts;
}

/**
 * Backward warp: output pixel q samples the source at map(q) (synth's sampler, `remapImage`). The
 * map is evaluated every 4 px and interpolated bilinearly between (the spline is smooth at that scale).
 */
function warp(img: RgbImage, map: (x: number, y: number) => Point): { image: RgbImage; minJacobian: number } {
  const { width: W, height: H } = img;
  const G = 4, gw = Math.ceil((W - 1) / G) + 1, gh = Math.ceil((H - 1) / G) + 1;
  const mx = new Float64Array(gw * gh), my = new Float64Array(gw * gh);
  for (let j = 0; j < gh; j++) for (let i = 0; i < gw; i++) [mx[j * gw + i], my[j * gw + i]] = map(i * G, j * G);
  const sx = new Float32Array(W * H), sy = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const gj = Math.min(Math.floor(y / G), gh - 2), fy = y / G - gj;
    for (let x = 0; x < W; x++) {
      const gi = Math.min(Math.floor(x / G), gw - 2), fx = x / G - gi, k = gj * gw + gi;
      const lerp = (m: Float64Array) => (1 - fy) * ((1 - fx) * m[k] + fx * m[k + 1]) + fy * ((1 - fx) * m[k + gw] + fx * m[k + gw + 1]);
      sx[y * W + x] = lerp(mx);
      sy[y * W + x] = lerp(my);
    }
  }
  return remapImage(img, sx, sy);
}

/** The planted photo: the 68 points displaced, the photo carried along by the spline through them. */
function plant(img: RgbImage, lm: Point[], s: number): { image: RgbImage; minJacobian: number } {
  const f = faceFrame(lm);
  const d = displacements(lm.map((p) => toFrame(f, p)), s);
  const moved = lm.map((p, i): Point => [p[0] + f.iod * (d[i][0] * f.ex[0] + d[i][1] * f.ey[0]), p[1] + f.iod * (d[i][0] * f.ex[1] + d[i][1] * f.ey[1])]);
  const fixed = fixedPoints(lm, img.width, img.height);
  // Backward map: fitted from the displaced points to the original ones.
  return warp(img, thinPlate([...moved, ...fixed], [...lm, ...fixed], f.iod));
}

const input = await readSynthInput(controls).catch((err: Error & { code?: string }) => {
  console.error(`${err.code ?? 'E_INPUT'}: ${err.message}`);
  process.exit(1);
});
for (const e of input.errors) console.error(`${e.path}: ${e.error.message}`);
mkdirSync(out, { recursive: true });
const rows = input.rows.filter((r) => r.view === undefined || r.view === 'frontal');
const subjects = [...new Set(rows.map((r) => r.subject))].sort();
const draw = mulberry32(seed);
const affected = new Set(subjects.map((s) => ({ s, k: draw() })).sort((a, b) => a.k - b.k).slice(0, Math.floor(subjects.length / 2)).map((o) => o.s));
const jitter = mulberry32(seed + 1);
const people = subjects.map((subject) => {
  const factor = 0.8 + 0.4 * jitter();
  return { subject, label: affected.has(subject) ? 'vcfs' : 'control', strength: affected.has(subject) ? +(strength * factor).toFixed(4) : 0 };
});
const bySubject = new Map(people.map((p) => [p.subject, p]));
const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { landmarks: { model: 'face-landmark68', passes: 2, flip: true, refineEyes: false } } });
const lines = ['path,subject,label,view'];
const photos: unknown[] = [];
const skipped: unknown[] = [];
for (const row of rows) {
  const person = bySubject.get(row.subject)!;
  try {
    const img = await decodeImage(row.absPath);
    const face = chooseFace(await pipeline.detectImage(img), img.originalWidth, img.originalHeight);
    if (!face?.landmarksDense) throw new Error('no face');
    const lm = face.landmarksDense.map(([x, y]): Point => [x * img.scale, y * img.scale]);
    const { image, minJacobian } = plant(img, lm, person.strength);
    const rel = `images/${row.subject}/${path.basename(row.path)}`;
    mkdirSync(path.join(out, 'images', row.subject), { recursive: true });
    writeFileSync(path.join(out, rel), await encodeJpeg(image, 95, '4:4:4'));
    lines.push(`${rel},${row.subject},${person.label},frontal`);
    photos.push({ path: rel, source: row.path, subject: row.subject, label: person.label, strength: person.strength, minJacobian: +minJacobian.toFixed(4) });
  } catch (err) {
    skipped.push({ path: row.path, error: (err as Error).message });
  }
}
await pipeline.close();
writeFileSync(path.join(out, 'manifest.csv'), `${lines.join('\n')}\n`);
writeFileSync(path.join(out, 'truth.json'), `${JSON.stringify({ tool: 'scripts/plant-tps.ts', seed, strength, regions, landmarks: 'face-landmark68, two passes, mirrored', people, photos, skipped }, null, 1)}\n`);
console.log(`${out}: ${photos.length} photos planted or passed through, ${skipped.length} skipped`);
