/**
 * A named anthropometric panel measured on 68 iBUG-300W landmarks and the extra points a model
 * may place after them (`EXTRA_POINTS`): the distances a dysmorphologist takes with calipers
 * (Farkas 1994, "Anthropometry of the Head and Face"; the HPO's objective criteria, Allanson et
 * al. 2009, "Elements of morphology"), each made scale-free by dividing by a stable reference
 * length, and each valid only in the views that show it undistorted.
 *
 * Reference length: the root-mean-square distance of the 68 iBUG points from their centroid (the
 * centroid size of geometric morphometrics divided by sqrt(68); Bookstein 1991), whatever extras
 * the model adds, so that every landmark model gives the same unit. It uses every point of the
 * scheme, so a local deviation (a short fissure, narrow alae) moves it little, and it is the scale
 * that Procrustes alignment removes, so the panel and the aligned shape share one unit. It depends
 * on the view (a turned face is narrower), which is why norms are kept per view.
 *
 * Pose: a horizontal (bilateral) width is foreshortened by cos(yaw) and by which side is hidden,
 * so widths are measured in frontal photos only; midline vertical lengths (nasion, subnasale,
 * labiale superius, menton) keep their length under yaw and are measured in every view; nasal
 * projection (subnasale to the nose tip) is seen only in profile. A measurement the view cannot
 * support is absent (`null`), never a number.
 *
 * Landmark model: the iBUG-68 scheme marks only the nasal bridge's midline (27-30), so the nasal
 * bridge width reads the two nasal sidewall points that the face mesh (the default model) places
 * after the 68; with the 68-point model it is absent, as where the view cannot support it.
 */
import { PhenofaceError } from '../errors.ts';
import type { RegionName } from '../explain/regions.ts';
import type { Point, View } from '../types.ts';
import { EXTENDED_POINTS, EXTRA_POINTS, IBUG68_POINTS } from '../landmarks/ibug68.ts';
import { IBUG68_NAMED } from './ibug68.ts';

/** Where a measurement lies: an explanation region, both eyes, or the whole face. */
export type MeasurementRegion = RegionName | 'periorbital' | 'whole-face';

/** An HPO term (Human Phenotype Ontology, Köhler et al. 2021). */
export interface HpoTerm {
  id: string;
  label: string;
}

/** An HPO term and the side of the control distribution it describes. */
export interface DirectedHpoTerm extends HpoTerm {
  /** `low`: the term describes a value below the controls (e.g. short); `high`: above. */
  side: 'low' | 'high';
}

/** One measurement of the panel. */
export interface MeasurementDefinition {
  /** Stable name (kebab-case), as written in JSON. */
  readonly name: string;
  /** What a clinician calls it, with the patient's side where it has one. */
  readonly label: string;
  readonly region: MeasurementRegion;
  /** The Farkas definition and the point indices used (iBUG-68, or `EXTRA_POINTS` from 68 on). */
  readonly definition: string;
  /** Views in which the measurement is taken; elsewhere it is absent. */
  readonly views: readonly View[];
  /**
   * The point indices the numerator uses (the reference uses the 68); an index past the points a
   * model places makes the measurement absent for that model.
   */
  readonly landmarks: readonly number[];
  /** HPO terms for a value beyond the threshold on the side each names. */
  readonly hpo: readonly DirectedHpoTerm[];
  /** The scale-free value from the points (the 68, then the extras) and the reference length. */
  value(points: readonly Point[], reference: number): number;
}

const ALL_VIEWS: readonly View[] = ['frontal', 'oblique', 'profile'];
const FRONTAL: readonly View[] = ['frontal'];
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const term = (id: string, label: string, side: 'low' | 'high'): DirectedHpoTerm => ({ id, label, side });

/** A measurement that is one distance divided by the reference length. */
function lengthMeasurement(
  spec: Omit<MeasurementDefinition, 'value' | 'landmarks' | 'views'> & { from: number; to: number; views?: readonly View[] },
): MeasurementDefinition {
  const { from, to, views = FRONTAL, ...rest } = spec;
  return Object.freeze({ ...rest, views, landmarks: [from, to], value: (p: readonly Point[], ref: number) => dist(p[from], p[to]) / ref });
}

const I = IBUG68_NAMED;

