/**
 * Benchmarks of the explanations.
 *
 * 1. Speed: map + regions per photo (one aligned face per call, as `screen` does) on CFP frontal
 *    faces: the 7x7 Grad-CAM (backbone forward with the feature map, exact gradient, 112x112
 *    upsampling, region shares) and screen's default, contrastive HiResCAM on the 14x14 block
 *    (forward with the block's tensors, exact backward through the tail in onnxruntime); the peer is the
 *    plain embedding of the same face. Target <= 300 ms on 2 cores. Overlay drawing and PNG
 *    encoding are timed separately.
 * 2. Planted regions: `phenoface synth` sets from CFP frontal photos (4 per subject, 250
 *    subjects; perinasal-only and periorbital-only, strength 0.6, half the subjects affected), each
 *    run through `study` with its explanation analysis: the study's map (contrastive HiResCAM on
 *    the 14x14 block) for every photo of the sample, and for comparison the 7x7 Grad-CAM, the
 *    14x14 Grad-CAM and HiResCAM for every correctly classified positive, and the 14x14 occlusion
 *    maps ($PHENOFACE_BENCH_MAPS photos, default 60). Target: the planted region is the
 *    top-ranked region for >= 80% of correctly classified positive photos, and the shuffled-label
 *    model shows no such preference (here: under half that rate).
 *
 *    Beside the maps, the geometry explanation (each region's exact contribution to the log-odds
 *    of the model's geometry part): from the chosen model when it has that part, and from a
 *    geometry-only study of the same set, whose regions `screen --explain` ranks by it.
 *
 * Work files go to $PHENOFACE_BENCH_DIR (default: a folder in the OS temp dir) and are reused
 * when present (synth sets and study embedding caches), so a re-run costs minutes, not tens.
 * Needs /work/shared (or $PHENOFACE_SHARED) with cfp-dev; prints the planted-region figure last.
 * $PHENOFACE_BENCH_REGIONS (e.g. `perinasal`) runs only some of the planted sets;
 * $PHENOFACE_BENCH_FEATURES (default `auto`) is the studies' `--features`: the heat maps explain
 * the embedding's part of the chosen model.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClassifier } from '../src/classify/index.ts';
import { groupedStratifiedKFold } from '../src/evaluate/splits.ts';
import { classifierScorer, Explainer } from '../src/explain/explainer.ts';
import { alignedOverlay, photoOverlay } from '../src/explain/overlay.ts';
import { decodeImage, encodePng } from '../src/image/index.ts';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { parseFeatures } from '../src/features/index.ts';
import { runStudy } from '../src/workflows/study/study.ts';
import type { StudyGeometryExplanation, TopRegionCounts } from '../src/explain/study-result.ts';
import { syntheticStudy } from '../test/unit/evaluate/synthetic-embeddings.ts';
import { machineLine, median, quantile, REPO, requireShared } from './common.ts';

const images = requireShared('data/cfp-dev/Images');
const work = process.env.PHENOFACE_BENCH_DIR ?? path.join(os.tmpdir(), 'phenoface-bench-explain');
mkdirSync(work, { recursive: true });
console.log(`machine: ${await machineLine()}; work folder ${work}`);

// ---- 1. speed -------------------------------------------------------------------------------
const subjects = readdirSync(images).sort();
const speedFiles = subjects.slice(0, 40).map((s) => path.join(images, s, 'frontal', '01.jpg'));
const pipeline = await Pipeline.create();
const faces = [];
for (const f of speedFiles) {
  try {
    faces.push({ file: f, res: await pipeline.embedFile(f) });
  } catch {
    // a photo without a detectable face is simply not timed
  }
}
const toy = syntheticStudy({ subjects: 30, photosPerSubject: 2, dim: 192, signal: 3, seed: 1 });
const model = createClassifier('logistic', { grid: [1] }).fit(toy.X, toy.y, toy.subjects, { seed: 1, innerFolds: 3, split: groupedStratifiedKFold, grid: [1] });
const explainer = Explainer.create(pipeline.backbone!);
await explainer.loadFineLayer();
// A reference as a study's controls would give: the mean 14x14 map of the first ten faces.
const reference = (await explainer.meanFineMap(faces.slice(0, 10).map((f) => f.res.aligned.image))).data;
const scorer = classifierScorer(model);
const tExplain: number[] = [], tEmbed: number[] = [], tOverlay: number[] = [], tFine: number[] = [];
for (let round = 0; round < 2; round++) {
  for (const { file, res } of faces) {
    let t = performance.now();
    await pipeline.backbone!.embed([res.aligned.image]);
    const embedMs = performance.now() - t;
    t = performance.now();
    const [e] = await explainer.explain([res.aligned.image], scorer);
    const explainMs = performance.now() - t;
    t = performance.now();
    await explainer.explainFine(await explainer.forwardFine(res.aligned.image), scorer, 'hirescam', reference);
    const fineMs = performance.now() - t;
    t = performance.now();
    const img = await decodeImage(file, pipeline.config.image);
    const [a, b, c, d, ee, f] = res.aligned.matrix;
    await encodePng(photoOverlay(img, [a / img.scale, b / img.scale, c, d / img.scale, ee / img.scale, f], e.heat, e.size));
    await encodePng(alignedOverlay(res.aligned.image, e.heat));
    const overlayMs = performance.now() - t;
    if (round === 1) { tEmbed.push(embedMs); tExplain.push(explainMs); tOverlay.push(overlayMs); tFine.push(fineMs); } // round 0 warms up
  }
}
await explainer.dispose();
await pipeline.close();
const ms = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, p90 ${quantile(xs, 0.9).toFixed(1)} ms`;
console.log(`speed on ${tExplain.length} CFP frontal faces, one face per call:`);
console.log(`  peer: embedding only (backbone forward + L2): ${ms(tEmbed)}`);
console.log(`  Grad-CAM + regions (forward with features, exact gradient, 7x7 map, 112x112 upsampling, 9 region shares): ${ms(tExplain)}`);
console.log(`  contrastive HiResCAM 14x14 + regions (screen's default: forward with the 14x14 map and the tensors the backward pass reads, exact backward through the tail in onnxruntime, 112x112 upsampling, 9 region shares): ${ms(tFine)}`);
console.log(`  overlays (decode photo again, aligned + photo overlay, 2 PNGs): ${ms(tOverlay)}`);
console.log(`bench:explain speed: Grad-CAM 7x7 + regions ${median(tExplain).toFixed(1)} ms per photo, contrastive HiResCAM 14x14 + regions ${median(tFine).toFixed(1)} ms (target <= 300 ms)`);

// ---- 2. planted regions ----------------------------------------------------------------------
const run = promisify(execFile);
const bin = path.join(REPO, 'bin', 'phenoface.mjs');
const PHOTOS_PER_SUBJECT = 4;

/** CFP frontal photos copied into the work folder (synth refuses paths outside its manifest's folder). */
function controlsManifest(): string {
  const manifest = path.join(work, 'cfp-frontal.csv');
  if (existsSync(manifest)) return manifest;
  const rows = ['path,subject,view'];
  for (const s of subjects) {
    for (const f of readdirSync(path.join(images, s, 'frontal')).sort().slice(0, PHOTOS_PER_SUBJECT)) {
      const rel = `cfp/${s}/${f}`;
      mkdirSync(path.join(work, 'cfp', s), { recursive: true });
      copyFileSync(path.join(images, s, 'frontal', f), path.join(work, rel));
      rows.push(`${rel},cfp${s},frontal`);
    }
  }
  writeFileSync(manifest, rows.join('\n') + '\n');
  return manifest;
}

