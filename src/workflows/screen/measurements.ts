/**
 * The clinician's measurements in a screening result: each photo's anthropometric panel with its
 * z-scores against the study's controls (the norms in the model bundle), and the person's, the
 * mean over their photos. Without norms in the bundle, or without landmarks, there are none.
 */
import { MEASUREMENT_SENSITIVITY, photoMeasurements, subjectMeasurements, type Measurement, type MeasurementNorms } from '../../features/measurements.ts';
import { roundTo } from '../../math/decimal.ts';
import type { Point, View } from '../../types.ts';
import type { ScreenPhoto, ScreenResult } from './result.ts';

const rounded = <T extends Measurement>(m: T): T => ({ ...m, value: roundTo(m.value, 4), z: roundTo(m.z, 2) });

/** One screened photo's unrounded measurements and its view. */
export interface MeasuredPhoto {
  measurements: readonly Measurement[];
  view?: View;
}

/**
 * One photo's measurements: `raw` (unrounded, for the person's means) and `fields`, the photo's
 * `measurements` field rounded for display; neither without norms or landmarks.
 */
export function photoMeasurementFields(landmarks68: readonly Point[] | undefined, view: View | undefined, norms: MeasurementNorms | undefined): { raw?: Measurement[]; fields: Pick<ScreenPhoto, 'measurements'> } {
  if (!norms || !landmarks68) return { fields: {} };
  const raw = photoMeasurements(landmarks68, view, norms);
  return { raw, fields: { measurements: raw.map(rounded) } };
}

/**
 * How many control people the norms of the person's measurements come from, per view (" (frontal:
 * 8 control people)"): a z against the spread of eight people is not one against a population's.
 * Empty when the person has no measurement.
 */
function controlsCounted(measurements: readonly { name: string; view: View }[], norms: MeasurementNorms): string {
  const byView = new Map<View, number[]>();
  for (const m of measurements) {
    const n = norms.views[m.view]?.[m.name]?.subjects;
    if (n !== undefined) byView.set(m.view, [...(byView.get(m.view) ?? []), n]);
  }
  const parts = [...byView].map(([view, ns]) => {
    const lo = Math.min(...ns), hi = Math.max(...ns);
    return `${view}: ${lo === hi ? lo : `${lo} to ${hi}`} control ${hi === 1 ? 'person' : 'people'}`;
  });
  return parts.length ? ` (${parts.join('; ')})` : '';
}

/**
 * The subject's `measurements` (means over the photos' `raw` measurements, one view each) and the
 * note saying whom they compare with and what is left out.
 */
export function subjectMeasurementFields(photos: readonly MeasuredPhoto[], norms: MeasurementNorms | undefined): Pick<ScreenResult['subject'], 'measurements' | 'measurementsNote'> {
  if (!norms || photos.length === 0) return {};
  const measurements = subjectMeasurements(photos.map((p) => p.measurements), photos.map((p) => p.view), norms);
  // Norms without the between- and within-person SDs (a model trained before they were kept, or
  // controls with one photo each) score a person's mean against one photo's spread: say so.
  const unsplit = measurements.some((m) => m.photos > 1 && norms.views[m.view]?.[m.name]?.sdBetween === undefined);
  const against = unsplit
    ? "scored against the spread of single photos among those controls, since this model's norms do not hold the spread of people's means (re-run the study to add it): a person's z then understates how far their mean lies, and HPO terms may be missed"
    : 'scored against the spread of such means among those controls';
  return {
    measurements: measurements.map(rounded),
    measurementsNote: `z-scores are against ${norms.population} in the photo's view${controlsCounted(measurements, norms)}, not population norms; HPO terms beyond ±${norms.hpoZ} SD. A measurement is listed only where those controls give it a norm in the photo's view, and the person's is the mean over their photos of one view (\`view\`), ${against}. ${MEASUREMENT_SENSITIVITY}`,
  };
}
