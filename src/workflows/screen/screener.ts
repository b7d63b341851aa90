/**
 * Screening one person's photos with a trained model bundle: each photo goes through the pipeline
 * the model was trained with, the classifier scores each face, and the photos' probabilities are
 * fused into one (their mean, as the study fused a subject's photos). Used by `phenoface screen`,
 * the web app and the demo. Photos stay in memory; nothing is written unless an explanation
 * folder is asked for.
 */
import { loadBundle, type LoadedBundle } from '../../classify/bundle.ts';
import type { FittedClassifier } from '../../classify/types.ts';
import { DEFAULTS } from '../../config.ts';
import { embeddingClassifier, embeddingOnlyModel, FittedFeatureModel, geometryExplanation, secondEmbeddingDim, type GeometryExplanation, type PhotoInputs } from '../../features/index.ts';
import { namedAsGiven, PhenofaceError, toErrorRecord } from '../../errors.ts';
import { aucChanceClause, aucReachesChance, boundChanceNote, postTest, probabilityText, type ValidatedRate } from '../../evaluate/post-test.ts';
import { Pipeline, PIPELINE_VERSION, type EmbedResult } from '../../pipeline/pipeline.ts';
import { fuseRanks } from '../../evaluate/ranking.ts';
import { tQuantile975 } from '../../math/student.ts';
import { sameVector } from '../../math/vector.ts';
import { regionsFromHeatMap, type DifferentialEntry, type ScreenPhoto, type ScreenResult } from './result.ts';
import { heatMapScope } from '../../explain/scope.ts';
import { modelFeatures, modelReads } from '../../features/describe.ts';
import { measurableFace, normsFromJSON, tooSmallToMeasure, type MeasurementNorms } from '../../features/measurements.ts';
import { photoMeasurementFields, subjectMeasurementFields, type MeasuredPhoto } from './measurements.ts';
import { warnOtherPeople, type ScreenedFace } from './same-person.ts';
import { geometryFields } from './geometry.ts';
import { photoWarnings } from './photo-warnings.ts';

export type { ScreenPhoto, ScreenResult, RegionShare, DifferentialEntry } from './result.ts';

/** The disclaimer every screening result carries. */
export const DISCLAIMER = 'A screening aid, not a diagnosis: a positive result calls for clinical assessment and genetic testing; a negative result does not exclude 22q11.2 deletion syndrome.';

/** A photo to screen: a name (shown back) and its bytes or a file path. */
export interface ScreenInput {
  name: string;
  bytes?: Buffer;
  path?: string;
  /** Why the input was refused before screening (e.g. a folder without photos): its error record. */
  refused?: PhenofaceError;
}

/**
 * Explains one embedded photo (regions and overlays of a heat map); the explainers are in
 * `workflows/screen/explainer.ts`. Returns fields to merge into the photo's result.
 */
export type PhotoExplainer = ((photo: EmbedResult, input: ScreenInput, index: number) => Promise<Partial<ScreenPhoto>>) & {
  /** Frees what the explainer loaded (its inference sessions); call it once the screening is done. */
  dispose?: () => Promise<void>;
  /**
   * Loads now what the first photo would (the finer layer's session, the bundle's explanation
   * files), so a long-running host finds a damaged file when it starts; E_MODEL as the first photo would get.
   */
  prepare?: () => Promise<void>;
  /** Why the photos get no explanation (a model nothing can explain), added to the result's model warnings. */
  note?: string;
  /** The study's failed checks of the map drawn (`heatMapChecksNote`), once the explainer is prepared: the result's `model.heatMapChecks`. */
  checksNote?: string;
};

