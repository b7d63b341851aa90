/**
 * A whole study, as `phenoface study` runs it: load and validate the data set, embed every photo
 * through the pipeline (cached, resumable), check for leakage, cross-validate by subject, train the
 * final model, and write the contract's files (`predictions.csv`, `metrics.json`, `report.html`,
 * `model/`). It follows the evaluation design of Baek et al. 2025 (VCFS vs controls from face
 * embeddings) with the safeguards a small clinical data set needs: subject-grouped folds, confidence
 * intervals from a subject bootstrap, a permutation test and a majority-class baseline. With three
 * or more classes it also ranks them (`ranking.ts`), or runs one class against the rest.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { saveBundle, STANDARD_LIMITATIONS, INTENDED_USE, weightsId, type ModelBundle } from '../../classify/bundle.ts';
import { createClassifier } from '../../classify/index.ts';
import { DEFAULTS } from '../../config.ts';
import { formatCsv } from '../../data/csv.ts';
import { ageSubgroups, checkLeakage, datasetHash, embedDataset, EmbeddingCache, loadDataset, printable, ProgressReporter, warningWithoutNames, type Dataset, type LeakageReport, type PhotoResult } from '../../data/index.ts';
import { ProgressCounter, type ProgressSink } from '../../data/progress.ts';
import { cacheEntries, checkOutput, mapFsError, prepareOutputDir, type OutputGuard, type OutputKind, type StagedDir } from '../../data/output.ts';
import { crossValidate, trainFinal, type CrossValidationResult, type FeatureComparison, type FinalModel, type GroupMetrics, type LevelMetrics, type StudyData } from '../../evaluate/crossval.ts';
import { PhenofaceError, toErrorRecord } from '../../errors.ts';
import type { Classifier, ClassifierJSON } from '../../classify/types.ts';
import { referenceCardNote, saveReference } from '../../explain/reference.ts';
import { saveHeatScale } from '../../explain/heat-scale-file.ts';
import { heatMapChecksNote } from '../../explain/heat-scale.ts';
import { heatMapScope } from '../../explain/scope.ts';
import { explanationSection, geometryTable } from '../../report/explanation.ts';
import { featuresSection } from '../../report/features.ts';
import { esc, relativeToDataset, writeReport, type ReportInput } from '../../report/index.ts';
import type { MeasurementNorms } from '../../features/measurements.ts';
import { checkClassSizes, fittingFolds } from './class-sizes.ts';
import { studyMeasurements } from './measurements.ts';
import { summariseExplanationChecks, type StudyExplanation, type StudyGeometryExplanation } from '../../explain/study-result.ts';
import { explainStudy, oofCorrectness, shuffledLabelModel, type StudyExplanationOptions } from './explanation.ts';
import { studyGeometryExplanation } from './geometry-explanation.ts';
import { oneVsRestNote, rankStudy, type RankingOutcome } from './ranking.ts';
import type { RankerChoice } from '../../classify/ranker.ts';
import { noPixelsSection, readStudyEmbeddings, type StudyEmbeddings } from './from-embeddings.ts';
import { prepareSiteValidation, writeSitePredictions } from './sites.ts';
import { siteValidationJson, type SiteValidation } from '../../evaluate/sites.ts';
import { sitesSection } from '../../report/sites.ts';
import { modelCard, type CardExplanation } from '../../report/model-card.ts';
import { cacheVersion, PIPELINE_VERSION, regionFeaturesVersion, secondEmbeddingVersion } from '../../pipeline/pipeline.ts';
import { secondBackboneOf } from '../../embed/registry.ts';
import { PHOTOS_PER_WORKER, PipelinePool, poolWorkers } from '../../pipeline/pool.ts';
import { featuresLabel, parseFeatures, secondEmbeddingDim, type FeatureRequest, type FittedFeatureModel } from '../../features/index.ts';
import { loadManifest } from '../../runtime/index.ts';
import type { View } from '../../types.ts';

/** Options of {@link runStudy}. */
export interface StudyOptions {
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
  /** The ranking classifier of a study with three or more classes and no `positive` (default `DEFAULTS.classify.ranking.classifier`). */
  ranker?: RankerChoice;
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
  /**
   * What the study learns from (default `features.default`, `auto`): the representations the photos
   * can supply, stacked and weighed by the inner CV of each training set, or the named blocks (stacked).
   */
  features?: FeatureRequest;
  /**
   * Precomputed embeddings (`embed`'s JSON lines) to learn from instead of the photos, matched to
   * the manifest by path; no photo is read. `backbone` then only names them when the records do not.
   */
  embeddings?: string;
  /** A manifest column (e.g. `source`) whose values are held out in turn, beside the grouped K-fold. */
  validateBy?: string;
  /** Marks the model bundle as synthetic (the demo). */
  synthetic?: boolean;
  /**
   * The explanation analysis (Grad-CAM, regions, occlusion, sanity checks) for the report's
   * explanation section and `explanation.json`: options over `DEFAULTS.explain.study`, or false to
   * skip it (as `maxPhotos: 0` does).
   */
  explain?: Partial<StudyExplanationOptions> | false;
  /** Progress and messages (stderr). */
  log: { err(text: string): void; isTTY: boolean };
  quiet?: boolean;
}

