/**
 * `runDemo`: the whole product on a small SYNTHETIC study, from photos that ship with `npm install`
 * (or a folder the user names), offline, in a few minutes. The steps are the ones a real
 * user takes: photos -> `synth` plants a 22q11.2DS-like warp in half the people (the known answer)
 * -> `study` cross-validates by person and trains a model -> `screen` scores one planted and one
 * control person the model never saw -> explanations, when the explain stage is installed.
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
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DEFAULTS, DEMO_DEFAULTS, PEOPLE_DEFAULTS } from '../config.ts';
import { formatCsv } from '../data/csv.ts';
import { cacheEntries, prepareOutputDir, type OutputGuard, type OutputKind, type StagedDir } from '../data/output.ts';
import { PhenofaceError, toErrorRecord } from '../errors.ts';
import { Pipeline } from '../pipeline.ts';
import { modelPath } from '../runtime/index.ts';
import { Screener, type PhotoExplainer, type ScreenResult } from '../screen.ts';
import { runStudy, type StudyRunResult } from '../study.ts';
import { readSynthInput, synthesize, SYNTH_LABELS, SYNTH_REGIONS, type SynthInput, type SynthRow, type Truth } from '../synth/index.ts';
import { hashUniform } from '../synth/random.ts';
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

/** What the explain stage did. */
export type DemoExplain = { status: 'done' } | { status: 'absent'; note: string } | { status: 'failed'; error: { code: string; message: string } };

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
  };
  /** Whether the study found the planted signal; see {@link judgeSignal}. */
  signal: SignalVerdict;
  screenings: DemoScreening[];
  explain: DemoExplain;
  seconds: Record<string, number>;
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

/** The demo study's manifest (read back by `runStudy`): the synthetic photos of all but the held-out people. */
export function studyManifestCsv(photos: Truth['photos'], heldOut: readonly string[]): string {
  return formatCsv(['path', 'subject', 'label', 'view'], photos.filter((p) => !heldOut.includes(p.subject)).map((p) => [p.path, p.subject, p.label, p.view]));
}

/** The explain stage's entry point when `src/explain/screen.ts` exists (it is optional at run time). */
interface ExplainModule {
  fileExplainer(screener: Screener, dir: string): Promise<PhotoExplainer>;
}