/** Model facts for the web app's model page and `/api/model`. */
export interface ModelInfo {
  id: string;
  createdAt: string;
  positive: string;
  negative: string;
  /** The face-recognition network installed with the model (what it reads of it, if anything, is in `reads`). */
  backbone: string;
  /** The second network whose embedding the model reads beside the backbone's (absent when none). */
  secondBackbone?: string;
  /** The feature blocks the model scores with (`embedding`, `geometry`, `regions`). */
  features: string[];
  /** What the model reads, in words (`features/describe.ts`). */
  reads: string;
  classifier: string;
  thresholds: { photo: number; subject: number };
  training: LoadedBundle['training'];
  metrics: LoadedBundle['metrics'];
  intendedUse: string;
  limitations: string[];
  synthetic: boolean;
  /** A ranking bundle's classes and cross-validated top-k and per-class figures. */
  ranking?: { classes: string[]; metrics: Record<string, unknown> };
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** What the feature blocks read from one embedded photo. */
export function photoInputs(res: EmbedResult): PhotoInputs {
  return { embedding: res.embedding.vector, ...(res.face.view ? { view: res.face.view } : {}), ...(res.regionMaps ? { regionMaps: res.regionMaps } : {}), ...(res.secondEmbedding ? { secondEmbedding: res.secondEmbedding } : {}), ...(res.landmarks68 ? { landmarks68: res.landmarks68 } : {}) };
}
const r = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * A region table says where a photo's score comes from, not what the photo shows: below the
 * model's photo threshold the score is evidence against the condition, so no region gets the HPO
 * terms of the features it relates to.
 */
export function withoutFindingsBelowThreshold(fields: Partial<ScreenPhoto>, probability: number, threshold: number): Partial<ScreenPhoto> {
  if (probability >= threshold || !fields.regions) return fields;
  return { ...fields, regions: fields.regions.map(({ hpo: _hpo, ...region }) => region) };
}

/**
 * The spread of a person's photo scores: the 95% t interval of their mean (how much the verdict
 * rests on the choice of photos; t with n - 1 degrees of freedom, as a handful of photos is too few
 * for the normal 1.96, which covers about 70% with two), clipped to [0, 1], and a note when there
 * is none (one photo) or it is a single value (photos that scored alike: agreement between
 * photos, not certainty).
 */
function photoSpread(probs: readonly number[]): Pick<ScreenResult['subject'], 'interval' | 'intervalNote'> {
  if (probs.length === 0) return {};
  if (probs.length === 1) return { intervalNote: 'One usable photo: no interval (it comes from the spread of several photos of the person).' };
  const mean = probs.reduce((a, c) => a + c, 0) / probs.length;
  const sd = Math.sqrt(probs.reduce((a, c) => a + (c - mean) ** 2, 0) / (probs.length - 1));
  const half = (tQuantile975(probs.length - 1) * sd) / Math.sqrt(probs.length);
  const interval: [number, number] = [r4(Math.max(0, mean - half)), r4(Math.min(1, mean + half))];
  if (interval[0] !== interval[1]) return { interval };
  return { interval, intervalNote: 'The photos scored alike, so the interval is a single value; that is agreement between photos, not certainty about the person.' };
}

/**
 * A ranking bundle's differential for one person's embeddings: each photo's class probabilities
 * fused as the study fused them (mean log-probability, renormalised), most probable first, and
 * the note saying what it and the binary fields mean. Empty for a binary bundle or no embeddings.
 *
 * The note says what a reader would otherwise take wrongly: the probabilities follow the study's
 * mix of classes, not how common each condition is; they come from a model other than the call's
 * (the one-vs-rest model's), so the two can disagree, and when they do for this person it says so;
 * and a differential whose cross-validated top-1 per person does not clear naming the most common
 * class (its interval reaching that rate) carries no evidence (`differentialEvidenceNote`).
 */
export function differentialOf(bundle: LoadedBundle, vectors: readonly Float32Array[], call?: string | null): Pick<ScreenResult, 'differential' | 'differentialNote' | 'differentialEvidenceNote'> {
  if (!bundle.ranker || vectors.length === 0) return {};
  const fused = fuseRanks(bundle.ranker.rank(vectors), vectors.map(() => 'person')).get('person')!;
  const differential: DifferentialEntry[] = bundle.ranker.labels.map((label, k) => ({ label, probability: r4(fused[k]) })).sort((a, b) => b.probability - a.probability);
  const m = (bundle.ranking?.metrics ?? {}) as RankingSummary;
  const mix = bundle.ranker.labels.map((l) => m.perClass?.[l]?.support?.subjects).every((n) => typeof n === 'number')
    ? ` (the study held ${bundle.ranker.labels.map((l) => `${m.perClass![l].support!.subjects} ${l}`).join(', ')} people)`
    : '';
  const positiveTop = differential[0].label === bundle.positive;
  const disagree = call === bundle.positive ? !positiveTop : call === bundle.negative ? positiveTop : false;
  const note = [
    `The differential ranks the ${differential.length} classes this model was trained on: probabilities among those classes only (a condition outside them cannot be named), following the study's mix of classes${mix}, not how common each condition is.`,
    `They come from the study's ranking model, the call above ("${bundle.positive}" against all the other classes pooled) from its one-vs-rest model, so the two can disagree.`,
    disagree ? `Here they do: the call is ${call === bundle.positive ? 'above' : 'below'} the threshold, yet ${positiveTop ? `"${bundle.positive}" is` : `"${differential[0].label}", not "${bundle.positive}", is`} ranked first.` : '',
  ].filter(Boolean).join(' ');
  const top1 = m.subject?.top1;
  const majority = m.chance?.majority?.subject;
  const weak = top1?.ci95 && typeof majority === 'number' && top1.ci95[0] <= majority;
  const evidence = weak
    ? { differentialEvidenceNote: `This differential carries no evidence: in cross-validation its first class was right for ${pctOf(top1.value)} of people (95% interval ${pctOf(top1.ci95![0])}-${pctOf(top1.ci95![1])}), which does not clear the ${pctOf(majority)} of always naming the most common class. Do not act on it.` }
    : {};
  return { differential, differentialNote: note, ...evidence };
}

/** What `differentialOf` reads of a ranking bundle's metrics. */
interface RankingSummary {
  subject?: { top1?: { value: number | null; ci95?: [number, number] | null } };
  chance?: { majority?: { subject?: number } };
  perClass?: Record<string, { support?: { subjects?: number } }>;
}

const pctOf = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(1)}%`);

/**
 * A photo's score as the model gave it, or E_MODEL when it is not a probability from 0 to 1. A
 * bundle whose numbers overflow on a face (huge weights, a vanishing scale) scores NaN, and NaN
 * is below every threshold: the photo would count as the negative class with no sign of the fault.
 */
export function checkedProbability(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new PhenofaceError('E_MODEL', `The model gave this photo a score of ${p}, not a probability from 0 to 1: its numbers overflow on this face, so the bundle is damaged or was edited. Use the model/ folder as \`phenoface study\` wrote it.`);
  return p;
}

