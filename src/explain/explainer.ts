/**
 * Explaining a classifier's verdict on aligned faces: one forward pass of the backbone gives the
 * embedding and the last 7x7 feature map; Grad-CAM of the classifier's positive-class score on
 * that map (exact gradient through the linear head, the L2 normalisation and the classifier),
 * upsampled to the 112x112 crop; each facial region's share of it; and, for the study, the
 * occlusion test (score drop when each region is greyed out).
 */
import type { FittedClassifier } from '../classify/types.ts';
import type { Backbone } from '../embed/index.ts';
import { PhenofaceError } from '../errors.ts';
import { toPlanarFloat } from '../image/index.ts';
import { roundedKeepingSum } from '../math/decimal.ts';
import { loadModelWithOutputs, loadTailBackward, readFeatureGrid, readGraphTail, readLinearHead, tailReads, type FeatureGrid, type GraphTail, type InferenceModel, type TailBackward } from '../runtime/index.ts';
import type { RgbImage } from '../types.ts';
import { DEFAULTS } from '../config.ts';
import { gradCam, unitEmbedding, upsample, weightedCam, type CamResult, type CamWeighting } from './gradcam.ts';
import { collapseHead, featureGradient, throughNormalisation, type CollapsedHead } from './head-gradient.ts';
import type { Feature, TailActivations } from './tail-tensors.ts';
import { regionMasks, regionScores, REGION_NAMES, type RegionMasks, type RegionScore } from './regions.ts';

/** A score to explain, as a function of the unit embedding: its value and gradient. */
export interface Scorer {
  name: string;
  score(u: Float32Array): number;
  gradient(u: Float32Array): ArrayLike<number>;
}

/**
 * The positive-class score of a fitted classifier before its sigmoid (the logit; Selvaraju et al.
 * differentiate the class score before the softmax). E_MODEL for a classifier without gradients.
 */
export function classifierScorer(model: FittedClassifier, name = model.name): Scorer {
  const { decision, decisionGradient } = model;
  if (!decision || !decisionGradient) throw new PhenofaceError('E_MODEL', `Classifier "${model.name}" cannot be explained: it has no decision gradient. Should be one of: logistic, svm, centroid.`);
  return { name, score: (u) => decision.call(model, [u])[0], gradient: (u) => decisionGradient.call(model, u) };
}

/** One face's forward pass: raw embedding, its unit copy and the feature map. */
export interface FaceForward {
  raw: Float32Array;
  unit: Float32Array;
  features: Float32Array;
}

/** One face's forward pass with the finer layer: also that layer's map and the tail's tensors above it. */
export interface FineForward extends FaceForward {
  fine: Feature;
  acts: TailActivations;
}

/** The finer Grad-CAM layer of a backbone: a session that also returns it, the tail above it and the tail's backward pass. */
interface FineLayer {
  model: InferenceModel;
  tail: GraphTail;
  /** The tensors the forward run returns besides its own outputs: the layer's map and the PReLU inputs the backward pass reads. */
  tensors: string[];
  /** Where the layer's cells sit on the aligned face. */
  grid: FeatureGrid;
  /** Built on the first gradient, from the map's shape. */
  backward?: Promise<TailBackward>;
  threads: number;
}

/** One face's explanation. */
export interface FaceExplanation {
  /** The explained score (decision value) of the face. */
  score: number;
  cam: CamResult;
  /** The ReLU'd Grad-CAM upsampled to the aligned crop, row-major `size x size`. */
  heat: Float32Array;
  size: number;
  /** Region scores in `REGION_NAMES` order. */
  regions: RegionScore[];
}

/** The occlusion test of one face. */
export interface OcclusionResult {
  /** Score drop (original minus occluded) when each region is greyed out, in `REGION_NAMES` order. */
  drop: number[];
  /** The drop per unit of region area (fraction of the crop): comparable with area-normalised shares. */
  dropPerArea: number[];
}

/** Backbone + linear head + region masks: explains faces for any scorer. */
export class Explainer {
  private fineLayer: FineLayer | undefined;

  private constructor(
    readonly backbone: Backbone,
    readonly head: CollapsedHead,
    readonly masks: RegionMasks,
    /** Where the 7x7 `features` cells sit on the aligned face (their receptive fields' centres). */
    readonly grid: FeatureGrid,
  ) {}

