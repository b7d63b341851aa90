/**
 * Photo inputs as a few flat arrays, for handing a study's rows to worker threads in one message
 * (and back): one typed array per field instead of thousands of small objects.
 */
import { DEFAULTS } from '../config.ts';
import type { View } from '../types.ts';
import { FEATURE_NAMES, type FeatureName, type PhotoInputs } from './types.ts';

/** {@link PhotoInputs} of many rows, field by field. */
export interface PackedInputs {
  n: number;
  embedding: { dim: number; flat: Float32Array };
  regionMaps?: { dim: number; flat: Float32Array };
  secondEmbedding?: { dim: number; flat: Float32Array };
  /**
   * `points` (x, y) pairs per row (the most any row has); a row's unused pairs, and every pair of
   * a row without points, hold NaN. In double precision, as the points are held: a fold fitted on
   * a worker must equal the same fold fitted on the main thread, bit for bit.
   */
  landmarks68?: { points: number; flat: Float64Array };
  views: (View | null)[];
}

function packVectors(rows: readonly PhotoInputs[], read: (r: PhotoInputs) => Float32Array | undefined): { dim: number; flat: Float32Array } | undefined {
  const first = rows.map(read).find((v) => v !== undefined);
  if (!first || rows.some((r) => read(r) === undefined)) return undefined;
  const dim = first.length;
  const flat = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => flat.set(read(r)!, i * dim));
  return { dim, flat };
}

/** Packs rows; a vector field is kept only when every row has it. */
export function packInputs(rows: readonly PhotoInputs[]): PackedInputs {
  const packed: PackedInputs = { n: rows.length, embedding: packVectors(rows, (r) => r.embedding)!, views: rows.map((r) => r.view ?? null) };
  const maps = packVectors(rows, (r) => r.regionMaps);
  if (maps) packed.regionMaps = maps;
  const second = packVectors(rows, (r) => r.secondEmbedding);
  if (second) packed.secondEmbedding = second;
  if (rows.some((r) => r.landmarks68)) {
    const points = Math.max(...rows.map((r) => r.landmarks68?.length ?? 0));
    const flat = new Float64Array(rows.length * 2 * points).fill(NaN);
    rows.forEach((r, i) => r.landmarks68?.forEach(([x, y], k) => flat.set([x, y], 2 * (i * points + k))));
    packed.landmarks68 = { points, flat };
  }
  return packed;
}

/** The rows of {@link packInputs} again (vectors are views into the flat arrays). */
export function unpackInputs(p: PackedInputs): PhotoInputs[] {
  const slice = (v: { dim: number; flat: Float32Array }, i: number) => v.flat.subarray(i * v.dim, (i + 1) * v.dim);
  return Array.from({ length: p.n }, (_, i) => {
    const row: PhotoInputs = { embedding: slice(p.embedding, i) };
    if (p.regionMaps) row.regionMaps = slice(p.regionMaps, i);
    if (p.secondEmbedding) row.secondEmbedding = slice(p.secondEmbedding, i);
    if (p.landmarks68) {
      const { points, flat } = p.landmarks68;
      const lm = flat.subarray(2 * i * points, 2 * (i + 1) * points);
      const unused = lm.findIndex((v) => Number.isNaN(v));
      const count = unused < 0 ? points : unused / 2;
      if (count > 0) row.landmarks68 = Array.from({ length: count }, (_, k): [number, number] => [lm[2 * k], lm[2 * k + 1]]);
    }
    if (p.views[i]) row.view = p.views[i]!;
    return row;
  });
}

/** The blocks every row can supply: the embedding always, the others when each row has their input. */
export function availableFeatures(rows: readonly PhotoInputs[], installed: readonly FeatureName[], minViewPhotos = DEFAULTS.geometry.minViewPhotos): FeatureName[] {
  const has: Record<FeatureName, boolean> = { embedding: true, regions: rows.every((r) => r.regionMaps !== undefined), geometry: rows.every((r) => r.landmarks68 !== undefined) && hasGeometryView(rows, minViewPhotos) };
  return FEATURE_NAMES.filter((n) => has[n] && installed.includes(n));
}

/**
 * Whether some view has `minViewPhotos` rows with landmarks: the geometry block fits its shape
 * per view and cannot fit from fewer, so without such a view `auto` leaves it out.
 */
function hasGeometryView(rows: readonly PhotoInputs[], minViewPhotos: number): boolean {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.landmarks68 && r.view) counts.set(r.view, (counts.get(r.view) ?? 0) + 1);
  return [...counts.values()].some((n) => n >= minViewPhotos);
}
