/**
 * The clinician's measurements: the anthropometric panel of each photo as z-scores against the
 * study's own controls, with the HPO terms a measurement beyond the threshold points to.
 *
 * The z-scores are against THIS STUDY'S CONTROLS, not population norms (Farkas's tables or
 * others): the controls' means and SDs are computed per view from the control photos' landmarks
 * (each control person weighted equally, however many photos they have), stored in the model
 * bundle as a plain JSON norms object, and say nothing about age, sex or ancestry unless the
 * controls match the person screened. A measurement gets a z-score in a view only when at least
 * `minControlSubjects` control people have it in that view and their values spread (see
 * {@link MIN_NORM_SD}); without one it is not reported, so every reported measurement has a z.
 */
import { DEFAULTS, VIEWS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { signedFixed } from '../math/decimal.ts';
import type { Box, Point, View } from '../types.ts';
import { MEASUREMENTS, measurePanel, type HpoTerm, type MeasurementDefinition, type MeasurementRegion } from './anthropometry.ts';
import { readObject } from './json.ts';

/**
 * What the landmarks can see, for whoever reads a z-score: the landmark models follow a face's
 * overall shape more than a local change, so a z-score near 0 does not rule a difference out.
 * Measured on photos with a planted change, each against its unplanted source (synth's warps and
 * a thin-plate planting of face-api's 68 points; docs/decisions.md, "Geometry and measurements"):
 * the mesh re-found about half of a narrower mouth, about 40% of shorter palpebral fissures with
 * its eye points from the iris model, and a quarter or less of a change in nasal width. The text
 * quotes no figure: the report's and the screen's numbers are this study's own.
 */
export const MEASUREMENT_SENSITIVITY =
  'The landmarks follow the face\'s overall shape more than local detail: on test photos with a planted change they re-found only part of a narrower mouth or of shorter eye openings, and almost none of a change in nasal width, so a z-score near 0 does not rule a difference out, least of all at the nose.';

/**
 * Whether a face is large enough to be measured: its detected box's shorter side is at least
 * `minSidePx` (`measurements.minFaceSidePx`). Below it, the landmarks' error from the photo's
 * resolution alone is over half the spread between people for some measurement
 * (`npm run bench:face-size`), so its z-scores would measure the photo as much as the face.
 */
export function measurableFace(box: Pick<Box, 'width' | 'height'>, minSidePx: number = DEFAULTS.measurements.minFaceSidePx): boolean {
  return Math.min(box.width, box.height) >= minSidePx;
}

/** A photo's warning when its face is too small to be measured ({@link measurableFace}). */
export function tooSmallToMeasure(box: Pick<Box, 'width' | 'height'>, minSidePx: number = DEFAULTS.measurements.minFaceSidePx): string {
  return `face too small to measure (${Math.round(Math.min(box.width, box.height))} px across; the measurements need ${minSidePx} px, below which the photo's resolution alone moves them by over half the spread between people): no measurements from this photo`;
}

/** The controls' distribution of one measurement in one view. */
export interface MeasurementNorm {
  mean: number;
  /** Standard deviation of a photo's value (population form, each control person weighted equally): a photo's z. */
  sd: number;
  /**
   * The SD between control people's true values and the pooled SD of one person's photos about
   * their own mean (method of moments), so that a person's mean over n photos is scored against
   * sqrt(sdBetween² + sdWithin² / n), the spread of such means among the controls. Absent when no
   * control person had two photos in the view.
   */
  sdBetween?: number;
  sdWithin?: number;
  /** Control people and photos it was computed from. */
  subjects: number;
  photos: number;
}

/** The norms saved in the model bundle. */
export interface MeasurementNorms {
  kind: 'phenoface-measurement-norms';
  version: 1;
  /** Who the norms describe, e.g. "controls of this study (label control)". */
  population: string;
  /** The reference length every measurement but the ratios is divided by. */
  reference: 'rms-centroid-distance';
  /** |z| beyond which HPO terms are attached. */
  hpoZ: number;
  /** Per view, per measurement name. */
  views: Partial<Record<View, Record<string, MeasurementNorm>>>;
}

/** One measurement as `screen --json` reports it. */
export interface Measurement {
  name: string;
  /** As a clinician says it, with the patient's side (`palpebral-fissure-length-left` is the patient's right eye). */
  label: string;
  region: MeasurementRegion;
  /** The scale-free value (a length over the reference length, or a ratio). */
  value: number;
  /** Against the study's controls in the photo's view. */
  z: number;
  /** HPO terms on the side the deviation lies, when |z| exceeds the threshold. */
  hpo: HpoTerm[];
}

/** A subject's measurement: the means over their photos of one view that have it. */
export interface SubjectMeasurement extends Measurement {
  /** The view of the photos `value` and `z` are the means of. */
  view: View;
  /** Photos the value and the z are averaged over. */
  photos: number;
}

/** One photo for the norms. */
export interface NormPhoto {
  subject: string;
  view?: View;
  landmarks68?: readonly Point[];
}

/** Options of {@link fitMeasurementNorms}. */
export interface NormOptions {
  /** The control class's label, named in `population`. */
  controlLabel: string;
  hpoZ?: number;
  minControlSubjects?: number;
}

/**
 * The smallest SD a norm may have, in reference lengths: a thousandth of the spread of one photo's
 * measurement between re-encodings (0.2-0.3% of a palpebral fissure, about 0.0006-0.001 reference
 * lengths; docs/decisions.md). Controls that spread less are copies of one face, and a z against
 * them would be rounding error magnified (1e14 for copies of one photo).
 */
export const MIN_NORM_SD = 1e-6;

/**
 * Subject-weighted mean and SD of one measurement's values, with the between- and within-person
 * SDs (see {@link MeasurementNorm}), or null with too few people or no spread.
 */
export function normOf(values: readonly { subject: string; value: number }[], minSubjects: number): MeasurementNorm | null {
  const bySubject = new Map<string, number[]>();
  for (const v of values) {
    const xs = bySubject.get(v.subject);
    if (xs) xs.push(v.value);
    else bySubject.set(v.subject, [v.value]);
  }
  if (bySubject.size < minSubjects) return null;
  const people = [...bySubject.values()];
  const total = people.length;
  const means = people.map((xs) => xs.reduce((a, x) => a + x, 0) / xs.length);
  const mean = means.reduce((s, m) => s + m, 0) / total;
  const sd = Math.sqrt(people.reduce((s, xs) => s + xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length, 0) / total);
  if (!(sd > MIN_NORM_SD)) return null;
  const norm: MeasurementNorm = { mean, sd, subjects: total, photos: values.length };
  const repeated = people.flatMap((xs, k) => (xs.length > 1 ? [{ xs, m: means[k] }] : []));
  if (repeated.length === 0) return norm;
  // Pooled within-person variance (n - 1 per person), then the between-person variance as the
  // spread of the people's means less the part their photos' noise puts into it.
  const within2 = repeated.reduce((s, { xs, m }) => s + xs.reduce((a, x) => a + (x - m) ** 2, 0), 0) / repeated.reduce((s, { xs }) => s + xs.length - 1, 0);
  const meansVar = means.reduce((s, m) => s + (m - mean) ** 2, 0) / total;
  const between2 = Math.max(0, meansVar - people.reduce((s, xs) => s + within2 / xs.length, 0) / total);
  return { ...norm, sdBetween: Math.sqrt(between2), sdWithin: Math.sqrt(within2) };
}

/**
 * The SD a person's mean over `n` photos is scored against: the spread of such means among the
 * controls, or the photo-level SD when the norm cannot split it (no control had two photos).
 */
export function personSd(norm: MeasurementNorm, n: number): number {
  if (norm.sdBetween === undefined || norm.sdWithin === undefined) return norm.sd;
  const sd = Math.sqrt(norm.sdBetween ** 2 + norm.sdWithin ** 2 / n);
  return sd > MIN_NORM_SD ? sd : norm.sd;
}

/**
 * Fits the norms from the control photos only (callers pass the controls; cases must not shape the
 * reference they are compared with). Photos without landmarks or view are skipped.
 */
export function fitMeasurementNorms(controls: readonly NormPhoto[], options: NormOptions): MeasurementNorms {
  const { hpoZ = DEFAULTS.measurements.hpoZ, minControlSubjects = DEFAULTS.measurements.minControlSubjects } = options;
  const views: MeasurementNorms['views'] = {};
  for (const view of VIEWS) {
    const panels = controls.filter((c) => c.view === view && c.landmarks68).map((c) => ({ subject: c.subject, values: measurePanel(c.landmarks68!, view) }));
    const byName: Record<string, MeasurementNorm> = {};
    MEASUREMENTS.forEach((m, k) => {
      const values = panels.flatMap((p) => (p.values[k] === null ? [] : [{ subject: p.subject, value: p.values[k]! }]));
      const norm = normOf(values, minControlSubjects);
      if (norm) byName[m.name] = norm;
    });
    if (Object.keys(byName).length > 0) views[view] = byName;
  }
  return { kind: 'phenoface-measurement-norms', version: 1, population: `controls of this study (label ${options.controlLabel})`, reference: 'rms-centroid-distance', hpoZ, views };
}

/** The HPO terms for a z-score: those on the side of the deviation, when |z| exceeds `threshold`. */
export function hpoTermsFor(def: MeasurementDefinition, z: number, threshold: number): HpoTerm[] {
  if (!(Math.abs(z) > threshold)) return [];
  const side = z < 0 ? 'low' : 'high';
  return def.hpo.filter((t) => t.side === side).map(({ id, label }) => ({ id, label }));
}

/**
 * A z-score as shown beside HPO terms (`+2.04`, `-0.31`, `0.00`): two decimals, since the terms are
 * given beyond +-2 SD and one decimal would print a z of -2.04 as -2.0 beside them; a sign only
 * where the value is not 0 at that precision (never "-0.00").
 */
export function zText(z: number): string {
  return signedFixed(z, 2);
}

/**
 * One photo's measurements: each measurement its view supports and the norms of that view have,
 * with its z against them (one whose z is not a finite number, against a norm no study would fit,
 * is left out). Throws `E_INPUT` on malformed landmarks.
 */
export function photoMeasurements(landmarks68: readonly Point[], view: View | undefined, norms: MeasurementNorms): Measurement[] {
  const values = measurePanel(landmarks68, view);
  return MEASUREMENTS.flatMap((def, k) => {
    const value = values[k];
    const norm = view ? norms.views[view]?.[def.name] : undefined;
    if (value === null || !norm) return [];
    const z = (value - norm.mean) / norm.sd;
    // A norm edited past reason (a mean of 1e308) overflows: that z would be written as null.
    if (!Number.isFinite(z)) return [];
    return [{ name: def.name, label: def.label, region: def.region, value, z, hpo: hpoTermsFor(def, z, norms.hpoZ) }];
  });
}

const mean = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

/**
 * A person's measurements from their photos' (`photos[i]` measured in `views[i]`): for each
 * measurement, the mean value over the photos of one view, the view most of the photos that have
 * it were taken in (frontal first on a tie), and its z against the spread of such means among the
 * controls ({@link personSd}): a person's mean over several photos varies less than one photo does,
 * so a mean of photo z-scores would understate how far the person lies from the controls. One
 * view, because a value's scale depends on the view (a nasal length seen in profile is not the
 * frontal one), and the value, the z and the photo count should describe the same photos. A z
 * that is not a finite number is left out, as for a photo.
 */
export function subjectMeasurements(photos: readonly (readonly Measurement[])[], views: readonly (View | undefined)[], norms: Pick<MeasurementNorms, 'hpoZ' | 'views'>): SubjectMeasurement[] {
  return MEASUREMENTS.flatMap((def) => {
    const byView = VIEWS.map((view) => photos.flatMap((p, i) => (views[i] === view ? p.filter((m) => m.name === def.name) : [])));
    const most = byView.reduce((best, list, k) => (list.length > byView[best].length ? k : best), 0);
    const found = byView[most];
    const norm = norms.views[VIEWS[most]]?.[def.name];
    if (found.length === 0 || !norm) return [];
    const value = mean(found.map((m) => m.value));
    const z = (value - norm.mean) / personSd(norm, found.length);
    if (!Number.isFinite(z)) return [];
    return [{ name: def.name, label: def.label, region: def.region, value, z, hpo: hpoTermsFor(def, z, norms.hpoZ), view: VIEWS[most], photos: found.length }];
  });
}

/** Restores norms from the bundle's JSON; throws `E_BUNDLE` on a malformed record. */
export function normsFromJSON(json: unknown): MeasurementNorms {
  const j = readObject(json, 'measurement norms');
  if (j.kind !== 'phenoface-measurement-norms' || j.version !== 1 || typeof j.hpoZ !== 'number' || !(j.hpoZ > 0)) {
    throw new PhenofaceError('E_BUNDLE', `Invalid measurement norms: kind ${JSON.stringify(j.kind)}, version ${JSON.stringify(j.version)}, hpoZ ${JSON.stringify(j.hpoZ)}. Expected phenoface-measurement-norms, 1 and a positive number.`);
  }
  const views: MeasurementNorms['views'] = {};
  for (const [view, byName] of Object.entries(readObject(j.views, 'norms.views'))) {
    if (!VIEWS.includes(view as View)) throw new PhenofaceError('E_BUNDLE', `Invalid measurement norms: view ${JSON.stringify(view)}. Should be one of: ${VIEWS.join(', ')}.`);
    const out: Record<string, MeasurementNorm> = {};
    for (const [name, raw] of Object.entries(readObject(byName, `norms.views.${view}`))) {
      const n = readObject(raw, `norms.views.${view}.${name}`);
      // The counts are quoted beside every z ("frontal: 8 control people"): whole, at least one person, a photo each.
      const counted = Number.isInteger(n.subjects) && (n.subjects as number) >= 1 && Number.isInteger(n.photos) && (n.photos as number) >= (n.subjects as number);
      const ok = MEASUREMENTS.some((m) => m.name === name) && [n.mean, n.sd].every((v) => typeof v === 'number' && Number.isFinite(v)) && (n.sd as number) > 0 && counted;
      if (!ok) throw new PhenofaceError('E_BUNDLE', `Invalid measurement norms: ${view}.${name} should be a known measurement with finite mean, positive sd, and whole counts of control people (1 or more) and of their photos (at least one each).`);
      // A norm without spread scores nothing, as fitting would have left it out.
      const split = [n.sdBetween, n.sdWithin].every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) ? { sdBetween: n.sdBetween as number, sdWithin: n.sdWithin as number } : {};
      if ((n.sd as number) > MIN_NORM_SD) out[name] = { mean: n.mean as number, sd: n.sd as number, subjects: n.subjects as number, photos: n.photos as number, ...split };
    }
    views[view as View] = out;
  }
  return { kind: 'phenoface-measurement-norms', version: 1, population: String(j.population ?? ''), reference: 'rms-centroid-distance', hpoZ: j.hpoZ, views };
}
