/**
 * What a model reads, in plain words for everyone who sees it described (`screen`, the web app,
 * `serve`, the model card). A model's `backbone` names the face-recognition network installed with
 * it even when the model leaves that network's embedding out (`--features geometry`), so the name
 * alone would say it reads an embedding it never sees.
 */
import type { FeatureName } from './types.ts';

/** What {@link modelReads} needs of a model bundle: its feature blocks (absent: the embedding alone) and its networks. */
export interface DescribedModel {
  features?: { features: readonly FeatureName[] };
  backbone: { name: string; second?: { name: string } };
}

/** The feature blocks a model scores photos with: its blocks, or the embedding alone for a model without any. */
export function modelFeatures(model: Pick<DescribedModel, 'features'>): FeatureName[] {
  return model.features ? [...model.features.features] : ['embedding'];
}

/** True when the model reads anything the backbone computes (its embedding, or its mid-level maps pooled in regions). */
export function readsBackbone(model: Pick<DescribedModel, 'features'>): boolean {
  return modelFeatures(model).some((f) => f === 'embedding' || f === 'regions');
}

/**
 * What the model reads, e.g. "mobilefacenet's face-recognition embedding", or "face geometry
 * (landmarks and measurements); no face-recognition embedding". The region-pooled maps
 * are named as the backbone's, since they come from its inner layers, not from its embedding.
 */
export function modelReads(model: DescribedModel): string {
  const { name, second } = model.backbone;
  const blocks = modelFeatures(model);
  const phrases: Record<FeatureName, string> = {
    embedding: second ? `${name}'s and ${second.name}'s face-recognition embeddings` : `${name}'s face-recognition embedding`,
    geometry: 'face geometry (landmarks and measurements)',
    regions: `${name}'s mid-level maps pooled in facial regions`,
  };
  const said = blocks.map((b) => phrases[b] ?? b);
  const list = said.length > 1 ? `${said.slice(0, -1).join(', ')} and ${said.at(-1)}` : said[0];
  return blocks.includes('embedding') ? list : `${list}; no face-recognition embedding`;
}