  /**
   * Loads the finer Grad-CAM layer (`DEFAULTS.explain.fineLayer`, MobileFaceNet's last 14x14
   * block) for {@link explainFine}: a session of the backbone's model that also returns that map,
   * and the tail from it to the 7x7 `features`, whose exact backward pass runs in onnxruntime
   * (`loadTailBackward`, `runtime/graph-tail.ts`). E_MODEL for a backbone without one.
   */
  async loadFineLayer(opts: { threads?: number } = {}): Promise<void> {
    if (this.fineLayer) return;
    const name = this.backbone.spec.name;
    const tensor = DEFAULTS.explain.fineLayer[name];
    if (!tensor) throw new PhenofaceError('E_MODEL', `Backbone "${name}" has no finer Grad-CAM layer. Should be one of: ${Object.keys(DEFAULTS.explain.fineLayer).join(', ')}.`);
    const tail = readGraphTail(name, tensor);
    // The map and the PReLU inputs (whose signs gate the gradient) come out of the same onnxruntime run.
    const tensors = [...new Set([tail.input, ...tailReads(tail)])];
    const threads = opts.threads ?? 1;
    this.fineLayer = { tail, tensors, threads, grid: readFeatureGrid(name, tensor), model: await loadModelWithOutputs(name, tensors, { threads }) };
  }

  /** The finer layer; E_CONFIG before {@link loadFineLayer}. */
  private requireFine(): FineLayer {
    if (!this.fineLayer) throw new PhenofaceError('E_CONFIG', 'The finer Grad-CAM layer is not loaded: call loadFineLayer() first.');
    return this.fineLayer;
  }

  /** True once {@link loadFineLayer} has run. */
  get hasFineLayer(): boolean {
    return this.fineLayer !== undefined;
  }

  /** Frees the finer layer's sessions (the backbone belongs to its pipeline). */
  async dispose(): Promise<void> {
    const fl = this.fineLayer;
    this.fineLayer = undefined;
    await fl?.model.dispose();
    await (await fl?.backward)?.dispose();
  }

  /**
   * One face through the finer layer's session: embedding, 7x7 features, the finer map and the
   * tensors the tail's backward pass reads, all from one onnxruntime run.
   */
  async forwardFine(face: RgbImage): Promise<FineForward> {
    const { fl, out } = await this.runFine(face);
    const feature = (name: string): Feature => {
      const t = out[name];
      if (!t || t.dims.length !== 4) throw new PhenofaceError('E_MODEL', `Backbone "${this.backbone.spec.name}" gave no [1, C, H, W] tensor "${name}".`);
      return { c: t.dims[1], h: t.dims[2], w: t.dims[3], data: t.data };
    };
    const acts: TailActivations = new Map(fl.tensors.map((n) => [n, feature(n)]));
    const raw = out.embedding.data.slice();
    return { raw, unit: unitEmbedding(raw), features: out.features.data.slice(), fine: acts.get(fl.tail.input)!, acts };
  }

  /** One face through the finer layer's session (E_CONFIG before {@link loadFineLayer}). */
  private async runFine(face: RgbImage): Promise<{ fl: FineLayer; out: Awaited<ReturnType<InferenceModel['run']>> }> {
    const fl = this.requireFine();
    const { inputSize: s, mean, scale } = this.backbone.spec;
    return { fl, out: await fl.model.run({ [fl.model.inputNames[0]]: { data: toPlanarFloat(face, mean, scale), dims: [1, 3, s, s] } }) };
  }

  /**
   * The exact gradient of `scorer`'s value with respect to the finer layer's map (through the
   * classifier, the L2 normalisation, the linear head, or `head` for the randomised-head check,
   * and the tail), `[c, h, w]` row-major, by the tail's backward pass in onnxruntime (~4 ms; the
   * JS reverse-mode pass in `test/unit/explain/js-tail.ts`, which the tests compare it with, takes ~100 ms). One
   * gradient serves every weighting of {@link explainFine}.
   */
  async fineGradient(ff: FineForward, scorer: Scorer, head: CollapsedHead = this.head): Promise<Float32Array> {
    const fl = this.requireFine();
    const { c, h, w } = ff.fine;
    fl.backward ??= loadTailBackward(fl.tail, [c, h, w], [fl.tail.input], { threads: fl.threads });
    const g = await (await fl.backward).run(featureGradient(head, throughNormalisation(ff.raw, scorer.gradient(ff.unit))), ff.acts);
    return g[fl.tail.input];
  }

