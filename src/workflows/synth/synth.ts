/**
 * `synthesize`: a planted-phenotype data set from control photos, the known-answer test of a
 * study. A seeded `fraction` of subjects becomes `vcfs`: every photo of theirs gets the
 * same (jittered) warp of `warp.ts`; everyone else stays `control`. Cases and controls go through
 * the same decode, the same resampling (controls with a zero warp, which copies each pixel) and the
 * same JPEG encoding, so geometry is the only thing that separates the classes.
 *
 * Output in `outDir`: `images/<subject>/<name>.jpg`, `manifest.csv` (path,subject,label,view, per
 * the CLI contract), `truth.json` (what was planted where) and, with `preview`, `preview.png`. The
 * folder is built beside `outDir` and replaces it only once complete (`data/output.ts`), so a
 * re-run never leaves photos of an earlier run among the new ones.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../../config.ts';
import { mapFsError, prepareOutputDir, type OutputGuard, type OutputKind, type StagedDir } from '../../data/output.ts';
import { namedAsGiven, PhenofaceError, toErrorRecord } from '../../errors.ts';
import { formatCsv } from '../../data/csv.ts';
import { estimatePose, viewOfYaw } from '../../pose/index.ts';
import { nameMap, type Box, type Face, type Landmarks5, type RgbImage, type View } from '../../types.ts';
import { betweenSizes, contactSheet, cropPad, decodeImage, encodeJpeg, encodePng, mapBox, mapLandmarks } from '../../image/index.ts';
import type { RowError, SynthInput, SynthRow } from './input.ts';
import { PASSTHROUGH_COLUMNS } from './input.ts';
import { parseRegions, scaleParams, subjectWarp, type SynthRegion, type WarpParams } from './params.ts';
import { chooseAffected } from './random.ts';
import { classRegions, classWarp, dealClasses, type SynthClass } from './classes.ts';
import { buildPhotoWarp, warpImage, zeroWarp, type PhotoWarp, type PlantedRegion, type SkippedRegion } from './warp.ts';

/** Labels synth writes. */
export const SYNTH_LABELS = { affected: 'vcfs', control: 'control' } as const;

/** Detection as synth needs it (the CLI passes `Pipeline.detectFile`). Coordinates in the oriented photo. */
export type DetectFn = (absPath: string) => Promise<{ width: number; height: number; faces: Face[] }>;

/** Options of {@link synthesize}. */
export interface SynthOptions {
  rows: readonly SynthRow[];
  /** Rows already refused while reading the input; listed in truth.json's `skipped`. */
  inputErrors?: readonly RowError[];
  /**
   * Where the rows came from (see {@link readSynthInput}): `outDir` may not hold it, nor lie inside a
   * folder input, which the next run would walk. The rows' photos are checked either way.
   */
  source?: Pick<SynthInput, 'source' | 'layout'>;
  outDir: string;
  /** How `outDir` was named, for messages (default `outDir`). */
  outOption?: string;
  /** The regions every affected subject gets (without `classes`). */
  regions?: readonly string[];
  /** 0..1: 1 obvious, about 0.5 subtle, 0 plants nothing (cases equal controls byte for byte). Without `classes`. */
  strength?: number;
  /**
   * Several planted classes instead of one (`classes.ts`): the affected subjects are dealt to them
   * in turn, each class with its own regions and strengths; `regions` and `strength` are then unused.
   */
  classes?: readonly SynthClass[];
  /** Share of subjects made affected, in (0, 1) (with `classes`, all classes together). */
  fraction?: number;
  seed?: number;
  jitter?: number;
  jpegQuality?: number;
  detect: DetectFn;
  chooseFace: (faces: Face[], width: number, height: number) => Face | undefined;
  /** Write `preview.png`: for up to 12 affected photos, before / as planted / at strength 1. */
  preview?: boolean;
  /** Photos processed at once (detection overlaps warping). */
  concurrency?: number;
  /** Called once per input row, in input order, with its outcome. */
  onPhoto?: (event: { row: SynthRow; photo?: TruthPhoto; error?: RowError['error'] }) => void;
  /** Described in truth.json: where the rows came from. */
  sourceName?: string;
}

