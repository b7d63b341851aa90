/**
 * The study-level explanation analysis, run by `phenoface study` on a bounded sample of
 * photos: a heat map of the final model on each (contrastive HiResCAM on the 14x14 block; see
 * {@link StudyCam}), the facial regions' shares with subject-bootstrap intervals (positives vs
 * controls), the mean heat map of correctly classified positive subjects in template space, the
 * occlusion test and its rank agreement with the map, the share of heat outside the face (a
 * shortcut-learning warning), and the sanity checks of Adebayo et al. 2018 (randomised classifier,
 * randomised head, shuffled-label model); and, for comparison on correctly classified positives,
 * the paper's 7x7 Grad-CAM, the 14x14 Grad-CAM and HiResCAM, and occlusion maps.
 *
 * Correct classification is judged out of fold: a photo (subject) counts as correctly classified
 * when, in most CV repeats, its out-of-fold probability (the mean over its photos, for a subject)
 * fell on the right side of its fold's threshold. The heat maps are those of the final model, the
 * one the bundle ships and `screen` explains.
 */
import type { Classifier, FittedClassifier } from '../../classify/types.ts';
import { namedAsGiven, PhenofaceError, toErrorRecord } from '../../errors.ts';
import { percentileInterval, quantile, subjectBootstrap } from '../../evaluate/bootstrap.ts';
import { trainFinal, type FoldReport, type OofPrediction, type StudyData } from '../../evaluate/crossval.ts';
import { permuteSubjectLabels } from '../../evaluate/permutation.ts';
import { deriveSeed, mulberry32, shuffleInPlace } from '../../math/random.ts';
import { Pipeline } from '../../pipeline/pipeline.ts';
import { decodeImage } from '../../image/index.ts';
import type { Face, RgbImage, View } from '../../types.ts';
import { DEFAULTS } from '../../config.ts';
import { classifierScorer, Explainer, type FaceExplanation, type FaceForward, type FineForward, type Scorer } from '../../explain/explainer.ts';
import { spearman, unitEmbedding, type CamWeighting } from '../../explain/gradcam.ts';
import { headEmbedding } from '../../explain/head-gradient.ts';
import { alignedOverlay, pngDataUrl } from '../../explain/overlay.ts';
import type { ExplainReference } from '../../explain/reference.ts';
import { evidenceHeat, type MapEvidence, type StudyHeatScale } from '../../explain/heat-scale.ts';
import type { ExplanationCheck, MapRegions, MeanCi, PhotoRecord, SanityResult, StudyCam, StudyExplanation, TopRegionCounts } from '../../explain/study-result.ts';
import { REGION_NAMES, type RegionName } from '../../explain/regions.ts';
import { randomisedHead, randomScorer } from '../../explain/sanity.ts';

/** A photo of the study that may be explained. */
export interface StudyPhoto {
  /** As in the manifest (the id in `predictions.csv`). */
  path: string;
  /** Absolute file path. */
  abs: string;
  subject: string;
  /** 1 = positive class. */
  y: number;
  view?: View | null;
  /** The face the study embedded (full-size pixels): the photo is aligned as it was, without detecting again. */
  face?: Face;
}

/** Options of {@link explainStudy} (defaults in `DEFAULTS.explain.study`). */
export interface StudyExplanationOptions {
  maxPhotos: number;
  occlusionMapPhotos: number;
  fineCamPhotos: number;
  maxPhotosPerSubject: number;
  bootstrap: number;
  seed: number;
  sanityMaxSpearman: number;
  occlusionMinAgreement: number;
  outsideFaceDensityWarn: number;
}

/** What {@link explainStudy} needs. */
export interface StudyExplanationInput {
  photos: readonly StudyPhoto[];
  predictions: readonly OofPrediction[];
  folds: readonly FoldReport[];
  /** The final model (the bundle's). */
  model: FittedClassifier;
  /** The same classifier trained on labels shuffled between subjects (data randomisation test). */
  shuffled?: FittedClassifier;
  backbone: string;
  positive: string;
  negative: string;
  options?: Partial<StudyExplanationOptions>;
  /** Called after each photo of the sample (explained or not), with the photos done and the sample's size. */
  onProgress?: (done: number, total: number) => void;
}

