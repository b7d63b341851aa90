/**
 * The representations that are one vector per photo from the pipeline, standardised column by
 * column on the training rows: the identity embedding and the region-pooled mid-level maps.
 */
import { PhenofaceError } from '../errors.ts';
import { applyScaling, fitScaling, scalingFromJSON, type ColumnScaling } from './standardise.ts';
import type { FeatureBlock, FeatureBlockJSON, FeatureName, FittedBlock, PhotoInputs } from './types.ts';

/** How a vector block reads its vector from a photo's inputs, and what it says when it is missing. */
interface VectorSource {
  name: FeatureName;
  read(row: PhotoInputs): Float32Array | undefined;
  /** What to do to get the vector (for the error message). */
  missing: string;
  /** Extra parameters written with the block (e.g. the regions' layout). */
  params?: Record<string, unknown>;
}

function vectors(src: VectorSource, rows: readonly PhotoInputs[]): Float32Array[] {
  return rows.map((row, i) => {
    const v = src.read(row);
    if (!v) throw new PhenofaceError('E_INPUT', `Photo ${i} has no ${src.name} features. ${src.missing}`);
    return v;
  });
}

class FittedVectorBlock implements FittedBlock {
  readonly name: FeatureName;
  readonly dim: number;
  constructor(private readonly src: VectorSource, readonly scaling: ColumnScaling) {
    this.name = src.name;
    this.dim = scaling.mean.length;
  }

  transform(rows: readonly PhotoInputs[]): Float32Array[] {
    return applyScaling(this.scaling, vectors(this.src, rows), this.name);
  }

  toJSON(): FeatureBlockJSON {
    return { kind: 'phenoface-feature-block', version: 1, name: this.name, dim: this.dim, params: { ...this.src.params, standardiser: this.scaling } };
  }
}

/** A block of one standardised vector per photo, read by `src`. */
export function vectorBlock(src: VectorSource): FeatureBlock & { fromJSON(json: FeatureBlockJSON): FittedBlock } {
  return {
    name: src.name,
    fit: (train) => new FittedVectorBlock(src, fitScaling(vectors(src, train), src.name)),
    fromJSON: (json) => new FittedVectorBlock(src, scalingFromJSON(json.params.standardiser, json.dim, src.name)),
  };
}
