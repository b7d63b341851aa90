/**
 * `npm run bench:face-size`: how small a face can be and still be measured. CFP-dev's frontal photos
 * (faces about 170 px across) are scaled down so that the chosen face's shorter box side is S px,
 * and every measurement of the anthropometric panel is taken again from the dense landmarks found
 * there, by the pipeline as `screen` runs it. Its error at S px is the root mean square of the
 * difference from the same photo's full-size value, in units of the measurement's spread between
 * people (the SD of the people's full-size means): a z-score is a value over that spread, so an
 * error of 0.5 already adds half a standard deviation of noise to every z of that photo.
 *
 * The figure: the smallest face side at which every measurement's error is at most half the
 * spread between people, the value `measurements.minFaceSidePx` takes.
 *
 *   FACE_SIZE_PEOPLE=30 npm run bench:face-size     (people, 10 frontal photos each; default 30)
 *
 * Skips with a message when the shared data are absent. Prints the figure last.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULTS } from '../src/config.ts';
import { MEASUREMENTS, measurePanel } from '../src/features/anthropometry.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import { envInt, machineLine, median, requireShared } from './common.ts';

const root = requireShared('data/cfp-dev');
const people = envInt('FACE_SIZE_PEOPLE', 30, 3);
const SIZES = [24, 32, 40, 48, 64, 80, 96];
/** Error, in units of the spread between people, that a measurable face may add at most. */
const MAX_ERROR = 0.5;

const rows = readFileSync(path.join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const chosen = new Set([...new Set(rows.map((r) => r[1]))].slice(0, people));
const files = rows.filter((r) => r[r.length - 1] === 'frontal' && chosen.has(r[1])).map((r) => ({ file: r[0], person: r[1] }));

type Panel = (number | null)[];
const t0 = performance.now();
const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true });
const full: { person: string; panel: Panel; side: number }[] = [];
const scaled = new Map<number, (Panel | undefined)[]>(SIZES.map((s) => [s, []]));
for (const f of files) {
  const bytes = readFileSync(path.join(root, f.file));
  const found = await pipeline.detectFile(bytes);
  const face = chooseFace(found.faces, found.width, found.height);
  if (!face?.landmarksDense) continue;
  const side = Math.min(face.box.width, face.box.height);
  full.push({ person: f.person, panel: measurePanel(face.landmarksDense, 'frontal'), side });
  for (const s of SIZES) {
    const small = await sharp(bytes).resize(Math.max(1, Math.round((found.width * s) / side))).jpeg({ quality: 95 }).toBuffer();
    const at = await pipeline.detectFile(small).catch(() => undefined);
    const f2 = at && chooseFace(at.faces, at.width, at.height);
    scaled.get(s)!.push(f2?.landmarksDense ? measurePanel(f2.landmarksDense, 'frontal') : undefined);
  }
}
await pipeline.close();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));
/** Per measurement: its spread between people, and its error at each size in units of that spread. */
const table = MEASUREMENTS.flatMap((m, j) => {
  const byPerson = new Map<string, number[]>();
  for (const x of full) if (x.panel[j] !== null) byPerson.set(x.person, [...(byPerson.get(x.person) ?? []), x.panel[j]!]);
  const means = [...byPerson.values()].map(mean);
  if (means.length < 3) return [];
  const between = sd(means);
  const errors = SIZES.map((s) => {
    const d = scaled.get(s)!.flatMap((p, i) => (p && p[j] !== null && full[i].panel[j] !== null ? [p[j]! - full[i].panel[j]!] : []));
    return d.length > 2 ? Math.sqrt(mean(d.map((x) => x * x))) / between : NaN;
  });
  return [{ name: m.name, between, errors }];
});

console.log(`bench:face-size on ${await machineLine()}: CFP-dev ${people} people, ${full.length} frontal photos, faces ${median(full.map((x) => x.side)).toFixed(0)} px across (median); ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log('');
console.log(`| measurement | spread between people (reference lengths) | ${SIZES.map((s) => `error at ${s} px`).join(' | ')} |`);
console.log(`|---|---|${SIZES.map(() => '---').join('|')}|`);
for (const r of table) console.log(`| ${r.name} | ${r.between.toFixed(4)} | ${r.errors.map((e) => (Number.isFinite(e) ? e.toFixed(2) : 'n/a')).join(' | ')} |`);
console.log(`| faces found | | ${SIZES.map((s) => `${scaled.get(s)!.filter(Boolean).length}/${full.length}`).join(' | ')} |`);
console.log('');
const worst = SIZES.map((_, k) => Math.max(...table.map((r) => r.errors[k])));
const smallest = SIZES.find((_, k) => SIZES.slice(k).every((__, q) => worst[k + q] <= MAX_ERROR));
console.log(`bench:face-size: every measurement's error from the face's size is at most ${MAX_ERROR} of the spread between people from ${smallest ?? `over ${SIZES.at(-1)}`} px across (worst at each size: ${SIZES.map((s, k) => `${s} px ${worst[k].toFixed(2)}`).join(', ')}); measurements.minFaceSidePx is ${DEFAULTS.measurements.minFaceSidePx}`);
