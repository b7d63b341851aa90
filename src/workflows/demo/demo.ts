/**
 * `runDemo`: the whole product on a small SYNTHETIC study, from photos that ship with `npm install`
 * (or a folder the user names), offline, in a few minutes. The steps are the ones a real
 * user takes: photos -> `synth` plants a 22q11.2DS-like warp in half the people (the known answer)
 * -> `study` cross-validates by person and trains a model -> `screen` scores one planted and one
 * control person the model never saw, with heatmaps of what it looked at.
 * Everything it writes is labelled synthetic, and the model bundle carries `synthetic: true`.
 *
 * Output folder: `photos/` (augmented people, bundled source only), `synth/` (planted set, truth.json,
 * preview.png), `study/` (predictions.csv, metrics.json, report.html, model/), `screen/` (one JSON
 * per held-out person, heatmaps), `cache.sqlite` (embeddings, kept between runs) and `demo.json`.
 * All but the cache are built beside the output folder and replace an earlier demo there only once
 * the new one is complete (`data/output.ts`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULTS } from '../../config.ts';
import { cacheEntries, prepareOutputDir, type OutputGuard, type OutputKind, type StagedDir } from '../../data/output.ts';
import { PhenofaceError, toErrorRecord } from '../../errors.ts';
import { chooseFace, Pipeline } from '../../pipeline/pipeline.ts';
import { modelPath } from '../../runtime/index.ts';
import { fileExplainer } from '../screen/explainer.ts';
import { Screener, type PhotoExplainer, type ScreenResult } from '../screen/screener.ts';
import { esc, writeReport } from '../../report/index.ts';
import { runStudy, type StudyResult } from '../study/study.ts';
import { formatCsv } from '../../data/csv.ts';
import { printable } from '../../data/printable.ts';
import { readSynthInput, safeName, synthesize, SYNTH_LABELS, SYNTH_REGIONS, type SynthInput, type SynthRow, type Truth } from '../synth/index.ts';
import { hashUniform } from '../../math/random.ts';
import { prevalenceText, probabilityText } from '../../evaluate/post-test.ts';
import { regionLabel } from '../../explain/regions.ts';
import { summariseExplanationChecks, type ExplanationChecksSummary } from '../../explain/study-result.ts';
import { BUNDLED_PHOTOS, buildBundledPeople, bundledPhotoPaths } from './people.ts';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Output folder: new, empty, or an earlier demo's (its results are replaced once the new ones are complete; its cache is kept). */
  out: string;
  /** A folder `ROOT/<subject>/<photo>` or a manifest (path,subject[,view]); default: the bundled photos. */
  photos?: string;
  strength?: number;
  quick?: boolean;
  seed?: number;
  /** Progress and notes (stderr). */
  log: { err(text: string): void; isTTY: boolean };
  quiet?: boolean;
}

/** A held-out person's screening. */
export interface DemoScreening {
  subject: string;
  /** The truth: planted (`vcfs`) or control. */
  truthLabel: string;
  /** Planted strength after jitter (0 for controls). */
  strength: number;
  result: ScreenResult;
  /** The JSON written for it. */
  file: string;
}

/** Whether the held-out people's heatmaps were made. */
export type DemoExplain = { status: 'done' } | { status: 'failed'; error: { code: string; message: string } };

/** What {@link runDemo} did and found; also written as `demo.json`. */
export interface DemoResult {
  contract: 1;
  generator: 'phenoface demo';
  synthetic: true;
  out: string;
  source: string;
  people: number;
  photos: number;
  /** Regions the warp was planted in. */
  regions: string[];
  options: { strength: number; seed: number; quick: boolean; photosPerPerson?: number; folds: number; repeats: number; bootstrap: number; permutations: number };
  synth: { dir: string; written: number; skipped: number; affected: number; controls: number; preview?: string };
  heldOut: string[];
  study: {
    dir: string;
    report: string;
    model: string;
    subjects: number;
    photos: number;
    subjectAuc: { value: number | null; ci95: [number, number] | null };
    photoAuc: { value: number | null; ci95: [number, number] | null };
    permutationP: number | null;
    photosWithoutFace: number;
    /** Photos whose embedding came from `cache.sqlite` (all of them on a re-run). */
    photosFromCache: number;
    leakageWarnings: number;
    /** The study's explanation checks (sanity checks, occlusion agreement, heat outside the face) by name, when the analysis ran. */
    explanationChecks?: ExplanationChecksSummary;
  };
  /** Whether the study found the planted signal; see {@link judgeSignal}. */
  signal: SignalVerdict;
  screenings: DemoScreening[];
  explain: DemoExplain;
  seconds: Record<string, number>;
}