const METHODS: Record<StudyCam, string> = {
  contrastive: 'contrastive HiResCAM: HiResCAM (Draelos & Carin 2020) of the final model\'s positive-class decision value on the backbone\'s last 14x14 block, against the mean 14x14 map of the sample\'s control faces (gradient times the difference from it; Shrikumar et al. 2017), exact gradient through the layers above it',
  hirescam: 'HiResCAM (Draelos & Carin 2020) of the final model\'s positive-class decision value on the backbone\'s last 14x14 block, exact gradient through the layers above it',
  gradcam: 'Grad-CAM (Selvaraju et al. 2017) of the final model\'s positive-class decision value on the backbone\'s last 7x7 feature map, exact gradient through the linear embedding head',
};

const options = (o: Partial<StudyExplanationOptions> = {}): StudyExplanationOptions => ({
  maxPhotos: o.maxPhotos ?? DEFAULTS.explain.study.maxPhotos,
  maxPhotosPerSubject: o.maxPhotosPerSubject ?? DEFAULTS.explain.study.maxPhotosPerSubject,
  occlusionMapPhotos: o.occlusionMapPhotos ?? DEFAULTS.explain.study.occlusionMapPhotos,
  fineCamPhotos: o.fineCamPhotos ?? DEFAULTS.explain.study.fineCamPhotos,
  bootstrap: o.bootstrap ?? DEFAULTS.explain.study.bootstrap,
  seed: o.seed ?? DEFAULTS.explain.study.seed,
  sanityMaxSpearman: o.sanityMaxSpearman ?? DEFAULTS.explain.study.sanityMaxSpearman,
  occlusionMinAgreement: o.occlusionMinAgreement ?? DEFAULTS.explain.study.occlusionMinAgreement,
  outsideFaceDensityWarn: o.outsideFaceDensityWarn ?? DEFAULTS.explain.study.outsideFaceDensityWarn,
});

/**
 * The model of the data-randomisation sanity check (Adebayo et al. 2018): the embedding classifier,
 * fitted as the final model's is (same classifier, seed and inner CV), on the labels permuted
 * between subjects with `seed`. The heat maps differentiate the embedding's part of the final
 * model, so that is the part refitted; a stack of blocks fitted on permuted labels gives the
 * embedding weight 0 (there is no signal to weigh), which would leave no map to compare with.
 */
export function shuffledLabelModel(rows: Pick<StudyData, 'X' | 'y' | 'subjects'>, classifier: Classifier, seed: number): FittedClassifier {
  const y = permuteSubjectLabels(rows.y, rows.subjects, mulberry32(deriveSeed(seed, SHUFFLE_STREAM)));
  return trainFinal({ X: rows.X, y, subjects: rows.subjects, classifier, seed }).model!;
}

/** The seed stream of the sanity check's label permutation. */
const SHUFFLE_STREAM = 0x5ff1e;

/**
 * Out-of-fold verdicts: for each photo and each subject, whether it was classified correctly in
 * most repeats (ties count as wrong), judged against the thresholds of the fold that predicted it.
 */
export function oofCorrectness(predictions: readonly OofPrediction[], folds: readonly FoldReport[]): { photo: Map<string, boolean>; subject: Map<string, boolean> } {
  const thresholds = new Map(folds.map((f) => [`${f.repeat}/${f.fold}`, f.thresholds]));
  const photoVotes = new Map<string, number[]>();
  const subjectRuns = new Map<string, { sum: number; n: number; label: number; threshold: number }>();
  for (const p of predictions) {
    const t = thresholds.get(`${p.repeat}/${p.fold}`);
    if (!t) throw new PhenofaceError('E_INTERNAL', `No fold report for repeat ${p.repeat}, fold ${p.fold}.`);
    const votes = photoVotes.get(p.path) ?? [0, 0];
    votes[(p.probability >= t.photo ? 1 : 0) === p.label ? 0 : 1]++;
    photoVotes.set(p.path, votes);
    const key = `${p.subject}\u0000${p.repeat}`;
    const run = subjectRuns.get(key) ?? { sum: 0, n: 0, label: p.label, threshold: t.subject };
    run.sum += p.probability;
    run.n++;
    subjectRuns.set(key, run);
  }
  const subjectVotes = new Map<string, number[]>();
  for (const [key, run] of subjectRuns) {
    const subject = key.slice(0, key.indexOf('\u0000'));
    const votes = subjectVotes.get(subject) ?? [0, 0];
    votes[(run.sum / run.n >= run.threshold ? 1 : 0) === run.label ? 0 : 1]++;
    subjectVotes.set(subject, votes);
  }
  const verdict = (m: Map<string, number[]>) => new Map([...m].map(([k, [right, wrong]]) => [k, right > wrong]));
  return { photo: verdict(photoVotes), subject: verdict(subjectVotes) };
}