/** One written photo in truth.json. */
export interface TruthPhoto {
  /** Output path, relative to `outDir` (as in manifest.csv). */
  path: string;
  /** Input path as given. */
  source: string;
  subject: string;
  label: string;
  view: View;
  /** Where `view` came from. */
  viewSource: 'manifest' | 'detector' | 'landmarks';
  width: number;
  height: number;
  /**
   * The chosen face in the written photo's pixels: the detector's box and five points, and the five
   * points the warp is anchored on (`anchors`: the dense landmarks' five points, the ones the
   * embedding is aligned on; the detector's when the detector gave no others).
   */
  face: { box: Box; landmarks5: Landmarks5; anchors: Landmarks5 };
  /** Smallest Jacobian determinant of this photo's pixel map (1 for controls; > 0 means no fold). */
  minJacobian: number;
  /** Present when this photo's amounts had to be scaled down (by this factor) to stay invertible. */
  attenuation?: number;
  /** Affected photos: each requested region, planted (centre, radius in px) or skipped (reason). */
  regions: Partial<Record<SynthRegion, PlantedRegion | SkippedRegion>>;
}

/** A subject in truth.json. */
export interface TruthSubject {
  label: string;
  /** After jitter; 0 for controls. */
  strength: number;
  regions: SynthRegion[];
  params: WarpParams;
}

/** truth.json. */
export interface Truth {
  contract: 1;
  generator: 'phenoface synth';
  options: { source?: string; regions: SynthRegion[]; strength: number; fraction: number; seed: number; jitter: number; jpegQuality: number; classes?: SynthClass[] };
  positive: string;
  subjects: Record<string, TruthSubject>;
  photos: TruthPhoto[];
  skipped: RowError[];
}

/** What {@link synthesize} did. */
export interface SynthResult {
  truth: Truth;
  manifestPath: string;
  truthPath: string;
  previewPath?: string;
  written: number;
  failed: number;
}

/** The JPEG quality every written photo may be given: libjpeg's scale, inclusive. */
export const JPEG_QUALITY_RANGE = { min: 1, max: 100 } as const;

/** The settings {@link validateSynthOptions} checks. */
type SynthSettings = { strength: number; fraction: number; seed: number; jitter: number; jpegQuality: number };

/**
 * Checks strength, fraction, seed, quality; E_CONFIG naming the bad value and the allowed range.
 * A setting is named as `names` gives it (the CLI passes its options, `--fraction`), else by its
 * setting name, so that each caller's message names what its user wrote.
 */
export function validateSynthOptions(o: SynthSettings, names: Partial<Record<keyof SynthSettings, string>> = {}): void {
  const bad = (name: keyof SynthSettings, value: unknown, expected: string) => new PhenofaceError('E_CONFIG', `Invalid ${names[name] ?? name}: ${JSON.stringify(value)}. Should be ${expected}.`);
  if (!(Number.isFinite(o.strength) && o.strength >= 0 && o.strength <= 1)) throw bad('strength', o.strength, 'a number in [0, 1]');
  if (!(Number.isFinite(o.fraction) && o.fraction > 0 && o.fraction < 1)) throw bad('fraction', o.fraction, 'a number in (0, 1)');
  if (!Number.isSafeInteger(o.seed)) throw bad('seed', o.seed, 'an integer between -(2^53 - 1) and 2^53 - 1');
  if (!(Number.isFinite(o.jitter) && o.jitter >= 0 && o.jitter <= 0.5)) throw bad('jitter', o.jitter, 'a number in [0, 0.5]');
  const { min, max } = JPEG_QUALITY_RANGE;
  if (!(Number.isInteger(o.jpegQuality) && o.jpegQuality >= min && o.jpegQuality <= max)) throw bad('jpegQuality', o.jpegQuality, `an integer in [${min}, ${max}]`);
}

/** Side of one preview tile, px. */
const PREVIEW_TILE_PX = 256;

/** Smallest Jacobian determinant a written photo's pixel map may have: well clear of a fold. */
const MIN_JACOBIAN = 0.1;

/**
 * `s` as a plain file or folder name (letters, digits, `.`, `_`, `-`; no leading dot): an id or a
 * path as written may name another folder (`..`, `/`) or be hidden, and is never used as a name as it is.
 */
export const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || '_';

