/**
 * The one place that wires the stages together: decode -> detect -> pose/view -> choose face ->
 * dense landmarks -> align (on the landmarks' five points, `embed.alignOn`) -> embed. Everything
 * above (data, evaluate, report, cli, server) goes through here.
 */
import { createHash } from 'node:crypto';
import { alignFace, ARCFACE_TEMPLATE, mapTemplate, umeyama } from '../align/index.ts';
import { DEFAULTS, resolveConfig, type PartialConfig, type PhenofaceConfig } from '../config.ts';
import type { Detector } from '../detect/detector.ts';
import { MTCNN_MODELS, MtcnnDetector, pyramidLevels } from '../detect/mtcnn/index.ts';
import { Backbone, type BackboneSpec, type FeatureMap } from '../embed/index.ts';
import { PhenofaceError } from '../errors.ts';
import { POOLED_REGIONS, poolInRegions, regionMasks, regionPooling, type RegionMasks, type RegionPooling } from '../explain/regions.ts';
import { affineToOriginal, betweenSizes, decodeImage, imageName, mapFace, mapLandmarks, mapPoint, resizeImage, rotateQuarterTurns, toDecoded, toOriginal, type DecodedImage } from '../image/index.ts';
import { denseLandmarkSpec, DenseLandmarker, EXTENDED_POINTS, EyeRefiner, fivePointsOf68, IBUG68_POINTS, IRIS_MODEL, IRIS_TO_IBUG_EYES, refinedCrops } from '../landmarks/index.ts';
import { assessQuality, estimatePose, viewOfFace, type Quality } from '../pose/index.ts';
import { loadManifest, readFeatureGrid, type FeatureGrid, type ModelManifest } from '../runtime/index.ts';
import type { AlignedFace, Embedding, Face, Landmarks5, Point, RgbImage } from '../types.ts';
import { turnedBy } from './orientation.ts';

/** Whether the eye points of this landmark setting are placed by the iris model (`landmarks.refineEyes`, which applies to the face mesh). */
export function refinesEyes({ model, refineEyes }: PhenofaceConfig['landmarks']): boolean {
  return refineEyes && model === 'facemesh';
}

/** The photo scaled so that its shorter side is `side` pixels (the detector's search copy). */
function reducedCopy(img: RgbImage, side: number): Promise<RgbImage> {
  const k = side / Math.min(img.width, img.height);
  return resizeImage(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k)));
}

/** A short digest of a setting's text, for version strings. */
const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/**
 * The dense-landmark part of {@link PIPELINE_VERSION}: which model, how many points and which of
 * the model's outputs they are (a digest of its `output.select`), how many passes, whether mirrored
 * runs, whether the eyes are refined and by which iris points (a digest of `IRIS_TO_IBUG_EYES`),
 * so that landmarks cached under another `landmarks` setting or another point list are
 * recomputed, never reused. E_CONFIG for an unknown model.
 */
export function landmarksVersion(landmarks: PhenofaceConfig['landmarks']): string {
  const { model, passes, flip } = landmarks;
  const { points, output } = denseLandmarkSpec(model);
  const selected = output.select ?? Array.from({ length: output.count }, (_, k) => k);
  const eyes = refinesEyes(landmarks) ? `-eyes${digest(JSON.stringify(IRIS_TO_IBUG_EYES))}` : '';
  return `landmarks-${model}-n${points}-${digest(selected.join(','))}-p${passes}${flip ? '-flip' : ''}${eyes}`;
}

/**
 * Version of everything between a photo's bytes and its cached result (decode, detector,
 * alignment and the points it reads, dense landmarks and their configured model). The embedding
 * cache keys on it: bump it whenever a change would alter an embedding or the landmarks cached
 * with it.
 */
export function pipelineVersion(config: Pick<PhenofaceConfig, 'embed' | 'landmarks'>): string {
  const align = config.embed.alignOn === 'landmarks' ? 'arcface112-onlandmarks1' : 'arcface112';
  return `decode1-mtcnn2-choice2-${align}-pose2-${landmarksVersion(config.landmarks)}`;
}

