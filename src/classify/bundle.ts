/**
 * The model bundle (`DIR/model/`): everything `screen` and `serve` need to use a trained model, and
 * everything a reader needs to judge it (a model card in the spirit of Mitchell et al. 2019,
 * "Model Cards for Model Reporting"): the classifier, its decision thresholds, the backbone it was
 * trained on (name and weights checksum), the pipeline configuration, a training-data summary, the
 * cross-validated metrics, intended use and limitations.
 */
import { constants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';
import { loadManifest, type ManifestEntry } from '../runtime/index.ts';
import { widenRate } from '../math/proportion.ts';
import { canonicalJson } from '../types.ts';
import { FittedRanker } from './ranker.ts';
import { classifierFromJSON } from './registry.ts';
import type { ClassifierJSON, FittedClassifier } from './types.ts';
import type { FeatureModelJSON } from '../features/types.ts';
import type { MeasurementNorms } from '../features/measurements.ts';

/** Intended use, written into every bundle. */
export const INTENDED_USE =
  'A screening aid for clinicians: flags people whose facial photographs resemble those of people with 22q11.2 deletion syndrome in the training data, to prompt genetic testing. Not a diagnosis.';

/** Limitations every bundle states, before its own. */
export const STANDARD_LIMITATIONS: readonly string[] = [
  'A screening aid, not a diagnosis: a positive result calls for clinical assessment and genetic testing (e.g. chromosomal microarray or FISH for 22q11.2); a negative result does not exclude the syndrome.',
  'Its performance is the cross-validated estimate on the training photos; it holds only for people, cameras and settings like those.',
  'Ancestry, age and sex shape facial features: check the subgroup results before use in another population.',
  'Accuracy may differ between frontal, oblique and profile photos: see the per-view results (with their intervals) in the report.',
];

/** What every refusal of a damaged or edited bundle ends with. */
const DAMAGED = 'The bundle is damaged or was edited: use the model/ folder as `phenoface study` wrote it.';

/** The most characters a string holds (V8's limit): a longer file cannot be parsed as JSON. */
const MAX_STRING_LENGTH = constants.MAX_STRING_LENGTH;

/** `backbone.name` of a bundle trained on embeddings whose records name no backbone (and no `--backbone` named them). */
export const UNNAMED_BACKBONE = 'unknown';

/** Headline metrics kept in the bundle (subject level unless said). */
export interface BundleMetrics {
  subject: Record<string, unknown>;
  photo: Record<string, unknown>;
  byView: Record<string, unknown>;
}

/** The bundle's `model.json`. */
export interface ModelBundle {
  contract: 1;
  format: 'phenoface-model';
  /**
   * 1 for a model on the embedding alone; 2 when it uses feature blocks (`features`), so that a
   * reader of v1 only refuses it instead of scoring with the first block's classifier alone.
   */
  formatVersion: 1 | 2;
  /** Content hash of the bundle's defining parts (classifier, backbone, thresholds). */
  id: string;
  /**
   * The sha256 of the rest of this file ({@link bundleChecksum}): the id covers what defines the
   * calls, this also what is shown beside them (the cross-validated rates a chance is computed
   * from, the measurement norms z-scores are taken against). Absent in bundles saved before it.
   */
  checksum?: string;
  createdAt: string;
  phenofaceVersion: string;
  positive: string;
  negative: string;
  /** The classifier on the embedding; with `features`, the first block's classifier. */
  classifier: ClassifierJSON;
  /**
   * What the model learns from, when the study used feature blocks: the fitted blocks, one
   * classifier per block, the stacking combiner and how `auto` chose them. Absent in a model on
   * the embedding alone (`classifier` is then the whole model).
   */
  features?: FeatureModelJSON;
  thresholds: { photo: number; subject: number };
  /**
   * The embedding network. For a study from an embeddings file, `name` is the records' backbone
   * ({@link UNNAMED_BACKBONE} when they name none) and `weightsSha256` is null unless that backbone is installed here.
   */
  backbone: { name: string; dim: number; weightsSha256: string | null; second?: Network };
  /** Set when the study read precomputed embeddings (`study --embeddings`) instead of photos: their origin. */
  embeddings?: { file: string; sha256: string; backbone: string | null; dimension: number; records: number; normalised: boolean };
  pipeline: { version: string; config: Record<string, unknown> };
  training: { summary: unknown; datasetHash: string; photosUsed: number; subjectsUsed: number; warnings: string[] };
  metrics: BundleMetrics;
  intendedUse: string;
  limitations: string[];
  /** Set for bundles built from synthetic data (the demo). */
  synthetic?: boolean;
  /** The controls' means and SDs of each measurement per view, for the z-scores `screen` reports. */
  measurementNorms?: MeasurementNorms;
  /**
   * A ranking study's ranked differential: the class names, the ranking model (restored by
   * `FittedRanker.fromJSON`) and its cross-validated top-k and per-class figures. The binary
   * `classifier` is then `positive` (the reference class) against every other class pooled.
   */
  ranking?: { classes: string[]; classifier: ClassifierJSON; metrics: Record<string, unknown> };
}

/** A loaded bundle with its classifier ready to use. */
export interface LoadedBundle extends ModelBundle {
  dir: string;
  model: FittedClassifier;
  /** The ranking model of a ranking bundle. */
  ranker?: FittedRanker;
}

/**
 * Identity of a backbone's weights: the sha256 of the npm-shipped source files they were converted
 * from. It survives re-conversion (e.g. a new ONNX output for Grad-CAM), which changes the ONNX
 * file's bytes but not one weight.
 */
export function weightsId(entry: ManifestEntry): string {
  return entry.source.files.map((f) => f.sha256).join('+');
}

/**
 * How the id and checksum serialise a bundle: `sorted`, every object's keys in order
 * (`canonicalJson`), so a tool that rewrites the file with its keys reordered (`jq -S`) keeps
 * both; `written`, the fields in the order they stand in the file, which the id and checksum of
 * some bundles in use hash (`loadBundle` accepts either).
 */
type HashOrder = 'sorted' | 'written';

const serialise = (value: unknown, order: HashOrder): string => (order === 'sorted' ? canonicalJson(value) : JSON.stringify(value));

/** Computes the bundle id from its defining parts. */
export function bundleId(b: Pick<ModelBundle, 'classifier' | 'backbone' | 'thresholds' | 'positive' | 'negative' | 'ranking' | 'features'>, order: HashOrder = 'sorted'): string {
  const h = createHash('sha256');
  h.update(serialise([b.classifier, b.backbone, b.thresholds, b.positive, b.negative, ...(b.ranking ? [b.ranking.classifier] : []), ...(b.features ? [b.features] : [])], order));
  return h.digest('hex').slice(0, 16);
}

/**
 * The sha256 of a bundle's JSON without its `checksum` field (numbers print back as they were
 * read, so re-indenting keeps it).
 */
export function bundleChecksum(b: ModelBundle, order: HashOrder = 'sorted'): string {
  const { checksum: _, ...rest } = b;
  return createHash('sha256').update(serialise(rest, order)).digest('hex');
}

/**
 * Writes `dir/model.json`. Its readable account, `MODEL_CARD.md`, is the study's to write
 * (`report/model-card.ts`, which sits above this module), once it knows how the model's
 * explanations fared.
 */
export async function saveBundle(dir: string, bundle: Omit<ModelBundle, 'id' | 'contract' | 'format' | 'formatVersion'>): Promise<ModelBundle> {
  const written: ModelBundle = { contract: 1, format: 'phenoface-model', formatVersion: bundle.features ? 2 : 1, id: bundleId(bundle), ...bundle };
  // As it will read back (JSON drops undefined fields), so that the checksum is the file's.
  const parsed = JSON.parse(JSON.stringify(written)) as ModelBundle;
  const full: ModelBundle = { ...written, checksum: bundleChecksum(parsed) };
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(full, null, 1) + '\n');
  return full;
}