/**
 * The explanation checks in one sentence, for the summary and the report's demo section: a failed or
 * unmeasured check is said beside the held-out people's heatmap regions, which it qualifies.
 */
export function explanationChecksText(c: ExplanationChecksSummary): string {
  if (!c.failed.length && !c.notMeasured.length) return `the study's explanation checks: all ${c.total} passed`;
  const parts = [
    ...(c.failed.length ? [`${c.failed.length} of ${c.total} FAILED (${c.failed.join(', ')})`] : []),
    ...(c.notMeasured.length ? [`${c.notMeasured.length} of ${c.total} could not be measured (${c.notMeasured.join(', ')})`] : []),
  ];
  return `the study's explanation checks: ${parts.join('; ')}: read the heatmap regions as one method's view, not as established (report: What the model looks at)`;
}

/** `found` (both pieces of evidence), `suggested` (one of them) or `not-found` (neither). */
export type SignalVerdict = 'found' | 'suggested' | 'not-found';

/**
 * The planted signal counts as found when the person-level AUC's bootstrap 95% CI lies above 0.5
 * and, when a permutation test ran, its p < 0.05; as suggested when only one of the two holds
 * (with ~20 people they often disagree: the bootstrap CI is the more optimistic); else not found.
 */
export function judgeSignal(auc: { value: number | null; ci95: [number, number] | null }, permutationP: number | null): SignalVerdict {
  const ciAbove = auc.ci95 !== null && auc.ci95[0] > 0.5;
  const permutation = permutationP === null ? ciAbove : permutationP < 0.05;
  if (ciAbove && permutation) return 'found';
  return ciAbove || permutation ? 'suggested' : 'not-found';
}

const MARKER = 'demo.json';

/**
 * What the demo's output folder holds: a finished demo is recognised by its demo.json; a re-run
 * replaces the entries listed here and keeps the embedding cache (a re-run then skips embedding).
 */
export const DEMO_OUTPUT: OutputKind = {
  name: 'demo',
  marker: MARKER,
  isMarker: (json) => (json as { generator?: unknown } | null)?.generator === 'phenoface demo',
  owned: ['photos', 'synth', 'study', 'screen', MARKER],
};

/** The embedding cache, in the output folder itself (not in the folder being built), so it outlives failed runs. */
const CACHE = 'cache.sqlite';

/** The models the demo runs (detector and default backbone); E_MODEL naming the missing ones. */
export function checkDemoModels(): void {
  const missing = ['pnet', 'rnet', 'onet', DEFAULTS.embed.backbone].filter((n) => !existsSync(modelPath(n)));
  if (missing.length > 0) {
    throw new PhenofaceError('E_MODEL', `Models not built: ${missing.join(', ')}. Run \`npx phenoface models build\` (npm install runs it) and try again.`);
  }
}

/** What the output folder must keep clear of: the photos read (`--photos`, or the bundled ones) and a `--photos` folder, which is walked. */
function demoGuard(photos: string | undefined, input: SynthInput | undefined): OutputGuard {
  if (!photos || !input) return { option: '--out', inputs: bundledPhotoPaths() };
  return {
    option: '--out',
    inputs: [{ abs: input.source, shown: photos }, ...input.rows.map((r) => ({ abs: r.absPath, shown: r.path }))],
    inputFolders: input.layout === 'folder' ? [{ abs: input.source, shown: photos }] : [],
  };
}

