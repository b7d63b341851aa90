/**
 * The feature blocks by name (the deepface habit: one interface, a registry keyed by name), and the
 * `--features` request: `auto`, one name, or names joined by `+` (fused by stacking, see
 * `fusion.ts`). A block that is not installed is named in the error with the ones that are.
 */
import { PhenofaceError } from '../errors.ts';
import { POOLED_REGIONS } from '../explain/regions.ts';
import { geometryBlock } from './geometry.ts';
import { FEATURE_NAMES, type FeatureBlock, type FeatureBlockJSON, type FeatureModelJSON, type FeatureName, type FittedBlock } from './types.ts';
import { vectorBlock } from './vector-block.ts';

/** A block and the reader of its fitted JSON. */
export type BlockEntry = FeatureBlock & { fromJSON(json: FeatureBlockJSON): FittedBlock };

/**
 * The identity embedding, standardised on the training rows: the backbone's, followed by the
 * second network's (`PhotoInputs.secondEmbedding`, `features.secondBackbone`) when every training
 * row has one. One classifier then reads both vectors; `secondDim` in the block's parameters says
 * how many of its trailing columns are the second network's (absent: none).
 */
export const embeddingBlock: BlockEntry = vectorBlock({
  name: 'embedding',
  read: (r, { secondDim }) => (secondDim ? joined(r.embedding, r.secondEmbedding, secondDim as number) : r.embedding),
  fitParams: (train) => (train.length > 0 && train.every((r) => r.secondEmbedding) ? { secondDim: train[0].secondEmbedding!.length } : {}),
  missing: 'Expected the embedding of every usable photo, and the second network\'s too when the model learns from both (records from a file carry it as secondEmbedding when embed wrote them: embed the photos again, or give photos instead).',
});

/** How many columns of a fitted model's embedding block are the second network's (0 without it, or without an embedding block). */
export function secondEmbeddingDim(model: FeatureModelJSON): number {
  const block = model.blocks.find((b) => b.name === 'embedding');
  const dim = block?.params.secondDim;
  return typeof dim === 'number' ? dim : 0;
}

/** The backbone's embedding followed by the second network's (`dim` values), or undefined without it. */
function joined(first: Float32Array, second: Float32Array | undefined, dim: number): Float32Array | undefined {
  if (second?.length !== dim) return undefined;
  const v = new Float32Array(first.length + dim);
  v.set(first);
  v.set(second, first.length);
  return v;
}

/**
 * The backbone's mid-level maps pooled in each facial region (`PhotoInputs.regionMaps`), one
 * contiguous slice per region in `regions` order: local by construction, so a planted change in
 * one region moves that region's columns only.
 */
export const regionsBlock: BlockEntry = vectorBlock({
  name: 'regions',
  read: (r) => r.regionMaps,
  missing: 'Expected region-pooled maps: run the pipeline with regions (the study does when --features asks for them).',
  params: { regions: [...POOLED_REGIONS] },
});

/** The face's geometry: Procrustes-aligned dense landmarks and the anthropometric panel, per view (see `geometry.ts`). */
export const geometryEntry: BlockEntry = geometryBlock();

const BLOCKS: Partial<Record<FeatureName, BlockEntry>> = { embedding: embeddingBlock, geometry: geometryEntry, regions: regionsBlock };

/**
 * The installed block called `name`, or undefined. Only the table's own keys count: a name read
 * from a bundle such as `__proto__` or `constructor` would otherwise find the object's prototype.
 */
function installedBlock(name: string): BlockEntry | undefined {
  return Object.hasOwn(BLOCKS, name) ? BLOCKS[name as FeatureName] : undefined;
}

/** The representations this installation can compute, in {@link FEATURE_NAMES} order. */
export function installedFeatures(): FeatureName[] {
  return FEATURE_NAMES.filter((n) => BLOCKS[n] !== undefined);
}

/** The block called `name`; E_CONFIG naming the installed ones otherwise. */
export function featureBlock(name: string): BlockEntry {
  const block = installedBlock(name);
  if (!block) throw new PhenofaceError('E_CONFIG', `Unknown or unavailable feature block: "${name}". Should be one of: ${installedFeatures().join(', ')}.`);
  return block;
}

/** Restores a fitted block from the bundle's JSON; E_BUNDLE when malformed or not installed. */
export function fittedBlockFromJSON(json: unknown): FittedBlock {
  const j = json as Partial<FeatureBlockJSON> | undefined;
  if (j?.kind !== 'phenoface-feature-block' || j.version !== 1 || typeof j.name !== 'string' || !Number.isInteger(j.dim) || typeof j.params !== 'object' || j.params === null) {
    throw new PhenofaceError('E_BUNDLE', `Malformed feature block in the model bundle (kind ${JSON.stringify(j?.kind)} v${j?.version}). Expected "phenoface-feature-block" v1 with name, dim and params.`);
  }
  const block = installedBlock(j.name);
  if (!block) throw new PhenofaceError('E_BUNDLE', `The model uses the "${j.name}" features, which this installation cannot compute. Installed: ${installedFeatures().join(', ')}.`);
  return block.fromJSON(j as FeatureBlockJSON);
}

/** What a study is asked to learn from: let the inner CV choose, or these blocks (fused when several). */
export type FeatureRequest = 'auto' | FeatureName[];

/** Parses `--features`: `auto`, a name, or `A+B[+C]` (commas read as `+`). E_USAGE naming the bad value and the choices. */
export function parseFeatures(text: string): FeatureRequest {
  if (text.trim() === 'auto') return 'auto';
  // A comma is read as "+": lists are written with commas as often as not (`embedding,regions`).
  const names = text.split(/[+,]/).map((s) => s.trim());
  const bad = names.find((n) => !(FEATURE_NAMES as readonly string[]).includes(n));
  if (bad !== undefined || new Set(names).size !== names.length) {
    throw new PhenofaceError('E_USAGE', `Invalid --features: "${text}". Should be auto, one of ${FEATURE_NAMES.join(', ')}, or several joined by + or , (each once), e.g. embedding+regions.`);
  }
  return FEATURE_NAMES.filter((n) => names.includes(n));
}

/** A request as text (`auto`, `embedding+regions`). */
export const featuresLabel = (f: FeatureRequest): string => (f === 'auto' ? 'auto' : f.join('+'));
