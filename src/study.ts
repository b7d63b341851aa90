/**
 * A whole study, as `phenoface study` runs it: load and validate the data set, embed every photo
 * through the pipeline (cached, resumable), check for leakage, cross-validate by subject, train the
 * final model, and write the contract's files (`predictions.csv`, `metrics.json`, `report.html`,
 * `model/`). It follows the evaluation design of Baek et al. 2025 (VCFS vs controls from face
 * embeddings) with the safeguards a small clinical data set needs: subject-grouped folds, confidence
 * intervals from a subject bootstrap, a permutation test and a majority-class baseline.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { saveBundle, STANDARD_LIMITATIONS, INTENDED_USE, weightsId, type ModelBundle } from './classify/bundle.ts';
import { createClassifier } from './classify/index.ts';
import { DEFAULTS } from './config.ts';
import { formatCsv } from './data/csv.ts';
import { checkLeakage, datasetHash, embedDataset, EmbeddingCache, loadDataset, ProgressReporter, type Dataset, type LeakageReport, type PhotoResult } from './data/index.ts';
import { cacheEntries, checkOutput, mapFsError, prepareOutputDir, type OutputGuard, type OutputKind, type StagedDir } from './data/output.ts';
import { crossValidate, trainFinal, type StudyResult, type LevelMetrics, type GroupMetrics } from './evaluate/crossval.ts';
import { PhenofaceError, toErrorRecord } from './errors.ts';
import { deriveSeed, mulberry32 } from './evaluate/random.ts';
import { permuteSubjectLabels } from './evaluate/permutation.ts';
import { EXPLAIN_DEFAULTS } from './config.ts';
import type { StudyExplainOptions, StudyExplanation } from './explain/study.ts';
import { PIPELINE_VERSION } from './pipeline.ts';
import { PHOTOS_PER_WORKER, PipelinePool, poolWorkers } from './pipeline-pool.ts';
import { loadManifest } from './runtime/index.ts';
import type { View } from './types.ts';

/** Options of {@link runStudy}. */
export interface StudyRunOptions {
  /** Manifest CSV or `ROOT/<label>/<subject>/<photo>` folder. */
  source: string;
  out: string;
  positive?: string;
  /** For a manifest: the folder its paths are relative to (default: the manifest's folder). */
  root?: string;
  folds?: number;
  repeats?: number;
  seed?: number;
  classifier?: string;
  backbone?: string;
  prevalence?: number;
  bootstrap?: number;
  permutations?: number;
  /**
   * Embedding cache file (default `<out>/cache.sqlite`). It stays in place while the other outputs
   * are built beside `out`, so a killed study resumes from it.
   */
  cache?: string;
  /** Only frontal photos (by manifest view, else the estimated view). */
  frontalOnly?: boolean;
  /** Marks the model bundle as synthetic (the demo). */
  synthetic?: boolean;
  /**
   * The explanation analysis (Grad-CAM, regions, occlusion, sanity checks) for the report's
   * explanation section and `explanation.json`: options over `EXPLAIN_DEFAULTS.study`, or false to
   * skip it (as `maxPhotos: 0` does).
   */
  explain?: Partial<StudyExplainOptions> | false;
  /** Progress and messages (stderr). */
  log: { err(text: string): void; isTTY: boolean };
  quiet?: boolean;
}

/** What a study wrote and found. */
export interface StudyRunResult {
  dataset: Dataset;
  photos: PhotoResult[];
  used: PhotoResult[];
  leakage: LeakageReport;
  result: StudyResult;
  metrics: Record<string, unknown>;
  bundle: ModelBundle;
  files: { predictions: string; metrics: string; report: string; model: string; explanation?: string };
  /** The explanation analysis, when it ran. */
  explanation?: StudyExplanation;
}

const r6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** Level metrics as the contract's JSON: estimates with CIs, counts; curves left to the report. */
function levelJson(m: LevelMetrics): Record<string, unknown> {
  const { roc, calibration, ...rest } = m;
  void roc; void calibration;
  return rest;
}

function groupJson(g: GroupMetrics): Record<string, unknown> {
  return { photo: levelJson(g.photo), subject: levelJson(g.subject) };
}