/** What a study wrote and found: what its report shows (data set, photos, leakage, results, metrics, model), and where it wrote them. */
export interface StudyResult extends Omit<ReportInput, 'options' | 'sections'> {
  files: { predictions: string; metrics: string; report: string; model: string; explanation?: string; ranking?: string; sitePredictions?: string };
  /** The ranked differential, for three or more classes without `positive`. */
  ranking?: RankingOutcome;
  /** The explanation analysis, when it ran. */
  explanation?: StudyExplanation;
  /** The final model's geometry contributions by region on the correctly screened positive photos, when it has a linear geometry part (with or without heat maps). */
  geometryExplanation?: StudyGeometryExplanation;
  /** The leave-one-value-out validation, with `validateBy`. */
  sites?: SiteValidation;
  /** The report's extra sections (the explanation analysis, or why it did not run), for a caller that adds its own. */
  reportSections: Section[];
}

const r6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Level metrics as the contract's JSON: estimates with CIs and counts, and with `curves` the ROC
 * curve and reliability bins the report draws (so every figure in it follows from metrics.json);
 * the bundle keeps only the numbers.
 */
function levelJson(m: LevelMetrics, curves = false): Record<string, unknown> {
  const { roc, calibration, ...rest } = m;
  if (!curves) return rest;
  const round = (xs: number[] | null) => xs && xs.map(r6);
  return { ...rest, calibration, roc: roc && { fpr: round(roc.fpr), tpr: round(roc.tpr), lower: round(roc.lower), upper: round(roc.upper) } };
}

function groupJson(g: GroupMetrics, curves = false): Record<string, unknown> {
  return { photo: levelJson(g.photo, curves), subject: levelJson(g.subject, curves) };
}

/**
 * The majority-class baseline as JSON. Its score is a constant within each fold (the training
 * folds' positive share), so it ranks no one: the AUC pooled over folds only reflects how that
 * share drifts between folds, and is written as null with the reason.
 */
function baselineJson(g: GroupMetrics): Record<string, unknown> {
  const level = (m: LevelMetrics) => ({ ...levelJson(m), auc: null });
  return {
    photo: level(g.photo),
    subject: level(g.subject),
    note: 'Every photo (person) is scored with its training folds\' share of the positive class and called by the larger class; a constant score ranks no one, so AUC is null. A model must beat its accuracy.',
  };
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
  owned: ['predictions.csv', 'metrics.json', 'report.html', 'model', 'explanation.json', 'ranking.csv', 'site-predictions.csv'],
};

/**
 * Checks `opts.out` and `opts.cache` against the data set (neither may be an input; `out` may not
 * hold one, nor lie inside a folder layout's ROOT, which the next study would walk) and stages
 * `out`: the results are built beside it and replace it only when the study has finished.
 */