/** Output names `images/<subject>/<input path flattened>.jpg`, unique. They carry no label. */
function outputNames(rows: readonly SynthRow[]): string[] {
  const used = new Set<string>();
  return rows.map((r) => {
    const base = `images/${safeName(r.subject)}/${safeName(r.path.replace(/\.[^./\\]*$/, '').replace(/[\\/]+/g, '_'))}`;
    let name = `${base}.jpg`;
    for (let n = 2; used.has(name.toLowerCase()); n++) name = `${base}-${n}.jpg`;
    used.add(name.toLowerCase());
    return name;
  });
}

const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

/** The view of a photo: the manifest's, else the detector's, else estimated from the landmarks. */
function decideView(row: SynthRow, face: Face, lm: Landmarks5): { view: View; viewSource: TruthPhoto['viewSource'] } {
  if (row.view) return { view: row.view, viewSource: 'manifest' };
  if (face.view) return { view: face.view, viewSource: 'detector' };
  return { view: viewOfYaw(estimatePose(lm).yaw, DEFAULTS.pose), viewSource: 'landmarks' };
}

/** Square crop around the face for preview tiles: 3.2 eye-to-mouth distances, centred below the eyes; black outside the photo. */
function faceCrop(img: RgbImage, warp: PhotoWarp): RgbImage {
  const f = warp.frame;
  const size = Math.max(1, Math.round(3.2 * f.unitPx));
  const x0 = Math.round(f.origin[0] + 0.6 * f.unitPx * f.v[0] - size / 2);
  const y0 = Math.round(f.origin[1] + 0.6 * f.unitPx * f.v[1] - size / 2);
  return cropPad(img, x0, y0, x0 + size, y0 + size);
}

/**
 * Rows shown in the preview: affected subjects in turn, first each one's first photo, then each
 * one's last, then the rest in order, so the sheet spans people and (in CFP-like layouts) views.
 */
function choosePreviewRows(rows: readonly SynthRow[], affected: ReadonlySet<string>, max: number): Set<number> {
  const bySubject = new Map<string, number[]>();
  rows.forEach((r, i) => {
    if (affected.has(r.subject)) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), i]);
  });
  const queues = [...bySubject.values()].map((idx) => (idx.length > 1 ? [idx[0], idx[idx.length - 1], ...idx.slice(1, -1)] : idx));
  const chosen = new Set<number>();
  for (let round = 0; chosen.size < max && queues.some((q) => q.length > round); round++) {
    for (const q of queues) if (round < q.length && chosen.size < max) chosen.add(q[round]);
  }
  return chosen;
}

/** What synth's output folder holds; a finished one is recognised by its truth.json. */
export const SYNTH_OUTPUT: OutputKind = {
  name: 'synth',
  marker: 'truth.json',
  isMarker: (json) => (json as { generator?: unknown } | null)?.generator === 'phenoface synth',
  owned: ['images', 'manifest.csv', 'truth.json', 'preview.png'],
};

/** What `outDir` must keep clear of: the source and every photo read. */
export function synthGuard(opts: Pick<SynthOptions, 'rows' | 'source' | 'outOption'>): OutputGuard {
  const source = opts.source && { abs: opts.source.source, shown: opts.source.source };
  return {
    option: opts.outOption ?? 'outDir',
    inputs: [...(source ? [source] : []), ...opts.rows.map((r) => ({ abs: r.absPath, shown: r.path }))],
    inputFolders: source && opts.source!.layout === 'folder' ? [source] : [],
  };
}

/** Options after defaults and checks; with classes, `regions` is their union and `strength` their largest. */
type Settings = { regions: SynthRegion[]; strength: number; classes?: readonly SynthClass[]; fraction: number; seed: number; jitter: number; jpegQuality: number };

/** The regions and strength of a one-class run, or the union of the classes' regions and their largest strength. */
function plantedRegionsAndStrength(opts: SynthOptions): { regions: SynthRegion[]; strength: number } {
  if (!opts.classes) {
    if (opts.regions === undefined || opts.strength === undefined) throw new PhenofaceError('E_CONFIG', 'Missing regions or strength. Should give both, or classes.');
    return { regions: parseRegions(opts.regions), strength: opts.strength };
  }
  if (opts.classes.length === 0) throw new PhenofaceError('E_CONFIG', 'Invalid classes: []. Should list at least one planted class.');
  const regions = parseRegions([...new Set(opts.classes.flatMap(classRegions))]);
  return { regions, strength: Math.max(...opts.classes.flatMap((c) => Object.values(c.regions) as number[])) };
}

