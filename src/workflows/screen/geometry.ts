/**
 * The geometry explanation in a screening result: for a model with a linear geometry part, each
 * facial region's contribution to the photo's log-odds through the face's measured shape
 * (`features/fusion.ts`, {@link geometryExplanation}), exact because that part is linear; and,
 * where the model leaves the embedding out so no heat map can explain it, the region ranking
 * built from those contributions.
 */
import { REGION_HPO, type RegionName } from '../../explain/regions.ts';
import type { GeometryExplanation, PhotoInputs } from '../../features/index.ts';
import { LANDMARK_REGIONS } from '../../features/ibug68.ts';
import { roundedKeepingSum, roundTo } from '../../math/decimal.ts';
import type { GeometryRegion, RegionShare, ScreenPhoto } from './result.ts';

const r4 = (v: number) => roundTo(v, 4);

/**
 * The photo's region contributions, largest first, unrounded; undefined when the model or the photo
 * has no geometry to explain, or when a contribution is not a finite number (a model whose weights
 * overflow on this face: JSON would write it as null, and its shares would all be NaN).
 */
function contributions(explain: GeometryExplanation | undefined, row: PhotoInputs): GeometryRegion[] | undefined {
  const parts = explain?.(row);
  if (!parts || !parts.every((p) => Number.isFinite(p.contribution))) return undefined;
  return parts.filter((p) => LANDMARK_REGIONS.includes(p.region)).map((p) => ({ name: p.region, contribution: p.contribution })).sort((a, b) => b.contribution - a.contribution);
}

/**
 * A photo's `geometryRegions` (log-odds, rounded to 4 decimals, largest first) and the
 * `geometryNote` saying what they are; empty when the model has no linear geometry part, the
 * photo's geometry is imputed as the mean (no landmarks, or a view the model has no columns for),
 * or a contribution overflows.
 */
export function geometryFields(explain: GeometryExplanation | undefined, row: PhotoInputs, positive: string): Pick<ScreenPhoto, 'geometryRegions' | 'geometryNote'> {
  const regions = contributions(explain, row);
  if (!regions) return {};
  return {
    geometryRegions: regions.map((g) => ({ name: g.name, contribution: r4(g.contribution) })),
    geometryNote: `Each region's contribution, through the face's measured geometry (landmark positions and the anthropometric panel), to this photo's log-odds (the natural logarithm of the score's odds, p/(1-p): +0.69 doubles the odds, -0.69 halves them), relative to the mean face of the study's photos; positive = towards "${positive}". Exact: the geometry part of the model is linear.`,
  };
}

/**
 * The region ranking from the geometry contributions, for a model without the embedding: each
 * region's positive contribution over the sum of them (the evidence for the positive class, as a
 * heat map shows only net evidence for it), so the shares sum to 1 over regions, or are all 0 when
 * no region pushes towards the positive class; with the regions' HPO terms, as a heat map's.
 */
export function geometryRegionShares(explain: GeometryExplanation, row: PhotoInputs): Required<Pick<ScreenPhoto, 'regions' | 'cam'>> | undefined {
  const regions = contributions(explain, row);
  if (!regions) return undefined;
  const total = regions.reduce((s, g) => s + Math.max(0, g.contribution), 0);
  const rounded = roundedKeepingSum(regions.map((g) => (total > 0 ? Math.max(0, g.contribution) / total : 0)), 4);
  const shares: RegionShare[] = regions.map((g, i) => {
    const share = rounded[i];
    // A region that pushes towards the negative class (or not at all) relates to no finding.
    return { name: g.name, share, hpo: share > 0 ? [...REGION_HPO[g.name as RegionName]] : [] };
  });
  return { regions: shares, cam: 'geometry' };
}