/** {@link pipelineVersion} of the defaults: what every study, screen and embedding cache runs. */
export const PIPELINE_VERSION = pipelineVersion(DEFAULTS);

/**
 * Digest of the built models `names` (the sha256 of each ONNX file in `models/manifest.json`; a
 * model not built here counts as absent). It covers the weights and their conversion, which the
 * version strings do not: a cached result from a rebuilt model is computed again, never reused.
 */
export function modelsDigest(names: readonly string[], manifest: ModelManifest = loadManifest()): string {
  const h = createHash('sha256');
  for (const name of names) h.update(`${name}:${manifest.models[name]?.onnx.sha256 ?? 'absent'};`);
  return h.digest('hex').slice(0, 12);
}

/**
 * The version a cached result of `backbone` is keyed on: {@link pipelineVersion}, the settings of
 * the orientation check whose finding the cached face carries (`detect.turnCheck`: a face cached
 * without the check, or under other settings, is checked again rather than read as upright), and
 * the {@link modelsDigest} of every model that computed it (the detector, the dense landmark model
 * and the iris model when it places the eyes, the backbone). The check is not part of
 * {@link pipelineVersion}, which bundles record: it changes no embedding, only a quality flag.
 */
export function cacheVersion(backbone: string, config: Pick<PhenofaceConfig, 'embed' | 'landmarks' | 'detect'> = DEFAULTS, manifest?: ModelManifest): string {
  const landmarkModels = [config.landmarks.model, ...(refinesEyes(config.landmarks) ? [IRIS_MODEL] : [])];
  const { belowScore, turnedScore, margin, sideRollDeg, cropScale, cropSidePx } = config.detect.turnCheck;
  const turnCheck = `turn1-${digest([belowScore, turnedScore, margin, sideRollDeg, cropScale, cropSidePx, config.detect.minFaceSizePx].join(','))}`;
  return `${pipelineVersion(config)}-${turnCheck}-models${modelsDigest([...MTCNN_MODELS, ...landmarkModels, backbone], manifest)}`;
}

/**
 * The five points a face's crop is aligned on and where they go in `backbone`'s input: the face's
 * `alignPoints` (the dense landmarks' five points, `embed.alignOn` 'landmarks') onto the landmark
 * model's ArcFace-space template carried into the backbone's crop (`mapTemplate`; the identity for
 * the ArcFace backbones), else its detector points onto the backbone's own template.
 */
export function alignmentOf(face: Face, backbone: BackboneSpec, landmarkModel: string = DEFAULTS.landmarks.model): { points: Landmarks5; template: Landmarks5 } {
  if (!face.alignPoints) return { points: face.landmarks5, template: backbone.template };
  return { points: face.alignPoints, template: mapTemplate(denseLandmarkSpec(landmarkModel).arcfaceTemplate, ARCFACE_TEMPLATE, backbone.template) };
}

/**
 * Version of the region-pooled maps of `backbone` (the layers, the pooling, the region masks):
 * cached maps of another version are recomputed, never misread.
 */
export function regionFeaturesVersion(backbone: string): string {
  return `regions1-mean-byregion-${regionLayers(backbone).join(',')}`;
}

/** The maps `backbone` pools in regions (`features.regionLayers`); E_CONFIG for a backbone without any. */
export function regionLayers(backbone: string): readonly string[] {
  const layers = DEFAULTS.features.regionLayers[backbone];
  if (!layers?.length) throw new PhenofaceError('E_CONFIG', `Backbone "${backbone}" has no mid-level maps for region features. Should be one of: ${Object.keys(DEFAULTS.features.regionLayers).join(', ')}.`);
  return layers;
}

/**
 * Version of the second network's cached embedding: its name, its built model
 * ({@link modelsDigest}) and its crop (the face's alignment points onto its own template,
 * {@link alignmentOf}). The cached result it sits beside is keyed by {@link cacheVersion}, which
 * covers the points.
 */
export function secondEmbeddingVersion(second: string, manifest?: ModelManifest): string {
  return `second1-${second}-own-template-models${modelsDigest([second], manifest)}`;
}