/**
 * Builds the planted data set. Bad photos (undecodable, no face, degenerate landmarks) become
 * records in truth.json's `skipped` and `onPhoto` events; they never stop the batch and never
 * appear in manifest.csv. Throws E_CONFIG for invalid options, E_USAGE for an `outDir` that holds
 * or lies in the input, and E_INPUT for an unusable `outDir` (a file, or someone else's files).
 */
export async function synthesize(opts: SynthOptions): Promise<SynthResult> {
  const { regions, strength } = plantedRegionsAndStrength(opts);
  const fraction = opts.fraction ?? DEFAULTS.synth.fraction;
  const seed = opts.seed ?? DEFAULTS.synth.seed;
  const jitter = opts.jitter ?? DEFAULTS.synth.jitter;
  const jpegQuality = opts.jpegQuality ?? DEFAULTS.synth.jpegQuality;
  validateSynthOptions({ strength, fraction, seed, jitter, jpegQuality });
  const settings: Settings = { regions, strength, ...(opts.classes ? { classes: opts.classes } : {}), fraction, seed, jitter, jpegQuality };
  checkEveryClassHasPeople(opts.rows, settings);
  const out = await prepareOutputDir(opts.outDir, SYNTH_OUTPUT, synthGuard(opts));
  return out.relocate(await out.run(() => plant(out, opts, settings)));
}

/** The data set's classes: the untouched controls, then the planted class or the `--classes`. */
function classLabels(settings: Pick<Settings, 'classes'>): string[] {
  return [SYNTH_LABELS.control, ...(settings.classes ? settings.classes.map((c) => c.label) : [SYNTH_LABELS.affected])];
}

/**
 * E_CONFIG, before anything is written, when some class would hold no one (a fraction of too few
 * people, or more classes than affected people): a data set a study cannot learn from.
 */
function checkEveryClassHasPeople(rows: readonly SynthRow[], settings: Settings): void {
  if (rows.length === 0) return; // no photo at all: the input's own error
  const { subjects } = assignSubjects(rows, settings);
  const labels = classLabels(settings);
  const count = (label: string) => Object.values(subjects).filter((t) => t.label === label).length;
  const empty = labels.filter((l) => count(l) === 0);
  if (empty.length === 0) return;
  throw new PhenofaceError('E_CONFIG', `Class${empty.length > 1 ? 'es' : ''} ${empty.map((l) => `"${l}"`).join(', ')} would hold no one (${labels.map((l) => `${l} ${count(l)}`).join(', ')} of ${Object.keys(subjects).length} people, --fraction ${settings.fraction}). Add people, or change --fraction${settings.classes ? ' or --classes' : ''}.`);
}

/**
 * E_CONFIG when some class was drawn people but none of their photos could be planted (no usable
 * face in any): the set would lack that class as surely as one {@link checkEveryClassHasPeople}
 * refuses. Thrown inside the staged run, so nothing is written.
 */
function checkEveryClassWritten(photos: readonly TruthPhoto[], subjects: Record<string, TruthSubject>, settings: Settings): void {
  const written = new Set(photos.map((p) => p.label));
  const labels = classLabels(settings);
  const empty = labels.filter((l) => !written.has(l));
  if (empty.length === 0) return;
  const drawn = (l: string) => Object.entries(subjects).filter(([, t]) => t.label === l).map(([id]) => JSON.stringify(id));
  throw new PhenofaceError('E_CONFIG', `${empty.map((l) => `Class "${l}" holds no one with a usable face (drawn: ${drawn(l).slice(0, 5).join(', ')}${drawn(l).length > 5 ? ', ...' : ''}; their photos were refused, each with its error)`).join('; ')}, so the data set would lack ${empty.length > 1 ? 'those classes' : 'that class'} and nothing was written. Should be photos with a face for those people, or another --seed or --fraction${settings.classes ? ' or --classes' : ''}.`);
}

