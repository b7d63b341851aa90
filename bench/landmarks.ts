/**
 * `npm run bench:landmarks`: how precise and how costly the dense landmarks are, on CFP-dev's
 * frontal photos (Sengupta et al. 2016: 30 hand-placed fiducials per photo, one half of the face
 * plus the midline). Three measurements, each with a peer measured in the same run:
 *
 * - Error against the fiducials, per part, normalised by the inter-ocular distance (NME, as in
 *   300-W): the fiducials mark one eye, so the distance is twice the hand-placed eye centre's
 *   distance to the nasion (the midline point at eye level). The fiducials' points are matched to
 *   their iBUG-300W counterparts (eye corners and lids, nasion, nose tip, nostrils, mouth corner,
 *   lip midpoints, chin); the jaw contour and brows are left out (the schemes sample those curves
 *   differently). Peer: MTCNN's five points on the points both define (eye centre, nose tip,
 *   mouth corner).
 * - Repeatability: one person's frontal photos, each similarity-aligned (Umeyama) to the person's
 *   mean shape; the mean distance of a point to its mean position, over the inter-ocular distance.
 *   This holds true changes (expression, pose) as well as the model's noise; the peer is the same
 *   measure on the hand-placed fiducials of the same photos (human placement plus the same true
 *   changes), on the same matched points.
 * - Cost: milliseconds per face on one core (crop + network, per pass), against the 15 ms budget;
 *   peer: the detector's time per photo.
 *
 * Every setting of every dense landmark model (face-api's 68-point net; MediaPipe's face mesh,
 * through its 468 -> 68 map) is measured on the same faces: one pass (crop by MTCNN's five points)
 * or two (crop again by the five points of the first pass's 68), each without and with
 * `landmarks.flip` (the mirrored crop run too, each point averaged with its mirrored partner);
 * the face mesh also with `landmarks.refineEyes` (two passes, no flip).
 *
 *   LANDMARKS_PEOPLE=60 npm run bench:landmarks     (people, 10 frontal photos each; default 60)
 *
 * Skips with a message when the shared data are absent. Prints the figure last.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { umeyama, applyAffine } from '../src/align/index.ts';
import { DEFAULTS } from '../src/config.ts';
import { decodeImage } from '../src/image/index.ts';
import { DENSE_LANDMARK_MODELS, DenseLandmarker, EyeRefiner, fivePointsOf68, IBUG68_POINTS, refinedCrops } from '../src/landmarks/index.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { Landmarks5, Point } from '../src/types.ts';
import { percentileInterval, subjectBootstrap } from '../src/evaluate/index.ts';
import { mulberry32 } from '../src/math/random.ts';
import { envInt, machineLine, median, quantile, requireShared } from './common.ts';

const root = requireShared('data/cfp-dev');
const people = envInt('LANDMARKS_PEOPLE', 60, 2);

/**
 * CFP fiducial index -> iBUG-68 index, for photos whose IMAGE-LEFT half is marked (fiducial 12 is
 * that eye's outer corner, 15 its inner one, 25 the mouth corner); `mirrored` for the other half.
 */
const PARTS: Record<string, { cfp: number[]; left: number[]; mirrored: number[] }> = {
  eye: { cfp: [12, 13, 14, 15, 16, 17], left: [36, 37, 38, 39, 40, 41], mirrored: [45, 44, 43, 42, 47, 46] },
  nose: { cfp: [18, 21, 22, 23, 24], left: [27, 30, 33, 32, 31], mirrored: [27, 30, 33, 34, 35] },
  mouth: { cfp: [25, 26, 27, 28, 29], left: [48, 51, 62, 57, 66], mirrored: [54, 51, 62, 57, 66] },
  chin: { cfp: [8], left: [8], mirrored: [8] },
};
const PART_NAMES = Object.keys(PARTS);
/** The matched points, in one order: CFP indices and their iBUG-68 counterparts. */
const MATCHED = { cfp: PART_NAMES.flatMap((p) => PARTS[p].cfp), left: PART_NAMES.flatMap((p) => PARTS[p].left), mirrored: PART_NAMES.flatMap((p) => PARTS[p].mirrored) };
const CFP_EYE = PARTS.eye.cfp, CFP_NASION = 18, CFP_NOSE_TIP = 21, CFP_MOUTH_CORNER = 25;

interface Photo { file: string; person: string; truth: Point[]; mirrored: boolean; iod: number; dense?: Point[]; five?: Landmarks5; detectMs: number }
/** One setting's points for the photos (undefined where no face was found). */
type Run = { model: string; passes: number; flip: boolean; refineEyes: boolean; points: (Point[] | undefined)[]; msPerFace: number };

const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const centre = (pts: Point[]): Point => [mean(pts.map((p) => p[0])), mean(pts.map((p) => p[1]))];