/**
 * What `study --out` holds. A finished study is recognised by its metrics.json; a re-run replaces
 * the entries listed here and keeps the embedding cache.
 */
export const STUDY_OUTPUT: OutputKind = {
  name: 'study',
  marker: 'metrics.json',
  isMarker: (json) => {
    const m = json as { contract?: unknown; pipelineVersion?: unknown } | null;
    return m?.contract === 1 && typeof m.pipelineVersion === 'string';
  },
  owned: ['predictions.csv', 'metrics.json', 'report.html', 'model', 'explanation.json'],
};

/**
 * Checks `opts.out` and `opts.cache` against the data set (neither may be an input; `out` may not
 * hold one, nor lie inside a folder layout's ROOT, which the next study would walk) and stages
 * `out`: the results are built beside it and replace it only when the study has finished.
 */
async function prepareStudyOutput(opts: StudyRunOptions, dataset: Dataset, cacheFile: string): Promise<StagedDir> {
  const guard: OutputGuard = {
    option: '--out',
    inputs: [
      { abs: path.resolve(opts.source), shown: opts.source },
      ...(dataset.manifestPath ? [{ abs: dataset.manifestPath, shown: dataset.manifestPath }] : []),
      ...dataset.items.map((item) => ({ abs: item.absPath, shown: path.join(dataset.root, item.path) })),
    ],
    inputFolders: dataset.manifestPath ? [] : [{ abs: dataset.root, shown: opts.source }],
  };
  await checkOutput(cacheFile, { ...guard, option: '--cache', inputFolders: [] });
  return prepareOutputDir(opts.out, STUDY_OUTPUT, guard, await cacheEntries(opts.out, cacheFile));
}

/**
 * Runs a study and writes its files into `opts.out`, all at once: an earlier study there stays as
 * it was until this one has finished, and is kept if this one fails.
 */
export async function runStudy(opts: StudyRunOptions): Promise<StudyRunResult> {
  const dataset = await loadDataset(opts.source, { positive: opts.positive, root: opts.root });
  const cacheFile = opts.cache ?? path.join(opts.out, 'cache.sqlite');
  const out = await prepareStudyOutput(opts, dataset, cacheFile);
  const res = await out.run((work) => studyInto(work, cacheFile, dataset, opts));
  return { ...res, files: out.relocate(res.files) };
}

/** The embedding cache; a path that cannot hold it (e.g. below a file) is E_INPUT naming it. */
async function openCache(file: string): Promise<EmbeddingCache> {
  try {
    return EmbeddingCache.open(file);
  } catch (err) {
    throw await mapFsError(err, file, file, 'a cache file path in a folder you can write to');
  }
}