/** A loaded model bundle with its pipeline, ready to screen. */
export class Screener {
  /**
   * The classifier on raw embeddings that the heat maps differentiate: the bundle's classifier, or
   * the embedding's part of its feature model (undefined when that leaves the embedding out).
   */
  readonly embeddingModel: FittedClassifier | undefined;
  /** Each region's exact contribution to a photo's logit through the model's geometry part (undefined without a linear one). */
  readonly geometry: GeometryExplanation | undefined;

  private constructor(
    readonly bundle: LoadedBundle,
    /** The pipeline the bundle was trained with; its explainers need the same backbone and decode limits. */
    readonly pipeline: Pipeline,
    /** What the model scores a photo with: its feature blocks (a bundle without any: the embedding alone). */
    readonly features: FittedFeatureModel,
    /** The study controls' measurement norms (absent in a bundle without them: no measurements). */
    readonly norms: MeasurementNorms | undefined,
  ) {
    this.embeddingModel = bundle.features ? embeddingClassifier(features) : bundle.model;
    this.geometry = geometryExplanation(features);
  }

  /**
   * Loads a bundle (E_BUNDLE when missing, malformed, or trained on other backbone weights) and its
   * pipeline, which computes every input the bundle's feature blocks read, and dense landmarks when
   * the bundle has measurement norms to score them with.
   */
  static async load(modelDir: string): Promise<Screener> {
    const bundle = await loadBundle(modelDir);
    const features = bundle.features ? FittedFeatureModel.fromJSON(bundle.features) : embeddingOnlyModel(bundle.model);
    const norms = bundle.measurementNorms ? normsFromJSON(bundle.measurementNorms) : undefined;
    const landmarks = features.features.includes('geometry') || norms !== undefined;
    const secondDim = secondEmbeddingDim(features.toJSON());
    if (secondDim !== (bundle.backbone.second?.dim ?? 0)) {
      throw new PhenofaceError('E_BUNDLE', `The model's embedding block reads ${secondDim} columns of a second network's embedding, but the bundle names ${bundle.backbone.second ? `${bundle.backbone.second.name} with ${bundle.backbone.second.dim}` : 'no second network'} (backbone.second). Re-train with this installation.`);
    }
    const pipeline = await Pipeline.create({ backbone: bundle.backbone.name, regions: features.features.includes('regions'), landmarks, second: bundle.backbone.second?.name });
    return new Screener(bundle, pipeline, features, norms);
  }