  /**
   * The element-wise mean of the finer layer's maps of `faces` (one session run each): the
   * reference of {@link explainFine}'s contrastive HiResCAM, e.g. over a study's control faces.
   */
  async meanFineMap(faces: Iterable<RgbImage>): Promise<Feature> {
    let acc: Float64Array | undefined;
    let dims: number[] = [];
    let n = 0;
    for (const face of faces) {
      const { fl, out } = await this.runFine(face);
      const f = out[fl.tail.input];
      acc ??= new Float64Array(f.data.length);
      dims = f.dims;
      for (let k = 0; k < f.data.length; k++) acc[k] += f.data[k];
      n++;
    }
    if (!acc) throw new PhenofaceError('E_INPUT', 'No faces to average: the reference map needs at least one face.');
    return { c: dims[1], h: dims[2], w: dims[3], data: Float32Array.from(acc, (v) => v / n) };
  }

  /**
   * Grad-CAM on the finer layer, or by `weighting` HiResCAM and, with a `reference` map,
   * contrastive HiResCAM (see {@link weightedCam}), from the exact gradient `G` of the scorer's
   * value with respect to that map (through the classifier, the L2 normalisation, the linear head
   * and the tail), upsampled onto the crop where the layer's cells look. With `R` the mean map of
   * the control faces (see {@link meanFineMap}), the contrastive map shows where this face differs
   * from the controls in the direction of the positive class, rather than where aligned faces are
   * strongly activated in general (eyes and nose for every face).
   */
  async explainFine(ff: FineForward, scorer: Scorer, weighting: CamWeighting = 'gradcam', reference?: ArrayLike<number>, gradient?: Float32Array): Promise<FaceExplanation> {
    const g = gradient ?? (await this.fineGradient(ff, scorer));
    const { c: C, h: H, w: W, data } = ff.fine;
    const cam = weightedCam(g, data, C, H, W, weighting, reference);
    const size = this.masks.size;
    const heat = upsample(cam.cam, W, H, size, size, this.requireFine().grid);
    return { score: scorer.score(ff.unit), cam, heat, size, regions: regionScores(heat, this.masks) };
  }

  /**
   * Reads the backbone's linear head from its built model. E_MODEL when the backbone has no
   * `features` output or no linear head (only MobileFaceNet has one).
   */
  static create(backbone: Backbone): Explainer {
    const head = collapseHead(readLinearHead(backbone.spec.name));
    if (head.head.dim !== backbone.spec.dim) throw new PhenofaceError('E_MODEL', `Backbone "${backbone.spec.name}": its head gives ${head.head.dim}-D embeddings; the registry says ${backbone.spec.dim}.`);
    return new Explainer(backbone, head, regionMasks(backbone.spec.inputSize, backbone.spec.template), readFeatureGrid(backbone.spec.name, 'features'));
  }

  /** Runs the backbone on aligned faces (one batch). */
  async forward(faces: RgbImage[]): Promise<FaceForward[]> {
    const out = await this.backbone.forward(faces);
    return out.map((o) => {
      if (!o.features) throw new PhenofaceError('E_MODEL', `Backbone "${this.backbone.spec.name}" has no "features" output. Rebuild the models with \`npx phenoface models build\`.`);
      return { raw: o.raw, unit: unitEmbedding(o.raw), features: o.features };
    });
  }

  /** Grad-CAM and region scores of one forward pass for a scorer (optionally through another head: the randomised-head sanity check). */
  explainForward(fwd: FaceForward, scorer: Scorer, head: CollapsedHead = this.head): FaceExplanation {
    const cam = gradCam(head, fwd.features, fwd.raw, scorer.gradient(fwd.unit));
    const size = this.masks.size;
    const heat = upsample(cam.cam, cam.width, cam.height, size, size, this.grid);
    return { score: scorer.score(fwd.unit), cam, heat, size, regions: regionScores(heat, this.masks) };
  }

  /** Forward pass and explanation of aligned faces. */
  async explain(faces: RgbImage[], scorer: Scorer): Promise<FaceExplanation[]> {
    return (await this.forward(faces)).map((f) => this.explainForward(f, scorer));
  }

