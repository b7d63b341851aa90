/**
 * Known-answer test of the ranked differential: `phenoface synth --classes` plants three synthetic
 * "syndromes" in CFP's people (each a different combination of regions and strengths) and leaves a
 * quarter untouched as controls; `study` with its defaults (ranker `auto`, 5-fold x 5 subject-
 * grouped CV, 1,000-replicate subject bootstrap; no permutation test) ranks the four classes. Prints
 * top-1 and top-3 per person and per photo beside chance (1/4 and 3/4 for a random ranking, and the
 * majority class), then the per-class figures, then the figure last.
 *
 * Frontal photos only, and RANK_PHOTOS of each person's, to keep the run short. The planted set and
 * the embedding cache stay in the work folder, so a re-run costs only the cross-validation.
 *
 * Env: RANK_SUBJECTS (default 80 of CFP's people, the first by id), RANK_PHOTOS (10 frontal photos
 * each), RANK_SEED (1), RANK_WORK (default $TMPDIR/phenoface-bench-rank; never inside the
 * repository: the photos are CFP's).
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Estimate } from '../src/evaluate/crossval.ts';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import { runStudy } from '../src/workflows/study/study.ts';
import { parseClassSpec, readSynthInput, synthesize, SYNTH_LABELS, type Truth } from '../src/workflows/synth/index.ts';
import { envInt, machineLine, requireShared } from './common.ts';

const CLASSES = 'orbital:periorbital=1,nasal:perinasal=1,oral:perioral=1+facelength=1';
const FRACTION = 0.75;

const cfp = requireShared('data/cfp-dev');
const subjectsWanted = envInt('RANK_SUBJECTS', 80, 12);
const photosWanted = envInt('RANK_PHOTOS', 10, 1);
const seed = envInt('RANK_SEED', 1, 0);
const work = path.resolve(process.env.RANK_WORK ?? path.join(os.tmpdir(), 'phenoface-bench-rank'));
const secs = (t: number) => (performance.now() - t) / 1000;

console.log(`machine: ${await machineLine()}`);
const input = await readSynthInput(path.join(cfp, 'Images'));
const subjects = [...new Set(input.rows.map((r) => r.subject))].sort().slice(0, subjectsWanted);
const keep = new Set(subjects);
const taken = new Map<string, number>();
const rows = input.rows.filter((r) => {
  if (!keep.has(r.subject) || r.view !== 'frontal' || (taken.get(r.subject) ?? 0) >= photosWanted) return false;
  taken.set(r.subject, (taken.get(r.subject) ?? 0) + 1);
  return true;
});
console.log(`data: CFP ${subjects.length} people (${subjects[0]}..${subjects.at(-1)}), ${rows.length} frontal photos; classes ${CLASSES} plus ${SYNTH_LABELS.control}; seed ${seed}; work folder ${work}`);

const t0 = performance.now();
const planted = path.join(work, 'planted');
const truthFile = path.join(planted, 'truth.json');
const same = existsSync(truthFile) && (() => {
  const t = JSON.parse(readFileSync(truthFile, 'utf8')) as Truth;
  return t.options.seed === seed && JSON.stringify(t.options.classes) === JSON.stringify(parseClassSpec(CLASSES, SYNTH_LABELS.control)) && t.photos.length + t.skipped.length === rows.length;
})();
if (!same) {
  await rm(planted, { recursive: true, force: true });
  // With the dense landmarks: their five points anchor the planted warps, as they align the embedding.
  const detector = await Pipeline.create({ detectOnly: true, landmarks: true });
  try {
    const r = await synthesize({ rows, outDir: planted, classes: parseClassSpec(CLASSES, SYNTH_LABELS.control), fraction: FRACTION, seed, sourceName: 'cfp-dev/Images', detect: (p) => detector.detectFile(p), chooseFace });
    console.log(`synth wrote ${r.written} photos, ${r.failed} skipped, in ${secs(t0).toFixed(0)} s`);
  } finally {
    await detector.close();
  }
} else {
  console.log(`planted set reused from ${planted}`);
}

const t1 = performance.now();
const study = await runStudy({
  source: path.join(planted, 'manifest.csv'), out: path.join(work, 'study'), cache: path.join(work, 'cache.sqlite'),
  seed, permutations: 0, explain: false, synthetic: true, quiet: true, log: { err: (s) => process.stderr.write(s), isTTY: false },
});
const ranking = study.ranking!.result.metrics;
const f3 = (e: Estimate) => `${e.value === null ? 'n/a' : e.value.toFixed(3)}${e.ci95 ? ` [${e.ci95[0].toFixed(3)}, ${e.ci95[1].toFixed(3)}]` : ''}`;
console.log(`study: ${study.used.length} photos of ${ranking.classes.reduce((a, c) => a + ranking.perClass[c].support.subjects, 0)} people, ${secs(t1).toFixed(0)} s; ranker chosen per fold: ${JSON.stringify(study.ranking!.metrics.familiesChosen)}`);
console.log('');
console.log('| level | top-1 [95% CI] | top-3 [95% CI] | chance top-1 / top-3 | majority class top-1 |');
console.log('|---|---|---|---|---|');
for (const level of ['subject', 'photo'] as const) {
  console.log(`| ${level === 'subject' ? 'per person' : 'per photo'} | ${f3(ranking[level].top1)} | ${f3(ranking[level].top3)} | ${ranking.chance.uniform.top1.toFixed(3)} / ${ranking.chance.uniform.top3.toFixed(3)} | ${ranking.chance.majority[level].toFixed(3)} |`);
}
console.log('');
console.log('| class | people | AUC per person [95% CI] | sensitivity per person |');
console.log('|---|---|---|---|');
for (const c of ranking.classes) console.log(`| ${c} | ${ranking.perClass[c].support.subjects} | ${f3(ranking.perClass[c].subject.auc)} | ${f3(ranking.perClass[c].subject.sensitivity)} |`);
console.log('');
console.log(`bench:rank CFP ${subjects.length} people, ${ranking.classes.length} classes: top-1 per person ${ranking.subject.top1.value?.toFixed(3)}, top-3 ${ranking.subject.top3.value?.toFixed(3)} (chance ${ranking.chance.uniform.top1.toFixed(3)} / ${ranking.chance.uniform.top3.toFixed(3)}) (${(secs(t0) / 60).toFixed(1)} min)`);