  /** Model facts for display. */
  info(): ModelInfo {
    const b = this.bundle;
    return {
      id: b.id,
      createdAt: b.createdAt,
      positive: b.positive,
      negative: b.negative,
      backbone: b.backbone.name,
      ...(b.backbone.second ? { secondBackbone: b.backbone.second.name } : {}),
      features: modelFeatures(b),
      reads: modelReads(b),
      classifier: b.classifier.name,
      thresholds: b.thresholds,
      training: b.training,
      metrics: b.metrics,
      intendedUse: b.intendedUse,
      limitations: b.limitations,
      synthetic: Boolean(b.synthetic),
      ...(b.ranking ? { ranking: { classes: b.ranking.classes, metrics: b.ranking.metrics } } : {}),
    };
  }

  /**
   * Screens photos taken as one person's. A photo that cannot be used (no face, corrupt) gets an
   * error record and the others go on; the fused probability is the mean over usable photos
   * (null when none is usable), labelled positive at the bundle's subject threshold. A photo given
   * twice (an identical face embedding) is screened and shown, but counted once in the person's
   * result, with a warning saying so.
   */
  async screen(inputs: ScreenInput[], opts: { explain?: PhotoExplainer; prevalence?: number } = {}): Promise<ScreenResult> {
    if (inputs.length === 0) throw new PhenofaceError('E_INPUT', 'No photos given to screen.');
    const photos: ScreenPhoto[] = [];
    const counted = new CountedPhotos();
    const measured: MeasuredPhoto[] = [];
    const faced: (ScreenedFace & { photo: ScreenPhoto })[] = [];
    for (const [i, input] of inputs.entries()) {
      const source = input.bytes ?? input.path;
      if (source === undefined) throw new PhenofaceError('E_INPUT', `Photo "${input.name}" has neither bytes nor a path.`);
      try {
        if (input.refused) throw input.refused;
        const res = await this.pipeline.embedFile(source);
        const row = photoInputs(res);
        const p = checkedProbability(this.features.predictProba([row])[0]);
        const photo: ScreenPhoto = {
          path: input.name,
          probability: r4(p),
          view: res.face.view,
          pose: res.face.pose && { yaw: r(res.face.pose.yaw, 1), pitch: r(res.face.pose.pitch, 1), roll: r(res.face.pose.roll, 1) },
          box: { x: r(res.face.box.x, 2), y: r(res.face.box.y, 2), width: r(res.face.box.width, 2), height: r(res.face.box.height, 2) },
          landmarks5: res.face.landmarks5.map(([x, y]) => [r(x, 2), r(y, 2)]) as ScreenPhoto['landmarks5'],
          width: res.width,
          height: res.height,
          warnings: photoWarnings(res.quality.warnings, res.face.view, this.bundle.metrics.byView, res.faces.length, res.face.turned !== undefined),
        };
        // A face too small to measure is screened, but its landmarks' resolution error would pass for findings.
        const measurable = measurableFace(res.face.box);
        const measurements = photoMeasurementFields(measurable ? res.landmarks68 : undefined, res.face.view, this.norms);
        if (!measurable && this.norms && res.landmarks68) photo.warnings!.push(tooSmallToMeasure(res.face.box));
        Object.assign(photo, measurements.fields, geometryFields(this.geometry, row, this.bundle.positive));
        if (opts.explain) Object.assign(photo, withoutFindingsBelowThreshold(await opts.explain(res, input, i), p, this.bundle.thresholds.photo));
        // Counted in the person's result only once nothing about the photo has failed: a photo
        // reported as an error must not move the fused probability.
        const copy = counted.count(input.name, res.embedding.vector, p);
        if (copy) photo.warnings!.push(copy);
        else if (measurements.raw) measured.push({ measurements: measurements.raw, view: res.face.view });
        photos.push(photo);
        faced.push({ photo, vector: res.embedding.vector, view: res.face.view });
      } catch (err) {
        photos.push({ path: input.name, error: namedAsGiven(toErrorRecord(err), input.path, input.name) });
      }
    }
    warnOtherPeople(faced, this.bundle.backbone.name);
    const result = fusedResult(this.bundle, photos, counted, opts.prevalence);
    const warnings = [...pipelineWarnings(this.bundle), ...(opts.explain?.note ? [opts.explain.note] : [])];
    const checks = opts.explain?.checksNote && photos.some(regionsFromHeatMap) ? { heatMapChecks: opts.explain.checksNote } : {};
    return { ...result, subject: { ...result.subject, ...subjectMeasurementFields(measured, this.norms) }, model: { ...result.model, ...(warnings.length && { warnings }), ...checks } };
  }