/** Faces found in one photo. */
export interface DetectResult {
  /** Size of the EXIF-oriented photo (the contract's coordinate system). */
  width: number;
  height: number;
  faces: Face[];
  /**
   * `detectFile` only, when no face is found upright: the clockwise quarter turn of the photo in
   * which one is ({@link Pipeline.detectFile}), so "no face" does not send the user looking for another photo.
   */
  turnedFace?: 90 | 180 | 270;
}

/**
 * One photo's chosen face, aligned and embedded. `faces` lists the faces the choice was made among
 * (see `detect.choiceSearchSidePx`); only `face` carries pose and view.
 */
export interface EmbedResult extends DetectResult {
  face: Face;
  aligned: AlignedFace;
  embedding: Embedding;
  quality: Quality;
  /**
   * The chosen face's 68 iBUG-300W points (see `landmarks/ibug68.ts`), then the extra points its
   * model places (`EXTRA_POINTS`: the face mesh's two nasal sidewalls; none for the 68-point
   * model), in the oriented photo's pixels, when the pipeline was created with `landmarks`.
   */
  landmarks68?: Point[];
  /**
   * The backbone's mid-level maps (`features.regionLayers`) averaged per channel inside each
   * facial region of the aligned crop (`explain/regions.ts`, `poolInRegions`): region after region
   * in `POOLED_REGIONS` order, each region's channels of every layer together. Only from a
   * pipeline created with `regions`.
   */
  regionMaps?: Float32Array;
  /**
   * The chosen face's L2-normalised embedding by the second network (`features.secondBackbone`),
   * aligned on that network's own template; only from a pipeline created with `second`.
   */
  secondEmbedding?: Float32Array;
}

/** Options of {@link Pipeline.create}. */
export interface PipelineOptions {
  config?: PartialConfig;
  /** Backbone name (default `config.embed.backbone`). */
  backbone?: string;
  /** Load only the detector (for `detect`, `synth`). */
  detectOnly?: boolean;
  /** Embed each face with its mirror image too (flip test). */
  flip?: boolean;
  /**
   * Also return dense landmarks (`config.landmarks.model`): on the chosen face in `embedFile`
   * (`landmarks68`), on every face in `detectFile` (`landmarksDense`, and `alignPoints` when the
   * alignment reads them). Off by default: only the geometry features, `detect --landmarks dense`
   * and the tools that align as the pipeline does (synth, bench:lfw) need them. An embedding
   * pipeline places them on the chosen face anyway when it aligns on them (`embed.alignOn`).
   */
  landmarks?: boolean;
  /** Also pool the backbone's mid-level maps inside the facial regions (`EmbedResult.regionMaps`). */
  regions?: boolean;
  /** Also embed the chosen face with this second backbone (`EmbedResult.secondEmbedding`; see `features.secondBackbone`). */
  second?: string;
}

/** Where the pooled maps' cells sit and which regions they are averaged in. */
interface RegionSetup {
  masks: RegionMasks;
  grids: Map<string, FeatureGrid>;
  /** Per map, built at its first face (it needs the map's size). */
  poolings: Map<string, RegionPooling>;
}


/**
 * The face-choice rule for photos with several faces (documented in the README): among faces whose
 * box area is at least half the largest one's, the one whose centre is nearest the photo's centre.
 * Clinical photos centre the patient; a parent's face or a poster behind is smaller or off-centre.
 */
export function chooseFace(faces: readonly Face[], width: number, height: number): Face | undefined {
  if (faces.length === 0) return undefined;
  const area = (f: Face) => f.box.width * f.box.height;
  const largest = Math.max(...faces.map(area));
  const dist = (f: Face) => Math.hypot(f.box.x + f.box.width / 2 - width / 2, f.box.y + f.box.height / 2 - height / 2);
  return faces.filter((f) => area(f) >= 0.5 * largest).sort((a, b) => dist(a) - dist(b) || area(b) - area(a))[0];
}

