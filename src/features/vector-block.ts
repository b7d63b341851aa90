/**
 * The representations that are one vector per photo from the pipeline, standardised column by
 * column on the training rows: the identity embedding (one network's, or two networks' side by
 * side) and the region-pooled mid-level maps.
 */
import { PhenofaceError } from '../errors.ts';
import { applyScaling, fitScaling, scalingFromJSON, type ColumnScaling } from './standardise.ts';
import type { FeatureBlock, FeatureBlockJSON, FeatureName, FittedBlock, PhotoInputs } from './types.ts';

/** Parameters written with a fitted block. */
type Params = Record<string, unknown>;

/** How a vector block reads its vector from a photo's inputs, and what it says when it is missing. */
export interface VectorSource {
  name: FeatureName;
  /** The photo's vector, as the block fitted with `params` reads it. */
  read(row: PhotoInputs, params: Params): Float32Array | undefined;
  /** What to do to get the vector (for the error message). */
  missing: string;
  /** Extra parameters written with the block (e.g. the regions' layout). */
  params?: Params;
  /** Parameters decided by the training rows (e.g. which vectors they all have), written with the block. */
  fitParams?(train: readonly PhotoInputs[]): Params;
}

function vectors(src: VectorSource, params: Params, rows: readonly PhotoInputs[]): Float32Array[] {
  return rows.map((row, i) => {
    const v = src.read(row, params);
    if (!v) throw new PhenofaceError('E_INPUT', `Photo ${i} has no ${src.name} features. ${src.missing}`);
    return v;
  });
}

class FittedVectorBlock implements FittedBlock {
  readonly name: FeatureName;
  readonly dim: number;
  constructor(private readonly src: VectorSource, readonly params: Params, readonly scaling: ColumnScaling) {
    this.name = src.name;
    this.dim = scaling.mean.length;
  }

  transform(rows: readonly PhotoInputs[]): Float32Array[] {
    return applyScaling(this.scaling, vectors(this.src, this.params, rows), this.name);
  }

  toJSON(): FeatureBlockJSON {
    return { kind: 'phenoface-feature-block', version: 1, name: this.name, dim: this.dim, params: { ...this.params, standardiser: this.scaling } };
  }
}

/** A block of one standardised vector per photo, read by `src`. */
export function vectorBlock(src: VectorSource): FeatureBlock & { fromJSON(json: FeatureBlockJSON): FittedBlock } {
  return {
    name: src.name,
    fit: (train) => {
      const params = { ...src.params, ...src.fitParams?.(train) };
      return new FittedVectorBlock(src, params, fitScaling(vectors(src, params, train), src.name));
    },
    fromJSON: ({ params: { standardiser, ...params }, dim }) => new FittedVectorBlock(src, params, scalingFromJSON(standardiser, dim, src.name)),
  };
}
