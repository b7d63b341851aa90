/**
 * The study's geometry explanation: for a final model with a linear geometry part, each facial
 * region's contribution to the log-odds ({@link geometryExplanation}, exact), averaged over the
 * positive photos that cross-validation screened correctly, beside the heat maps' region ranking.
 * The contributions are the final model's on photos it was trained on, so they are in sample: they
 * say what the model learnt to use, not how it generalises (the fold models are not kept).
 */
import type { FittedFeatureModel, PhotoInputs } from '../../features/index.ts';
import { geometryExplanation } from '../../features/index.ts';
import { LANDMARK_REGIONS } from '../../features/ibug68.ts';
import type { StudyGeometryExplanation } from '../../explain/study-result.ts';
import type { RegionName } from '../../explain/regions.ts';
import { deriveSeed } from '../../math/random.ts';
import { meanCi } from './explanation.ts';

/** The study's photos as the final model read them. */
export interface GeometryStudyRows {
  inputs: readonly PhotoInputs[];
  y: readonly number[];
  subjects: readonly string[];
  photoIds: readonly string[];
}

/**
 * Each region's mean contribution over the positive photos judged correct out of fold
 * (`correct`, by photo id) whose geometry the model reads, with subject-bootstrap intervals
 * (`bootstrap` replicates from `seed`), and how often each region contributes most. Undefined when
 * the model has no linear geometry part or no such photo exists.
 */
export function studyGeometryExplanation(model: FittedFeatureModel, rows: GeometryStudyRows, correct: ReadonlyMap<string, boolean>, o: { positive: string; bootstrap: number; seed: number }): StudyGeometryExplanation | undefined {
  const explain = geometryExplanation(model);
  if (!explain) return undefined;
  const explained = rows.inputs.flatMap((row, i) => {
    if (rows.y[i] !== 1 || !correct.get(rows.photoIds[i])) return [];
    const parts = explain(row)?.filter((p) => LANDMARK_REGIONS.includes(p.region));
    return parts ? [{ subject: rows.subjects[i], parts }] : [];
  });
  if (explained.length === 0) return undefined;
  const regions: StudyGeometryExplanation['regions'] = {};
  const first: StudyGeometryExplanation['first'] = {};
  LANDMARK_REGIONS.forEach((region, k) => {
    regions[region] = meanCi(explained.map((e) => ({ subject: e.subject, value: e.parts.find((p) => p.region === region)!.contribution })), o.bootstrap, deriveSeed(o.seed, 0x6e0 + k));
    first[region] = 0;
  });
  for (const e of explained) {
    const top: RegionName = e.parts.reduce((a, b) => (b.contribution > a.contribution ? b : a)).region;
    first[top]! += 1 / explained.length;
  }
  return { positive: o.positive, photos: explained.length, subjects: new Set(explained.map((e) => e.subject)).size, regions, first };
}