/** The study itself, writing its files into `work` (the staging folder of `opts.out`). */
async function studyInto(work: string, cacheFile: string, dataset: Dataset, opts: StudyRunOptions): Promise<StudyRunResult> {
  const log = (t: string) => { if (!opts.quiet) opts.log.err(t); };
  const s = dataset.summary;
  log(`study: ${s.total.subjects} subjects, ${s.total.photos} photos (${Object.entries(s.byClass).map(([k, c]) => `${k}: ${c.subjects} subjects/${c.photos} photos`).join(', ')})\n`);

  const backboneName = opts.backbone ?? DEFAULTS.embed.backbone;
  // One pipeline per core in worker threads, started at the first photo the cache lacks.
  let pool: Promise<PipelinePool> | undefined;
  const workers = poolWorkers(DEFAULTS);
  const cache = await openCache(cacheFile);
  const progress = new ProgressReporter({ err: (t) => log(t), isTTY: opts.log.isTTY && !opts.quiet }, 'study');
  let embedded;
  try {
    embedded = await embedDataset(dataset, {
      cache,
      pipelineVersion: PIPELINE_VERSION,
      backbone: backboneName,
      concurrency: PHOTOS_PER_WORKER * workers,
      embedOne: async (abs) => {
        pool ??= PipelinePool.create({ backbone: backboneName, workers });
        const r = await (await pool).embedFile(abs);
        return { face: r.face, embedding: r.embedding.vector };
      },
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
    cache.close();
    await (await pool?.catch(() => undefined))?.close();
  }
  // Workers that could not start (e.g. E_MODEL) fail the study, not each photo.
  const poolError: unknown = pool ? await pool.then(() => undefined, (e: unknown) => e) : undefined;
  if (poolError) throw poolError;
  const photos = embedded.results;
  let used = photos.filter((p) => p.embedding);
  if (opts.frontalOnly) used = used.filter((p) => p.view === 'frontal');
  const failed = photos.filter((p) => p.error);
  if (failed.length) log(`study: ${failed.length} photos without a usable face (listed in the report)\n`);

  const leakage = checkLeakage(used.map((p) => ({ path: p.item.path, subject: p.item.subject, sha256: p.sha256, embedding: p.embedding })));
  for (const w of leakage.warnings.slice(0, 10)) log(`study: leakage warning: ${w.message}\n`);

  const classes = new Set(used.map((p) => p.item.y));
  if (classes.size < 2) throw new PhenofaceError('E_MANIFEST', `After removing photos without a usable face, only one class is left (${[...classes].map((y) => (y ? dataset.positive : dataset.negative)).join('')}).`);

  const subgroupColumns = ['age', 'sex', 'ancestry', 'source'].filter((c) => used.some((p) => p.item.meta[c] !== undefined));
  const classifier = createClassifier(opts.classifier ?? 'logistic');
  const data = {
    X: used.map((p) => p.embedding!),
    y: used.map((p) => p.item.y),
    subjects: used.map((p) => p.item.subject),
    photoIds: used.map((p) => p.item.path),
    views: used.map((p) => p.view ?? null),
    subgroups: Object.fromEntries(subgroupColumns.map((c) => [c, used.map((p) => p.item.meta[c])])),
  };
  log(`study: cross-validating (${opts.folds ?? 5} folds x ${opts.repeats ?? 5} repeats) on ${used.length} photos...\n`);
  const result = await crossValidate({
    ...data,
    classifier,
    folds: opts.folds,
    repeats: opts.repeats,
    seed: opts.seed,
    prevalence: opts.prevalence,
    bootstrap: opts.bootstrap,
    permutations: opts.permutations,
  });
  const final = trainFinal({ X: data.X, y: data.y, subjects: data.subjects, classifier, seed: opts.seed });

  // predictions.csv (contract: path,subject,label,view,repeat,fold,probability)
  const label = (y: number) => (y ? dataset.positive : dataset.negative);
  const predictionsCsv = formatCsv(
    ['path', 'subject', 'label', 'view', 'repeat', 'fold', 'probability'],
    result.predictions.map((p) => [p.path, p.subject, label(p.label), p.view ?? '', p.repeat, p.fold, r6(p.probability)]),
  );
  const files: StudyRunResult['files'] = {
    predictions: path.join(work, 'predictions.csv'),
    metrics: path.join(work, 'metrics.json'),
    report: path.join(work, 'report.html'),
    model: path.join(work, 'model'),
  };
  await writeFile(files.predictions, predictionsCsv);

  const dataHash = await datasetHash(dataset, embedded.contentHashes);
  const byView = Object.fromEntries(Object.entries(result.byView).map(([v, g]) => [v, groupJson(g!)])) as Partial<Record<View, unknown>>;
  const metrics: Record<string, unknown> = {
    contract: 1,
    positive: dataset.positive,
    negative: dataset.negative,
    classifier: result.classifier,
    backbone: backboneName,
    options: result.options,
    photo: levelJson(result.photo),
    subject: levelJson(result.subject),
    byView,
    bySubgroup: Object.fromEntries(Object.entries(result.bySubgroup).map(([col, groups]) => [col, Object.fromEntries(Object.entries(groups).map(([k, g]) => [k, groupJson(g)]))])),
    baseline: groupJson(result.baseline),
    permutation: result.permutation && { statistic: result.permutation.statistic, observed: result.permutation.observed, p: result.permutation.p, permutations: result.permutation.nulls.length },
    data: {
      hash: dataHash,
      subjects: new Set(used.map((p) => p.item.subject)).size,
      photos: used.length,
      photosListed: photos.length,
      photosWithoutFace: failed.length,
      summary: dataset.summary,
    },
    leakage: leakage.warnings.map((w) => ({ kind: w.kind, message: w.message })),
    pipelineVersion: PIPELINE_VERSION,
  };
  await writeFile(files.metrics, JSON.stringify(metrics, null, 1) + '\n');

  const manifest = loadManifest();
  const { default: pkg } = await import('../package.json', { with: { type: 'json' } });
  const bundle = await saveBundle(files.model, {
    createdAt: new Date().toISOString(),
    phenofaceVersion: pkg.version,
    positive: dataset.positive,
    negative: dataset.negative,
    classifier: final.model.toJSON(),
    thresholds: final.thresholds,
    backbone: { name: backboneName, dim: final.model.dim, weightsSha256: weightsId(manifest.models[backboneName]) },
    pipeline: { version: PIPELINE_VERSION, config: { detect: DEFAULTS.detect, pose: DEFAULTS.pose, image: DEFAULTS.image } },
    training: {
      summary: dataset.summary,
      datasetHash: dataHash,
      photosUsed: used.length,
      subjectsUsed: new Set(used.map((p) => p.item.subject)).size,
      warnings: leakage.warnings.map((w) => w.message),
    },
    metrics: { subject: levelJson(result.subject), photo: levelJson(result.photo), byView },
    intendedUse: INTENDED_USE,
    limitations: [...STANDARD_LIMITATIONS, ...(opts.synthetic ? ['Trained on SYNTHETIC planted-phenotype data: a demonstration only, not a clinical model.'] : [])],
    ...(opts.synthetic ? { synthetic: true } : {}),
  });

  // What the model looks at: Grad-CAM of the final model on a bounded sample, with the
  // sanity checks' shuffled-label model trained the same way on labels permuted between subjects.
  const sections: { id: string; title: string; html: string }[] = [];
  let explanation: StudyExplanation | undefined;
  const explainOptions = opts.explain === false ? { maxPhotos: 0 } : opts.explain ?? {};
  const explainPhotos = explainOptions.maxPhotos ?? EXPLAIN_DEFAULTS.study.maxPhotos;
  if (explainPhotos > 0) {
    log(`study: explaining up to ${explainPhotos} photos (Grad-CAM, regions, occlusion, sanity checks)...\n`);
    const seed = opts.seed ?? EXPLAIN_DEFAULTS.study.seed;
    const [{ explainStudy }, { explanationSection }, { esc }] = await Promise.all([import('./explain/study.ts'), import('./explain/report.ts'), import('./report/index.ts')]);
    try {
      const shuffledY = permuteSubjectLabels(data.y, data.subjects, mulberry32(deriveSeed(seed, 0x5ff1e)));
      const shuffled = trainFinal({ X: data.X, y: shuffledY, subjects: data.subjects, classifier, seed });
      const { result: x, meanHeatmapPng, reference } = await explainStudy({
        photos: used.map((p) => ({ path: p.item.path, abs: p.item.absPath, subject: p.item.subject, y: p.item.y, view: p.view ?? null, landmarks5: p.face?.landmarks5 })),
        predictions: result.predictions,
        folds: result.folds,
        model: final.model,
        shuffled: shuffled.model,
        backbone: backboneName,
        positive: dataset.positive,
        negative: dataset.negative,
        options: { seed, ...explainOptions },
        log,
      });
      explanation = x;
      // Beside the bundle, so that screen and serve can draw the contrastive map too.
      if (reference) await (await import('./explain/reference.ts')).saveReference(files.model, { ...reference, bundleId: bundle.id });
      files.explanation = path.join(work, 'explanation.json');
      await writeFile(files.explanation, JSON.stringify(x, null, 1) + '\n');
      sections.push(await explanationSection(x, meanHeatmapPng));
      for (const w of x.warnings) log(`study: ${w}\n`);
    } catch (err) {
      const e = toErrorRecord(err);
      log(`study: no explanation analysis: ${e.code}: ${e.message}\n`);
      sections.push({ id: 'explanations', title: 'What the model looks at', html: `<p class="warn">The explanation analysis could not run: ${esc(e.code)}: ${esc(e.message)}</p>` });
    }
  }

  const { writeReport } = await import('./report/index.ts');
  await writeReport(files.report, { dataset, photos, used, leakage, result, metrics, bundle, options: opts, sections });
  return { dataset, photos, used, leakage, result, metrics, bundle, files, ...(explanation ? { explanation } : {}) };
}
