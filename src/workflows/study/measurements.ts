/**
 * The study's measurements: the control norms that `screen` scores new photos against (from the
 * control photos only), and the report section comparing cases with controls per measurement.
 * Photos without dense landmarks (e.g. a study from `--embeddings` records) take no part; with
 * none, the bundle carries no norms and the section says why.
 */
import type { PhotoResult } from '../../data/index.ts';
import { fitMeasurementNorms, type MeasurementNorms } from '../../features/measurements.ts';
import { compareMeasurements, measurementsSection } from '../../report/measurements.ts';
import type { ReportInput } from '../../report/index.ts';

type Section = NonNullable<ReportInput['sections']>[number];

/** The section's id and title in the report. */
const SECTION = { id: 'measurements', title: 'Measurements' } as const;

/** The norms for the bundle (absent without control landmarks) and the report section. */
export async function studyMeasurements(used: readonly PhotoResult[], names: { positive: string; negative: string }, bootstrap: { replicates: number; seed: number }): Promise<{ norms?: MeasurementNorms; section: Section }> {
  const measured = used.filter((p) => p.landmarks68 && p.view);
  if (measured.length === 0) {
    return { section: { ...SECTION, html: '<p>No photo had dense landmarks (a study from precomputed embeddings has none), so nothing was measured and <code>screen</code> reports no measurements for this model.</p>' } };
  }
  const photos = measured.map((p) => ({ subject: p.item.subject, y: p.item.y, view: p.view, landmarks68: p.landmarks68 }));
  const norms = fitMeasurementNorms(photos.filter((p) => p.y === 0), { controlLabel: names.negative });
  const rows = compareMeasurements(photos, bootstrap.replicates, bootstrap.seed);
  return { norms: Object.keys(norms.views).length ? norms : undefined, section: { ...SECTION, html: await measurementsSection(rows, names, bootstrap.replicates, norms) } };
}
