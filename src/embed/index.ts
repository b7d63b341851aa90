/**
 * Face embedding: an ArcFace-aligned 112x112 face in, an L2-normalised vector out.
 */
import { toPlanarFloat } from '../image/index.ts';
import { loadModel, type InferenceModel } from '../runtime/index.ts';
import type { Embedding, RgbImage } from '../types.ts';
import { backboneSpec, type BackboneSpec } from './registry.ts';

export { BACKBONES, backboneSpec, type BackboneSpec } from './registry.ts';

/** L2-normalises a vector in place and returns it. */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

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

/** A loaded backbone. */
export class Backbone {
  private constructor(readonly spec: BackboneSpec, private readonly model: InferenceModel, readonly flip: boolean) {}

  /**
   * Loads a backbone by registry name. With `flip`, each face is embedded together with its mirror
   * image and the two vectors are summed (the "flip test" of the ArcFace/insightface evaluations),
   * which is steadier on LFW at twice the cost.
   */
  static async load(name: string, opts: { threads: number; flip?: boolean }): Promise<Backbone> {
    const spec = backboneSpec(name);
    return new Backbone(spec, await loadModel(spec.name, { threads: opts.threads }), opts.flip ?? false);
  }

  /** Embeds aligned faces (each `inputSize` square) in one batch; vectors are L2-normalised. */
  async embed(faces: RgbImage[]): Promise<Embedding[]> {
    if (faces.length === 0) return [];
    const { inputSize: s, mean, scale, dim } = this.spec;
    const inputs = this.flip ? faces.flatMap((f) => [f, flipHorizontal(f)]) : faces;
    const per = 3 * s * s;
    const batch = new Float32Array(inputs.length * per);
    inputs.forEach((f, i) => batch.set(toPlanarFloat(f, mean, scale), i * per));
    const out = await this.model.run({ [this.model.inputNames[0]]: { data: batch, dims: [inputs.length, 3, s, s] } });
    const raw = out[this.model.outputNames[0]].data;
    const step = this.flip ? 2 : 1;
    return faces.map((_, i) => {
      const v = new Float32Array(dim);
      for (let k = 0; k < step; k++) {
        const off = (i * step + k) * dim;
        for (let j = 0; j < dim; j++) v[j] += raw[off + j];
      }
      return { backbone: this.spec.name, vector: l2normalize(v) };
    });
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