/**
 * The panel, in display order. Each entry states its Farkas landmarks and the iBUG-68 indices:
 * - palpebral fissure length, each eye: ex-en, 36-39 (image left) and 42-45 (image right); frontal; short: HP:0012745;
 * - inner canthal distance: en-en, 39-42; frontal; wide: telecanthus HP:0000506;
 * - outer canthal distance: ex-ex, 36-45; frontal;
 * - alar base width: the lateral alar points, 31-35 (iBUG's nearest to Farkas' al-al); frontal;
 *   narrow: underdeveloped nasal alae HP:0000430, narrow nose HP:0000460; wide: wide nose HP:0000445;
 * - nasal bridge width: the nasal sidewalls at the root, extra points 68-69 (the surface over
 *   Farkas' maxillofrontale, mf-mf, the nasal root width); frontal; only from a model that places
 *   them (the face mesh); wide: wide nasal bridge HP:0000431; narrow: narrow nasal bridge HP:0000446;
 * - nasal tip width: the nostril points either side of the columella, 32-34 (iBUG has no point on
 *   the lobule's sides; this is its nearest width); frontal; wide: bulbous nose HP:0000414;
 * - nasal length: n-sn, 27-33; every view; long nose HP:0003189, short nose HP:0003196;
 * - nasal projection: sn-prn, 33-30; profile only (in a frontal photo the tip hides the depth);
 * - mouth width: ch-ch, 48-54; frontal; narrow mouth HP:0000160, wide mouth HP:0000154;
 * - philtrum length: sn-ls, 33-51; every view; long philtrum HP:0000343, short philtrum HP:0000322;
 * - lower-face height: sn-gn, 33-8; every view;
 * - face height/width: n-gn over the face's width at the top of the jaw contour, 27-8 / 0-16
 *   (iBUG's nearest to the bizygomatic width); frontal; high: long face HP:0000276.
 */
export const MEASUREMENTS: readonly MeasurementDefinition[] = Object.freeze([
  /** Palpebral fissure length, image-left eye: ex-en, iBUG 36-39; frontal only. */
  lengthMeasurement({
    name: 'palpebral-fissure-length-left', label: "Palpebral fissure length, patient's right eye (image left)", region: 'periorbital-left',
    definition: 'ex-en: exocanthion to endocanthion, iBUG 36-39, / reference', from: I.exocanthionLeft, to: I.endocanthionLeft,
    hpo: [term('HP:0012745', 'Short palpebral fissure', 'low')],
  }),
  /** Palpebral fissure length, image-right eye: en-ex, iBUG 42-45; frontal only. */
  lengthMeasurement({
    name: 'palpebral-fissure-length-right', label: "Palpebral fissure length, patient's left eye (image right)", region: 'periorbital-right',
    definition: 'en-ex: endocanthion to exocanthion, iBUG 42-45, / reference', from: I.endocanthionRight, to: I.exocanthionRight,
    hpo: [term('HP:0012745', 'Short palpebral fissure', 'low')],
  }),
  /** Inner canthal distance: en-en, iBUG 39-42; frontal only. */
  lengthMeasurement({
    name: 'inner-canthal-distance', label: 'Inner canthal distance', region: 'periorbital',
    definition: 'en-en: between the endocanthia, iBUG 39-42, / reference', from: I.endocanthionLeft, to: I.endocanthionRight,
    hpo: [term('HP:0000506', 'Telecanthus', 'high')],
  }),
  /** Outer canthal distance: ex-ex, iBUG 36-45; frontal only. */
  lengthMeasurement({
    name: 'outer-canthal-distance', label: 'Outer canthal distance', region: 'periorbital',
    definition: 'ex-ex: between the exocanthia, iBUG 36-45, / reference', from: I.exocanthionLeft, to: I.exocanthionRight, hpo: [],
  }),
  /** Alar base width: al-al as iBUG's lateral alar points, 31-35; frontal only. */
  lengthMeasurement({
    name: 'alar-base-width', label: 'Alar base width', region: 'perinasal',
    definition: 'al-al: between the lateral alar points, iBUG 31-35, / reference', from: I.alarLeft, to: I.alarRight,
    hpo: [term('HP:0000430', 'Underdeveloped nasal alae', 'low'), term('HP:0000460', 'Narrow nose', 'low'), term('HP:0000445', 'Wide nose', 'high')],
  }),
  /** Nasal bridge width: the nasal sidewalls at the root (mf-mf), extra points 68-69; frontal only. */
  lengthMeasurement({
    name: 'nasal-bridge-width', label: 'Nasal bridge width', region: 'perinasal',
    definition: 'mf-mf: between the nasal sidewalls at the nasal root, where they meet the medial canthal regions, extra points 68-69 (face mesh vertices 245-465), / reference; absent for a model without them',
    from: EXTRA_POINTS.nasalSidewallLeft, to: EXTRA_POINTS.nasalSidewallRight,
    hpo: [term('HP:0000446', 'Narrow nasal bridge', 'low'), term('HP:0000431', 'Wide nasal bridge', 'high')],
  }),
  /** Nasal tip width: the nostril points beside the columella, iBUG 32-34; frontal only. */
  lengthMeasurement({
    name: 'nasal-tip-width', label: 'Nasal tip width', region: 'perinasal',
    definition: 'between the nostril points either side of the columella, iBUG 32-34, / reference', from: I.nostrilLeft, to: I.nostrilRight,
    hpo: [term('HP:0000414', 'Bulbous nose', 'high')],
  }),
  /** Nasal length: n-sn, iBUG 27-33; every view (a midline length). */
  lengthMeasurement({
    name: 'nasal-length', label: 'Nasal length', region: 'perinasal', views: ALL_VIEWS,
    definition: 'n-sn: nasion to subnasale, iBUG 27-33, / reference', from: I.nasion, to: I.subnasale,
    hpo: [term('HP:0003196', 'Short nose', 'low'), term('HP:0003189', 'Long nose', 'high')],
  }),
  /** Nasal tip projection: sn-prn, iBUG 33-30; profile only. */
  lengthMeasurement({
    name: 'nasal-projection', label: 'Nasal tip projection', region: 'perinasal', views: ['profile'],
    definition: 'sn-prn: subnasale to pronasale, iBUG 33-30, in profile, / reference', from: I.subnasale, to: I.pronasale, hpo: [],
  }),
  /** Mouth width: ch-ch, iBUG 48-54; frontal only. */
  lengthMeasurement({
    name: 'mouth-width', label: 'Mouth width', region: 'perioral',
    definition: 'ch-ch: between the cheilia, iBUG 48-54, / reference', from: I.cheilionLeft, to: I.cheilionRight,
    hpo: [term('HP:0000160', 'Narrow mouth', 'low'), term('HP:0000154', 'Wide mouth', 'high')],
  }),
  /** Philtrum length: sn-ls, iBUG 33-51; every view. */
  lengthMeasurement({
    name: 'philtrum-length', label: 'Philtrum length', region: 'perioral', views: ALL_VIEWS,
    definition: 'sn-ls: subnasale to labiale superius, iBUG 33-51, / reference', from: I.subnasale, to: I.labialeSuperius,
    hpo: [term('HP:0000322', 'Short philtrum', 'low'), term('HP:0000343', 'Long philtrum', 'high')],
  }),
  /** Lower-face height: sn-gn, iBUG 33-8; every view. */
  lengthMeasurement({
    name: 'lower-face-height', label: 'Lower-face height', region: 'chin-jaw', views: ALL_VIEWS,
    definition: 'sn-gn: subnasale to menton, iBUG 33-8, / reference', from: I.subnasale, to: I.menton, hpo: [],
  }),
  /** Face height / width: n-gn (iBUG 27-8) over the jaw contour's top width (iBUG 0-16); frontal only. */
  Object.freeze<MeasurementDefinition>({
    name: 'face-height-width', label: 'Face height / width', region: 'whole-face', views: FRONTAL,
    definition: 'n-gn / face width: nasion to menton (iBUG 27-8) over the width at the top of the jaw contour (iBUG 0-16); a ratio, no reference',
    landmarks: [I.nasion, I.menton, I.jawLeftTop, I.jawRightTop],
    hpo: [term('HP:0000276', 'Long face', 'high')],
    value: (p) => dist(p[I.nasion], p[I.menton]) / dist(p[I.jawLeftTop], p[I.jawRightTop]),
  }),
]);