  /** Releases the models. */
  async close(): Promise<void> {
    await this.pipeline.close();
  }
}

/**
 * The photos counted in one person's result: each usable photo's probability and face embedding,
 * in order. A photo whose embedding is identical to one already counted (the same photo given twice,
 * perhaps under two names) is not counted again: shared by photo and embedding screening, so both
 * count a person's photos alike.
 */
export class CountedPhotos {
  readonly probs: number[] = [];
  readonly vectors: Float32Array[] = [];
  private readonly names: string[] = [];

  /** Counts the photo `name`, unless its embedding was counted before: then the warning that says so. */
  count(name: string, vector: Float32Array, probability: number): string | undefined {
    const twin = this.vectors.findIndex((v) => sameVector(v, vector));
    if (twin >= 0) return `the same photo as "${this.names[twin]}" (an identical face embedding): counted once in the person's result`;
    this.probs.push(probability);
    this.vectors.push(vector);
    this.names.push(name);
    return undefined;
  }
}

/**
 * Why a bundle's scores may not hold for the photos this Phenoface processes: it was trained on
 * photos processed by another pipeline version (faces found, aligned or landmarked otherwise), so
 * its classifier and thresholds read embeddings of another kind.
 */
export function pipelineWarnings(b: Pick<LoadedBundle, 'pipeline'>): string[] {
  const trained = b.pipeline?.version;
  if (trained === undefined || trained === PIPELINE_VERSION) return [];
  return [`This model was trained on photos processed by pipeline ${trained}; this Phenoface processes photos by ${PIPELINE_VERSION} (faces are aligned or landmarked otherwise), so its scores and thresholds may not hold here: re-run the study with this version.`];
}

