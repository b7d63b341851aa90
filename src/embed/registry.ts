/**
 * The backbone registry (deepface's habit: one interface, a registry keyed by model name). The
 * entries are the embedding models of `models/manifest.json`: each says how its network wants the
 * aligned face (size, five-point template, normalisation), so adding a backbone is a matter of
 * adding a model spec in `runtime/`. The paper compared recognition networks trained on different
 * face sets; a study can compare backbones the same way (`--backbone`).
 */
import { DEFAULTS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { loadManifest } from '../runtime/index.ts';
import type { Landmarks5 } from '../types.ts';

/** What a backbone needs to be run. */
export interface BackboneSpec {
  /** Registry name (the model's name in `models/manifest.json`). */
  name: string;
  /** Embedding length. */
  dim: number;
  /** Input side in pixels (square, aligned to `template`). */
  inputSize: number;
  /** Where the 5 landmarks go in the aligned input (contract order). */
  template: Landmarks5;
  /** Input normalisation: `(x - mean) * scale` on RGB 0..255. */
  mean: number;
  scale: number;
  /** One line on the network and its training data. */
  description: string;
}

/** The backbones installed (models with an alignment template), by name. */
export function backbones(dir?: string): Record<string, BackboneSpec> {
  // Looked up by names from files (see loadManifest): no prototype to find "constructor" in.
  const out = Object.create(null) as Record<string, BackboneSpec>;
  for (const [name, m] of Object.entries(loadManifest(dir).models)) {
    if (!m.alignment) continue;
    const emb = m.outputs.find((o) => o.name === 'embedding') ?? m.outputs[0];
    out[name] = {
      name,
      dim: Number(emb.dims[emb.dims.length - 1]),
      inputSize: m.alignment.size,
      template: m.alignment.template as Landmarks5,
      mean: m.normalisation.mean,
      scale: m.normalisation.scale,
      description: m.description,
    };
  }
  return out;
}

/** The spec of a backbone by name; E_CONFIG naming the installed ones otherwise. */
export function backboneSpec(name: string, dir?: string): BackboneSpec {
  const all = backbones(dir);
  const spec = all[name];
  if (!spec) throw new PhenofaceError('E_CONFIG', `Unknown backbone: "${name}". Should be one of: ${Object.keys(all).join(', ')}.`);
  return spec;
}

/** The second network whose embedding joins `backbone`'s in the embedding block (`features.secondBackbone`), if any. */
export function secondBackboneOf(backbone: string): string | undefined {
  const second = Object.hasOwn(DEFAULTS.features.secondBackbone, backbone) ? DEFAULTS.features.secondBackbone[backbone] : undefined;
  return second && second !== backbone ? second : undefined;
}