/** Writes the data set into `out.dir` (the staging folder of `opts.outDir`). */
async function plant(out: StagedDir, opts: SynthOptions, settings: Settings): Promise<SynthResult> {
  const rows = opts.rows;
  const { subjects, affected } = assignSubjects(rows, settings);
  const run: PlantRun = {
    out, opts, settings, subjects,
    names: outputNames(rows),
    previews: [],
    previewRows: opts.preview ? choosePreviewRows(rows, affected, DEFAULTS.synth.previewPhotos) : new Set<number>(),
  };
  const outcomes = await plantRows(run);
  const photos = outcomes.flatMap((o) => ('photo' in o ? [o.photo] : []));
  if (photos.length > 0) checkEveryClassWritten(photos, subjects, settings);
  const skipped = [...(opts.inputErrors ?? []), ...outcomes.flatMap((o) => ('error' in o ? [o.error] : []))];
  const manifestPath = await writeManifest(out.dir, rows, run.names, photos);
  const truth: Truth = {
    contract: 1,
    generator: 'phenoface synth',
    options: { ...(opts.sourceName && { source: opts.sourceName }), regions: settings.regions, strength: settings.strength, fraction: settings.fraction, seed: settings.seed, jitter: settings.jitter, jpegQuality: settings.jpegQuality, ...(settings.classes && { classes: [...settings.classes] }) },
    positive: settings.classes ? settings.classes[0].label : SYNTH_LABELS.affected,
    subjects,
    photos,
    skipped,
  };
  const truthPath = path.join(out.dir, 'truth.json');
  await writeFile(truthPath, JSON.stringify(truth, null, 1) + '\n');
  const previewPath = opts.preview ? await writePreview(out.dir, run.previews) : undefined;
  return { truth, manifestPath, truthPath, previewPath, written: photos.length, failed: skipped.length };
}

/** A planting run: its options, each subject's truth, the output names and what the preview collects. */
interface PlantRun {
  out: StagedDir;
  opts: SynthOptions;
  settings: Settings;
  subjects: Record<string, TruthSubject>;
  names: string[];
  previewRows: Set<number>;
  previews: { index: number; tiles: RgbImage[]; labels: string[] }[];
  /** The first failed write of an output photo; it stops the run. */
  writeFailure?: unknown;
}

/** A row's outcome: its truth record, or why it was skipped. */
type RowOutcome = { photo: TruthPhoto } | { error: RowError };

/**
 * Each subject's label and warp: a seeded `fraction` of them affected, each with its jittered
 * parameters; with classes, the affected are dealt to the classes (`classes.ts`).
 */
function assignSubjects(rows: readonly SynthRow[], { regions, strength, classes, fraction, seed, jitter }: Settings): { subjects: Record<string, TruthSubject>; affected: Set<string> } {
  const subjectsInOrder = [...new Set(rows.map((r) => r.subject))];
  const affected = chooseAffected(subjectsInOrder, fraction, seed);
  const classOf = classes ? dealClasses(affected, classes, seed) : undefined;
  const subjects = nameMap<TruthSubject>();
  for (const id of subjectsInOrder) {
    const c = classOf?.get(id);
    if (c) {
      const w = classWarp(id, c, seed, jitter);
      subjects[id] = { label: c.label, strength: w.strength, regions: classRegions(c), params: w.params };
    } else if (affected.has(id)) {
      const w = subjectWarp(id, regions, strength, seed, jitter);
      subjects[id] = { label: SYNTH_LABELS.affected, strength: w.strength, regions: [...regions], params: w.params };
    } else {
      subjects[id] = { label: SYNTH_LABELS.control, strength: 0, regions: [], params: {} };
    }
  }
  return { subjects, affected };
}

/** Plants every row with a small ordered pool: `concurrency` rows in flight, events emitted in input order. */
async function plantRows(run: PlantRun): Promise<RowOutcome[]> {
  const { rows } = run.opts;
  const outcomes: RowOutcome[] = new Array(rows.length);
  let next = 0;
  let emitted = 0;
  const emit = () => {
    while (emitted < rows.length && outcomes[emitted]) {
      const o = outcomes[emitted];
      run.opts.onPhoto?.('photo' in o ? { row: rows[emitted], photo: o.photo } : { row: rows[emitted], error: o.error.error });
      emitted++;
    }
  };
  const worker = async () => {
    while (next < rows.length && run.writeFailure === undefined) {
      const i = next++;
      try {
        outcomes[i] = { photo: await plantRow(run, i) };
      } catch (err) {
        // Records and truth.json are shared; the folder they were made in is not: name the photo as listed.
        outcomes[i] = { error: { path: rows[i].path, subject: rows[i].subject, error: namedAsGiven(toErrorRecord(err), rows[i].absPath, rows[i].path) } };
      }
      emit();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(run.opts.concurrency ?? 2, rows.length)) }, worker));
  if (run.writeFailure !== undefined) throw run.writeFailure;
  return outcomes;
}

