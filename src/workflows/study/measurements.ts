/**
 * The study's measurements: the control norms that `screen` scores new photos against (from the
 * control photos only), and the report section comparing cases with controls per measurement.
 * Photos without dense landmarks (e.g. a study from `--embeddings` records), or whose face is too
 * small to measure (`measurements.minFaceSidePx`), take no part; with none, the bundle carries no
 * norms and the section says why.
 */
import { DEFAULTS } from '../../config.ts';
import type { PhotoResult } from '../../data/index.ts';
import { fitMeasurementNorms, measurableFace, type MeasurementNorms } from '../../features/measurements.ts';
import { compareMeasurements, measurementsSection } from '../../report/measurements.ts';
import { esc, type ReportInput } from '../../report/index.ts';

type Section = NonNullable<ReportInput['sections']>[number];

/** The section's id and title in the report. */
const SECTION = { id: 'measurements', title: 'Measurements' } as const;

/** What the measurements need to know of the data set's classes. */
export interface MeasuredClasses {
  positive: string;
  negative: string;
  /** Set for a study of more than two classes, whose pooled `negative` mixes other conditions. */
  mode?: 'ranking' | 'one-vs-rest';
}

/**
 * The controls of a study: the negative class of a two-class study; with more classes, the
 * people labelled as the configured control class (`data.classes[1]`), since the pooled negative
 * would mix other conditions into the norms.
 */
function controlLabel(classes: MeasuredClasses): string {
  return classes.mode ? DEFAULTS.data.classes[1] : classes.negative;
}

/** The norms for the bundle (absent without control landmarks) and the report section. */
export async function studyMeasurements(used: readonly PhotoResult[], classes: MeasuredClasses, bootstrap: { replicates: number; seed: number }): Promise<{ norms?: MeasurementNorms; section: Section }> {
  const control = controlLabel(classes);
  const names = { positive: classes.positive, negative: control };
  const withLandmarks = used.filter((p) => p.landmarks68 && p.view && (p.item.y === 1 || p.item.label === control));
  // A face too small to measure would put its resolution error into the norms and the comparison.
  const measured = withLandmarks.filter((p) => !p.face || measurableFace(p.face.box));
  const tooSmall = withLandmarks.length - measured.length;
  const smallNote = tooSmall ? `<p>${tooSmall} photo${tooSmall === 1 ? '' : 's'} whose face is under ${DEFAULTS.measurements.minFaceSidePx} pixels across ${tooSmall === 1 ? 'was' : 'were'} not measured: below that the photo's resolution alone moves the measurements by over half the spread between people (<code>npm run bench:face-size</code>).</p>` : '';
  if (!measured.some((p) => p.item.y === 0)) {
    return { section: { ...SECTION, html: `${smallNote}<p>No ${esc(control)} photo had dense landmarks on a face large enough to measure (a study from precomputed embeddings has none, and a study of several classes needs one labelled ${esc(control)}), so nothing was measured against controls and <code>screen</code> reports no measurements for this model.</p>` } };
  }
  const photos = measured.map((p) => ({ subject: p.item.subject, y: p.item.y, view: p.view, landmarks68: p.landmarks68 }));
  const norms = fitMeasurementNorms(photos.filter((p) => p.y === 0), { controlLabel: control });
  const rows = compareMeasurements(photos, bootstrap.replicates, bootstrap.seed);
  return { norms: Object.keys(norms.views).length ? norms : undefined, section: { ...SECTION, html: smallNote + (await measurementsSection(rows, names, bootstrap.replicates, norms)) } };
}
