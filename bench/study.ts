/**
 * Benchmarks of a full study on cached embeddings, as `phenoface study` runs it after the features
 * are in. Two modes (`npm run bench:study [-- sites|threads]`):
 *
 * - `sites` (default): a pooled multi-site study, 3,000 photos of 400 subjects from 3 sites, 192-D
 *   synthetic embeddings with a planted signal and a per-site shift (each hospital's cameras), run
 *   as `study --embeddings --validate-by source` runs it with defaults: 10x3 subject-grouped CV with
 *   nested C choice, 1,000 subject-bootstrap replicates and a 100-permutation test (5 folds), then
 *   leave-one-site-out with its own 1,000 replicates. Target: <= 10 s on 2 cores. The peer is
 *   the 10x3 CV alone (a study without `--validate-by`), timed apart from leaving sites out.
 * - `threads`: 1,400 photos of 190 subjects from one site, the same 10x3 CV on one thread
 *   (workers: 0, the peer) and on all cores, checking the results are identical.
 *
 * Prints the mode's figure last.
 */
import { availableParallelism } from 'node:os';
import { envInt } from './common.ts';
import { DEFAULTS } from '../src/config.ts';
import { crossValidate, type CrossValidationResult } from '../src/evaluate/index.ts';
import { validateBySite } from '../src/evaluate/sites.ts';
import { deriveSeed, mulberry32 } from '../src/math/random.ts';
import { unitVector } from '../src/math/vector.ts';
import { syntheticStudy, type SyntheticStudy } from '../test/unit/evaluate/synthetic-embeddings.ts';

/** The study's defaults; `BENCH_PERMUTATIONS` changes the permutation count (e.g. 0 to time the rest alone). */
const STUDY = { folds: DEFAULTS.evaluate.folds, repeats: DEFAULTS.evaluate.repeats, bootstrap: DEFAULTS.evaluate.bootstrap, permutations: envInt('BENCH_PERMUTATIONS', DEFAULTS.evaluate.permutations, 0), seed: 7 } as const;
const f = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Wall and CPU seconds of `work`. */
async function timed<T>(work: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  const value = await work();
  return { wall: (performance.now() - wall0) / 1000, cpu: (cpuMs() - cpu0) / 1000, value };
}

function crossValidateData(data: SyntheticStudy, workers?: number, subgroups: Record<string, string[]> = { sex: data.sex }): Promise<CrossValidationResult> {
  return crossValidate({ X: data.X, y: data.y, subjects: data.subjects, photoIds: data.photoIds, views: data.views, subgroups, ...STUDY, ...(workers === undefined ? {} : { workers }) });
}

/** Each subject's site (round robin), and every photo moved by its site's shift and renormalised. */
function pooledSites(data: SyntheticStudy, sites: string[], shift: number): string[] {
  const rng = mulberry32(deriveSeed(2025, 9));
  const dim = data.X[0].length;
  const offsets = sites.map(() => unitVector(Array.from({ length: dim }, () => rng() - 0.5)).map((v) => v * shift));
  const subjects = [...new Set(data.subjects)];
  const siteIndex = data.subjects.map((s) => subjects.indexOf(s) % sites.length);
  data.X.forEach((x, i) => data.X[i] = unitVector(x.map((v, d) => v + offsets[siteIndex[i]][d])));
  return siteIndex.map((k) => sites[k]);
}

async function sitesMode(): Promise<void> {
  const data = syntheticStudy({ subjects: 400, photosPerSubject: 7.5, totalPhotos: 3000, dim: 192, signal: 3, seed: 2025 });
  const site = pooledSites(data, ['north', 'south', 'west'], 0.5);
  console.log(`data: ${data.X.length} photos, ${new Set(data.subjects).size} subjects, 3 sites, D=${data.X[0].length}; machine: ${availableParallelism()} cores`);
  const cv = await timed(() => crossValidateData(data, undefined, { source: site }));
  console.log(`${STUDY.folds}x${STUDY.repeats} CV (the peer, as a study without --validate-by): ${cv.wall.toFixed(2)} s wall, ${cv.cpu.toFixed(2)} s CPU; subject AUC ${f(cv.value.subject.auc.value)}, permutation p ${cv.value.permutation?.p.toFixed(4)}`);
  const loso = await timed(() => validateBySite({ X: data.X, y: data.y, subjects: data.subjects, photoIds: data.photoIds, column: 'source', site, seed: STUDY.seed, bootstrap: STUDY.bootstrap }));
  const v = loso.value;
  for (const s of v.sites) {
    const m = v.bySite[s].metrics.subject;
    console.log(`  held out ${s}: subject AUC ${f(m.auc.value)} [${m.auc.ci95?.map(f).join(', ')}], sensitivity ${f(m.sensitivity.value)}, specificity ${f(m.specificity.value)} at threshold ${f(v.bySite[s].thresholds.subject)}`);
  }
  console.log(`leave-one-site-out: ${loso.wall.toFixed(2)} s wall, ${loso.cpu.toFixed(2)} s CPU; pooled subject AUC ${f(v.pooled.subject.auc.value)}, spread between sites ${f(v.spread.subject.auc.range)} (SD ${f(v.spread.subject.auc.sd)})`);
  const wall = cv.wall + loso.wall;
  console.log(`bench:study 3 sites, 3000 pooled photos, ${STUDY.folds}x${STUDY.repeats} CV + leave-one-site-out (1000 bootstrap each, ${STUDY.permutations} permutations): ${wall.toFixed(2)} s wall, ${(cv.cpu + loso.cpu).toFixed(2)} s CPU (target <= 10 s wall)`);
}

async function threadsMode(): Promise<void> {
  const data = syntheticStudy({ subjects: 190, photosPerSubject: 7.4, totalPhotos: 1400, dim: 192, signal: 3, seed: 2025 });
  console.log(`data: ${data.X.length} photos, ${new Set(data.subjects).size} subjects, D=${data.X[0].length}; machine: ${availableParallelism()} cores`);
  const run = async (label: string, workers: number | undefined) => {
    const t = await timed(() => crossValidateData(data, workers));
    console.log(`${label}: ${t.wall.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU (all threads); subject AUC ${f(t.value.subject.auc.value)} [${t.value.subject.auc.ci95?.map(f).join(', ')}], photo AUC ${f(t.value.photo.auc.value)}, permutation p ${t.value.permutation?.p.toFixed(4)}`);
    return t;
  };
  const single = await run('one thread (peer)', 0);
  const pooled = await run('all cores', undefined);
  console.log(`results identical across thread counts: ${JSON.stringify(single.value) === JSON.stringify(pooled.value)}; speed-up ${(single.wall / pooled.wall).toFixed(2)}x`);
  console.log(`bench:study ${STUDY.folds}x${STUDY.repeats} CV + 1000 bootstrap + ${STUDY.permutations} permutations, 1400 photos: ${pooled.wall.toFixed(2)} s (target <= 10 s)`);
}

const mode = process.argv[2] ?? 'sites';
if (mode === 'sites') await sitesMode();
else if (mode === 'threads') await threadsMode();
else {
  console.error(`Unknown mode "${mode}". Should be one of: sites, threads.`);
  process.exit(2);
}