/**
 * One person's result from their counted photos ({@link CountedPhotos}): the mean probability,
 * labelled at the bundle's subject threshold, with the photos' spread and what the call means at
 * `prevalence`, and for a ranking bundle the differential of the counted photos' embeddings.
 * Shared by photo and embedding screening, so both read the same.
 */
export function fusedResult(b: LoadedBundle, photos: ScreenPhoto[], { probs, vectors }: Pick<CountedPhotos, 'probs' | 'vectors'>, prevalence = DEFAULTS.evaluate.prevalence): ScreenResult {
  const fused = probs.length ? probs.reduce((a, c) => a + c, 0) / probs.length : null;
  return {
    contract: 1,
    subject: {
      probability: fused === null ? null : r4(fused),
      label: fused === null ? null : fused >= b.thresholds.subject ? b.positive : b.negative,
      threshold: r4(b.thresholds.subject),
      photos: probs.length,
      ...photoSpread(probs),
      ...(fused === null ? { error: noUsablePhoto(photos.length) } : { ...callMeaning(b, fused >= b.thresholds.subject, prevalence), ...fewPhotosNote(b, probs.length) }),
    },
    photos,
    ...differentialOf(b, vectors, fused === null ? null : fused >= b.thresholds.subject ? b.positive : b.negative),
    model: { id: b.id, backbone: b.backbone.name, photoThreshold: r4(b.thresholds.photo), features: modelFeatures(b), reads: modelReads(b), positive: b.positive, negative: b.negative, ...(b.synthetic ? { synthetic: true } : {}), ...(b.ranking ? { classes: b.ranking.classes } : {}), ...mapScopeOf(b, photos) },
    disclaimer: DISCLAIMER,
  };
}

/**
 * Why a call carries no evidence, when it does not: a positive call whose likelihood ratio is at
 * most 1 (or a negative call's at least 1) leaves the chance where the prevalence put it, and a
 * model whose cross-validated AUC interval reaches 0.5 has not been shown to tell people apart.
 */
function noEvidence(positive: boolean, lr: number | null, auc: ValidatedRate | undefined): string | undefined {
  const flat = lr !== null && (positive ? lr <= 1 : lr >= 1);
  const chance = aucReachesChance(auc);
  if (!flat && !chance) return undefined;
  const why = [
    flat ? `the likelihood ratio of this call is ${r(lr!, 2)}, so it ${positive ? 'does not raise' : 'does not lower'} the chance of the condition` : '',
    chance ? aucChanceClause(auc) : '',
  ].filter(Boolean);
  return `This result carries no evidence: ${why.join('; and ')}. The model has not been shown to tell people with the condition from people without it; do not act on this result.`;
}

/**
 * Said when a person is screened from fewer photos than the study's people had on average: the
 * per-person rates the call is read with were measured on the mean of all of a person's photos, so
 * the study's per-photo rates (what one photo alone did) are given beside them. Empty otherwise, or
 * for a bundle without per-photo rates.
 */
function fewPhotosNote(b: LoadedBundle, photos: number): { photosNote?: string } {
  const perPerson = b.training.photosUsed / b.training.subjectsUsed;
  const { sensitivity, specificity } = b.metrics.photo as { sensitivity?: ValidatedRate; specificity?: ValidatedRate };
  if (!(photos < Math.round(perPerson)) || sensitivity?.value == null || specificity?.value == null) return {};
  const rate = (e: ValidatedRate) => `${probabilityText(e.value!, true)}${e.ci95 ? ` (95% CI ${probabilityText(e.ci95[0], true)}-${probabilityText(e.ci95[1], true)})` : ''}`;
  return {
    photosNote: `The per-person sensitivity and specificity are of the study's people scored from the mean of all their photos (${perPerson.toFixed(1)} per person on average); this result is from ${photos} photo${photos === 1 ? '' : 's'}. One photo at a time, the study's photos gave a sensitivity of ${rate(sensitivity)} and a specificity of ${rate(specificity)}.`,
  };
}