/** The pipeline: models loaded once, used for many photos. */
export class Pipeline {
  private constructor(
    readonly config: PhenofaceConfig,
    private readonly detector: Detector,
    readonly backbone: Backbone | undefined,
    private readonly landmarker: DenseLandmarker | undefined,
    private readonly eyeRefiner: EyeRefiner | undefined,
    private readonly regionSetup: RegionSetup | undefined,
    /** Whether `landmarks` was asked for (the landmarker may be loaded for the alignment alone). */
    private readonly returnsLandmarks: boolean,
    private readonly second: Backbone | undefined,
  ) {}

  /**
   * Loads the detector, (unless `detectOnly`) the backbone and (with `landmarks`, or to align on
   * them) the dense landmark model. E_MODEL when models are missing; E_CONFIG when the landmark
   * model is one whose points are not the 68 iBUG-300W ones `landmarks68` promises followed by at
   * most the extras.
   */
  static async create(opts: PipelineOptions = {}): Promise<Pipeline> {
    const config = resolveConfig(opts.config);
    const threads = config.embed.intraOpThreads;
    const detector = await MtcnnDetector.load(config.detect, threads);
    const name = opts.backbone ?? config.embed.backbone;
    const maps = opts.regions && !opts.detectOnly ? regionLayers(name) : [];
    const backbone = opts.detectOnly ? undefined : await Backbone.load(name, { threads, flip: opts.flip, maps });
    const setup = backbone && maps.length
      ? { masks: regionMasks(backbone.spec.inputSize, backbone.spec.template), grids: new Map(maps.map((m) => [m, readFeatureGrid(name, m)])), poolings: new Map() }
      : undefined;
    const alignsOnLandmarks = !opts.detectOnly && config.embed.alignOn === 'landmarks';
    const landmarker = opts.landmarks || alignsOnLandmarks ? await DenseLandmarker.load(config.landmarks.model, { threads }) : undefined;
    if (landmarker && !(landmarker.spec.points >= IBUG68_POINTS && landmarker.spec.points <= EXTENDED_POINTS)) {
      throw new PhenofaceError('E_CONFIG', `Dense landmark model "${landmarker.spec.name}" gives ${landmarker.spec.points} points; the pipeline needs the ${IBUG68_POINTS} iBUG-300W points, then at most ${EXTENDED_POINTS - IBUG68_POINTS} extra points.`);
    }
    // The eye refinement only changes the points returned (the face is aligned on the model's own).
    const eyeRefiner = opts.landmarks && refinesEyes(config.landmarks) ? await EyeRefiner.load({ threads }) : undefined;
    const second = opts.second && !opts.detectOnly ? await Backbone.load(opts.second, { threads }) : undefined;
    return new Pipeline(config, detector, backbone, landmarker, eyeRefiner, setup, opts.landmarks === true, second);
  }

  /** The second backbone's name, when {@link embedFile} also returns its embedding. */
  get secondBackbone(): string | undefined {
    return this.second?.spec.name;
  }

  /** True when {@link embedFile} also returns region-pooled maps. */
  get regions(): boolean {
    return this.regionSetup !== undefined;
  }

  /**
   * The maps pooled in the facial regions, region after region (each region's channels of every
   * layer together, so a region's features are one contiguous slice).
   */
  private poolRegions(maps: readonly FeatureMap[]): Float32Array {
    const setup = this.regionSetup!;
    const parts = maps.map((m) => {
      let pooling = setup.poolings.get(m.name);
      if (!pooling) setup.poolings.set(m.name, (pooling = regionPooling(setup.masks, setup.grids.get(m.name)!, m.h, m.w)));
      return { c: m.c, pooled: poolInRegions(m, pooling) };
    });
    const regions = POOLED_REGIONS.length;
    const perRegion = parts.reduce((a, p) => a + p.c, 0);
    const out = new Float32Array(regions * perRegion);
    for (let r = 0, o = 0; r < regions; r++) {
      for (const { c, pooled } of parts) {
        out.set(pooled.subarray(r * c, (r + 1) * c), o);
        o += c;
      }
    }
    return out;
  }