/** One planted and one control person, drawn from `(seed, id)` among those with written photos. */
function chooseHeldOut(truth: Truth, seed: number): [string | undefined, string | undefined] {
  const withPhotos = new Set(truth.photos.map((p) => p.subject));
  const rank = (label: string) => [...withPhotos]
    .filter((id) => truth.subjects[id].label === label)
    .sort((a, b) => hashUniform(seed, `demo-heldout:${a}`) - hashUniform(seed, `demo-heldout:${b}`))[0];
  return [rank(SYNTH_LABELS.affected), rank(SYNTH_LABELS.control)];
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * A held-out person's screening as the demo's summary and report state it: the call, the score
 * (as `screen` prints it, never 100% or 0%), the planted strength after the per-person jitter,
 * and the heat map's top regions named with the patient's side (`periorbital-left` is the
 * patient's right eye); for a person scored below the threshold, `belowNote` says they are the
 * shares of what little raises the score, since "top regions" of a score near 0 read as the
 * regions being why (as `screen` words a photo below its threshold).
 */
export function screeningText(s: Pick<DemoScreening, 'truthLabel' | 'strength' | 'result'>): { truth: string; call: string; score: string; regions: string; belowNote?: string } {
  const res = s.result.subject;
  const below = res.probability !== null && res.probability < res.threshold;
  // The score is no chance of disease: the chance at the prevalence screened at is said beside it, as screen says it.
  const chance = res.chance === undefined || res.chance === null || res.prevalence === undefined ? '' : ` (chance of ${s.result.model.positive} ${probabilityText(res.chance)} at a prevalence of ${prevalenceText(res.prevalence)})`;
  return {
    truth: s.truthLabel === SYNTH_LABELS.affected ? `planted, strength ${s.strength.toFixed(2)} after the per-person jitter` : 'control',
    call: res.label ?? 'no result',
    score: res.probability === null ? '' : `classifier score ${probabilityText(res.probability)}, not a chance of disease${chance}`,
    regions: topRegions(s.result).map((r) => `${regionLabel(r.name)} ${(100 * r.share).toFixed(0)}%`).join(', '),
    ...(below && { belowNote: 'below the threshold, what little raises the score comes from' }),
  };
}

/** A screened person's heatmap regions: each region's share averaged over the photos that have regions, largest first. */
export function topRegions(result: ScreenResult, k = 3): { name: string; share: number }[] {
  const explained = result.photos.filter((p) => p.regions?.length);
  const sums = new Map<string, number>();
  for (const p of explained) for (const r of p.regions!) sums.set(r.name, (sums.get(r.name) ?? 0) + r.share);
  return [...sums].map(([name, sum]) => ({ name, share: sum / explained.length })).sort((a, b) => b.share - a.share).slice(0, k);
}

/** Inline image for the report (self-contained HTML): a JPEG data URL, at most `width` px wide. */
async function dataUrl(file: string, width: number): Promise<string> {
  const jpeg = await sharp(file).resize({ width, withoutEnlargement: true }).jpeg({ quality: 80 }).toBuffer();
  return `data:image/jpeg;base64,${jpeg.toString('base64')}`;
}

/** The report's demo section: what was planted, and the held-out screenings (with heatmaps when made). */
async function demoSection(res: Omit<DemoResult, 'seconds'>, truth: Truth, synthDir: string): Promise<{ id: string; title: string; html: string }> {
  const rows = await Promise.all(res.screenings.map(async (s) => {
    const heat = s.result.photos.find((p) => p.heatmap)?.heatmap;
    const shown = heat && existsSync(heat) ? heat : path.join(synthDir, truth.photos.find((p) => p.subject === s.subject)!.path);
    const t = screeningText(s);
    return `<tr><th scope="row">${esc(s.subject)}</th><td>${esc(t.truth)}</td>` +
      `<td>${esc(t.score ? `${t.call}; ${t.score}` : t.call)}</td><td>${t.regions ? esc(t.belowNote ? `${t.belowNote} ${t.regions}` : t.regions) : '&ndash;'}</td>` +
      `<td><img alt="${esc(s.subject)}" src="${await dataUrl(shown, 200)}"></td></tr>`;
  }));
  const preview = res.synth.preview ? `<p>The planted warp (before / as planted / at strength 1), from <code>synth/preview.png</code>:</p><img alt="synth preview" style="max-width:100%" src="${await dataUrl(res.synth.preview, 600)}">` : '';
  const explain = res.explain.status === 'done' ? '' : `<p>Heatmaps: ${esc(`the explain stage failed: ${res.explain.error.code}: ${res.explain.error.message}`)}.</p>`;
  const c = res.study.explanationChecks;
  const checks = c && (c.failed.length || c.notMeasured.length) ? `<p class="warn" id="demo-explanation-checks">${esc(explanationChecksText(c).replace(/^t/, 'T'))}.</p>` : '';
  const html = `<p class="banner"><strong>SYNTHETIC demonstration.</strong> ${res.people} people (${esc(res.source)}); a 22q11.2DS-like warp (${esc(truth.options.regions.join(', '))}) was planted at strength ${res.options.strength} in ${res.synth.affected} of them (label <code>${esc(SYNTH_LABELS.affected)}</code>). Not a clinical model: it learned a planted geometric change, not the syndrome.</p>` +
    `<p>Two people were held out of the study and screened with its model:</p><table><tr><th>person</th><th>truth</th><th>screening result</th><th>top heatmap regions</th><th>photo</th></tr>${rows.join('')}</table>${checks}${explain}${preview}`;
  return { id: 'demo', title: 'Demo (synthetic)', html };
}

/**
 * Runs the demo; see the module comment. Throws E_MODEL without models, E_USAGE for an output folder
 * that holds or lies in the photos, E_INPUT for unusable photos or output folder.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  checkDemoModels();
  const input = opts.photos ? await readSynthInput(path.resolve(opts.photos)) : undefined;
  const target = path.resolve(opts.out);
  const out = await prepareOutputDir(target, DEMO_OUTPUT, demoGuard(opts.photos, input), await cacheEntries(target, path.join(target, CACHE)));
  return out.relocate(await out.run((work) => demoInto(work, out, opts, input)));
}

/** The demo's settings: `opts` over `DEFAULTS.demo`. */
interface DemoSettings {
  quick: boolean;
  effort: typeof DEFAULTS.demo.full;
  strength: number;
  seed: number;
  log: (text: string) => void;
}

/** Seconds per step, each from the end of the one before. */
function stepTimer() {
  const seconds: Record<string, number> = {};
  const t0 = performance.now();
  let lap = t0;
  return {
    seconds,
    done(step: string) { const now = performance.now(); seconds[step] = r3((now - lap) / 1000); lap = now; },
    total() { seconds.total = r3((performance.now() - t0) / 1000); },
  };
}

/** The demo itself, writing into `work` (the staging folder of `out`); paths it reports are relocated by the caller. */
async function demoInto(work: string, out: StagedDir, opts: DemoOptions, input: SynthInput | undefined): Promise<DemoResult> {
  const quick = Boolean(opts.quick);
  const s: DemoSettings = {
    quick,
    effort: quick ? DEFAULTS.demo.quick : DEFAULTS.demo.full,
    strength: opts.strength ?? DEFAULTS.demo.strength,
    seed: opts.seed ?? DEFAULTS.demo.seed,
    // Messages quote folder names and paths from the user's photos (`--photos`).
    log: (t) => { if (!opts.quiet) opts.log.err(printable(t)); },
  };
  const timer = stepTimer();
  const planted = await plantInPeople(work, opts, input, s, timer);
  const cohort = checkCohort(planted.synth.truth, planted.rows);
  const heldOut = holdOut(planted.synth.truth, s.seed);
  const study = await studyTheRest(work, out, planted, cohort.people.size, heldOut, opts, s);
  timer.done('study');
  const screened = await screenHeldOut(path.join(work, 'screen'), out, planted, heldOut, study.files.model, s.log);
  timer.done('screen');
  const result = demoResult({ work, opts, s, planted, cohort, heldOut, study, screened, seconds: timer.seconds });
  await addDemoSection(study, result, planted, s);
  timer.done('report');
  timer.total();
  await writeFile(path.join(work, MARKER), JSON.stringify(out.relocate(result), null, 1) + '\n');
  return result;
}

/** The people's photos and the set synth planted in half of them. */
interface Planted {
  rows: SynthRow[];
  source: string;
  synthDir: string;
  synth: Awaited<ReturnType<typeof synthesize>>;
}

/** Steps 1 and 2: the people and their photos (the user's, or made from the bundled ones), then the phenotype planted in half of them. */
async function plantInPeople(work: string, opts: DemoOptions, input: SynthInput | undefined, s: DemoSettings, timer: ReturnType<typeof stepTimer>): Promise<Planted> {
  // With the dense landmarks: their five points anchor the planted warps, as they align the embedding.
  const detector = await Pipeline.create({ detectOnly: true, landmarks: true, ...(!input && { config: { detect: { minFaceSizePx: DEFAULTS.people.detectMinFacePx } } }) });
  const synthDir = path.join(work, 'synth');
  let people: { rows: SynthRow[]; inputErrors: SynthInput['errors']; source: string };
  let synth: Planted['synth'];
  try {
    people = input ? userPeople(input, opts.photos!, s.log) : await bundledPeople(work, detector, s);
    timer.done('photos');
    s.log(`demo: planting a 22q11.2DS-like warp at strength ${s.strength} in half the people (synth)...\n`);
    synth = await synthesize({
      rows: people.rows,
      inputErrors: people.inputErrors,
      outDir: synthDir,
      regions: [...SYNTH_REGIONS],
      strength: s.strength,
      fraction: DEFAULTS.demo.fraction,
      seed: s.seed,
      preview: true,
      sourceName: people.source,
      detect: (p) => detector.detectFile(p),
      chooseFace,
    });
  } catch (err) {
    // With the user's photos, a class synth would leave empty (too few people, or those drawn into
    // it without a usable face) is the photos' shortfall: the demo has no --fraction to change.
    if (input && err instanceof PhenofaceError && err.code === 'E_CONFIG') {
      const listed = new Set(input.rows.map((r) => r.subject)).size;
      throw new PhenofaceError('E_INPUT', `The photos of ${listed} ${listed === 1 ? 'person' : 'people'} cannot be split into planted people and controls who each have a usable face; the demo needs at least ${DEFAULTS.demo.minPeople} people with one. Should be a folder ROOT/<person>/<photo> (or a manifest path,subject) with more people.`, { cause: err });
    }
    throw err;
  } finally {
    await detector.close();
  }
  timer.done('synth');
  return { rows: people.rows, source: people.source, synthDir, synth };
}

/** The user's photos (`--photos`), with the rows the input refused. */
function userPeople(input: SynthInput, photos: string, log: (text: string) => void) {
  const rows = input.rows;
  const inputErrors = input.errors;
  log(`demo: ${new Set(rows.map((r) => r.subject)).size} people, ${rows.length} photos from ${photos}${inputErrors.length ? ` (${inputErrors.length} refused, listed in synth/truth.json)` : ''}\n`);
  return { rows, inputErrors, source: `photos from ${photos}` };
}

/** People made from the bundled photos: each face found, augmented into `photosPerPerson` photos under `work/photos`. */
async function bundledPeople(work: string, detector: Pipeline, s: DemoSettings) {
  const { effort, seed, log } = s;
  log(`demo: finding faces in ${BUNDLED_PHOTOS.package}'s ${BUNDLED_PHOTOS.files.length} demo photos and making ${effort.photosPerPerson} photos of each person...\n`);
  const built = await buildBundledPeople({ outDir: path.join(work, 'photos'), pipeline: detector, photosPerPerson: effort.photosPerPerson, seed, people: DEFAULTS.people });
  log(`demo: ${built.people.length} people, ${built.rows.length} photos\n`);
  const inputErrors: SynthInput['errors'] = [];
  return { rows: built.rows, inputErrors, source: `faces from ${BUNDLED_PHOTOS.package}'s demo photos, ${effort.photosPerPerson} augmented photos each` };
}

/** The people with a usable photo and how many were planted; E_INPUT below `DEFAULTS.demo.minPeople`. */
function checkCohort(truth: Truth, rows: SynthRow[]): { people: Set<string>; affected: number } {
  const people = new Set(truth.photos.map((p) => p.subject));
  if (people.size < DEFAULTS.demo.minPeople) {
    throw new PhenofaceError('E_INPUT', `Only ${people.size} people have a photo with a usable face (of ${new Set(rows.map((r) => r.subject)).size}); the demo needs at least ${DEFAULTS.demo.minPeople}. Should be a folder ROOT/<person>/<photo> (or a manifest path,subject) with more people.`);
  }
  const affected = Object.entries(truth.subjects).filter(([id, t]) => people.has(id) && t.label === SYNTH_LABELS.affected).length;
  return { people, affected };
}

/** Step 3a: one planted and one control person held out; E_INPUT when a class has no one to hold out. */
function holdOut(truth: Truth, seed: number): string[] {
  const drawn = chooseHeldOut(truth, seed);
  if (drawn[0] === undefined || drawn[1] === undefined) {
    throw new PhenofaceError('E_INPUT', `After synth, the ${drawn[0] === undefined ? SYNTH_LABELS.affected : SYNTH_LABELS.control} class has no person with a usable photo. Should be photos of more people.`);
  }
  return [drawn[0], drawn[1]];
}

/** The study options the demo sets (also shown in the report). */
function demoStudyOptions(s: DemoSettings) {
  const { effort, seed } = s;
  return { folds: effort.folds, repeats: effort.repeats, seed, bootstrap: effort.bootstrap, permutations: effort.permutations, synthetic: true };
}

/** Step 3b: a study of everyone but the held-out people, with its embedding cache in the output folder itself. */
async function studyTheRest(work: string, out: StagedDir, planted: Planted, people: number, heldOut: string[], opts: DemoOptions, s: DemoSettings): Promise<StudyResult> {
  const truth = planted.synth.truth;
  const studyManifest = path.join(planted.synthDir, 'study-manifest.csv');
  await writeFile(studyManifest, studyManifestCsv(truth.photos, heldOut));
  s.log(`demo: study of ${people - 2} people (${heldOut.join(' and ')} held out for screening), ${s.effort.folds}-fold x ${s.effort.repeats} subject-grouped CV...\n`);
  return runStudy({
    source: studyManifest,
    out: path.join(work, 'study'),
    positive: SYNTH_LABELS.affected,
    cache: path.join(out.target, CACHE),
    ...demoStudyOptions(s),
    log: opts.log,
    quiet: opts.quiet,
  });
}

/** Longest name, in characters, of a held-out person's files (before `-heatmaps` or `.json`). */
const MAX_SCREENING_NAME = 80;

/**
 * The names of the held-out people's files in `screen/` (`<name>.json`, `<name>-heatmaps/`), one per
 * id in order: the id made a plain name ({@link safeName}), shortened, and numbered where two would
 * be the same. A `--photos` manifest's subject ids are free text, which as a file name could lead
 * out of the folder (`../..`) or into another.
 */
export function screeningFileBases(ids: readonly string[]): string[] {
  const taken = new Set<string>();
  return ids.map((id) => {
    const base = safeName(id).slice(0, MAX_SCREENING_NAME);
    let name = base;
    for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base.slice(0, MAX_SCREENING_NAME - String(i).length - 1)}-${i}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

/**
 * Step 4: screens each held-out person with the study's model, writing `<name>.json` and its
 * heatmaps into `screenDir`. A failed explainer leaves the rest of the screenings without heatmaps.
 */
async function screenHeldOut(screenDir: string, out: StagedDir, planted: Planted, heldOut: string[], model: string, log: (text: string) => void): Promise<{ screenings: DemoScreening[]; explain: DemoExplain }> {
  const truth = planted.synth.truth;
  await mkdir(screenDir, { recursive: true });
  const screener = await Screener.load(model);
  const screenings: DemoScreening[] = [];
  let explain: DemoExplain = { status: 'done' };
  try {
    const names = screeningFileBases(heldOut);
    for (const [i, subject] of heldOut.entries()) {
      const photos = truth.photos.filter((p) => p.subject === subject);
      let explainer: PhotoExplainer | undefined;
      if (explain.status === 'done') {
        try {
          explainer = await fileExplainer(screener, path.join(screenDir, `${names[i]}-heatmaps`));
        } catch (err) {
          explain = { status: 'failed', error: toErrorRecord(err) };
          log(`demo: explanations failed: ${explain.error.code}: ${explain.error.message}\n`);
        }
      }
      log(`demo: screening ${subject} (${photos.length} photos)...\n`);
      const result = await screener.screen(photos.map((p) => ({ name: path.join('synth', p.path), path: path.join(planted.synthDir, p.path) })), { explain: explainer }).finally(() => explainer?.dispose?.());
      const file = path.join(screenDir, `${names[i]}.json`);
      await writeFile(file, JSON.stringify(out.relocate(result), null, 1) + '\n');
      const t = truth.subjects[subject];
      screenings.push({ subject, truthLabel: t.label, strength: r3(t.strength), result, file });
    }
  } finally {
    await screener.close();
  }
  return { screenings, explain };
}

/** What demo.json records, from each step's outcome. */
function demoResult(r: {
  work: string;
  opts: DemoOptions;
  s: DemoSettings;
  planted: Planted;
  cohort: { people: Set<string>; affected: number };
  heldOut: string[];
  study: StudyResult;
  screened: { screenings: DemoScreening[]; explain: DemoExplain };
  seconds: Record<string, number>;
}): DemoResult {
  const { work, s, planted, cohort, study } = r;
  const { effort } = s;
  const { truth } = planted.synth;
  const m = study.result;
  return {
    contract: 1,
    generator: 'phenoface demo',
    synthetic: true,
    out: work,
    source: planted.source,
    people: cohort.people.size,
    photos: truth.photos.length,
    regions: [...truth.options.regions],
    options: { strength: s.strength, seed: s.seed, quick: s.quick, ...(!r.opts.photos && { photosPerPerson: effort.photosPerPerson }), folds: effort.folds, repeats: effort.repeats, bootstrap: effort.bootstrap, permutations: effort.permutations },
    synth: { dir: planted.synthDir, written: planted.synth.written, skipped: planted.synth.failed, affected: cohort.affected, controls: cohort.people.size - cohort.affected, ...(planted.synth.previewPath && { preview: planted.synth.previewPath }) },
    heldOut: r.heldOut,
    study: {
      dir: path.join(work, 'study'),
      report: study.files.report,
      model: study.files.model,
      subjects: new Set(study.used.map((p) => p.item.subject)).size,
      photos: study.used.length,
      subjectAuc: m.subject.auc,
      photoAuc: m.photo.auc,
      permutationP: m.permutation?.p ?? null,
      photosWithoutFace: study.photos.filter((p) => p.error).length,
      photosFromCache: study.photos.filter((p) => p.cached).length,
      leakageWarnings: study.leakage.warnings.length,
      ...(study.explanation && { explanationChecks: summariseExplanationChecks(study.explanation.checks) }),
    },
    signal: judgeSignal(m.subject.auc, m.permutation?.p ?? null),
    screenings: r.screened.screenings,
    explain: r.screened.explain,
    seconds: r.seconds,
  };
}

/** Step 5: the study's report again, whole (its explanation section too), with the demo section (planted truth, held-out screenings, heatmaps) added. */
async function addDemoSection(study: StudyResult, result: DemoResult, planted: Planted, s: DemoSettings): Promise<void> {
  await writeReport(study.files.report, {
    dataset: study.dataset, photos: study.photos, used: study.used, leakage: study.leakage, result: study.result, metrics: study.metrics, bundle: study.bundle,
    options: demoStudyOptions(s),
    ...(result.study.explanationChecks && { explanationChecks: result.study.explanationChecks }),
    sections: [...study.reportSections, await demoSection(result, planted.synth.truth, planted.synthDir)],
  });
}

/** The demo study's manifest (read back by `runStudy`): the synthetic photos of all but the held-out people. */
export function studyManifestCsv(photos: Truth['photos'], heldOut: readonly string[]): string {
  return formatCsv(['path', 'subject', 'label', 'view'], photos.filter((p) => !heldOut.includes(p.subject)).map((p) => [p.path, p.subject, p.label, p.view]));
}

/** Reads an earlier demo's `demo.json` (for tools and tests). */
export async function readDemoResult(out: string): Promise<DemoResult> {
  return JSON.parse(await readFile(path.join(out, MARKER), 'utf8')) as DemoResult;
}
