/**
 * Power curve of the planted phenotype: `phenoface synth` plants the 22q11.2DS-like warp
 * in half of CFP's people at strengths 0, 0.25, 0.5, 0.75 and 1, and `study` with its defaults
 * (subject-grouped CV, 10 folds x 3 repeats; 1,000-replicate subject bootstrap) measures how well it is found, on frontal photos
 * only and on all views. Strength 0 is the null (its CI must cover 0.5); AUC should rise with strength.
 * The study runs with `--features auto`; its comparison scores every representation (embedding,
 * region-pooled maps, geometry when installed, and their stacked fusions) on the same folds, so one
 * run gives the power curve of each representation beside that of `auto`.
 *
 * Cost: one seed picks the same affected people at every strength, so the controls' photos are
 * byte-identical across strengths and the content-keyed embedding cache embeds them once; at
 * strength 0 the "cases" are their untouched photos. That is about 3x (not 5x) the photos embedded,
 * and the frontal-only study reuses the all-views embeddings. Detection on the source photos is
 * shared by the five synth runs. The cache and planted sets stay in the work folder, so a re-run
 * costs only the cross-validation.
 *
 * Env: SYNTH_SUBJECTS (default 100 of CFP's 250 people, the first by id), SYNTH_SEED (1),
 * SYNTH_STRENGTHS (default 0,0.25,0.5,0.75,1), SYNTH_REPEATS (K-fold repeats, default the study's),
 * SYNTH_WORK (default $TMPDIR/phenoface-bench-synth; never inside the repository: the photos are
 * CFP's). Prints a table, then the figure last.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS } from '../src/config.ts';
import { chooseFace, Pipeline, type DetectResult } from '../src/pipeline/pipeline.ts';
import { runStudy, type StudyResult } from '../src/workflows/study/study.ts';
import { readSynthInput, synthesize, SYNTH_REGIONS, type Truth } from '../src/workflows/synth/index.ts';
import { envInt, machineLine, requireShared } from './common.ts';

const STRENGTHS = (process.env.SYNTH_STRENGTHS ?? '0,0.25,0.5,0.75,1').split(',').map(Number);
const VIEWS = [{ name: 'frontal', frontalOnly: true }, { name: 'all views', frontalOnly: false }] as const;
const STUDY = { folds: DEFAULTS.evaluate.folds, repeats: envInt('SYNTH_REPEATS', DEFAULTS.evaluate.repeats, 1), bootstrap: DEFAULTS.evaluate.bootstrap, permutations: 0, explain: false as const };

const cfp = requireShared('data/cfp-dev');
const subjectsWanted = envInt('SYNTH_SUBJECTS', 100, 10);
const seed = envInt('SYNTH_SEED', 1, 0);
const work = path.resolve(process.env.SYNTH_WORK ?? path.join(os.tmpdir(), 'phenoface-bench-synth'));
const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');
const secs = (t: number) => (performance.now() - t) / 1000;

console.log(`machine: ${await machineLine()}; load average at start ${load()}`);
const input = await readSynthInput(path.join(cfp, 'Images'));
const subjects = [...new Set(input.rows.map((r) => r.subject))].sort().slice(0, subjectsWanted);
const keep = new Set(subjects);
const rows = input.rows.filter((r) => keep.has(r.subject));
console.log(`data: CFP ${subjects.length} people (${subjects[0]}..${subjects.at(-1)}), ${rows.length} photos; seed ${seed}; work folder ${work}`);

const t0 = performance.now();
// With the dense landmarks: their five points anchor the planted warps, as they align the embedding.
const detector = await Pipeline.create({ detectOnly: true, landmarks: true });
const detections = new Map<string, Promise<DetectResult>>();
const detect = (p: string) => {
  if (!detections.has(p)) detections.set(p, detector.detectFile(p));
  return detections.get(p)!;
};

/** A planted set is reused when its truth.json was made with the same options from the same photos. */
function reusable(dir: string, strength: number): boolean {
  const file = path.join(dir, 'truth.json');
  if (!existsSync(file)) return false;
  const t = JSON.parse(readFileSync(file, 'utf8')) as Truth;
  const sources = new Set([...t.photos.map((p) => p.source), ...t.skipped.map((s) => s.path)]);
  return t.options.strength === strength && t.options.seed === seed && t.options.regions.length === SYNTH_REGIONS.length &&
    sources.size === rows.length && rows.every((r) => sources.has(r.path));
}