  /**
   * Detects faces in a decoded photo; boxes and landmarks (dense ones too, when the pipeline places
   * them) in the oriented photo's full-size pixels. Every face is given the orientation check
   * (`turned`), as the face `embedFile` chooses is. E_TOO_SMALL when no face of
   * `detect.minFaceSizePx` fits in it ({@link assertFaceFits}); `what` names it in that message.
   */
  async detectImage(img: DecodedImage, what = 'The photo'): Promise<Face[]> {
    this.assertFaceFits(img, what);
    const found = await this.detector.detect(img);
    const turns: Face['turned'][] = [];
    for (const f of found) turns.push(await this.turnedBy(img, f));
    const faces = this.toPhoto(img, found).map((f, i) => (turns[i] ? { ...f, turned: turns[i] } : f));
    if (!this.returnsLandmarks) return faces;
    const dense = await this.denseLandmarks(img, faces);
    return faces.map((f, i) => ({ ...f, landmarksDense: dense[i].points, ...dense[i].align }));
  }

  /** The face's `alignPoints` from its dense landmarks, when the alignment reads them (`embed.alignOn`). */
  private alignPointsOf(dense: readonly Point[]): Pick<Face, 'alignPoints'> {
    return this.config.embed.alignOn === 'landmarks' ? { alignPoints: fivePointsOf68(dense) } : {};
  }

  /**
   * The face warped into the backbone's input ({@link alignmentOf}), from the decoded photo it was
   * found in (coordinates in full-size pixels); the matrix maps full-size pixels to the crop.
   * `spec` is another backbone's, for the second network's crop.
   */
  alignDecoded(img: DecodedImage, face: Face, spec: BackboneSpec = this.backbone!.spec): AlignedFace {
    const { points, template } = alignmentOf(face, spec, this.config.landmarks.model);
    const aligned = alignFace(img, mapLandmarks(toDecoded(img), points), template, spec.inputSize);
    return { image: aligned.image, matrix: affineToOriginal(aligned.matrix, img) };
  }

  /**
   * Dense landmarks of faces given in full-size pixels, placed on the decoded pixels: each face's
   * crop is the similarity transform of its five landmarks onto the model's template (Umeyama
   * 1991); with `landmarks.passes` 2, the crop is cut again from the first pass's points
   * (`refinedCrops`); with `landmarks.refineEyes`, the iris model then places the eye points. The
   * points come back in full-size pixels, each face's with its `alignPoints` (when the alignment
   * reads them) from the model's own points: the eye refinement is for measuring the eyes, and the
   * alignment template was fitted on the model's own points (`arcfaceTemplate`).
   */
  private async denseLandmarks(img: DecodedImage, faces: readonly Face[]): Promise<{ points: Point[]; align: Pick<Face, 'alignPoints'> }[]> {
    const landmarker = this.landmarker!;
    const toCrop = faces.map((f) => umeyama(mapLandmarks(toDecoded(img), f.landmarks5), landmarker.spec.template));
    const { passes, flip } = this.config.landmarks;
    let points = await landmarker.predict(img, toCrop, flip);
    if (passes === 2) points = await landmarker.predict(img, refinedCrops(landmarker.spec, points, umeyama), flip);
    const inPhoto = (p: Point[]) => (img.scale === 1 ? p : p.map((q) => mapPoint(toOriginal(img), q)));
    const own = points.map(inPhoto);
    const placed = this.eyeRefiner ? (await this.eyeRefiner.refine(img, points)).map(inPhoto) : own;
    return placed.map((p, i) => ({ points: p, align: this.alignPointsOf(own[i]) }));
  }