const PLANTED: Record<string, string[]> = { perinasal: ['perinasal'], periorbital: ['periorbital-left', 'periorbital-right'] };
const MAPS = Number(process.env.PHENOFACE_BENCH_MAPS ?? 60);
type Rate = { real: number; shuffled: number | null; n: number };
type Key = 'primary' | 'gradcam' | 'fine' | 'hires' | 'maps';
const METHODS: { key: Key; name: string }[] = [
  { key: 'primary', name: "the study's map" },
  { key: 'gradcam', name: 'Grad-CAM 7x7' },
  { key: 'fine', name: 'Grad-CAM 14x14' },
  { key: 'hires', name: 'HiResCAM 14x14' },
  { key: 'maps', name: '14x14 occlusion maps' },
];
const results: ({ region: string; cam: string } & Record<Key, Rate | null>)[] = [];
const geometryRates: { region: string; chosen: number | null; only: number | null; photos: number }[] = [];
const pctOf = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(0)}%`);
// PHENOFACE_BENCH_REGIONS (comma-separated) runs only some of the planted sets.
const only = process.env.PHENOFACE_BENCH_REGIONS?.split(',');
for (const [region, names] of Object.entries(PLANTED).filter(([r]) => !only || only.includes(r))) {
  const synthDir = path.join(work, `synth-${region}`);
  if (!existsSync(path.join(synthDir, 'manifest.csv'))) {
    rmSync(synthDir, { recursive: true, force: true });
    const t = performance.now();
    // exit code 3 = some photos failed (no face): the rest of the set is fine
    await run(process.execPath, [bin, 'synth', '--manifest', controlsManifest(), '--out', synthDir, '--regions', region, '--strength', '0.6', '--seed', '1', '--quiet'], { maxBuffer: 64 << 20 }).catch((err) => {
      if (err.code !== 3) throw err;
    });
    console.log(`synth ${region}: ${((performance.now() - t) / 1000).toFixed(0)} s`);
  }
  const t = performance.now();
  const study = await runStudy({
    source: path.join(synthDir, 'manifest.csv'),
    out: path.join(work, `study-${region}`),
    cache: path.join(work, `cache-${region}.sqlite`),
    seed: 1,
    synthetic: true,
    explain: { occlusionMapPhotos: MAPS, fineCamPhotos: 1000 },
    features: parseFeatures(process.env.PHENOFACE_BENCH_FEATURES ?? 'auto'),
    log: { err: () => {}, isTTY: false },
    quiet: true,
  });
  const chosen = (study.metrics as { features?: { final?: { features?: string[] } } }).features?.final?.features?.join('+') ?? 'embedding';
  console.log(`study ${region}: the final model learns from ${chosen}`);
  await measureGeometry(region, names, synthDir, study.geometryExplanation);
  if (!study.explanation) {
    console.log(`study ${region}: no heat-map analysis (the chosen features leave the embedding out); set PHENOFACE_BENCH_FEATURES=embedding to measure the maps`);
    continue;
  }
  const x = study.explanation;
  const sum = (rec: Record<string, number> | null | undefined) => (rec ? names.reduce((s, n) => s + rec[n], 0) : null);
  const rate = (t: TopRegionCounts | null): Rate | null => (t ? { real: sum(t.real)!, shuffled: sum(t.shuffled), n: t.photos } : null);
  const counts: Record<Key, TopRegionCounts | null> = { primary: x.topRegion, gradcam: x.gradcamTop, fine: x.fineCamTop, hires: x.fineHiResTop, maps: x.occlusionMapTop };
  const r = { region, cam: x.cam, ...(Object.fromEntries(METHODS.map((m) => [m.key, rate(counts[m.key])])) as Record<Key, Rate | null>) };
  results.push(r);
  const tops = (rec: Record<string, number>) => Object.entries(rec).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${pctOf(v)}`).join(', ');
  console.log(`study ${region} (strength 0.6): ${((performance.now() - t) / 1000).toFixed(0)} s; photo AUC ${study.result.photo.auc.value?.toFixed(3)} ` +
    `[${study.result.photo.auc.ci95?.map((v) => v.toFixed(3)).join(', ')}], subject AUC ${study.result.subject.auc.value?.toFixed(3)}; chance for the planted region ${pctOf(names.length / 9)}`);
  for (const m of METHODS) {
    const t = counts[m.key];
    const v = r[m.key];
    if (t && v) console.log(`  ${m.key === 'primary' ? `${x.cam} (the study's map)` : m.name}: planted region top for ${pctOf(v.real)} of ${v.n} correctly classified positive photos (shuffled-label model ${pctOf(v.shuffled)}); tops: ${tops(t.real)}`);
  }
  console.log(`  occlusion agreement with the study's map ${x.occlusion.agreement.mean?.toFixed(2)}; sanity (Spearman vs real maps): ${x.sanity.map((s) => `${s.name} ${s.spearman.mean?.toFixed(2)}${s.passed ? '' : ' FLAGGED'}`).join(', ')}; warnings: ${x.warnings.length}`);
}
/**
 * The geometry explanation's planted-region-first rate: from the chosen model when it has a
 * geometry part, and from a geometry-only study of the same set (its regions are what
 * `screen --explain` ranks for such a model).
 */
async function measureGeometry(region: string, names: string[], synthDir: string, fromChosen: StudyGeometryExplanation | undefined): Promise<void> {
  const only = await runStudy({
    source: path.join(synthDir, 'manifest.csv'), out: path.join(work, `study-${region}-geometry`), cache: path.join(work, `cache-${region}.sqlite`),
    seed: 1, synthetic: true, permutations: 0, features: ['geometry'], log: { err: () => {}, isTTY: false }, quiet: true,
  });
  const planted = (g: StudyGeometryExplanation | undefined) => (g ? names.reduce((s, n) => s + (g.first[n as keyof typeof g.first] ?? 0), 0) : null);
  const tops = (g: StudyGeometryExplanation) => Object.entries(g.first).filter(([, v]) => (v ?? 0) > 0).sort((a, b) => b[1]! - a[1]!).map(([k, v]) => `${k} ${pctOf(v!)}`).join(', ');
  const a = only.result.subject.auc;
  geometryRates.push({ region, chosen: planted(fromChosen), only: planted(only.geometryExplanation), photos: only.geometryExplanation?.photos ?? 0 });
  if (fromChosen) console.log(`  geometry part of the chosen model: planted region contributes most for ${pctOf(planted(fromChosen))} of ${fromChosen.photos} correctly screened positive photos; tops: ${tops(fromChosen)}`);
  console.log(`  geometry-only study: subject AUC ${a.value?.toFixed(3)} [${a.ci95?.map((v) => v.toFixed(3)).join(', ')}]; ` +
    (only.geometryExplanation ? `planted region contributes most for ${pctOf(planted(only.geometryExplanation))} of ${only.geometryExplanation.photos} correctly screened positive photos (in sample of the final model); tops: ${tops(only.geometryExplanation)}` : 'no correctly screened positive photo to explain'));
}

// The target: >= 80% top-ranked, and the shuffled-label model without that preference (under half the real rate).
const ok = (r: Rate | null) => r !== null && r.real >= 0.8 && r.shuffled !== null && r.shuffled < 0.5 * r.real;
const line = (m: Key) => results.map((r) => `${r.region} ${pctOf(r[m]?.real ?? null)} (shuffled ${pctOf(r[m]?.shuffled ?? null)})`).join(', ');
console.log(`bench:explain planted regions, share of correctly classified positive photos whose top region is the planted one (target >= 80%, shuffled-label model without that preference): ` +
  METHODS.map((m) => `${m.key === 'primary' ? `the study's map (${[...new Set(results.map((r) => r.cam))].join('/')})` : m.name} ${line(m.key)} ${results.every((r) => ok(r[m.key])) ? 'PASS' : 'FAIL'}`).join('; ') +
  `; the geometry-only model's contributions ${geometryRates.map((g) => `${g.region} ${pctOf(g.only)}`).join(', ')} ${geometryRates.every((g) => g.only !== null && g.only >= 0.8) ? 'PASS' : 'FAIL'}`);