interface Row { strength: number; views: string; study: StudyResult; embedded: number; seconds: number }
const results: Row[] = [];
const cache = path.join(work, 'cache.sqlite');
try {
  for (const strength of STRENGTHS) {
    const dir = path.join(work, `strength-${strength}`);
    let t = performance.now();
    if (!reusable(dir, strength)) {
      await rm(dir, { recursive: true, force: true });
      const r = await synthesize({
        rows, outDir: dir, regions: [...SYNTH_REGIONS], strength, seed, sourceName: 'cfp-dev/Images',
        detect, chooseFace,
      });
      console.log(`strength ${strength}: synth wrote ${r.written} photos, ${r.failed} skipped, in ${secs(t).toFixed(0)} s (load ${load()})`);
    } else {
      console.log(`strength ${strength}: planted set reused from ${dir}`);
    }
    for (const v of VIEWS) {
      t = performance.now();
      const study = await runStudy({
        source: path.join(dir, 'manifest.csv'), out: path.join(dir, v.frontalOnly ? 'study-frontal' : 'study-all'), positive: 'vcfs',
        cache, frontalOnly: v.frontalOnly, seed, synthetic: true, ...STUDY,
        log: { err: (s) => process.stderr.write(s), isTTY: false }, quiet: true,
      });
      const embedded = study.photos.filter((p) => !p.cached).length;
      results.push({ strength, views: v.name, study, embedded, seconds: secs(t) });
      const a = study.result.subject.auc;
      console.log(`strength ${strength}, ${v.name}: subject AUC ${a.value?.toFixed(3)} [${a.ci95?.map((x) => x.toFixed(3)).join(', ')}]; ${embedded} photos embedded, ${study.photos.length - embedded} from cache; ${secs(t).toFixed(0)} s (load ${load()})`);
    }
  }
} finally {
  await detector.close();
}

const f3 = (v: number | null) => (v === null ? ' n/a ' : v.toFixed(3));
const est = (e: { value: number | null; ci95: [number, number] | null }) => `${f3(e.value)} [${e.ci95 ? `${f3(e.ci95[0])}, ${f3(e.ci95[1])}` : 'n/a'}]`;
console.log('');
console.log('| strength | views | people (vcfs/control) | photos | subject AUC [95% CI] | photo AUC [95% CI] |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  const s = r.study.result.subject;
  console.log(`| ${r.strength} | ${r.views} | ${s.n.units} (${s.n.positive}/${s.n.negative}) | ${r.study.used.length} | ${est(s.auc)} | ${est(r.study.result.photo.auc)} |`);
}
console.log('');
for (const v of VIEWS) {
  const curve = results.filter((r) => r.views === v.name).map((r) => r.study.result.subject.auc);
  const ci0 = curve[0].ci95;
  const rising = curve.every((e, i) => i === 0 || (e.value ?? 0) >= (curve[i - 1].value ?? 0));
  console.log(`${v.name}: strength 0 CI ${ci0 && ci0[0] <= 0.5 && ci0[1] >= 0.5 ? 'covers' : 'does NOT cover'} 0.5; AUC ${rising ? 'rises' : 'does NOT rise'} monotonically with strength`);
}
const total = secs(t0);
console.log(`embedded ${results.reduce((a, r) => a + r.embedded, 0)} photos in all (the rest from the cache); load average at end ${load()}`);
console.log('');
const labels = [...new Set(results.flatMap((r) => r.study.result.features?.representations.map((x) => x.label) ?? []))];
console.log(`| views | representation | ${STRENGTHS.map((x) => `AUC at ${x}`).join(' | ')} |`);
console.log(`|---|---|${STRENGTHS.map(() => '---').join('|')}|`);
for (const v of VIEWS) {
  const rowsOf = results.filter((r) => r.views === v.name);
  console.log(`| ${v.name} | auto (fitted per fold) | ${rowsOf.map((r) => est(r.study.result.subject.auc)).join(' | ')} |`);
  for (const label of labels) {
    console.log(`| ${v.name} | ${label} | ${rowsOf.map((r) => { const x = r.study.result.features?.representations.find((y) => y.label === label); return x ? est(x.subject) : 'n/a'; }).join(' | ')} |`);
  }
}
const fig = (views: string) => results.filter((r) => r.views === views).map((r) => f3(r.study.result.subject.auc.value)).join('/');
console.log(`bench:synth CFP ${subjects.length} people, ${STUDY.folds}x${STUDY.repeats} CV, subject AUC (auto) at strength ${STRENGTHS.join('/')}: frontal ${fig('frontal')}, all views ${fig('all views')} (${(total / 60).toFixed(1)} min)`);