  /**
   * For a photo in which no face was found: the clockwise quarter turn (90, 180 or 270) in which
   * the detector finds a face at least as surely as the orientation check asks
   * (`detect.turnCheck.turnedScore`), searched on a copy the size of the choice's search copy
   * (`detect.choiceSearchSidePx`), or undefined. A photo on its side or upside down, its orientation
   * tag lost, often shows no face to an upright detector; saying so beats "no face". Off with the
   * check (`belowScore` 0).
   */
  private async turnWithFace(img: DecodedImage): Promise<90 | 180 | 270 | undefined> {
    const cfg = this.config.detect;
    if (cfg.turnCheck.belowScore <= 0) return undefined;
    const side = cfg.choiceSearchSidePx;
    const copy = side > 0 && Math.min(img.width, img.height) > side ? await reducedCopy(img, side) : img;
    for (const turn of [1, 2, 3]) {
      const faces = await this.detector.detect(rotateQuarterTurns(copy, turn));
      if (faces.some((f) => f.score >= cfg.turnCheck.turnedScore)) return (turn * 90) as 90 | 180 | 270;
    }
    return undefined;
  }

  /**
   * E_TOO_SMALL when no face of `detect.minFaceSizePx` fits in the decoded photo: MTCNN's pyramid
   * starts at scale `12 / minFaceSizePx` and needs the shorter side to be at least 12 px there, so it
   * would have no level, and a search that looks nowhere would report no face as if it had looked.
   */
  private assertFaceFits(img: DecodedImage, what: string): void {
    const { minFaceSizePx, scaleFactor, minFaceRatio } = this.config.detect;
    if (pyramidLevels(img.height, img.width, minFaceSizePx, scaleFactor, minFaceRatio).length > 0) return;
    const searched = img.scale === 1 ? '' : `, searched at ${img.width}x${img.height} (image.maxSidePx)`;
    throw new PhenofaceError('E_TOO_SMALL', `${what} is ${img.originalWidth}x${img.originalHeight} pixels${searched}: no face of ${minFaceSizePx} pixels, the smallest face searched for (detect.minFaceSizePx, detect --min-face), fits in it. Expected a smallest face below ${Math.min(img.width, img.height)} pixels, the shorter side${img.scale === 1 ? '' : ' as searched'}.`);
  }

  /** The orientation check ({@link turnedBy}) of a face found in the decoded pixels of `img`. */
  private turnedBy(img: DecodedImage, face: Face): Promise<Face['turned']> {
    return turnedBy(img, face, (x) => this.detector.detect(x), this.config.detect.turnCheck, this.config.detect.minFaceSizePx);
  }

  /** Maps faces from decoded to original pixels and adds pose and view. */
  private toPhoto(img: DecodedImage, found: Face[]): Face[] {
    return found.map((f) => {
      const face = img.scale === 1 ? f : mapFace(toOriginal(img), f);
      const pose = estimatePose(face.landmarks5);
      return { ...face, pose, view: viewOfFace(pose.yaw, face.landmarks5, this.config.pose) };
    });
  }

  /**
   * The faces a choice is made among, in decoded pixels, per `detect.choiceSearchSidePx`: on a large
   * photo, the faces found in a reduced copy (scaled back), those at least 35% of the largest one's
   * area re-located by the detector on the decoded pixels (the rule chooses among faces of at least
   * half its area; the margin covers the copy's coarser boxes); on a small photo, or when the copy
   * shows no face large enough to rule out the faces it could miss, every face of the decoded photo.
   */
  private async facesForChoice(img: DecodedImage): Promise<{ faces: Face[]; chosen: Face | undefined }> {
    const side = this.config.detect.choiceSearchSidePx;
    const shorter = Math.min(img.width, img.height);
    if (side > 0 && shorter > 1.5 * side && this.detector.refine) {
      const small = await reducedCopy(img, side);
      // Pixel centres map to pixel centres between the copies (the resize samples them so).
      const up = betweenSizes(small, img, true);
      const found = await this.detector.detect(small);
      if (found.length > 0 && found[0].box.width >= Math.SQRT2 * this.config.detect.minFaceSizePx) {
        const faces = found.map((f) => mapFace(up, f));
        // Re-locate every face that could be chosen (with a margin for the copy's coarser boxes) on
        // the full-size pixels, then choose among them as the full-size search would.
        const largest = Math.max(...faces.map((f) => f.box.width * f.box.height));
        const contenders = faces.filter((f) => f.box.width * f.box.height >= 0.35 * largest);
        const refined = await this.detector.refine(img, contenders);
        // A contender O-Net rejects on the full-size pixels would not be found there: drop it
        // (unless it rejects them all, when the copy's faces stand).
        const kept = refined.some((f) => f !== undefined)
          ? faces.flatMap((f) => { const i = contenders.indexOf(f); return i < 0 ? [f] : refined[i] ? [refined[i]!] : []; })
          : faces;
        return { faces: kept, chosen: chooseFace(kept, img.width, img.height) };
      }
    }
    const faces = await this.detector.detect(img);
    return { faces, chosen: chooseFace(faces, img.width, img.height) };
  }