async function prepareStudyOutput(opts: StudyOptions, dataset: Dataset, cacheFile: string): Promise<StagedDir> {
  const guard: OutputGuard = {
    option: '--out',
    inputs: [
      { abs: path.resolve(opts.source), shown: opts.source },
      ...(dataset.manifestPath ? [{ abs: dataset.manifestPath, shown: dataset.manifestPath }] : []),
      ...(opts.embeddings ? [{ abs: path.resolve(opts.embeddings), shown: opts.embeddings }] : []),
      // With --embeddings the photos are only names: nothing of theirs is read, so nothing to keep clear of.
      ...(opts.embeddings ? [] : dataset.items.map((item) => ({ abs: item.absPath, shown: path.join(dataset.root, item.path) }))),
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
export async function runStudy(opts: StudyOptions): Promise<StudyResult> {
  const dataset = await loadDataset(opts.source, { positive: opts.positive, root: opts.root, requireFiles: !opts.embeddings, manyClasses: true });
  checkClassSizes(dataset, studyFolds(opts, dataset));
  const cacheFile = opts.cache ?? path.join(opts.out, 'cache.sqlite');
  const out = await prepareStudyOutput(opts, dataset, cacheFile);
  const res = await out.run((work) => studyInto(work, cacheFile, dataset, opts));
  return { ...res, files: out.relocate(res.files) };
}

/** The outer folds: those asked for, else the most up to `evaluate.folds` that the classes' people allow. */
function studyFolds(opts: StudyOptions, dataset: Pick<Dataset, 'items' | 'positive' | 'negative'>): number {
  return opts.folds ?? fittingFolds(dataset, DEFAULTS.evaluate.folds);
}

/** The embedding cache; a path that cannot hold it (e.g. below a file) is E_INPUT naming it. */
async function openCache(file: string): Promise<EmbeddingCache> {
  try {
    return EmbeddingCache.open(file);
  } catch (err) {
    throw await mapFsError(err, file, file, 'a cache file path in a folder you can write to');
  }
}

/** Writes a study message to stderr unless quiet. */
type Log = (text: string) => void;

/**
 * The study's messages: to stderr unless quiet, with control characters shown as text
 * ({@link printable}), since they quote labels, subject ids and paths from the user's files.
 */
function messageLog(opts: StudyOptions): Log {
  return (t) => { if (!opts.quiet) opts.log.err(printable(t)); };
}

/**
 * Where a study's progress goes: stderr, as a bar on a terminal (never when quiet). Not through
 * {@link messageLog}: the bar draws with the terminal's own escapes, and its text holds only counts.
 */
function progressSink(opts: StudyOptions): ProgressSink {
  return { err: (t) => { if (!opts.quiet) opts.log.err(t); }, isTTY: opts.log.isTTY && !opts.quiet };
}

/**
 * Progress of a study stage that counts its own work (`update(done, total)`), shown as the
 * embedding's is, to the last item; `stop()` ends a bar the stage left unfinished (it failed).
 */
function stageProgress(opts: StudyOptions, label: string, unit: string): { update: (done: number, total: number) => void; stop: () => void } {
  let counter: ProgressCounter | undefined;
  const startMs = Date.now();
  return {
    update: (done, total) => {
      counter ??= new ProgressCounter(progressSink(opts), label, total, !opts.quiet, Date.now, unit, startMs);
      counter.advanceTo(done);
    },
    stop: () => counter?.stop(),
  };
}

/** A report section, already escaped. */
/** An extra section of the study report, already escaped HTML. */
export type Section = NonNullable<ReportInput['sections']>[number];

/** The study's rows for cross-validation: the usable photos' embeddings, labels and groups. */
type StudyRows = StudyData & { y: number[]; subjects: string[] };

/** The study itself, writing its files into `work` (the staging folder of `opts.out`). */
async function studyInto(work: string, cacheFile: string, dataset: Dataset, opts: StudyOptions): Promise<StudyResult> {
  const log = messageLog(opts);
  logDataset(dataset, log);
  const fromFile = opts.embeddings ? await readStudyEmbeddings(opts.embeddings, dataset, opts.backbone, log) : undefined;
  const backbone = fromFile?.backbone ?? opts.backbone ?? DEFAULTS.embed.backbone;
  const features = opts.features ?? parseFeatures(DEFAULTS.features.default);
  const embedded = fromFile ?? await embedPhotos(dataset, cacheFile, backbone, { ...opts, features }, log);
  const photos = embedded.results;
  const used = usablePhotos(photos, opts, log);
  const leakage = checkStudyLeakage(used, log);
  requireBothClasses(photos, used, dataset, opts.frontalOnly === true);
  const folds = studyFolds(opts, { ...dataset, items: used.map((p) => p.item) });
  // Photos without a usable face can leave a class too few people for the folds: said as before reading them.
  if (used.length < photos.length) checkClassSizes({ ...dataset, items: used.map((p) => p.item) }, folds, opts.frontalOnly ? 'without a usable face or not frontal (--frontal-only)' : 'without a usable face');
  if (folds < DEFAULTS.evaluate.folds && opts.folds === undefined) log(`study: ${folds} folds, the most that the classes' people allow (up to ${DEFAULTS.evaluate.folds}; --folds sets them)\n`);
  const rows = studyRows(used);
  const classifier = createClassifier(opts.classifier ?? DEFAULTS.classify.classifier);
  const bySite = prepareSiteValidation(rows, used, dataset, classifier, { ...opts, features }, log);
  const result = await crossValidateStudy(rows, classifier, { ...opts, folds, features }, log);
  const sites = await bySite?.();
  const final = trainFinal({ ...rows, classifier, seed: opts.seed, features });
  if (final.features) log(`study: the final model learns from ${featuresLabel(final.features.features)}${features === 'auto' ? ' (chosen by the inner CV)' : ''}\n`);
  const files = studyFiles(work);
  await writePredictions(files.predictions, result, dataset);
  if (sites) {
    files.sitePredictions = path.join(work, 'site-predictions.csv');
    await writeSitePredictions(files.sitePredictions, sites, dataset);
  }
  const ranking = dataset.mode === 'ranking' ? await rankStudy(work, dataset, used, { ...opts, folds, backbone }, log) : undefined;
  if (ranking) files.ranking = ranking.file;
  const dataHash = await datasetHash(dataset, embedded.contentHashes);
  const metrics = { ...studyMetrics({ dataset, photos, used, leakage, result, backbone, dataHash, final, fromFile }), ...(fromFile ? { embeddings: fromFile.origin } : {}), ...(sites ? { sites: siteValidationJson(sites) } : {}), ...manyClassMetrics(dataset, ranking) };
  await writeFile(files.metrics, JSON.stringify(metrics, null, 1) + '\n');
  const measured = await studyMeasurements(used, dataset, { replicates: opts.bootstrap ?? DEFAULTS.evaluate.bootstrap, seed: opts.seed ?? DEFAULTS.evaluate.seed });
  const bundle = await saveStudyBundle(files.model, { dataset, used, leakage, result, final, backbone, dataHash, synthetic: opts.synthetic, fromFile, ranking: ranking?.bundle, dim: rows.X[0].length, measurementNorms: measured.norms });
  const explained: Explained = fromFile ? { sections: [noPixelsSection(fromFile.origin)] } : await explainIntoReport(work, files, { dataset, used, result, final, rows, classifier, backbone, bundle, opts, log });
  await writeFile(path.join(files.model, 'MODEL_CARD.md'), modelCard(bundle, result, explained.card));
  const manyClass = ranking ? [ranking.section] : dataset.mode === 'one-vs-rest' ? [oneVsRestNote(dataset)] : [];
  const sections = [...manyClass, ...[featuresSection(result.features, final.features)].filter((x) => x !== undefined), ...(sites ? [sitesSection(sites)] : []), ...explained.sections, measured.section];
  const explanationChecks = explained.explanation && summariseExplanationChecks(explained.explanation.checks);
  await writeReport(files.report, { dataset, photos, used, leakage, result, metrics, bundle, options: { ...opts, folds, backbone }, sections, ...(explanationChecks && { explanationChecks }) });
  return { dataset, photos, used, leakage, result, metrics, bundle, files, reportSections: sections, ...(ranking ? { ranking } : {}), ...(explained.explanation ? { explanation: explained.explanation } : {}), ...(explained.geometry ? { geometryExplanation: explained.geometry } : {}), ...(sites ? { sites } : {}) };
}

/**
 * `metrics.json`'s additions for three or more classes: the ranking, or which classes a
 * one-vs-rest study pooled as its negative.
 */
function manyClassMetrics(dataset: Dataset, ranking: RankingOutcome | undefined): Record<string, unknown> {
  if (!dataset.mode) return {};
  const pooled = dataset.classes!.filter((c) => c !== dataset.positive);
  return { classes: dataset.classes, mode: dataset.mode, negativeClasses: pooled, ...(ranking ? { ranking: ranking.metrics } : {}) };
}

/** Logs the data set's subjects and photos per class. */
function logDataset(dataset: Dataset, log: Log): void {
  const s = dataset.summary;
  const byClass = Object.entries(s.byClass).map(([k, c]) => `${k}: ${c.subjects} subjects/${c.photos} photos`).join(', ');
  log(`study: ${s.total.subjects} subjects, ${s.total.photos} photos (${byClass})\n`);
}

/**
 * Embeds every photo through the cache, with one pipeline per core in worker threads started at the
 * first photo the cache lacks. Workers that could not start (e.g. E_MODEL) fail the study, not each photo.
 */
async function embedPhotos(dataset: Dataset, cacheFile: string, backbone: string, opts: StudyOptions & { features: FeatureRequest }, log: Log) {
  const regions = opts.features === 'auto' || opts.features.includes('regions');
  const second = opts.features === 'auto' || opts.features.includes('embedding') ? secondBackboneOf(backbone) : undefined;
  let pool: Promise<PipelinePool> | undefined;
  const workers = poolWorkers(DEFAULTS);
  const cache = await openCache(cacheFile);
  // One reading of the built models for both cache versions.
  const manifest = loadManifest();
  const pipelineVersion = cacheVersion(backbone, DEFAULTS, manifest);
  const progress = new ProgressReporter(progressSink(opts), 'study');
  let embedded;
  try {
    const dropped = cache.dropOtherVersions(backbone, pipelineVersion);
    if (dropped) log(`study: dropped ${dropped} result${dropped === 1 ? '' : 's'} that ${cacheFile} held from an earlier pipeline or models (this version never reads them; the photos of this study among them are embedded again)\n`);
    embedded = await embedDataset(dataset, {
      cache,
      pipelineVersion,
      backbone,
      concurrency: PHOTOS_PER_WORKER * workers,
      ...(regions ? { regionVersion: regionFeaturesVersion(backbone) } : {}),
      ...(second ? { secondVersion: secondEmbeddingVersion(second, manifest) } : {}),
      embedOne: async (abs) => {
        // Dense landmarks too: the geometry features are made from them.
        pool ??= PipelinePool.create({ backbone, workers, landmarks: true, regions, second });
        const r = await (await pool).embedFile(abs);
        return { face: r.face, embedding: r.embedding.vector, landmarks68: r.landmarks68, ...(r.regionMaps ? { regionMaps: r.regionMaps } : {}), ...(r.secondEmbedding ? { secondEmbedding: r.secondEmbedding } : {}) };
      },
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
    cache.close();
    await (await pool?.catch(() => undefined))?.close();
  }
  const poolError: unknown = pool ? await pool.then(() => undefined, (e: unknown) => e) : undefined;
  if (poolError) throw poolError;
  return embedded;
}

/** The photos the study learns from: those with an embedding (and frontal, when asked). */
function usablePhotos(photos: PhotoResult[], opts: StudyOptions, log: Log): PhotoResult[] {
  let used = photos.filter((p) => p.embedding);
  if (opts.frontalOnly) used = used.filter((p) => p.view === 'frontal');
  const failed = photos.filter((p) => p.error);
  // The first one named here, since a study refused afterwards (a class left empty) writes no report to list them.
  if (failed.length) log(`study: ${failed.length} photo${failed.length === 1 ? '' : 's'} without a usable face, left out (a finished study's report lists each; first: "${failed[0].item.path}": ${failed[0].error!.code})\n`);
  const turned = used.filter((p) => p.face?.turned);
  if (turned.length) log(`study: ${turned.length} photo${turned.length === 1 ? ' looks on its side' : 's look on their side'} or upside down and ${turned.length === 1 ? 'is' : 'are'} used as ${turned.length === 1 ? 'it is' : 'they are'} (the report lists each; first: "${turned[0].item.path}", turn it ${turned[0].face!.turned} degrees clockwise); turn them upright and run the study again\n`);
  return used;
}

/** Leakage between subjects (same file or near-identical embedding), with the first warnings logged. */
function checkStudyLeakage(used: PhotoResult[], log: Log): LeakageReport {
  const leakage = checkLeakage(used.map((p) => ({ path: p.item.path, subject: p.item.subject, sha256: p.sha256, embedding: p.embedding })));
  for (const w of leakage.warnings.slice(0, 10)) log(`study: leakage warning: ${w.message}\n`);
  return leakage;
}

/**
 * E_MANIFEST when the usable photos hold fewer than two classes, saying for each missing class how
 * many of its photos had no usable face (with the first one's error, naming photos as the manifest
 * does, as the report's table does) and, with `--frontal-only`, how many were not frontal: what the
 * user has to fix.
 */
function requireBothClasses(photos: readonly PhotoResult[], used: readonly PhotoResult[], dataset: Dataset, frontalOnly: boolean): void {
  const left = new Set(used.map((p) => p.item.y));
  if (left.size >= 2) return;
  const name = (y: number) => JSON.stringify(y ? dataset.positive : dataset.negative);
  const missing = ([1, 0] as const).filter((y) => !left.has(y)).map((y) => {
    const all = photos.filter((p) => p.item.y === y);
    const failed = all.filter((p) => p.error);
    const first = failed[0] ? ` (first: "${failed[0].item.path}": ${failed[0].error!.code}: ${relativeToDataset(failed[0].error!.message, failed[0].item, dataset.root)})` : '';
    const notFrontal = frontalOnly ? `, ${all.length - failed.length} not frontal` : '';
    return `${name(y)}: ${all.length} photo(s), ${failed.length} without a usable face${notFrontal}${first}`;
  });
  const removed = frontalOnly ? 'without a usable face or not frontal (--frontal-only)' : 'without a usable face';
  const what = left.size === 0 ? 'no photo is left' : `only ${name([...left][0])} is left`;
  throw new PhenofaceError('E_MANIFEST', `After removing photos ${removed}, ${what}; a study needs both classes. ${missing.join('; ')}.`);
}

/**
 * The cross-validation rows of the usable photos, with the subgroup columns the manifest has (ages
 * written as years in bands, `ageSubgroups`).
 */
function studyRows(used: PhotoResult[]): StudyRows {
  const subgroupColumns = ['age', 'sex', 'ancestry', 'source'].filter((c) => used.some((p) => p.item.meta[c] !== undefined));
  const column = (c: string) => used.map((p) => p.item.meta[c]);
  return {
    X: used.map((p) => p.embedding!),
    y: used.map((p) => p.item.y),
    subjects: used.map((p) => p.item.subject),
    photoIds: used.map((p) => p.item.path),
    views: used.map((p) => p.view ?? null),
    subgroups: Object.fromEntries(subgroupColumns.map((c) => [c, c === 'age' ? ageSubgroups(column(c), DEFAULTS.evaluate.ageBandsYears) : column(c)])),
    inputs: used.map((p) => ({ embedding: p.embedding!, ...(p.view ? { view: p.view } : {}), ...(p.regionMaps ? { regionMaps: p.regionMaps } : {}), ...(p.secondEmbedding ? { secondEmbedding: p.secondEmbedding } : {}), ...(p.landmarks68 ? { landmarks68: p.landmarks68 } : {}) })),
  };
}

/** Cross-validates the classifier on the rows with the study's options. */
async function crossValidateStudy(rows: StudyRows, classifier: Classifier, opts: StudyOptions, log: Log): Promise<CrossValidationResult> {
  log(`study: cross-validating (${opts.folds ?? DEFAULTS.evaluate.folds} folds x ${opts.repeats ?? DEFAULTS.evaluate.repeats} repeats) on ${rows.X.length} photos...\n`);
  // Each fit is one outer fold of the study or of a permutation of the permutation test.
  const progress = stageProgress(opts, 'study cross-validation', 'fits');
  try {
    return await crossValidate({
      ...rows,
      classifier,
      folds: opts.folds,
      repeats: opts.repeats,
      seed: opts.seed,
      prevalence: opts.prevalence,
      bootstrap: opts.bootstrap,
      permutations: opts.permutations,
      onProgress: progress.update,
      ...(opts.features ? { features: opts.features } : {}),
    });
  } finally {
    progress.stop();
  }
}

/** Where the contract's files go inside `work`. */
function studyFiles(work: string): StudyResult['files'] {
  return {
    predictions: path.join(work, 'predictions.csv'),
    metrics: path.join(work, 'metrics.json'),
    report: path.join(work, 'report.html'),
    model: path.join(work, 'model'),
  };
}

/** Writes predictions.csv (contract: path,subject,label,view,repeat,fold,probability). */
async function writePredictions(file: string, result: CrossValidationResult, dataset: Dataset): Promise<void> {
  const label = (y: number) => (y ? dataset.positive : dataset.negative);
  await writeFile(file, formatCsv(
    ['path', 'subject', 'label', 'view', 'repeat', 'fold', 'probability'],
    result.predictions.map((p) => [p.path, p.subject, label(p.label), p.view ?? '', p.repeat, p.fold, r6(p.probability)]),
  ));
}

/** What metrics.json and the bundle are built from. */
interface StudyFacts {
  dataset: Dataset;
  used: PhotoResult[];
  leakage: LeakageReport;
  result: CrossValidationResult;
  backbone: string;
  dataHash: string;
}

/** The per-view metrics as the contract's JSON (with the curves the report draws, when `curves`). */
function byViewJson(result: CrossValidationResult, curves = false): Partial<Record<View, unknown>> {
  return Object.fromEntries(Object.entries(result.byView).map(([v, g]) => [v, groupJson(g!, curves)])) as Partial<Record<View, unknown>>;
}

/** The contents of metrics.json (contract 1). */
function studyMetrics({ dataset, photos, used, leakage, result, backbone, dataHash, final, fromFile }: StudyFacts & { photos: PhotoResult[]; final: FinalModel; fromFile?: StudyEmbeddings }): Record<string, unknown> {
  const second = secondNetwork(backbone, final, fromFile);
  return {
    contract: 1,
    positive: dataset.positive,
    negative: dataset.negative,
    classifier: result.classifier,
    backbone,
    ...(second ? { secondBackbone: second.name } : {}),
    options: result.options,
    photo: levelJson(result.photo, true),
    subject: levelJson(result.subject, true),
    byView: byViewJson(result, true),
    bySubgroup: Object.fromEntries(Object.entries(result.bySubgroup).map(([col, groups]) => [col, Object.fromEntries(Object.entries(groups).map(([k, g]) => [k, groupJson(g)]))])),
    baseline: baselineJson(result.baseline),
    permutation: result.permutation && { statistic: result.permutation.statistic, observed: result.permutation.observed, p: result.permutation.p, permutations: result.permutation.nulls.length },
    data: {
      hash: dataHash,
      subjects: new Set(used.map((p) => p.item.subject)).size,
      photos: used.length,
      photosListed: photos.length,
      photosWithoutFace: photos.filter((p) => p.error).length,
      photosTurned: used.filter((p) => p.face?.turned).map((p) => ({ path: p.item.path, turned: p.face!.turned })),
      summary: dataset.summary,
    },
    leakage: leakage.warnings.map((w) => ({ kind: w.kind, message: w.message })),
    pipelineVersion: PIPELINE_VERSION,
    ...(result.features && final.features ? { features: featuresJson(result.features, final.features) } : {}),
  };
}

/**
 * The representations side by side (AUCs with intervals, overall and per view, on the same outer
 * folds), how often each outer fold's inner CV chose each, and the final model's choice with the
 * inner-CV figures it was made on.
 */
function featuresJson(comparison: FeatureComparison, model: FittedFeatureModel): Record<string, unknown> {
  return {
    ...comparison,
    final: { features: model.features, ...(model.selection ? { selection: model.selection } : {}), ...(model.stacker ? { stacker: model.stacker } : {}) },
  };
}

/** Saves the final model as the bundle in `dir`, with what it was trained on and how well it did. */
async function saveStudyBundle(dir: string, f: StudyFacts & { final: FinalModel; synthetic?: boolean; fromFile?: StudyEmbeddings; ranking?: ModelBundle['ranking']; dim: number; measurementNorms?: MeasurementNorms }): Promise<ModelBundle> {
  const { dataset, used, leakage, result, final, backbone } = f;
  const features = final.features?.toJSON();
  const second = secondNetwork(backbone, final, f.fromFile);
  const { default: pkg } = await import('../../../package.json', { with: { type: 'json' } });
  return saveBundle(dir, {
    createdAt: new Date().toISOString(),
    phenofaceVersion: pkg.version,
    positive: dataset.positive,
    negative: dataset.negative,
    // With feature blocks, the first block's classifier (the feature model holds them all).
    classifier: features ? (features.classifiers[0] as ClassifierJSON) : final.model!.toJSON(),
    ...(features ? { features } : {}),
    thresholds: final.thresholds,
    backbone: { name: backbone, dim: f.dim, weightsSha256: installedWeights(backbone), ...(second ? { second: { ...second, weightsSha256: installedWeights(second.name) } } : {}) },
    ...(f.fromFile ? { embeddings: f.fromFile.origin } : {}),
    pipeline: { version: PIPELINE_VERSION, config: { detect: DEFAULTS.detect, pose: DEFAULTS.pose, image: DEFAULTS.image } },
    training: {
      summary: dataset.summary,
      datasetHash: f.dataHash,
      photosUsed: used.length,
      subjectsUsed: new Set(used.map((p) => p.item.subject)).size,
      warnings: leakage.warnings.map(warningWithoutNames),
    },
    metrics: { subject: levelJson(result.subject), photo: levelJson(result.photo), byView: byViewJson(result) },
    intendedUse: INTENDED_USE,
    limitations: [...STANDARD_LIMITATIONS, ...(f.synthetic ? ['Trained on SYNTHETIC planted-phenotype data: a demonstration only, not a clinical model.'] : [])],
    ...(f.synthetic ? { synthetic: true } : {}),
    ...(f.ranking ? { ranking: f.ranking } : {}),
    ...(f.measurementNorms ? { measurementNorms: f.measurementNorms } : {}),
  });
}

/**
 * The second network whose embedding the final model's embedding block reads beside the
 * backbone's, if any: the one the embeddings file names (`fromFile`), else the backbone's
 * (`features.secondBackbone`).
 */
function secondNetwork(backbone: string, final: FinalModel, fromFile?: StudyEmbeddings): { name: string; dim: number } | undefined {
  const dim = final.features ? secondEmbeddingDim(final.features.toJSON()) : 0;
  const name = dim ? (fromFile ? fromFile.secondBackbone : secondBackboneOf(backbone)) : undefined;
  return name ? { name, dim } : undefined;
}

/** The installed weights' identity of a backbone, or null for one not installed here (named by an embeddings file). */
function installedWeights(backbone: string): string | null {
  const entry = loadManifest().models[backbone];
  return entry ? weightsId(entry) : null;
}

/** What the explanation analysis needs from the study. */
/** The report's explanation sections, and what they found: the heat-map analysis and the geometry contributions, each when it ran. */
type Explained = { sections: Section[]; explanation?: StudyExplanation; geometry?: StudyGeometryExplanation; card?: CardExplanation };

interface ExplainContext {
  dataset: Dataset;
  used: PhotoResult[];
  result: CrossValidationResult;
  final: FinalModel;
  rows: StudyRows;
  classifier: Classifier;
  backbone: string;
  bundle: ModelBundle;
  opts: StudyOptions;
  log: Log;
}

/**
 * What the model looks at, as a report section: the explanation analysis on a bounded sample, its
 * files (explanation.json, the control reference beside the bundle), or a section saying why it
 * could not run. No section when it is switched off.
 */
async function explainIntoReport(work: string, files: StudyResult['files'], c: ExplainContext): Promise<Explained> {
  const explainOptions = c.opts.explain === false ? { maxPhotos: 0 } : c.opts.explain ?? {};
  const maxPhotos = explainOptions.maxPhotos ?? DEFAULTS.explain.study.maxPhotos;
  if (maxPhotos <= 0) return { sections: [] };
  const geometry = geometryOfStudy(c, explainOptions);
  if (!c.final.model) {
    const chosen = featuresLabel(c.final.features!.features);
    c.log(`study: no heat-map analysis: the model learns from ${chosen}, without the embedding the heat maps differentiate\n`);
    const byGeometry = geometry ? `<p>Instead, the regions are ranked by the model's geometry part, as <code>screen --explain</code> ranks them.</p>${geometryTable(geometry)}` : '';
    return { sections: [{ id: 'explanations', title: 'What the model looks at', html: `<p class="warn">The heat-map analysis explains a model's use of the identity embedding; this model learns from ${esc(chosen)} without it, so no heat maps were computed.</p>${byGeometry}` }], geometry };
  }
  c.log(`study: explaining up to ${maxPhotos} photos (Grad-CAM, regions, occlusion, sanity checks)...\n`);
  try {
    const seed = c.opts.seed ?? DEFAULTS.explain.study.seed;
    const progress = stageProgress(c.opts, 'study explain', 'photos');
    const explained = await explainFinalModel(c, seed, { seed, ...explainOptions }, progress.update).finally(progress.stop);
    const { meanHeatmapPng, reference, heatScale } = explained;
    const scope = heatMapScope(c.final.features?.features, c.backbone, c.bundle.backbone.second?.name);
    const x = { ...explained.result, ...(scope ? { scope } : {}), ...(geometry ? { geometry } : {}) };
    // Beside the bundle, so that screen and serve can draw the contrastive map too, on the study's colour scale.
    if (reference) await saveReference(files.model, { ...reference, bundleId: c.bundle.id });
    // The checks go with the scale, so that screening can say beside its regions when the study's map failed one.
    const scale = heatScale && { ...heatScale, bundleId: c.bundle.id, checks: x.checks.map((k) => ({ name: k.name, passed: k.passed })) };
    if (scale) await saveHeatScale(files.model, scale);
    const checksNote = scale && heatMapChecksNote(scale, scale.cam);
    const card = { ...(reference ? { referenceNote: referenceCardNote(reference) } : {}), ...(checksNote ? { checksNote } : {}) };
    files.explanation = path.join(work, 'explanation.json');
    await writeFile(files.explanation, JSON.stringify(x, null, 1) + '\n');
    for (const w of x.warnings) c.log(`study: ${w}\n`);
    return { sections: [await explanationSection(x, meanHeatmapPng)], explanation: x, geometry, card };
  } catch (err) {
    const e = toErrorRecord(err);
    c.log(`study: no explanation analysis: ${e.code}: ${e.message}\n`);
    return { sections: [{ id: 'explanations', title: 'What the model looks at', html: `<p class="warn">The explanation analysis could not run: ${esc(e.code)}: ${esc(e.message)}</p>${geometry ? geometryTable(geometry) : ''}` }], geometry };
  }
}

/** The final model's geometry contributions on the correctly screened positive photos, when it has a linear geometry part. */
function geometryOfStudy(c: ExplainContext, o: Partial<StudyExplanationOptions>): StudyGeometryExplanation | undefined {
  if (!c.final.features || !c.rows.inputs) return undefined;
  const correct = oofCorrectness(c.result.predictions, c.result.folds).photo;
  return studyGeometryExplanation(c.final.features, { ...c.rows, inputs: c.rows.inputs }, correct, {
    positive: c.dataset.positive,
    bootstrap: o.bootstrap ?? DEFAULTS.explain.study.bootstrap,
    seed: o.seed ?? c.opts.seed ?? DEFAULTS.explain.study.seed,
  });
}

/**
 * Explains the final model on the study's photos, with the sanity checks' shuffled-label model
 * trained the same way (from `seed`) on labels permuted between subjects.
 */
async function explainFinalModel(c: ExplainContext, seed: number, options: Partial<StudyExplanationOptions>, onProgress: (done: number, total: number) => void): ReturnType<typeof explainStudy> {
  const { rows, classifier, dataset, result } = c;
  const shuffled = shuffledLabelModel(rows, classifier, seed);
  return explainStudy({
    photos: c.used.map((p) => ({ path: p.item.path, abs: p.item.absPath, subject: p.item.subject, y: p.item.y, view: p.view ?? null, ...(p.face && { face: p.face }) })),
    predictions: result.predictions,
    folds: result.folds,
    model: c.final.model!,
    shuffled,
    backbone: c.backbone,
    positive: dataset.positive,
    negative: dataset.negative,
    options,
    onProgress,
  });
}