  /**
   * An occlusion map (Zeiler & Fergus 2014): a grey square slid over a `grid x grid` lattice of the
   * crop, the map holding the score drop at each position (positive = the covered part spoke for
   * the positive class), upsampled to the crop with the ReLU applied, so it reads like a Grad-CAM
   * map. Model-agnostic and finer than the 7x7 Grad-CAM (14x14 by default), at the cost of
   * `grid^2` forward passes (196: about 2-3 s per face on 2 cores), so it is an option for a few
   * photos, not the default. Several scorers share the forward passes; one explanation per
   * scorer, its `cam` holding the signed drops.
   */
  async occlusionMap(face: RgbImage, scorers: Scorer[], opts: OcclusionMapOptions = { grid: 14 }): Promise<FaceExplanation[]> {
    const { size } = this.masks;
    const g = opts.grid;
    if (!(Number.isInteger(g) && g >= 2 && g <= size)) throw new PhenofaceError('E_CONFIG', `Invalid occlusion grid: ${g}. Should be an integer from 2 to ${size}.`);
    if (face.width !== size || face.height !== size) throw new PhenofaceError('E_INPUT', `Occlusion needs a ${size}x${size} aligned face, got ${face.width}x${face.height}.`);
    const cell = size / g;
    const half = (opts.patchPx ?? 2 * cell) / 2;
    const [base] = await this.forward([face]);
    const s0 = scorers.map((s) => s.score(base.unit));
    const grey = DEFAULTS.explain.occlusionGrey;
    const signed = scorers.map(() => new Float32Array(g * g));
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++) {
        const cx = (gx + 0.5) * cell, cy = (gy + 0.5) * cell;
        const data = Uint8Array.from(face.data);
        for (let y = Math.max(0, Math.round(cy - half)); y < Math.min(size, Math.round(cy + half)); y++) {
          for (let x = Math.max(0, Math.round(cx - half)); x < Math.min(size, Math.round(cx + half)); x++) data[3 * (y * size + x)] = data[3 * (y * size + x) + 1] = data[3 * (y * size + x) + 2] = grey;
        }
        const [o] = await this.backbone.forward([{ width: size, height: size, data }]);
        const u = unitEmbedding(o.raw);
        scorers.forEach((s, k) => (signed[k][gy * g + gx] = s0[k] - s.score(u)));
      }
    }
    return scorers.map((_, k) => {
      const cam = { width: g, height: g, signed: signed[k], cam: signed[k].map((v) => (v > 0 ? v : 0)), alpha: new Float64Array(0) };
      const heat = upsample(cam.cam, g, g, size, size);
      return { score: s0[k], cam, heat, size, regions: regionScores(heat, this.masks) };
    });
  }

  /**
   * The occlusion test (Zeiler & Fergus 2014, with regions for patches): each region of the face
   * in turn is filled with the normalisation's grey, and the score drop measured; several scorers
   * share the forward passes. Returns one result per scorer.
   */
  async occlusion(face: RgbImage, baseline: FaceForward, scorers: Scorer[]): Promise<OcclusionResult[]> {
    const { labels, areas, size } = this.masks;
    if (face.width !== size || face.height !== size) throw new PhenofaceError('E_INPUT', `Occlusion needs a ${size}x${size} aligned face, got ${face.width}x${face.height}.`);
    const grey = DEFAULTS.explain.occlusionGrey;
    const occluded = REGION_NAMES.map((_, r) => {
      const data = Uint8Array.from(face.data);
      for (let i = 0; i < labels.length; i++) if (labels[i] === r) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = grey;
      return { width: size, height: size, data };
    });
    // One face per run: onnxruntime runs this network slower per face in batches of 9 than singly (measured).
    const out: Awaited<ReturnType<Backbone['forward']>> = [];
    for (const img of occluded) out.push(...(await this.backbone.forward([img])));
    return scorers.map((s) => {
      const base = s.score(baseline.unit);
      const drop = out.map((o) => base - s.score(unitEmbedding(o.raw)));
      return { drop, dropPerArea: drop.map((v, r) => (areas[r] ? (v * labels.length) / areas[r] : 0)) };
    });
  }
}

/** Options of {@link Explainer.occlusionMap}. */
export interface OcclusionMapOptions {
  /** Cells per side (14: the backbone's 14x14 stage; the crop is split into 8x8-pixel cells). */
  grid: number;
  /** Side of the grey square, centred on each cell, in pixels (default: two cells, so neighbours overlap). */
  patchPx?: number;
}

/**
 * Regions sorted by share, highest first, as the contract's `regions` (name, share, HPO terms;
 * shares rounded so that they still sum to 1). A region with no share of the evidence gets no HPO
 * terms: the score does not come from there.
 */
export function rankedRegions(regions: readonly RegionScore[], digits = 4): { name: string; share: number; hpo: string[] }[] {
  const sorted = [...regions].sort((a, b) => b.share - a.share);
  const shares = roundedKeepingSum(sorted.map((r) => r.share), digits);
  return sorted.map((r, i) => ({ name: r.name, share: shares[i], hpo: shares[i] > 0 ? r.hpo : [] }));
}