  /** Decodes and detects one photo (file path or bytes). */
  async detectFile(source: string | Buffer): Promise<DetectResult> {
    const img = await decodeImage(source, this.config.image);
    const faces = await this.detectImage(img, imageName(source));
    // As embedding says in its E_NO_FACE: a photo on its side, its orientation tag lost, often shows no face upright.
    const turn = faces.length === 0 ? await this.turnWithFace(img) : undefined;
    return { width: img.originalWidth, height: img.originalHeight, faces, ...(turn && { turnedFace: turn }) };
  }

  /**
   * Decodes, detects, chooses one face, aligns and embeds it. E_NO_FACE when no face is found;
   * E_TOO_SMALL when no face of `detect.minFaceSizePx` fits in the photo.
   * The aligned face's matrix maps full-size photo pixels to the backbone's aligned crop
   * (112x112 ArcFace for the default MobileFaceNet).
   */
  async embedFile(source: string | Buffer): Promise<EmbedResult> {
    if (!this.backbone) throw new PhenofaceError('E_CONFIG', 'This pipeline was created with detectOnly: it cannot embed.');
    const img = await decodeImage(source, this.config.image);
    this.assertFaceFits(img, imageName(source));
    const found = await this.facesForChoice(img);
    if (!found.chosen) {
      const turn = await this.turnWithFace(img);
      const turned = turn ? ` A face is found with the photo turned ${turn} degrees clockwise: its orientation tag may be missing; turn the photo upright and try again.` : '';
      const frames = img.pages ? ` Only the first of its ${img.pages} frames (pages) was searched: save the frame that shows the face as a photo of its own.` : '';
      const hint = turned + frames;
      throw new PhenofaceError('E_NO_FACE', `No face found in ${typeof source === 'string' ? source : 'the image'}.${hint}`);
    }
    // Pose and view for the chosen face only (the others are listed by position; `detect` poses all).
    const [posed] = this.toPhoto(img, [found.chosen]);
    const dense = this.landmarker ? (await this.denseLandmarks(img, [posed]))[0] : undefined;
    const turned = await this.turnedBy(img, found.chosen);
    const face: Face = { ...posed, ...dense?.align, ...(turned ? { turned } : {}) };
    const faces = found.faces.map((f) => (f === found.chosen ? face : img.scale === 1 ? f : mapFace(toOriginal(img), f)));
    const aligned = this.alignDecoded(img, face);
    const [{ embedding, maps }] = await this.backbone.embedWithMaps([aligned.image]);
    const quality = assessQuality(face, img.originalWidth, img.originalHeight, this.config.quality, aligned.image);
    const landmarks68 = this.returnsLandmarks ? dense?.points : undefined;
    const regionMaps = this.regionSetup ? { regionMaps: this.poolRegions(maps) } : {};
    const second = this.second ? { secondEmbedding: (await this.second.embed([this.alignDecoded(img, face, this.second.spec).image]))[0].vector } : {};
    return { width: img.originalWidth, height: img.originalHeight, faces, face, aligned, embedding, quality, ...(landmarks68 && { landmarks68 }), ...regionMaps, ...second };
  }

  /** Releases the models. */
  async close(): Promise<void> {
    await this.detector.dispose();
    await this.backbone?.dispose();
    await this.landmarker?.dispose();
    await this.eyeRefiner?.dispose();
    await this.second?.dispose();
  }
}