function frontalRows(): { file: string; person: string }[] {
  const rows = readFileSync(path.join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const chosen = new Set([...new Set(rows.map((r) => r[1]))].slice(0, people));
  return rows.filter((r) => r[r.length - 1] === 'frontal' && chosen.has(r[1])).map((r) => ({ file: r[0], person: r[1] }));
}

/** The fiducials of a photo, which half they mark, and the inter-ocular distance they imply. */
function readTruth(file: string): { truth: Point[]; mirrored: boolean; iod: number } {
  const txt = readFileSync(path.join(root, file.replace(/^Images/, 'Fiducials').replace(/\.jpg$/, '.txt')), 'utf8');
  const truth = txt.trim().split('\n').map((l) => l.split(',').map(Number) as Point);
  const eye = centre(CFP_EYE.map((i) => truth[i]));
  return { truth, mirrored: eye[0] > truth[CFP_NASION][0], iod: 2 * dist(eye, truth[CFP_NASION]) };
}

async function detectAll(pipeline: Pipeline): Promise<Photo[]> {
  const photos: Photo[] = [];
  for (const row of frontalRows()) {
    const t0 = performance.now();
    const res = await pipeline.detectFile(path.join(root, row.file)).catch(() => undefined);
    const detectMs = performance.now() - t0;
    const face = res && chooseFace(res.faces, res.width, res.height);
    photos.push({ file: row.file, person: row.person, ...readTruth(row.file), five: face?.landmarks5, detectMs });
  }
  return photos;
}

/** Per-part NME of one photo's 68 points against its fiducials. */
function denseErrors(p: Photo): Record<string, number> {
  return Object.fromEntries(PART_NAMES.map((part) => {
    const { cfp, left, mirrored } = PARTS[part];
    const ibug = p.mirrored ? mirrored : left;
    return [part, mean(cfp.map((c, k) => dist(p.truth[c], p.dense![ibug[k]]))) / p.iod];
  }));
}

/** NME of the points both schemes and MTCNN define (eye centre, nose tip, mouth corner), for the five points and for the 68. */
function sharedErrors(p: Photo): { five: number; dense: number } {
  const side = p.mirrored ? 1 : 0;
  const truth = [centre(CFP_EYE.map((i) => p.truth[i])), p.truth[CFP_NOSE_TIP], p.truth[CFP_MOUTH_CORNER]];
  const err = (pts: Landmarks5) => mean([pts[side], pts[2], pts[3 + side]].map((q, k) => dist(q, truth[k]))) / p.iod;
  return { five: err(p.five!), dense: err(fivePointsOf68(p.dense!)) };
}

/** Mean point spread of one person's shapes after similarity alignment to their mean, over `iod`. */
function spread(shapes: Point[][], iod: number): number {
  let ref = shapes[0];
  let aligned = shapes;
  for (let it = 0; it < 3; it++) {
    aligned = shapes.map((s) => s.map((q) => applyAffine(umeyama(s, ref), q)));
    ref = ref.map((_, i) => centre(aligned.map((s) => s[i])));
    // Keep the reference at the first shape's scale: the spread is in units of the person's eye distance.
    ref = ref.map((q) => applyAffine(umeyama(ref, shapes[0]), q));
  }
  return mean(aligned.flatMap((s) => s.map((q, i) => dist(q, ref[i])))) / iod;
}

/** Repeatability of the model (all 68, and the matched points) and of the hand-placed fiducials (matched points). */
function repeatability(photos: Photo[]) {
  const byPerson = new Map<string, Photo[]>();
  for (const p of photos.filter((q) => q.dense)) byPerson.set(p.person, [...(byPerson.get(p.person) ?? []), p]);
  const rows = [...byPerson.values()].filter((ps) => ps.length >= 3).map((ps) => {
    const iod = mean(ps.map((p) => p.iod));
    const matched = (p: Photo) => (p.mirrored ? MATCHED.mirrored : MATCHED.left).map((i) => p.dense![i]);
    // Photos marked on the other half hold mirrored point sets: keep the person's majority half.
    const majority = ps.filter((q) => q.mirrored).length * 2 > ps.length;
    const half = ps.filter((p) => p.mirrored === majority);
    return {
      all68: spread(ps.map((p) => p.dense!.slice(0, IBUG68_POINTS)), iod),
      matched: half.length >= 3 ? spread(half.map(matched), iod) : NaN,
      hand: half.length >= 3 ? spread(half.map((p) => MATCHED.cfp.map((i) => p.truth[i])), iod) : NaN,
    };
  });
  const ok = rows.filter((r) => Number.isFinite(r.matched));
  return { people: rows.length, perPerson: rows.map((r) => r.matched), all68: mean(rows.map((r) => r.all68)), matched: mean(ok.map((r) => r.matched)), hand: mean(ok.map((r) => r.hand)) };
}

/**
 * Every setting of `landmarks.passes` (1, 2) and `landmarks.flip` (off, on) of one model on the
 * photos' chosen faces, decoded as the pipeline decodes them, with the median milliseconds per face
 * on one core (crop + network, all passes and the mirrored runs); for the face mesh also two passes
 * with `landmarks.refineEyes` (the iris model placing the eye points), its time on top.
 */
async function allSettings(photos: Photo[], model: string): Promise<Run[]> {
  const landmarker = await DenseLandmarker.load(model, { threads: 1 });
  const runs: Run[] = [1, 2].flatMap((passes) => [false, true].map((flip) => ({ model, passes, flip, refineEyes: false, points: [] as (Point[] | undefined)[], msPerFace: 0 })));
  const eyes = model === 'facemesh' ? await EyeRefiner.load({ threads: 1 }) : undefined;
  if (eyes) runs.push({ model, passes: 2, flip: false, refineEyes: true, points: [], msPerFace: 0 });
  const times: number[][] = runs.map(() => []);
  for (const p of photos) {
    if (!p.five) {
      runs.forEach((r) => r.points.push(undefined));
      continue;
    }
    const img = await decodeImage(path.join(root, p.file), DEFAULTS.image);
    if (img.scale !== 1) throw new Error(`${p.file} was downscaled when decoded; this benchmark maps points at full size only.`);
    for (const flip of [false, true]) {
      let t = performance.now();
      const [first] = await landmarker.predict(img, [umeyama(p.five, landmarker.spec.template)], flip);
      const firstMs = performance.now() - t;
      t = performance.now();
      const [second] = await landmarker.predict(img, refinedCrops(landmarker.spec, [first], umeyama), flip);
      const secondMs = performance.now() - t;
      t = performance.now();
      const refined = eyes && !flip ? (await eyes.refine(img, [second]))[0] : undefined;
      const eyesMs = performance.now() - t;
      runs.forEach((r, i) => {
        if (r.flip !== flip) return;
        r.points.push(r.refineEyes ? refined : r.passes === 1 ? first : second);
        times[i].push(r.passes === 1 ? firstMs : firstMs + secondMs + (r.refineEyes ? eyesMs : 0));
      });
    }
  }
  await landmarker.dispose();
  await eyes?.dispose();
  runs.forEach((r, i) => (r.msPerFace = median(times[i])));
  return runs;
}

/** One setting's figures: per-part errors, the matched-point NME per photo, the shared-point errors and repeatability. */
function measure(photos: Photo[], run: Run) {
  const found = photos.map((p, i) => ({ ...p, dense: run.points[i] })).filter((p) => p.dense);
  const errors = found.map(denseErrors);
  const sizes = PART_NAMES.map((part) => PARTS[part].cfp.length);
  const overall = errors.map((e) => PART_NAMES.reduce((s, part, j) => s + e[part] * sizes[j], 0) / MATCHED.cfp.length);
  return { run, found: found.length, persons: found.map((p) => p.person), errors, overall, shared: found.map(sharedErrors), rep: repeatability(found) };
}

const fmt = (x: number) => x.toFixed(3);

function report(m: ReturnType<typeof measure>): void {
  const stats = (xs: number[]) => `${fmt(mean(xs))} | ${fmt(median(xs))} | ${fmt(quantile(xs, 0.9))}`;
  console.log(`  ${m.run.model}, ${m.run.passes} pass${m.run.passes > 1 ? 'es' : ''}${m.run.flip ? ' with flip' : ''}${m.run.refineEyes ? ' with eye refinement' : ''}, ${m.found} faces: error vs hand-placed fiducials / inter-ocular distance (mean | median | 90th pct):`);
  for (const part of PART_NAMES) console.log(`    ${part.padEnd(6)} (${PARTS[part].cfp.length} pts) ${stats(m.errors.map((e) => e[part]))}`);
  console.log(`    all matched (${MATCHED.cfp.length} pts) ${stats(m.overall)}; photos above 0.10: ${((100 * m.overall.filter((x) => x > 0.1).length) / m.overall.length).toFixed(1)}%`);
  const five = m.shared.map((s) => s.five), dense = m.shared.map((s) => s.dense);
  console.log(`    eye centre + nose tip + mouth corner: MTCNN's five points ${fmt(mean(five))} (median ${fmt(median(five))}); the model's ${fmt(mean(dense))} (median ${fmt(median(dense))})`);
  console.log(`    repeatability over ${m.rep.people} people (mean distance to the person's aligned mean shape / IOD): all 68 points ${fmt(m.rep.all68)}; matched points ${fmt(m.rep.matched)} vs hand-placed ${fmt(m.rep.hand)}`);
  console.log(`    cost ${m.run.msPerFace.toFixed(2)} ms per face on one core (budget 15 ms)`);
}

const t0 = performance.now();
const pipeline = await Pipeline.create({ detectOnly: true, config: { embed: { intraOpThreads: 1 } } });
const photos = await detectAll(pipeline);
await pipeline.close();
const models = Object.keys(DENSE_LANDMARK_MODELS);
const measured: ReturnType<typeof measure>[] = [];
for (const model of models) measured.push(...(await allSettings(photos, model)).map((run) => measure(photos, run)));
console.log(`CFP-dev dense landmarks, models ${models.join(', ')} (${await machineLine()}): ${people} people, ${photos.length} frontal photos, a face in ${photos.filter((p) => p.five).length}; detection ${median(photos.map((p) => p.detectMs)).toFixed(1)} ms per photo (median); ${((performance.now() - t0) / 1000).toFixed(0)} s`);
measured.forEach(report);
/**
 * Paired difference of two models' per-photo errors (same photos, same faces), `b - a`, for the
 * matched points and for the chin: mean with a 95% interval from a bootstrap over people (photos of
 * one person are not independent).
 */
function pairedDifference(a: ReturnType<typeof measure>, b: ReturnType<typeof measure>): string {
  const people = [...new Set(a.persons)];
  const rows = people.map((person) => a.persons.flatMap((q, i) => (q === person ? [i] : [])));
  const diff = (pick: (m: ReturnType<typeof measure>, i: number) => number) => {
    const per = rows.map((idx) => idx.map((i) => pick(b, i) - pick(a, i)));
    const stat = (drawn: readonly number[]) => mean(drawn.flatMap((r) => per[r]));
    const ci = percentileInterval(subjectBootstrap([people.map((_, r) => r)], 2000, mulberry32(15), stat), 0.95, 1)!;
    return `${fmt(stat(people.map((_, r) => r)))} [${fmt(ci[0])}, ${fmt(ci[1])}]`;
  };
  // Repeatability per person (people with >= 3 photos on one half; the same people for both models).
  const reps = b.rep.perPerson.map((v, r) => v - a.rep.perPerson[r]).filter(Number.isFinite);
  const stat = (drawn: readonly number[]) => mean(drawn.map((r) => reps[r]));
  const ci = percentileInterval(subjectBootstrap([reps.map((_, r) => r)], 2000, mulberry32(16), stat), 0.95, 1)!;
  return `matched points ${diff((m, i) => m.overall[i])}, chin ${diff((m, i) => m.errors[i].chin)}; repeatability ${fmt(stat(reps.map((_, r) => r)))} [${fmt(ci[0])}, ${fmt(ci[1])}] over ${reps.length} people`;
}

// The figure: each model at the configured passes and flip; the configured model is the default.
const atDefaults = (model: string, refineEyes = DEFAULTS.landmarks.refineEyes) => measured.find((x) => x.run.model === model && x.run.passes === DEFAULTS.landmarks.passes && x.run.flip === DEFAULTS.landmarks.flip && x.run.refineEyes === refineEyes)!;
for (const model of models.filter((m) => m !== DEFAULTS.landmarks.model)) {
  const [a, b] = [atDefaults(DEFAULTS.landmarks.model), atDefaults(model)];
  if (a.persons.join() !== b.persons.join()) throw new Error('the models were measured on different faces');
  console.log(`${model} - ${DEFAULTS.landmarks.model}, error per photo and repeatability per person (mean [95% interval, bootstrap over people]): ${pairedDifference(a, b)}`);
}
const withEyes = measured.find((x) => x.run.refineEyes);
if (withEyes) {
  const plain = measured.find((x) => x.run.model === withEyes.run.model && !x.run.refineEyes && x.run.passes === withEyes.run.passes && x.run.flip === withEyes.run.flip)!;
  console.log(`${withEyes.run.model} with eye refinement - without, error per photo and repeatability per person: ${pairedDifference(plain, withEyes)}; eye part alone: ${fmt(mean(withEyes.errors.map((e) => e.eye)))} vs ${fmt(mean(plain.errors.map((e) => e.eye)))}`);
}
for (const model of models) {
  const m = atDefaults(model);
  console.log(`landmarks: ${model}${model === DEFAULTS.landmarks.model ? ' (default)' : ''}, ${m.run.passes} pass(es)${m.run.flip ? ' with flip' : ''}: NME ${fmt(mean(m.overall))} (median ${fmt(median(m.overall))}) on ${MATCHED.cfp.length} CFP fiducials, repeatability ${fmt(m.rep.matched)} (hand-placed ${fmt(m.rep.hand)}), ${m.run.msPerFace.toFixed(2)} ms/face`);
}