async function loadExplainModule(): Promise<ExplainModule | { note: string }> {
  const url = new URL('../explain/screen.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    return { note: 'explanations (Grad-CAM heatmaps) are not available in this build: src/explain/screen.ts is not installed' };
  }
  return (await import(url.href)) as ExplainModule;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

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
  const { esc } = await import('../report/index.ts');
  const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)}%`);
  const rows = await Promise.all(res.screenings.map(async (s) => {
    const heat = s.result.photos.find((p) => p.heatmap)?.heatmap;
    const shown = heat && existsSync(heat) ? heat : path.join(synthDir, truth.photos.find((p) => p.subject === s.subject)!.path);
    const regions = topRegions(s.result).map((r) => `${esc(r.name)} ${(100 * r.share).toFixed(0)}%`).join(', ');
    return `<tr><th scope="row">${esc(s.subject)}</th><td>${esc(s.truthLabel === SYNTH_LABELS.affected ? `planted (strength ${s.strength.toFixed(2)})` : 'control')}</td>` +
      `<td>${esc(s.result.subject.label ?? 'no result')} (${pct(s.result.subject.probability)})</td><td>${regions || '&ndash;'}</td>` +
      `<td><img alt="${esc(s.subject)}" src="${await dataUrl(shown, 200)}"></td></tr>`;
  }));
  const preview = res.synth.preview ? `<p>The planted warp (before / as planted / at strength 1), from <code>synth/preview.png</code>:</p><img alt="synth preview" style="max-width:100%" src="${await dataUrl(res.synth.preview, 600)}">` : '';
  const explain = res.explain.status === 'done' ? '' : `<p>Heatmaps: ${esc(res.explain.status === 'absent' ? res.explain.note : `the explain stage failed: ${res.explain.error.code}: ${res.explain.error.message}`)}.</p>`;
  const html = `<p class="banner"><strong>SYNTHETIC demonstration.</strong> ${res.people} people (${esc(res.source)}); a 22q11.2DS-like warp (${esc(truth.options.regions.join(', '))}) was planted at strength ${res.options.strength} in ${res.synth.affected} of them (label <code>${esc(SYNTH_LABELS.affected)}</code>). Not a clinical model: it learned a planted geometric change, not the syndrome.</p>` +
    `<p>Two people were held out of the study and screened with its model:</p><table><tr><th>person</th><th>truth</th><th>screening result</th><th>top heatmap regions</th><th>photo</th></tr>${rows.join('')}</table>${explain}${preview}`;
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

/** The demo itself, writing into `work` (the staging folder of `out`); paths it reports are relocated by the caller. */
async function demoInto(work: string, out: StagedDir, opts: DemoOptions, input: SynthInput | undefined): Promise<DemoResult> {
  const quick = Boolean(opts.quick);
  const effort = quick ? DEMO_DEFAULTS.quick : DEMO_DEFAULTS.full;
  const strength = opts.strength ?? DEMO_DEFAULTS.strength;
  const seed = opts.seed ?? DEMO_DEFAULTS.seed;
  const log = (t: string) => { if (!opts.quiet) opts.log.err(t); };
  const seconds: Record<string, number> = {};
  const t0 = performance.now();
  let lap = t0;
  const done = (step: string) => { const now = performance.now(); seconds[step] = r3((now - lap) / 1000); lap = now; };

  // 1. People and their photos.
  const detector = await Pipeline.create({ detectOnly: true, ...(!input && { config: { detect: { minFaceSizePx: PEOPLE_DEFAULTS.detectMinFacePx } } }) });
  let rows: SynthRow[];
  let inputErrors: SynthInput['errors'] = [];
  let source: string;
  const synthDir = path.join(work, 'synth');
  let synthResult;
  try {
    if (input) {
      rows = input.rows;
      inputErrors = input.errors;
      source = `photos from ${opts.photos}`;
      log(`demo: ${new Set(rows.map((r) => r.subject)).size} people, ${rows.length} photos from ${opts.photos}${inputErrors.length ? ` (${inputErrors.length} refused, listed in synth/truth.json)` : ''}\n`);
    } else {
      log(`demo: finding faces in ${BUNDLED_PHOTOS.package}'s ${BUNDLED_PHOTOS.files.length} demo photos and making ${effort.photosPerPerson} photos of each person...\n`);
      const built = await buildBundledPeople({ outDir: path.join(work, 'photos'), pipeline: detector, photosPerPerson: effort.photosPerPerson, seed });
      rows = built.rows;
      source = `faces from ${BUNDLED_PHOTOS.package}'s demo photos, ${effort.photosPerPerson} augmented photos each`;
      log(`demo: ${built.people.length} people, ${rows.length} photos\n`);
    }
    done('photos');

    // 2. Plant the phenotype in half the people.
    log(`demo: planting a 22q11.2DS-like warp at strength ${strength} in half the people (synth)...\n`);
    synthResult = await synthesize({
      rows,
      inputErrors,
      outDir: synthDir,
      regions: [...SYNTH_REGIONS],
      strength,
      fraction: DEMO_DEFAULTS.fraction,
      seed,
      preview: true,
      sourceName: source,
      detect: (p) => detector.detectFile(p),
      chooseFace: (f, w, h) => detector.chooseFace(f, w, h),
    });
  } finally {
    await detector.close();
  }
  done('synth');
  const truth = synthResult.truth;
  const people = new Set(truth.photos.map((p) => p.subject));
  if (people.size < DEMO_DEFAULTS.minPeople) {
    throw new PhenofaceError('E_INPUT', `Only ${people.size} people have a photo with a usable face (of ${new Set(rows.map((r) => r.subject)).size}); the demo needs at least ${DEMO_DEFAULTS.minPeople}. Should be a folder ROOT/<person>/<photo> (or a manifest path,subject) with more people.`);
  }
  const affected = Object.entries(truth.subjects).filter(([id, s]) => people.has(id) && s.label === SYNTH_LABELS.affected).length;

  // 3. Hold out one planted and one control person; study the rest.
  const drawn = chooseHeldOut(truth, seed);
  if (drawn[0] === undefined || drawn[1] === undefined) {
    throw new PhenofaceError('E_INPUT', `After synth, the ${drawn[0] === undefined ? SYNTH_LABELS.affected : SYNTH_LABELS.control} class has no person with a usable photo. Should be photos of more people.`);
  }
  const heldOut = [drawn[0], drawn[1]];
  const studyManifest = path.join(synthDir, 'study-manifest.csv');
  await writeFile(studyManifest, studyManifestCsv(truth.photos, heldOut));
  log(`demo: study of ${people.size - 2} people (${heldOut.join(' and ')} held out for screening), ${effort.folds}-fold x ${effort.repeats} subject-grouped CV...\n`);
  const studyOpts = { folds: effort.folds, repeats: effort.repeats, seed, bootstrap: effort.bootstrap, permutations: effort.permutations, synthetic: true };
  const study: StudyRunResult = await runStudy({
    source: studyManifest,
    out: path.join(work, 'study'),
    positive: SYNTH_LABELS.affected,
    cache: path.join(out.target, CACHE),
    ...studyOpts,
    log: opts.log,
    quiet: opts.quiet,
  });
  done('study');

  // 4. Screen the held-out people; explain when the explain stage is installed.
  const screenDir = path.join(work, 'screen');
  await mkdir(screenDir, { recursive: true });
  const screener = await Screener.load(study.files.model);
  const screenings: DemoScreening[] = [];
  const mod = await loadExplainModule().catch((err) => ({ error: toErrorRecord(err) }));
  let explain: DemoExplain = 'fileExplainer' in mod ? { status: 'done' } : 'note' in mod ? { status: 'absent', note: mod.note } : { status: 'failed', error: mod.error };
  if (explain.status !== 'done') log(`demo: ${explain.status === 'absent' ? explain.note : `explanations failed: ${explain.error.code}: ${explain.error.message}`}\n`);
  try {
    for (const subject of heldOut) {
      const photos = truth.photos.filter((p) => p.subject === subject);
      let explainer: PhotoExplainer | undefined;
      if ('fileExplainer' in mod && explain.status === 'done') {
        try {
          explainer = await mod.fileExplainer(screener, path.join(screenDir, `${subject}-heatmaps`));
        } catch (err) {
          explain = { status: 'failed', error: toErrorRecord(err) };
          log(`demo: explanations failed: ${explain.error.code}: ${explain.error.message}\n`);
        }
      }
      log(`demo: screening ${subject} (${photos.length} photos)...\n`);
      const result = await screener.screen(photos.map((p) => ({ name: path.join('synth', p.path), path: path.join(synthDir, p.path) })), { explain: explainer }).finally(() => explainer?.dispose?.());
      const file = path.join(screenDir, `${subject}.json`);
      await writeFile(file, JSON.stringify(out.relocate(result), null, 1) + '\n');
      const s = truth.subjects[subject];
      screenings.push({ subject, truthLabel: s.label, strength: r3(s.strength), result, file });
    }
  } finally {
    await screener.close();
  }
  done('screen');

  const m = study.result;
  const result: DemoResult = {
    contract: 1,
    generator: 'phenoface demo',
    synthetic: true,
    out: work,
    source,
    people: people.size,
    photos: truth.photos.length,
    regions: [...truth.options.regions],
    options: { strength, seed, quick, ...(!opts.photos && { photosPerPerson: effort.photosPerPerson }), folds: effort.folds, repeats: effort.repeats, bootstrap: effort.bootstrap, permutations: effort.permutations },
    synth: { dir: synthDir, written: synthResult.written, skipped: synthResult.failed, affected, controls: people.size - affected, ...(synthResult.previewPath && { preview: synthResult.previewPath }) },
    heldOut,
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
    },
    signal: judgeSignal(m.subject.auc, m.permutation?.p ?? null),
    screenings,
    explain,
    seconds,
  };

  // 5. The report gets a demo section (planted truth, held-out screenings, heatmaps).
  const { writeReport } = await import('../report/index.ts');
  await writeReport(study.files.report, {
    dataset: study.dataset, photos: study.photos, used: study.used, leakage: study.leakage, result: study.result, metrics: study.metrics, bundle: study.bundle,
    options: studyOpts,
    sections: [await demoSection(result, truth, synthDir)],
  });
  done('report');
  seconds.total = r3((performance.now() - t0) / 1000);
  await writeFile(path.join(work, MARKER), JSON.stringify(out.relocate(result), null, 1) + '\n');
  return result;
}

/** Reads an earlier demo's `demo.json` (for tools and tests). */
export async function readDemoResult(out: string): Promise<DemoResult> {
  return JSON.parse(await readFile(path.join(out, MARKER), 'utf8')) as DemoResult;
}