/** One photo planted and written: its face found, its warp applied, its truth record. */
async function plantRow(run: PlantRun, i: number): Promise<TruthPhoto> {
  const row = run.opts.rows[i];
  const subject = run.subjects[row.subject];
  const { img, face, lm, anchors, box } = await locateFace(run.opts, row);
  const { view, viewSource } = decideView(row, face, lm);
  const { warp, image, minJacobian, attenuation } = invertibleWarp(img, anchors, subject, view, row.path);
  await writePhoto(run, i, image);
  if (run.previewRows.has(i)) addPreview(run, i, img, image, warp, anchors, view);
  return {
    path: run.names[i],
    source: row.path,
    subject: row.subject,
    label: subject.label,
    view,
    viewSource,
    width: image.width,
    height: image.height,
    face: { box: { x: round(box.x), y: round(box.y), width: round(box.width), height: round(box.height) }, landmarks5: lm.map(roundPoint) as Landmarks5, anchors: anchors.map(roundPoint) as Landmarks5 },
    minJacobian: round(Math.min(minJacobian, 1), 4),
    ...(attenuation < 1 && { attenuation }),
    regions: plantedRegions(warp),
  };
}

/**
 * The photo decoded as the pipeline decodes it, with its chosen face, its detector points (`lm`)
 * and the points the warp is anchored on (`anchors`: the face's `alignPoints` when the detector
 * gave them, so the planted regions sit on the features the embedding is aligned by; MTCNN's
 * points land off them on close-ups); E_NO_FACE without a face.
 */
async function locateFace(opts: SynthOptions, row: SynthRow): Promise<{ img: RgbImage; face: Face; lm: Landmarks5; anchors: Landmarks5; box: Box }> {
  const detected = await opts.detect(row.absPath);
  const face = opts.chooseFace(detected.faces, detected.width, detected.height);
  if (!face) throw new PhenofaceError('E_NO_FACE', `No face found in "${row.path}".`);
  // Decoded as the pipeline decodes (EXIF-oriented, alpha on white; photos over
  // DEFAULTS.image.maxSidePx are downscaled, and so is their output).
  const img = await decodeImage(row.absPath);
  // The detector reports the full-size oriented photo's coordinates; rescale to the decoded pixels.
  // Each axis by its own size ratio, corner-aligned.
  const toImg = betweenSizes(detected, img, false);
  const lm = mapLandmarks(toImg, face.landmarks5);
  const anchors = face.alignPoints ? mapLandmarks(toImg, face.alignPoints) : lm;
  const box = mapBox(toImg, face.box);
  return { img, face, lm, anchors, box };
}

/**
 * The subject's warp of this photo (a zero warp for a control). A fold cannot happen on ordinary
 * landmarks (see the Jacobian tests); should odd landmarks still bring the map near one, this
 * photo's amounts are halved until it is safely invertible, and truth.json records the attenuation.
 */
function invertibleWarp(img: RgbImage, lm: Landmarks5, subject: TruthSubject, view: View, shown: string) {
  let attenuation = 1;
  let warp = subject.regions.length > 0 ? buildPhotoWarp(lm, subject.params, view) : zeroWarp(lm);
  let { image, minJacobian } = warpImage(img, warp);
  while (minJacobian < MIN_JACOBIAN && attenuation > 1 / 64) {
    attenuation /= 2;
    warp = buildPhotoWarp(lm, scaleParams(subject.params, attenuation), view);
    ({ image, minJacobian } = warpImage(img, warp));
  }
  if (minJacobian < MIN_JACOBIAN) {
    throw new PhenofaceError('E_INTERNAL', `The warp of "${shown}" folds the image (smallest Jacobian ${minJacobian.toFixed(4)}); the photo was not written.`);
  }
  return { warp, image, minJacobian, attenuation };
}