/** A face-recognition network a model reads: its name, embedding length and the installed weights' identity (null when not installed). */
export interface Network {
  name: string;
  dim: number;
  weightsSha256: string | null;
}

/** Options of {@link loadBundle}. */
export interface LoadBundleOptions {
  /** Folder of the installed models (default: the package's). */
  modelsDir?: string;
  /**
   * The bundle will score precomputed embeddings, not photos: its backbone need not be installed
   * (the caller checks the embeddings' backbone and dimension against the bundle's instead).
   */
  embeddingsOnly?: boolean;
}

/**
 * Loads `dir/model.json` (or `dir` itself when it is that file). Fails with E_BUNDLE when the bundle
 * is missing or malformed, or, unless `embeddingsOnly`, when its backbone is not installed or its
 * weights differ from the ones the classifier was trained on (embeddings of other weights would be
 * meaningless to it).
 */
export async function loadBundle(dir: string, opts: LoadBundleOptions = {}): Promise<LoadedBundle> {
  const file = dir.endsWith('.json') ? dir : path.join(dir, 'model.json');
  let raw: string;
  try {
    // A pipe or device in its place would never end (or never open): only a regular file is read.
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_STRING_LENGTH) throw new Error(`it is ${st.size} bytes, more than one text can hold (${MAX_STRING_LENGTH})`);
    raw = await readFile(file, 'utf8');
  } catch (err) {
    // A file that is there but cannot be read (too large for one string, unreadable) is named as
    // such: "no model bundle" would send the user to look for one that is in its place.
    const absent = (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR';
    const why = absent ? '' : `: ${(err as Error).message}`;
    throw new PhenofaceError('E_BUNDLE', `No model bundle at ${dir} (cannot read ${file}${why}). Train one with \`phenoface study --out DIR\` and pass DIR/model.`, { cause: err });
  }
  let b: ModelBundle;
  try {
    // A byte-order mark opens a file some editors save as UTF-8: it is not part of the JSON.
    b = JSON.parse(raw.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new PhenofaceError('E_BUNDLE', `${file} is not valid JSON.`, { cause: err });
  }
  if (nestedDeeperThan(b, MAX_BUNDLE_DEPTH)) {
    throw new PhenofaceError('E_BUNDLE', `${file} holds values nested more than ${MAX_BUNDLE_DEPTH} levels deep, where a model bundle nests about 10. ${DAMAGED}`);
  }
  if (b?.format !== 'phenoface-model' || (b.formatVersion !== 1 && b.formatVersion !== 2)) {
    throw new PhenofaceError('E_BUNDLE', `${file} is not a Phenoface model bundle this version can read (format ${JSON.stringify(b?.format)} v${b?.formatVersion}; expected "phenoface-model" v1 or v2).`);
  }
  // A later contract may rename or drop fields (docs/cli-contract.md): read as this one, a renamed
  // field would pass unseen or be refused in words that send the user looking for damage.
  if (b.contract !== undefined && (b.contract as unknown) !== 1) {
    throw new PhenofaceError('E_BUNDLE', `${file} was written under contract ${shown(b.contract)}; this Phenoface reads contract 1. Screen with the Phenoface version that wrote it, or re-run the study with this one.`);
  }
  checkBundleFields(b, file);
  if (b.checksum !== undefined && (typeof b.checksum !== 'string' || !/^[0-9a-f]{64}$/.test(b.checksum))) {
    throw new PhenofaceError('E_BUNDLE', `${file}: "checksum" is ${shown(b.checksum)}; expected the sha256 of the bundle (64 lowercase hex digits), as \`phenoface study\` writes it. ${DAMAGED}`);
  }
  if (!opts.embeddingsOnly) checkInstalledBackbone(b, opts.modelsDir);
  // The id is the hash of what defines the model's calls: a mismatch is an edit or damage that the
  // field checks cannot see (a changed weight or threshold still has the right type).
  if (b.id !== bundleId(b) && b.id !== bundleId(b, 'written')) throw new PhenofaceError('E_BUNDLE', `${file}: its classifier, thresholds, classes or networks do not match its id ${shown(b.id)}: the bundle was edited or damaged. Use the model/ folder as \`phenoface study\` wrote it.`);
  if (b.checksum !== undefined && b.checksum !== bundleChecksum(b) && b.checksum !== bundleChecksum(b, 'written')) throw new PhenofaceError('E_BUNDLE', `${file}: its content does not match its checksum ${shown(b.checksum)}: the bundle was edited or damaged (its figures, measurement norms or notes, which screening shows beside each call). Use the model/ folder as \`phenoface study\` wrote it.`);
  const model = classifierFromJSON(b.classifier);
  if (!b.features && model.dim !== b.backbone.dim) throw new PhenofaceError('E_BUNDLE', `Classifier dimension ${model.dim} does not match backbone dimension ${b.backbone.dim}.`);
  const ranker = b.ranking ? FittedRanker.fromJSON(b.ranking.classifier) : undefined;
  if (ranker && ranker.dim !== b.backbone.dim) throw new PhenofaceError('E_BUNDLE', `Ranking classifier dimension ${ranker.dim} does not match backbone dimension ${b.backbone.dim}.`);
  // The differential names the ranker's classes, the result's `model.classes` the bundle's: one list, in one order.
  if (ranker && (ranker.labels.length !== b.ranking!.classes.length || ranker.labels.some((l, k) => l !== b.ranking!.classes[k]))) {
    throw new PhenofaceError('E_BUNDLE', `${file}: "ranking.classifier" ranks the classes ${shown(ranker.labels)} (its labels), but "ranking.classes" is ${shown(b.ranking!.classes)}; expected the same classes in the same order. ${DAMAGED}`);
  }
  return { ...b, metrics: widenedMetrics(b.metrics), training: { ...b.training, warnings: shownTrainingWarnings(b.training.warnings) }, dir: path.dirname(file), model, ...(ranker ? { ranker } : {}) };
}

/** What a loaded bundle says in place of a training warning that names training photos. */
export const WITHHELD_TRAINING_WARNING = 'A warning raised while training that names training photos and people: not shown here (the study\'s report holds it).';

/**
 * The training warnings a loaded bundle shows: a warning that quotes a photo's path (a leakage
 * warning naming its photos and their subject ids, as a bundle may hold them) is replaced by
 * {@link WITHHELD_TRAINING_WARNING}. `serve` shows these warnings to every user of the web app and
 * the names are the training patients'; the bundle's file, whose checksum covers them, is left as
 * it is, and the study's report keeps them.
 */
function shownTrainingWarnings(warnings: unknown): string[] {
  if (!Array.isArray(warnings)) return [];
  return warnings.filter((w): w is string => typeof w === 'string').map((w) => (w.includes('"') ? WITHHELD_TRAINING_WARNING : w));
}

/**
 * Deepest nesting of arrays and objects a bundle may hold. `saveBundle` writes about 10 levels;
 * the id and checksum serialise the parsed file recursively, and JSON parses arrays nested far
 * deeper than that can recurse (a line of 200,000 "[" overflowed the stack as E_INTERNAL).
 */
const MAX_BUNDLE_DEPTH = 100;

/** Whether `value` nests arrays or objects more than `limit` levels deep (walked without recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

/** One level's figures as a study stores them: each rate's value and interval, and the confusion counts (means over repeats) behind them. */
type StoredLevel = Record<string, unknown> & { confusion?: { tp?: unknown; fp?: unknown; tn?: unknown; fn?: unknown } };

/**
 * The bundle's cross-validated rates with their bootstrap intervals widened by Wilson's on the
 * counts (`widenRate`), as a study computes them: a bundle may hold them unwidened, and then
 * `screen`'s chance range, the web app and `/api/model` would each show other intervals for the
 * same rate. Widening a widened interval changes nothing, so a current bundle loads as saved.
 * Rates without a bootstrap interval, or a level without its confusion counts, stay as they are.
 */
function widenedMetrics(metrics: BundleMetrics): BundleMetrics {
  if (!metrics || typeof metrics !== 'object') return metrics;
  const byView = metrics.byView && typeof metrics.byView === 'object'
    ? Object.fromEntries(Object.entries(metrics.byView).map(([view, pair]) => [view, widenedPair(pair)]))
    : metrics.byView;
  return { ...widenedPair(metrics), byView };
}

/** An object's `photo` and `subject` levels widened (the bundle's headline, or one view's). */
function widenedPair<T>(pair: T): T {
  if (!pair || typeof pair !== 'object') return pair;
  const p = pair as { photo?: unknown; subject?: unknown };
  return { ...pair, ...('photo' in p ? { photo: widenedLevel(p.photo) } : {}), ...('subject' in p ? { subject: widenedLevel(p.subject) } : {}) };
}

/** One level's accuracy, sensitivity and specificity widened on its confusion counts (see {@link widenedMetrics}). */
function widenedLevel(level: unknown): unknown {
  if (!level || typeof level !== 'object') return level;
  const l = level as StoredLevel;
  const { tp, fp, tn, fn } = l.confusion ?? {};
  if (![tp, fp, tn, fn].every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) return level;
  const c = l.confusion as { tp: number; fp: number; tn: number; fn: number };
  const counts: Record<string, [successes: number, total: number]> = {
    accuracy: [c.tp + c.tn, c.tp + c.tn + c.fp + c.fn],
    sensitivity: [c.tp, c.tp + c.fn],
    specificity: [c.tn, c.tn + c.fp],
  };
  const out: StoredLevel = { ...l };
  for (const [name, [successes, total]] of Object.entries(counts)) {
    const rate = l[name];
    if (isBootstrapped(rate)) out[name] = widenRate(rate, successes, total);
  }
  return out;
}

/** A stored rate with a value and a two-number interval: the only kind {@link widenedLevel} widens. */
function isBootstrapped(e: unknown): e is { value: number; ci95: [number, number] } {
  const r = e as { value?: unknown; ci95?: unknown } | undefined;
  return typeof r?.value === 'number' && Array.isArray(r.ci95) && r.ci95.length === 2 && r.ci95.every((x) => typeof x === 'number' && Number.isFinite(x));
}

/** The figures of a metrics level that are rates or areas, each `null` or `{value, ci95}` in [0, 1]. */
const UNIT_FIGURES = ['auc', 'accuracy', 'balancedAccuracy', 'sensitivity', 'specificity', 'ppv', 'npv', 'brier'] as const;

/** At most 60 characters of a value as JSON, for a message about a bad field. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}...` : text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUnit = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= 1;

/**
 * E_BUNDLE, naming the field, unless every field that screening reads has the type and range
 * `saveBundle` writes. A bundle is a file anyone can edit or damage, and a field of the wrong kind
 * would otherwise surface as a crash far from here or, worse, as a wrong call: a threshold that is
 * a string or null compares as false or 0, so every person would be labelled one class.
 */
function checkBundleFields(b: ModelBundle, file: string): void {
  const bad = (field: string, value: unknown, expected: string) => new PhenofaceError('E_BUNDLE', `${file}: "${field}" is ${shown(value)}; expected ${expected}. ${DAMAGED}`);
  for (const key of ['positive', 'negative'] as const) {
    if (typeof b[key] !== 'string' || b[key] === '') throw bad(key, b[key], 'a class name');
  }
  if (b.positive === b.negative) throw bad('negative', b.negative, `a class other than the positive "${b.positive}"`);
  if (!isObject(b.thresholds)) throw bad('thresholds', b.thresholds, 'an object with "photo" and "subject"');
  for (const key of ['photo', 'subject'] as const) {
    if (!isUnit(b.thresholds[key])) throw bad(`thresholds.${key}`, b.thresholds[key], 'a number from 0 to 1');
  }
  checkNetwork(b.backbone, 'backbone', bad);
  if (b.backbone.second !== undefined) checkNetwork(b.backbone.second, 'backbone.second', bad);
  // A v2 bundle scores through its feature blocks; without them the first block's classifier alone would score.
  if ((b.formatVersion === 2) !== isObject(b.features)) throw bad('features', b.features, b.formatVersion === 2 ? 'the feature model of a v2 bundle' : 'no feature model in a v1 bundle');
  checkMetrics(b.metrics, bad);
  if (!isObject(b.training)) throw bad('training', b.training, 'the summary of the training data');
  // Screening quotes their ratio (the study's photos per person) and the web app both counts.
  const { subjectsUsed, photosUsed } = b.training;
  if (!Number.isInteger(subjectsUsed) || subjectsUsed < 1) throw bad('training.subjectsUsed', subjectsUsed, 'a whole number of people, 1 or more');
  if (!Number.isInteger(photosUsed) || photosUsed < subjectsUsed) throw bad('training.photosUsed', photosUsed, `a whole number of photos, one or more per person (${subjectsUsed})`);
  if (typeof b.intendedUse !== 'string') throw bad('intendedUse', b.intendedUse, 'a sentence');
  if (!Array.isArray(b.limitations) || b.limitations.some((l) => typeof l !== 'string')) throw bad('limitations', b.limitations, 'a list of sentences');
  if (b.synthetic !== undefined && typeof b.synthetic !== 'boolean') throw bad('synthetic', b.synthetic, 'true or false');
  if (b.pipeline !== undefined && (!isObject(b.pipeline) || (b.pipeline.version !== undefined && typeof b.pipeline.version !== 'string'))) throw bad('pipeline', b.pipeline, 'an object with a "version" string');
  if (b.embeddings !== undefined && (!isObject(b.embeddings) || typeof b.embeddings.file !== 'string')) throw bad('embeddings', b.embeddings, 'the origin of the embeddings file, with its "file" name');
  if (b.ranking !== undefined) {
    const classes = isObject(b.ranking) ? b.ranking.classes : undefined;
    if (!Array.isArray(classes) || classes.length < 3 || classes.some((c) => typeof c !== 'string' || c === '') || new Set(classes).size !== classes.length) {
      throw bad('ranking.classes', classes, 'three or more distinct class names');
    }
    // The call is the positive class against the others: a positive the ranking leaves out is no class of this study.
    if (!classes.includes(b.positive)) throw bad('positive', b.positive, `one of the ranked classes (${classes.join(', ')})`);
    checkRankingMetrics((b.ranking as { metrics?: unknown }).metrics, bad);
  }
}

/**
 * E_BUNDLE unless the ranking's figures that screening quotes beside the differential (its
 * cross-validated top-1 per person, the share of the most common class, each class's people) are
 * absent or in range: the notes print them as percentages and counts.
 */
function checkRankingMetrics(metrics: unknown, bad: (field: string, value: unknown, expected: string) => PhenofaceError): void {
  if (metrics === undefined) return;
  if (!isObject(metrics)) throw bad('ranking.metrics', metrics, 'an object of cross-validated figures');
  const top1 = isObject(metrics.subject) ? metrics.subject.top1 : undefined;
  if (top1 !== undefined && top1 !== null) {
    const ci = isObject(top1) ? top1.ci95 : undefined;
    const ciOk = ci === undefined || ci === null || (Array.isArray(ci) && ci.length === 2 && isUnit(ci[0]) && isUnit(ci[1]) && ci[0] <= ci[1]);
    if (!isObject(top1) || !(top1.value === null || isUnit(top1.value)) || !ciOk) throw bad('ranking.metrics.subject.top1', top1, '{"value", "ci95"} with numbers from 0 to 1 (or null)');
  }
  const majority = isObject(metrics.chance) && isObject(metrics.chance.majority) ? metrics.chance.majority.subject : undefined;
  if (majority !== undefined && !isUnit(majority)) throw bad('ranking.metrics.chance.majority.subject', majority, 'a share from 0 to 1');
  if (metrics.perClass !== undefined) {
    if (!isObject(metrics.perClass)) throw bad('ranking.metrics.perClass', metrics.perClass, "each class's figures");
    for (const [label, c] of Object.entries(metrics.perClass)) {
      const people = isObject(c) && isObject(c.support) ? c.support.subjects : undefined;
      if (people !== undefined && !(Number.isInteger(people) && (people as number) >= 0)) throw bad(`ranking.metrics.perClass.${label}.support.subjects`, people, 'a whole number of people');
    }
  }
}

/** E_BUNDLE unless `net` is a network record: a name, a positive integer dimension and the weights' identity or null. */
function checkNetwork(net: unknown, field: string, bad: (field: string, value: unknown, expected: string) => PhenofaceError): asserts net is Network {
  if (!isObject(net)) throw bad(field, net, 'an object with "name", "dim" and "weightsSha256"');
  if (typeof net.name !== 'string' || net.name === '') throw bad(`${field}.name`, net.name, "the network's name");
  if (!Number.isInteger(net.dim) || (net.dim as number) < 1) throw bad(`${field}.dim`, net.dim, 'a positive integer');
  if (net.weightsSha256 !== null && typeof net.weightsSha256 !== 'string') throw bad(`${field}.weightsSha256`, net.weightsSha256, 'a checksum or null');
}

/**
 * E_BUNDLE unless the metrics hold `subject`, `photo` and `byView` objects whose rates (and each
 * view's) are null or `{value, ci95}` in [0, 1], and whose confusion counts are numbers of 0 or more:
 * screening turns them into the call's likelihood ratio and chance.
 */
function checkMetrics(metrics: unknown, bad: (field: string, value: unknown, expected: string) => PhenofaceError): void {
  if (!isObject(metrics)) throw bad('metrics', metrics, 'an object with "subject", "photo" and "byView"');
  const level = (value: unknown, field: string) => {
    if (!isObject(value)) throw bad(field, value, 'an object of cross-validated figures');
    for (const name of UNIT_FIGURES) {
      const f = value[name];
      if (f === undefined || f === null) continue;
      const ci = isObject(f) ? f.ci95 : undefined;
      const ciOk = ci === undefined || ci === null || (Array.isArray(ci) && ci.length === 2 && isUnit(ci[0]) && isUnit(ci[1]) && ci[0] <= ci[1]);
      if (!isObject(f) || !(f.value === null || isUnit(f.value)) || !ciOk) throw bad(`${field}.${name}`, f, '{"value", "ci95"} with numbers from 0 to 1 (or null)');
    }
    const c = value.confusion;
    // Counts averaged over the repeats, so not always whole.
    if (c !== undefined && (!isObject(c) || ['tp', 'fp', 'tn', 'fn'].some((k) => typeof c[k] !== 'number' || !((c[k] as number) >= 0) || !Number.isFinite(c[k])))) {
      throw bad(`${field}.confusion`, c, 'counts "tp", "fp", "tn" and "fn" of 0 or more');
    }
  };
  level(metrics.subject, 'metrics.subject');
  level(metrics.photo, 'metrics.photo');
  if (!isObject(metrics.byView)) throw bad('metrics.byView', metrics.byView, 'an object of figures by view');
  for (const [view, g] of Object.entries(metrics.byView)) {
    if (!isObject(g)) throw bad(`metrics.byView.${view}`, g, 'the view\'s "photo" and "subject" figures');
    for (const key of ['photo', 'subject']) if (g[key] !== undefined) level(g[key], `metrics.byView.${view}.${key}`);
  }
}

/** E_BUNDLE unless the bundle's backbone (and second network, if any) is installed with the weights it was trained on. */
function checkInstalledBackbone(b: ModelBundle, modelsDir?: string): void {
  const manifest = loadManifest(modelsDir);
  const entry = manifest.models[b.backbone?.name];
  if (b.embeddings && (!entry || b.backbone.weightsSha256 === null)) {
    throw new PhenofaceError('E_BUNDLE', `The model was trained on precomputed ${b.backbone.name} embeddings (${b.embeddings.file}), and that backbone is not installed here: it cannot embed photos. Score embeddings instead (\`phenoface screen --model DIR --embeddings FILE.jsonl\`).`);
  }
  for (const [role, net] of [['backbone', b.backbone], ['second network', b.backbone.second]] as const) {
    if (!net) continue;
    const installed = manifest.models[net.name];
    if (!installed) {
      throw new PhenofaceError('E_BUNDLE', `The model's ${role} "${net.name}" is not installed. Installed: ${Object.keys(manifest.models).join(', ')}. If it is one of the networks Phenoface ships, build it with \`npx phenoface models build\`; a network of another name cannot be installed here.`);
    }
    if (weightsId(installed) !== net.weightsSha256) {
      throw new PhenofaceError('E_BUNDLE', `The model was trained on ${net.name} weights ${String(net.weightsSha256).slice(0, 12)}..., but the installed ones are ${weightsId(installed).slice(0, 12)}...: its embeddings would not match. Re-train with this installation.`);
    }
    // The weights match, so their embedding length is the one the bundle must name: a feature
    // model reads the vector whatever the bundle says, and the two would disagree unseen.
    const dim = embeddingLength(installed);
    if (dim !== net.dim) {
      throw new PhenofaceError('E_BUNDLE', `The model's ${role} "${net.name}" gives ${dim}-dimensional embeddings, but the bundle says it gives ${net.dim}: the bundle was edited or damaged. Use the model/ folder as \`phenoface study\` wrote it.`);
    }
  }
}

/** The embedding length of an installed network: the last dimension of its `embedding` output (its first output otherwise), as the backbone registry reads it. */
function embeddingLength(entry: ManifestEntry): number {
  const output = entry.outputs.find((o) => o.name === 'embedding') ?? entry.outputs[0];
  return Number(output?.dims[output.dims.length - 1]);
}