/** The names of {@link MEASUREMENTS}, in order. */
export const MEASUREMENT_NAMES: readonly string[] = Object.freeze(MEASUREMENTS.map((m) => m.name));

/** The definition of a named measurement, or undefined. */
export function measurementDefinition(name: string): MeasurementDefinition | undefined {
  return MEASUREMENTS.find((m) => m.name === name);
}

/**
 * The reference length: root-mean-square distance of the points from their centroid (Bookstein's
 * centroid size / sqrt(n)), in the points' unit.
 */
export function referenceLength(points: readonly Point[]): number {
  let cx = 0, cy = 0;
  for (const [x, y] of points) {
    cx += x;
    cy += y;
  }
  cx /= points.length;
  cy /= points.length;
  let ss = 0;
  for (const [x, y] of points) ss += (x - cx) ** 2 + (y - cy) ** 2;
  return Math.sqrt(ss / points.length);
}

/**
 * Throws `E_INPUT` unless `points` holds 68 to {@link EXTENDED_POINTS} finite points: the 68 in the
 * iBUG-300W order, then some of the extras.
 */
export function checkLandmarks(points: readonly Point[]): void {
  if (points.length < IBUG68_POINTS || points.length > EXTENDED_POINTS || !points.every((p) => p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]))) {
    throw new PhenofaceError('E_INPUT', `Invalid landmarks: ${points.length} points. Expected ${IBUG68_POINTS} to ${EXTENDED_POINTS} finite [x, y] points: the ${IBUG68_POINTS} in the iBUG-300W order, then the extra points.`);
  }
}

/**
 * Measures the panel on one face: one value per entry of {@link MEASUREMENTS}, in order; `null`
 * where the view does not support the measurement, where the view is unknown, where the landmark
 * model does not place a point the measurement needs, or where the face has no extent (every
 * point at one place). Throws `E_INPUT` on a malformed point list.
 */
export function measurePanel(points: readonly Point[], view: View | undefined): (number | null)[] {
  checkLandmarks(points);
  const reference = referenceLength(points.slice(0, IBUG68_POINTS));
  return MEASUREMENTS.map((m) => {
    if (!view || !m.views.includes(view) || !(reference > 0) || m.landmarks.some((l) => l >= points.length)) return null;
    const v = m.value(points, reference);
    return Number.isFinite(v) ? v : null;
  });
}
