/**
 * How much of a planted change the dense landmarks see. `phenoface synth` plants one region at a
 * time, at strength 1, in half of CFP-dev's first PEOPLE people (their first 4 frontal photos),
 * and each anthropometric panel measurement (`features/anthropometry.ts`) of every photo is
 * compared with the same measurement on its source photo, for each landmark model (and the face
 * mesh with its eyes placed by the iris model, `landmarks.refineEyes`). A model that
 * follows the face shows the planted change (at strength 1, before each person's 0.8-1.2 jitter:
 * palpebral fissures 12% shorter, alar base 25% narrower with a 35% larger tip and a 30% wider
 * nasal root, mouth 22% narrower, chin lower by 0.08 eye-to-mouth distances:
 * `workflows/synth/params.ts`); one held by its shape prior shows next to nothing. Controls pass
 * through the same resampling unchanged, so their column is the measurement's noise floor.
 *
 *   npx tsx scripts/measure-landmark-tracking.ts [PEOPLE=20]
 *
 * Needs the shared data folder and the built models; the planted sets go to a temporary folder
 * that is removed afterwards. Prints, per model and planted region, each measurement's mean
 * relative change (planted photo over its source, minus 1) for the planted people and the controls.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireShared } from '../bench/common.ts';
import { MEASUREMENTS, measurePanel } from '../src/features/anthropometry.ts';
import { chooseFace, Pipeline, type DetectResult } from '../src/pipeline/pipeline.ts';
import type { Point } from '../src/types.ts';
import { readSynthInput, synthesize, SYNTH_REGIONS, type Truth } from '../src/workflows/synth/index.ts';

const people = Number(process.argv[2] ?? 20);
const cfp = requireShared('data/cfp-dev');
const input = await readSynthInput(path.join(cfp, 'Images'));
const wanted = new Set([...new Set(input.rows.map((r) => r.subject))].sort().slice(0, people));
const perSubject = new Map<string, number>();
const rows = input.rows.filter((r) => {
  if (!wanted.has(r.subject) || !r.path.includes('/frontal/')) return false;
  perSubject.set(r.subject, (perSubject.get(r.subject) ?? 0) + 1);
  return perSubject.get(r.subject)! <= 4;
});
const work = mkdtempSync(path.join(os.tmpdir(), 'phenoface-tracking-'));
const MODELS = [{ model: 'facemesh', flip: false, refineEyes: false }, { model: 'facemesh', flip: false, refineEyes: true }, { model: 'face-landmark68', flip: true, refineEyes: false }] as const;

try {
  const detector = await Pipeline.create({ detectOnly: true, landmarks: true });
  const detections = new Map<string, Promise<DetectResult>>();
  const detect = (p: string) => detections.get(p) ?? detections.set(p, detector.detectFile(p)).get(p)!;
  const planted: { region: string; dir: string; truth: Truth }[] = [];
  for (const region of SYNTH_REGIONS) {
    const dir = path.join(work, region);
    await synthesize({ rows, outDir: dir, regions: [region], strength: 1, seed: 1, sourceName: 'cfp-dev/Images', detect, chooseFace });
    planted.push({ region, dir, truth: JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')) as Truth });
  }
  await detector.close();
  for (const landmarks of MODELS) {
    const pipeline = await Pipeline.create({ detectOnly: true, landmarks: true, config: { landmarks } });
    const points = async (file: string): Promise<readonly Point[] | undefined> => {
      const r = await pipeline.detectFile(file);
      return chooseFace(r.faces, r.width, r.height)?.landmarksDense;
    };
    const sources = new Map<string, (number | null)[] | undefined>();
    for (const { region, dir, truth } of planted) {
      const change = MEASUREMENTS.map(() => ({ planted: [] as number[], control: [] as number[] }));
      for (const photo of truth.photos) {
        const src = input.rows.find((r) => r.path === photo.source)!.absPath;
        if (!sources.has(src)) sources.set(src, await points(src).then((p) => p && measurePanel(p, 'frontal')));
        const after = await points(path.join(dir, photo.path));
        const before = sources.get(src);
        if (!after || !before) continue;
        measurePanel(after, 'frontal').forEach((v, k) => {
          if (v !== null && before[k] !== null) change[k][photo.label === 'control' ? 'control' : 'planted'].push(v / before[k]! - 1);
        });
      }
      const pct = (xs: number[]) => (xs.length ? `${((100 * xs.reduce((a, b) => a + b, 0)) / xs.length).toFixed(1)}%` : 'n/a');
      console.log(`\n${landmarks.model}${landmarks.refineEyes ? ' with refineEyes' : ''}, ${region} planted at strength 1 (${truth.photos.length} photos): mean change, planted / controls`);
      MEASUREMENTS.forEach((m, k) => change[k].planted.length && console.log(`  ${m.name.padEnd(32)} ${pct(change[k].planted).padStart(7)} / ${pct(change[k].control)}`));
    }
    await pipeline.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