/** Why a screening has no probability: none of its photos could be used (each photo's record says why). */
function noUsablePhoto(photos: number): { code: 'E_NO_USABLE_PHOTO'; message: string } {
  const none = photos === 1 ? 'The one photo could not be screened (its error says why)' : `None of the ${photos} photos could be screened (each photo's error says why)`;
  return { code: 'E_NO_USABLE_PHOTO', message: `${none}, so there is no score ("probability") and no label.` };
}

/** The model's `heatMapScope`, when some photo's regions come from a heat map that is not the whole score. */
function mapScopeOf(b: LoadedBundle, photos: readonly ScreenPhoto[]): { heatMapScope?: string } {
  const scope = photos.some(regionsFromHeatMap) ? heatMapScope(b.features?.features, b.backbone.name, b.backbone.second?.name) : undefined;
  return scope ? { heatMapScope: scope } : {};
}

/**
 * What a call means, from the model's cross-validated per-person sensitivity and specificity at
 * its threshold: the likelihood ratio of this call and the chance of the condition at
 * `prevalence`. Empty for a bundle without validated rates.
 */
function callMeaning(b: LoadedBundle, positive: boolean, prevalence: number): Partial<ScreenResult['subject']> {
  // The intervals are the study's, widened by Wilson's on the counts (by `loadBundle` for a bundle
  // that stored them unwidened), so this range is the study's PPV interval at the same prevalence.
  const { sensitivity, specificity } = b.metrics.subject as { sensitivity?: ValidatedRate; specificity?: ValidatedRate };
  if (!sensitivity || !specificity || sensitivity.value === null || specificity.value === null) return {};
  const m = postTest(positive, sensitivity, specificity, prevalence);
  // Four significant digits of the value, or of its complement above 1/2, not decimals: at a
  // prevalence of 1 in 10^8 a chance rounds to 0 in six decimals (and near 1, to 1).
  const sig4 = (v: number | null) => (v === null ? null : v > 0.5 ? 1 - Number((1 - v).toPrecision(4)) : Number(v.toPrecision(4)));
  const evidenceNote = noEvidence(positive, m.likelihoodRatio, (b.metrics.subject as { auc?: ValidatedRate }).auc);
  return {
    ...(evidenceNote ? { evidenceNote } : {}),
    prevalence: m.prevalence,
    sensitivity: r4(m.sensitivity),
    specificity: r4(m.specificity),
    ...(sensitivity.ci95 && specificity.ci95 ? { sensitivityCi95: [r4(sensitivity.ci95[0]), r4(sensitivity.ci95[1])] as [number, number], specificityCi95: [r4(specificity.ci95[0]), r4(specificity.ci95[1])] as [number, number] } : {}),
    likelihoodRatio: m.likelihoodRatio === null ? null : r(m.likelihoodRatio, 3),
    ...(m.likelihoodRatioRange ? { likelihoodRatioRange: [r(m.likelihoodRatioRange[0], 3), m.likelihoodRatioRange[1] === null ? null : r(m.likelihoodRatioRange[1], 3)] as [number, number | null] } : {}),
    ...(m.likelihoodRatio === null ? { likelihoodRatioNote: 'Unbounded: no control was called positive in the study (cross-validated specificity 1), so the likelihood ratio of a positive call has no finite estimate.' } : {}),
    ...(m.likelihoodRatio === 0 ? { likelihoodRatioNote: 'Zero only because no affected person was missed in the study (cross-validated sensitivity 1): a negative call does not rule the condition out.' } : {}),
    ppv: sig4(m.ppv),
    ...(positive ? {} : { ppvNote: '`ppv` is the chance of the condition after a positive call at this prevalence, given for reference; this call is negative, and its chance of the condition is `chance`.' }),
    chance: sig4(m.chance),
    ...(m.chanceRange ? { chanceRange: [sig4(m.chanceRange[0])!, sig4(m.chanceRange[1])!] as [number, number] } : {}),
    ...boundChanceNote(positive, m.chance, m.chanceRange !== null),
  };
}