/** Writes row `i`'s photo; a failed write is not the photo's fault (a full disk, a lost folder) and stops the run. */
async function writePhoto(run: PlantRun, i: number, image: RgbImage): Promise<void> {
  const outPath = path.join(run.out.dir, run.names[i]);
  // Full-resolution colour (4:4:4): with 4:2:0 a warp's change would leak up to ~20 px past the
  // region truth.json records; with it every 8x8 block away from the warp stays byte-identical to
  // the control's (pinned by the truth test).
  const bytes = await encodeJpeg(image, run.settings.jpegQuality, '4:4:4');
  try {
    await mkdir(path.dirname(outPath), { recursive: true });
    await writeFile(outPath, bytes);
  } catch (err) {
    const failure = await mapFsError(err, run.out.finalPath(outPath));
    run.writeFailure ??= failure;
    throw failure;
  }
}

/** The preview's tiles of row `i`: before, as planted, and at strength 1. */
function addPreview(run: PlantRun, i: number, img: RgbImage, image: RgbImage, warp: PhotoWarp, lm: Landmarks5, view: View): void {
  const row = run.opts.rows[i];
  const { seed, jitter, classes } = run.settings;
  const subject = run.subjects[row.subject];
  const c = classes?.find((k) => k.label === subject.label);
  // Strength 1 for the class's strongest region, the others in proportion.
  const atOne = c ? classWarp(row.subject, c, seed, jitter, 1 / Math.max(...(Object.values(c.regions) as number[]))) : subjectWarp(row.subject, subject.regions, 1, seed, jitter);
  const full = buildPhotoWarp(lm, atOne.params, view);
  run.previews.push({
    index: i,
    tiles: [faceCrop(img, warp), faceCrop(image, warp), faceCrop(warpImage(img, full).image, warp)],
    labels: [`${row.subject}: before`, `planted (${round(run.subjects[row.subject].strength, 2)})`, 'strength 1'],
  });
}

const roundPoint = (p: [number, number]): [number, number] => [round(p[0]), round(p[1])];

/** The warp's regions as truth.json records them (rounded), or why each was skipped. */
function plantedRegions(warp: PhotoWarp): TruthPhoto['regions'] {
  const regionsOut: TruthPhoto['regions'] = {};
  for (const [name, r] of Object.entries(warp.regions) as [SynthRegion, PlantedRegion | SkippedRegion][]) {
    regionsOut[name] = 'skipped' in r ? r : {
      centre: roundPoint(r.centre),
      radius: round(r.radius),
      ...(r.parts && { parts: r.parts.map((p) => ({ name: p.name, centre: roundPoint(p.centre), radius: round(p.radius) })) }),
    };
  }
  return regionsOut;
}

/** Writes manifest.csv (path,subject,label,view and the passed-through columns the input has). */
async function writeManifest(work: string, rows: readonly SynthRow[], names: string[], photos: TruthPhoto[]): Promise<string> {
  const metaColumns = PASSTHROUGH_COLUMNS.filter((c) => rows.some((r) => r.meta?.[c] !== undefined));
  const metaOf = new Map(rows.map((r, i) => [names[i], r.meta ?? {}]));
  const manifestPath = path.join(work, 'manifest.csv');
  await writeFile(manifestPath, formatCsv(['path', 'subject', 'label', 'view', ...metaColumns], photos.map((p) => [p.path, p.subject, p.label, p.view, ...metaColumns.map((c) => metaOf.get(p.path)?.[c] ?? '')])));
  return manifestPath;
}

/** Writes preview.png (the preview rows in input order, three tiles each); undefined when no row made one. */
async function writePreview(work: string, previews: PlantRun['previews']): Promise<string | undefined> {
  if (previews.length === 0) return undefined;
  const previewPath = path.join(work, 'preview.png');
  previews.sort((a, b) => a.index - b.index);
  const sheet = await contactSheet(previews.flatMap((p) => p.tiles), 3, PREVIEW_TILE_PX, previews.flatMap((p) => p.labels));
  await writeFile(previewPath, await encodePng(sheet));
  return previewPath;
}
