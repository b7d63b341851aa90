/**
 * Face embedding: a face aligned to its backbone's template in, an L2-normalised vector out.
 */
import { toPlanarFloat } from '../image/index.ts';
import { loadModel, loadModelWithOutputs, type InferenceModel, type Tensor } from '../runtime/index.ts';
import type { Embedding, RgbImage } from '../types.ts';
import { backboneSpec, type BackboneSpec } from './registry.ts';
import { l2normalize } from '../math/vector.ts';

export { backbones, backboneSpec, type BackboneSpec } from './registry.ts';
export { l2normalize } from '../math/vector.ts';

/** Cosine similarity of two L2-normalised vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Mirrors an RGB image left-right. */
function flipHorizontal(img: RgbImage): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = 3 * (y * w + x), d = 3 * (y * w + (w - 1 - x));
      out[d] = data[s]; out[d + 1] = data[s + 1]; out[d + 2] = data[s + 2];
    }
  }
  return { width: w, height: h, data: out };
}

/** One intermediate feature map of one face, row-major `[c, h, w]`. */
export interface FeatureMap {
  /** The tensor's name in the model. */
  name: string;
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

/** A loaded backbone. */
export class Backbone {
  private constructor(
    readonly spec: BackboneSpec,
    private readonly model: InferenceModel,
    readonly flip: boolean,
    /** Intermediate tensors the model also returns (see {@link Backbone.embedWithMaps}). */
    readonly maps: readonly string[] = [],
  ) {}

  /**
   * Loads a backbone by registry name. With `flip`, each face is embedded together with its mirror
   * image and the two vectors are summed (the "flip test" of the ArcFace/insightface evaluations),
   * which is steadier on LFW at twice the cost.
   */
  static async load(name: string, opts: { threads: number; flip?: boolean; maps?: readonly string[] }): Promise<Backbone> {
    const spec = backboneSpec(name);
    const maps = opts.maps ?? [];
    // The same graph with extra outputs computes the same embedding: the maps cost a copy, not a pass.
    const model = maps.length ? await loadModelWithOutputs(spec.name, maps, { threads: opts.threads }) : await loadModel(spec.name, { threads: opts.threads });
    return new Backbone(spec, model, opts.flip ?? false, maps);
  }

  /** Embeds aligned faces (each `inputSize` square) in one batch; vectors are L2-normalised. */
  async embed(faces: RgbImage[]): Promise<Embedding[]> {
    return (await this.embedWithMaps(faces)).map((r) => r.embedding);
  }

  /**
   * Embeds aligned faces as {@link embed} does and returns, for each, the intermediate maps the
   * backbone was loaded with (`maps` of {@link Backbone.load}; of the face itself, not its mirror).
   */
  async embedWithMaps(faces: RgbImage[]): Promise<{ embedding: Embedding; maps: FeatureMap[] }[]> {
    if (faces.length === 0) return [];
    const { dim } = this.spec;
    const inputs = this.flip ? faces.flatMap((f) => [f, flipHorizontal(f)]) : faces;
    const out = await this.run(inputs);
    const raw = out[this.embeddingOutput].data;
    const step = this.flip ? 2 : 1;
    return faces.map((_, i) => {
      const v = new Float32Array(dim);
      for (let k = 0; k < step; k++) {
        const off = (i * step + k) * dim;
        for (let j = 0; j < dim; j++) v[j] += raw[off + j];
      }
      const maps = this.maps.map((name) => {
        const t = out[name];
        const [c, h, w] = t.dims.slice(1).map(Number);
        const per = c * h * w;
        return { name, c, h, w, data: t.data.slice(i * step * per, (i * step + 1) * per) };
      });
      return { embedding: { backbone: this.spec.name, vector: l2normalize(v) }, maps };
    });
  }

  /** The embedding output: `embedding` when the model names one (it may have others, e.g. `features`), else its first output. */
  private get embeddingOutput(): string {
    return this.model.outputNames.includes('embedding') ? 'embedding' : this.model.outputNames[0];
  }

  /** Runs the network on faces (each `inputSize` square) in one batch; all outputs, keyed by name. */
  private async run(faces: RgbImage[]): Promise<Record<string, Tensor>> {
    const { inputSize: s, mean, scale } = this.spec;
    const per = 3 * s * s;
    const batch = new Float32Array(faces.length * per);
    faces.forEach((f, i) => batch.set(toPlanarFloat(f, mean, scale), i * per));
    return this.model.run({ [this.model.inputNames[0]]: { data: batch, dims: [faces.length, 3, s, s] } });
  }

  /**
   * Runs the network on aligned faces without the flip test and returns each face's raw embedding
   * (not L2-normalised) and, when the model has a `features` output (MobileFaceNet's last 7x7
   * map, Grad-CAM's layer), its feature map `[C, H, W]` with `featureDims` = `[C, H, W]`.
   * For explanations, which differentiate the score of exactly this forward pass.
   */
  async forward(faces: RgbImage[]): Promise<{ raw: Float32Array; features?: Float32Array; featureDims?: [number, number, number] }[]> {
    if (faces.length === 0) return [];
    const out = await this.run(faces);
    const emb = out[this.embeddingOutput].data;
    const feat = out.features;
    const dim = this.spec.dim;
    const per = feat ? feat.data.length / faces.length : 0;
    return faces.map((_, i) => ({
      raw: emb.slice(i * dim, (i + 1) * dim),
      ...(feat ? { features: feat.data.slice(i * per, (i + 1) * per), featureDims: feat.dims.slice(1) as [number, number, number] } : {}),
    }));
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