/**
 * The photos to explain: subjects in a seeded random order, alternating positives and controls,
 * at most `maxPhotosPerSubject` photos each (their first ones), until `maxPhotos`.
 */
export function samplePhotos(photos: readonly StudyPhoto[], maxPhotos: number, maxPerSubject: number, seed: number): StudyPhoto[] {
  const bySubject = new Map<string, StudyPhoto[]>();
  for (const p of photos) bySubject.set(p.subject, [...(bySubject.get(p.subject) ?? []), p]);
  const rng = mulberry32(deriveSeed(seed, 0x5a3e));
  const classes = [1, 0].map((y) => shuffleInPlace([...bySubject.keys()].filter((s) => bySubject.get(s)![0].y === y).sort(), rng));
  const out: StudyPhoto[] = [];
  for (let i = 0; out.length < maxPhotos && i < Math.max(...classes.map((c) => c.length)); i++) {
    for (const list of classes) {
      if (i < list.length) for (const p of bySubject.get(list[i])!.slice(0, maxPerSubject)) if (out.length < maxPhotos) out.push(p);
    }
  }
  return out;
}

/** Mean over subjects (each subject's photos averaged first) with a subject-bootstrap 95% interval. */
export function meanCi(values: readonly { subject: string; value: number | null }[], replicates: number, seed: number): MeanCi {
  const per = new Map<string, number[]>();
  for (const { subject, value } of values) if (value !== null && Number.isFinite(value)) per.set(subject, [...(per.get(subject) ?? []), value]);
  const subj = [...per.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  const n = subj.length;
  if (n === 0) return { mean: null, ci95: null, n: 0 };
  const mean = subj.reduce((a, b) => a + b, 0) / n;
  if (n < 2 || replicates === 0) return { mean, ci95: null, n };
  const everyone = subj.map((_, i) => i);
  const reps = subjectBootstrap([everyone], replicates, mulberry32(deriveSeed(seed, 0xc1)), (drawn) => drawn.reduce((s, i) => s + subj[i], 0) / n);
  return { mean, ci95: percentileInterval(reps, 0.95, 0.5), n };
}

const byRegion = <T>(f: (r: RegionName, k: number) => T) => Object.fromEntries(REGION_NAMES.map((r, k) => [r, f(r, k)])) as Record<RegionName, T>;
/** The region with the largest share; null for an empty map (no cell with evidence for the positive class). */
const topOf = (e: FaceExplanation): RegionName | null => (e.regions.some((r) => r.share > 0) ? [...e.regions].sort((a, b) => b.share - a.share)[0].name : null);

/** A forward pass re-run through another head (the randomised-head check): its own raw and unit embedding. */
function throughHead(fwd: FaceForward, head: ReturnType<typeof randomisedHead>): FaceForward {
  const raw = Float32Array.from(headEmbedding(head.head, fwd.features));
  return { raw, unit: unitEmbedding(raw), features: fwd.features };
}

/** The photo's aligned face: from its known face (decode and warp only), else through the whole pipeline. */
async function alignedFaceOf(pipeline: Pipeline, photo: StudyPhoto): Promise<RgbImage> {
  if (!photo.face) return (await pipeline.embedFile(photo.abs)).aligned.image;
  return pipeline.alignDecoded(await decodeImage(photo.abs, pipeline.config.image), photo.face).image;
}

/** What {@link explainStudy} gives: the analysis, its mean heat map, and what the bundle keeps for screening (the control reference, the shared colour scale). */
export interface StudyExplanationOutput {
  result: StudyExplanation;
  meanHeatmapPng: string | null;
  reference?: ExplainReference;
  heatScale?: StudyHeatScale;
}

/** Runs the analysis (see module doc). Photos whose face cannot be found again are listed, not fatal. */
export async function explainStudy(input: StudyExplanationInput): Promise<StudyExplanationOutput> {
  const o = options(input.options);
  const verdicts = oofCorrectness(input.predictions, input.folds);
  const sample = samplePhotos(input.photos, o.maxPhotos, o.maxPhotosPerSubject, o.seed);
  const { pipeline, explainer } = await openExplainer(input.backbone);
  const size = explainer.masks.size;
  const outsideArea = explainer.masks.areas[REGION_NAMES.indexOf('outside-face')] / (size * size);
  const failed: StudyExplanation['sample']['failed'] = [];
  let explained: Awaited<ReturnType<typeof explainSample>>;
  let maps: { cam: StudyCam; reference?: ExplainReference };
  try {
    const aligned = await alignSample(pipeline, sample, failed);
    maps = await chooseStudyMap(explainer, input.backbone, sample, aligned);
    const context = photoContext(input, o, explainer, maps.cam, maps.reference?.data, verdicts);
    explained = await explainSample(context, sample, aligned, input.onProgress);
  } finally {
    await explainer.dispose();
    await pipeline.close();
  }
  const { records, heatPerSubject, positiveMaps } = explained;
  const controlScores = records.filter((r) => r.label === input.negative).map((r) => r.score);
  const heatScale = studyHeatScale(positiveMaps, controlScores, input.backbone, maps.cam, DEFAULTS.explain.heatScalePercentile);
  return {
    result: summarisePhotoRecords(records, failed, input, o, heatPerSubject.size, outsideArea, maps.cam),
    meanHeatmapPng: await meanHeatmapPng(heatPerSubject, size),
    ...(maps.reference ? { reference: maps.reference } : {}),
    ...(heatScale ? { heatScale } : {}),
  };
}

/**
 * The colour scale shared across photos (see `explain/heat-scale.ts`): evidence is measured from
 * the mean decision value of the control photos, and the hot end is the `percentile` of the heat
 * pooled over every pixel of the positive-class photos' maps, drawn as screening draws them
 * (`evidenceHeat`). Undefined without photos of both classes, or when the positive photos' maps
 * hold no heat at that percentile (nothing to scale to).
 */
export function studyHeatScale(positiveMaps: readonly MapEvidence[], controlScores: readonly number[], backbone: string, cam: StudyCam, percentile: number): StudyHeatScale | undefined {
  if (positiveMaps.length === 0 || controlScores.length === 0) return undefined;
  const controlScore = controlScores.reduce((a, b) => a + b, 0) / controlScores.length;
  const drawn = positiveMaps.map((m) => evidenceHeat(m, controlScore));
  const pooled = new Float32Array(drawn.reduce((a, m) => a + m.length, 0));
  drawn.reduce((at, m) => (pooled.set(m, at), at + m.length), 0);
  const top = quantile(pooled.sort(), percentile);
  return top > 0 ? { backbone, cam, top, percentile, photos: positiveMaps.length, controlScore } : undefined;
}

/** One subject's summed unit-energy heat maps and aligned faces, over `n` photos. */
interface SubjectHeat {
  heat: Float64Array;
  face: Float64Array;
  n: number;
}

/** The pipeline that finds the faces again and the explainer of its backbone (with the finer layer, when the backbone has one). */
async function openExplainer(backbone: string): Promise<{ pipeline: Pipeline; explainer: Explainer }> {
  const pipeline = await Pipeline.create({ backbone });
  try {
    const explainer = Explainer.create(pipeline.backbone!);
    // The finer layer carries the study's map; backbones without one fall back to 7x7 Grad-CAM.
    if (DEFAULTS.explain.fineLayer[backbone]) await explainer.loadFineLayer();
    return { pipeline, explainer };
  } catch (err) {
    await pipeline.close();
    throw err;
  }
}

/**
 * Each sampled photo's aligned face, or undefined with the photo listed in `failed` (its error naming
 * the photo by its manifest path, as `explanation.json` is shared with the report's readers).
 */
export async function alignSample(pipeline: Pipeline, sample: readonly StudyPhoto[], failed: StudyExplanation['sample']['failed']): Promise<(RgbImage | undefined)[]> {
  const aligned: (RgbImage | undefined)[] = [];
  for (const photo of sample) {
    try {
      aligned.push(await alignedFaceOf(pipeline, photo));
    } catch (err) {
      failed.push({ path: photo.path, error: namedAsGiven(toErrorRecord(err), photo.abs, photo.path) });
      aligned.push(undefined);
    }
  }
  return aligned;
}

/**
 * The map every photo gets (see {@link StudyExplanation.cam}): contrastive HiResCAM against the
 * controls' mean 14x14 map, needed before the first positive is explained; plain HiResCAM without
 * controls; 7x7 Grad-CAM without a finer layer.
 */
async function chooseStudyMap(explainer: Explainer, backbone: string, sample: readonly StudyPhoto[], aligned: readonly (RgbImage | undefined)[]): Promise<{ cam: StudyCam; reference?: ExplainReference }> {
  if (!explainer.hasFineLayer) return { cam: 'gradcam' };
  const controlFaces = aligned.filter((f, i): f is RgbImage => f !== undefined && sample[i].y === 0);
  if (controlFaces.length === 0) return { cam: 'hirescam' };
  const mean = await explainer.meanFineMap(controlFaces);
  return { cam: 'contrastive', reference: { backbone, layer: DEFAULTS.explain.fineLayer[backbone], dims: [mean.c, mean.h, mean.w], faces: controlFaces.length, data: mean.data } };
}

/** What explaining one photo needs: the explainer, the map, the scorers and the out-of-fold verdicts. */
interface PhotoContext {
  input: StudyExplanationInput;
  o: StudyExplanationOptions;
  explainer: Explainer;
  cam: StudyCam;
  reference?: Float32Array;
  verdicts: ReturnType<typeof oofCorrectness>;
  real: Scorer;
  shuffled?: Scorer;
  randomClassifier: Scorer;
  randomHead: ReturnType<typeof randomisedHead>;
  /** Comparison maps made so far (they are bounded by `occlusionMapPhotos` and `fineCamPhotos`). */
  made: { occlusionMaps: number; fineCams: number };
}

/** The context of every photo's explanation: the final model's scorer and the sanity checks' models. */
function photoContext(input: StudyExplanationInput, o: StudyExplanationOptions, explainer: Explainer, cam: StudyCam, reference: Float32Array | undefined, verdicts: PhotoContext['verdicts']): PhotoContext {
  return {
    input, o, explainer, cam, reference, verdicts,
    real: classifierScorer(input.model, 'final model'),
    ...(input.shuffled ? { shuffled: classifierScorer(input.shuffled, 'shuffled-label model') } : {}),
    randomClassifier: randomScorer(explainer.head.head.dim, o.seed),
    randomHead: randomisedHead(explainer.head.head, o.seed),
    made: { occlusionMaps: 0, fineCams: 0 },
  };
}

/**
 * Explains each aligned photo of the sample, adding correctly classified positive subjects' heat
 * to their mean, and keeping every positive-class photo's map for the shared colour scale.
 */
async function explainSample(c: PhotoContext, sample: readonly StudyPhoto[], aligned: readonly (RgbImage | undefined)[], onProgress?: (done: number, total: number) => void) {
  const records: PhotoRecord[] = [];
  const heatPerSubject = new Map<string, SubjectHeat>();
  const positiveMaps: FaceExplanation[] = [];
  for (const [i, photo] of sample.entries()) {
    const face = aligned[i];
    if (face) {
      const { record, map } = await explainPhoto(c, photo, face);
      records.push(record);
      if (photo.y === 1) positiveMaps.push(map);
      if (photo.y === 1 && record.subjectCorrect) addSubjectHeat(heatPerSubject, photo.subject, map, face, c.explainer.masks.size);
    }
    onProgress?.(i + 1, sample.length);
  }
  return { records, heatPerSubject, positiveMaps };
}

/** The study's map of `fwd` for any scorer (through a randomised head, when given); `gradient` spares recomputing the finer layer's. */
async function mapOf(c: PhotoContext, fwd: FaceForward, scorer: Scorer, head?: ReturnType<typeof randomisedHead>, gradient?: Float32Array): Promise<FaceExplanation> {
  if (c.cam === 'gradcam') return c.explainer.explainForward(fwd, scorer, head);
  const ff = fwd as FineForward;
  return c.explainer.explainFine(ff, scorer, 'hirescam', c.reference, gradient ?? (await c.explainer.fineGradient(ff, scorer, head)));
}

/** A map's region shares and top region, with the shuffled-label model's top region when given. */
const regionsOf = (m: FaceExplanation, ms?: FaceExplanation): MapRegions => ({ shares: byRegion((_, k) => m.regions[k].share), top: topOf(m), ...(ms ? { shuffledTop: topOf(ms) } : {}) });

/** One photo's record: its map, region shares, occlusion test and sanity checks (and comparison maps for a correct positive). */
async function explainPhoto(c: PhotoContext, photo: StudyPhoto, face: RgbImage): Promise<{ record: PhotoRecord; map: FaceExplanation }> {
  const { explainer, real, shuffled, randomClassifier, randomHead, input } = c;
  const fwd: FaceForward = explainer.hasFineLayer ? await explainer.forwardFine(face) : (await explainer.forward([face]))[0];
  // One gradient per model serves every weighting of the finer layer.
  const g = explainer.hasFineLayer ? await explainer.fineGradient(fwd as FineForward, real) : undefined;
  const gs = explainer.hasFineLayer && shuffled ? await explainer.fineGradient(fwd as FineForward, shuffled) : undefined;
  const e = await mapOf(c, fwd, real, undefined, g);
  const sanity: [string, FaceExplanation][] = [
    ['randomised classifier', await mapOf(c, fwd, randomClassifier)],
    ['randomised head + classifier', await mapOf(c, { ...fwd, ...throughHead(fwd, randomHead) }, randomClassifier, randomHead)],
  ];
  const es = shuffled && (await mapOf(c, fwd, shuffled, undefined, gs));
  if (es) sanity.push(['shuffled labels', es]);
  const [occ] = await explainer.occlusion(face, fwd, [real]);
  const shares = e.regions.map((r) => r.share);
  const record: PhotoRecord = {
    path: photo.path,
    subject: photo.subject,
    label: photo.y ? input.positive : input.negative,
    view: photo.view ?? null,
    correct: c.verdicts.photo.get(photo.path) ?? null,
    subjectCorrect: c.verdicts.subject.get(photo.subject) ?? null,
    score: e.score,
    top: topOf(e),
    shares: byRegion((_, k) => shares[k]),
    outsideEnergy: e.regions[REGION_NAMES.indexOf('outside-face')].energy,
    occlusion: byRegion((_, k) => occ.dropPerArea[k]),
    occlusionAgreement: spearman(occ.dropPerArea, shares),
    sanity: Object.fromEntries(sanity.map(([name, x]) => [name, spearman(e.cam.signed, x.cam.signed)])),
    regionSanity: Object.fromEntries(sanity.map(([name, x]) => [name, spearman(shares, x.regions.map((r) => r.share))])),
    ...(es ? { shuffledTop: topOf(es) } : {}),
  };
  if (photo.y === 1 && record.correct) await addComparisonMaps(c, record, { fwd, face, e, es, g, gs });
  return { record, map: e };
}

/**
 * The other maps of a correctly classified positive, for comparison: the paper's 7x7 Grad-CAM for
 * every one, the finer ones for the first `fineCamPhotos`, occlusion maps for `occlusionMapPhotos`.
 */
async function addComparisonMaps(
  c: PhotoContext,
  rec: PhotoRecord,
  m: { fwd: FaceForward; face: RgbImage; e: FaceExplanation; es?: FaceExplanation; g?: Float32Array; gs?: Float32Array },
): Promise<void> {
  const { explainer, real, shuffled, o } = c;
  rec.gradcam = c.cam === 'gradcam' ? regionsOf(m.e, m.es) : regionsOf(explainer.explainForward(m.fwd, real), shuffled && explainer.explainForward(m.fwd, shuffled));
  if (c.made.occlusionMaps < o.occlusionMapPhotos) {
    c.made.occlusionMaps++;
    const [om, oms] = await explainer.occlusionMap(m.face, shuffled ? [real, shuffled] : [real]);
    rec.occlusionMap = regionsOf(om, oms);
  }
  const { g, gs } = m;
  if (g && c.made.fineCams < o.fineCamPhotos) {
    c.made.fineCams++;
    const ff = m.fwd as FineForward;
    const both = async (weighting: CamWeighting) =>
      regionsOf(await explainer.explainFine(ff, real, weighting, undefined, g), shuffled && gs && (await explainer.explainFine(ff, shuffled, weighting, undefined, gs)));
    rec.fineCam = await both('gradcam');
    rec.fineHiRes = await both('hirescam');
  }
}

/** Adds a photo's heat map (normalised to unit energy) and aligned face to its subject's sums. */
function addSubjectHeat(heatPerSubject: Map<string, SubjectHeat>, subject: string, e: FaceExplanation, face: RgbImage, size: number): void {
  const acc = heatPerSubject.get(subject) ?? { heat: new Float64Array(size * size), face: new Float64Array(size * size * 3), n: 0 };
  const total = e.heat.reduce((a, b) => a + b, 0);
  if (total > 0) for (let k = 0; k < e.heat.length; k++) acc.heat[k] += e.heat[k] / total;
  for (let k = 0; k < face.data.length; k++) acc.face[k] += face.data[k];
  acc.n++;
  heatPerSubject.set(subject, acc);
}

/**
 * Mean heat map of correctly classified positive subjects as a PNG data URL: each subject's photos
 * averaged, then subjects averaged, over their mean aligned face; null without such subjects.
 */
async function meanHeatmapPng(heatPerSubject: Map<string, SubjectHeat>, size: number): Promise<string | null> {
  if (!heatPerSubject.size) return null;
  const meanHeat = new Float64Array(size * size);
  const meanFace = new Float64Array(size * size * 3);
  for (const acc of heatPerSubject.values()) {
    for (let k = 0; k < meanHeat.length; k++) meanHeat[k] += acc.heat[k] / acc.n / heatPerSubject.size;
    for (let k = 0; k < meanFace.length; k++) meanFace[k] += acc.face[k] / acc.n / heatPerSubject.size;
  }
  return pngDataUrl(alignedOverlay({ width: size, height: size, data: Uint8Array.from(meanFace, Math.round) }, meanHeat));
}

/** The aggregate numbers of {@link StudyExplanation} from the per-photo records. */
export function summarisePhotoRecords(
  records: PhotoRecord[],
  failed: StudyExplanation['sample']['failed'],
  input: Pick<StudyExplanationInput, 'backbone' | 'positive' | 'negative'>,
  o: StudyExplanationOptions,
  meanHeatmapSubjects: number,
  /** Fraction of the crop outside the face (the outside-face mask's area). */
  area: number,
  cam: StudyCam = 'gradcam',
): StudyExplanation {
  const B = o.bootstrap;
  const seed = o.seed;
  const isPos = (r: PhotoRecord) => r.label === input.positive;
  const groups = {
    positives: records.filter((r) => isPos(r) && r.subjectCorrect),
    controls: records.filter((r) => !isPos(r) && r.subjectCorrect),
  };
  const regions = Object.fromEntries(Object.entries(groups).map(([g, rs]) => [g, byRegion((name) => meanCi(rs.map((r) => ({ subject: r.subject, value: r.shares[name] })), B, seed))])) as StudyExplanation['regions'];

  const correctPos = records.filter((r) => isPos(r) && r.correct);
  const freq = (tops: (RegionName | null | undefined)[]) => byRegion((name) => (tops.length ? tops.filter((t) => t === name).length / tops.length : 0));
  const withShuffled = correctPos.filter((r) => r.shuffledTop !== undefined);
  /** Top-region counts of one of the maps made for some correctly classified positives. */
  const mapTop = (get: (r: PhotoRecord) => MapRegions | undefined): TopRegionCounts | null => {
    const made = correctPos.filter((r) => get(r));
    const sh = made.filter((r) => get(r)!.shuffledTop !== undefined);
    return made.length ? { photos: made.length, real: freq(made.map((r) => get(r)!.top)), shuffled: sh.length ? freq(sh.map((r) => get(r)!.shuffledTop)) : null } : null;
  };

  const outsideFace = outsideFaceCheck(records, area, o);
  const sanity = sanityResults(records, o);
  const occlusion = occlusionTest(records, o);
  const warnings = sanity.filter((r) => !r.passed).map((r) => `SANITY CHECK FAILED (${r.name}): the heat maps barely change when ${r.description} (mean Spearman ${r.spearman.mean?.toFixed(2) ?? 'n/a'} >= ${o.sanityMaxSpearman}). These explanations do not reflect what the model learnt; do not read them as evidence.`);
  if (occlusion.passed === false) warnings.push(`OCCLUSION CHECK FAILED: greying out each region ranks the regions differently from the heat map (mean Spearman ${occlusion.agreement.mean!.toFixed(2)} < ${o.occlusionMinAgreement}). The two methods disagree about where the score comes from; read the region ranking as one method's view, not as established.`);
  if (outsideFace.warning) warnings.push(outsideFace.warning);

  return {
    contract: 1,
    cam,
    method: `${METHODS[cam]}; regions from the ArcFace template landmarks; occlusion with mid-grey; sanity checks after Adebayo et al. 2018`,
    backbone: input.backbone,
    positive: input.positive,
    negative: input.negative,
    sample: {
      photos: records.length,
      subjects: new Set(records.map((r) => r.subject)).size,
      positivePhotos: records.filter(isPos).length,
      controlPhotos: records.filter((r) => !isPos(r)).length,
      failed,
    },
    regions,
    topRegion: { photos: correctPos.length, real: freq(correctPos.map((r) => r.top)), shuffled: withShuffled.length ? freq(withShuffled.map((r) => r.shuffledTop)) : null },
    occlusionMapTop: mapTop((r) => r.occlusionMap),
    fineCamTop: mapTop((r) => r.fineCam),
    fineHiResTop: mapTop((r) => r.fineHiRes),
    gradcamTop: mapTop((r) => r.gradcam),
    occlusion,
    outsideFace,
    sanity,
    checks: explanationChecks(sanity, occlusion, outsideFace, o),
    warnings,
    meanHeatmapSubjects,
    photosDetail: records,
  };
}

/** The occlusion test: each region's score drop per area, and its rank agreement with the map's shares checked against `occlusionMinAgreement`. */
function occlusionTest(records: PhotoRecord[], o: StudyExplanationOptions): StudyExplanation['occlusion'] {
  const agreement = meanCi(records.map((r) => ({ subject: r.subject, value: r.occlusionAgreement })), o.bootstrap, o.seed);
  return {
    dropPerArea: byRegion((name) => meanCi(records.map((r) => ({ subject: r.subject, value: r.occlusion[name] })), o.bootstrap, o.seed)),
    agreement,
    minAgreement: o.occlusionMinAgreement,
    passed: agreement.mean === null ? null : agreement.mean >= o.occlusionMinAgreement,
  };
}

/**
 * Every check with a threshold, in the order the report lists them: the sanity checks (maps must
 * change), the occlusion agreement, and the heat outside the face (its interval is the energy
 * share's, mapped through the density ratio, which rises with it).
 */
function explanationChecks(sanity: SanityResult[], occlusion: StudyExplanation['occlusion'], outside: StudyExplanation['outsideFace'], o: StudyExplanationOptions): ExplanationCheck[] {
  const { energy, area } = outside;
  return [
    ...sanity.map((s): ExplanationCheck => ({ name: `sanity: ${s.name}`, measured: s.spearman, rule: 'max', threshold: o.sanityMaxSpearman, passed: s.spearman.mean === null ? null : s.passed })),
    { name: 'occlusion agreement', measured: occlusion.agreement, rule: 'min', threshold: occlusion.minAgreement, passed: occlusion.passed },
    {
      name: 'heat outside the face',
      measured: { mean: outside.densityRatio, ci95: energy.ci95 && [densityRatio(energy.ci95[0], area), densityRatio(energy.ci95[1], area)], n: energy.n },
      rule: 'max',
      threshold: outside.threshold,
      passed: outside.densityRatio === null ? null : outside.densityRatio < outside.threshold,
    },
  ];
}

/** Heat per unit area outside the face over that on it, from the outside share `energy` of the heat on the share `area` of the crop. */
const densityRatio = (energy: number, area: number) => energy / area / ((1 - energy) / (1 - area));

/**
 * The heat outside the face per unit area against that on it; a shortcut warning at or above
 * `outsideFaceDensityWarn` (the model may rely on hair, ears or background).
 */
function outsideFaceCheck(records: PhotoRecord[], area: number, o: StudyExplanationOptions): StudyExplanation['outsideFace'] {
  const energy = meanCi(records.map((r) => ({ subject: r.subject, value: r.outsideEnergy })), o.bootstrap, o.seed);
  const ratio = energy.mean === null ? null : densityRatio(energy.mean, area);
  const warning = ratio !== null && ratio >= o.outsideFaceDensityWarn
    ? `SHORTCUT WARNING: per pixel, the heat maps are ${ratio.toFixed(1)} times as hot outside the face (hair, ears, background) as on it (${(100 * energy.mean!).toFixed(0)}% of the heat on ${(100 * area).toFixed(0)}% of the crop). The model may rely on non-facial cues: check the photos' backgrounds, framing and sources for differences between the classes.`
    : null;
  return { energy, area, densityRatio: ratio, threshold: o.outsideFaceDensityWarn, warning };
}

/** What each sanity check randomised, as the report says it. */
const SANITY_DESCRIPTIONS: Record<string, string> = {
  'randomised classifier': "the classifier's weights replaced by a random direction (model randomisation, top layer)",
  'randomised head + classifier': 'also the embedding head above the Grad-CAM layer re-drawn at random (cascading model randomisation)',
  'shuffled labels': 'the same classifier trained on labels shuffled between subjects (data randomisation)',
};

/** Each sanity check's map and region-share rank agreement with the real map; it passes when the maps' mean Spearman stays below `sanityMaxSpearman`. */
function sanityResults(records: PhotoRecord[], o: StudyExplanationOptions): SanityResult[] {
  const names = [...new Set(records.flatMap((r) => Object.keys(r.sanity)))];
  return names.map((name) => {
    const spear = meanCi(records.map((r) => ({ subject: r.subject, value: r.sanity[name] ?? null })), o.bootstrap, o.seed);
    const regionSpear = meanCi(records.map((r) => ({ subject: r.subject, value: r.regionSanity[name] ?? null })), o.bootstrap, o.seed);
    return { name, description: SANITY_DESCRIPTIONS[name] ?? name, spearman: spear, regionSpearman: regionSpear, passed: spear.mean !== null && spear.mean < o.sanityMaxSpearman };
  });
}
