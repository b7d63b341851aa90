/**
 * The clinician's measurements in a screening result: each photo's anthropometric panel with its
 * z-scores against the study's controls (the norms in the model bundle), and the person's, the
 * mean over their photos. Without norms in the bundle, or without landmarks, there are none.
 */
import { MEASUREMENT_SENSITIVITY, photoMeasurements, subjectMeasurements, type Measurement, type MeasurementNorms } from '../../features/measurements.ts';
import type { Point, View } from '../../types.ts';
import type { ScreenPhoto, ScreenResult } from './result.ts';

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
const rounded = <T extends Measurement>(m: T): T => ({ ...m, value: round(m.value, 4), z: m.z === null ? null : round(m.z, 2) });

/**
 * One photo's measurements: `raw` (unrounded, for the person's means) and `fields`, the photo's
 * `measurements` field rounded for display; neither without norms or landmarks.
 */
export function photoMeasurementFields(landmarks68: readonly Point[] | undefined, view: View | undefined, norms: MeasurementNorms | undefined): { raw?: Measurement[]; fields: Pick<ScreenPhoto, 'measurements'> } {
  if (!norms || !landmarks68) return { fields: {} };
  const raw = photoMeasurements(landmarks68, view, norms);
  return { raw, fields: { measurements: raw.map(rounded) } };
}

/** The subject's `measurements` (means over the photos' `raw` measurements) and the note saying whom they compare with. */
export function subjectMeasurementFields(photos: readonly (readonly Measurement[])[], norms: MeasurementNorms | undefined): Pick<ScreenResult['subject'], 'measurements' | 'measurementsNote'> {
  if (!norms || photos.length === 0) return {};
  return {
    measurements: subjectMeasurements(photos, norms).map(rounded),
    measurementsNote: `z-scores are against ${norms.population} in the photo's view, not population norms; HPO terms beyond ±${norms.hpoZ} SD. ${MEASUREMENT_SENSITIVITY}`,
  };
}
