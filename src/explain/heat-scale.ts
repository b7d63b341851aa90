/**
 * The colour scale of heat maps, shared across photos: a heat map's values are the positive-class
 * evidence of each part of the face (for HiResCAM and its contrastive form, the cells' terms sum to
 * the decision value's change; Draelos & Carin 2020), so one scale lets colours be compared between
 * photos and a photo with little evidence stay pale. `study` fixes the scale's hot end at a high
 * percentile of the heat on its positive-class photos and writes it beside the bundle as
 * `model/explain-scale.json`; screening draws with it. Without the file (older bundles, studies run
 * without explanations), or for another map than the study's, each photo is drawn on its own scale
 * (its hottest place the hot end), and the result says so. The file is read and written by
 * `heat-scale-file.ts`; this module has no Node dependency, so the web app can use its types.
 */
import { summariseExplanationChecks } from './study-result.ts';

/** The study's shared colour scale of one map. */
export interface StudyHeatScale {
  backbone: string;
  /** The map it was measured on (the study's: `contrastive`, `hirescam` or `gradcam`). */
  cam: string;
  /** The heat value (decision-value units per pixel of the 112x112 crop) at the scale's hot end. */
  top: number;
  /** The percentile of the pooled heat of the positive-class photos that `top` is, in (0, 1). */
  percentile: number;
  /** Positive-class photos pooled. */
  photos: number;
  /** The mean decision value of the study's control photos: where {@link evidenceHeat} measures evidence from. */
  controlScore: number;
  /** The `id` of the model bundle it belongs to. */
  bundleId?: string;
  /** The study's checks of this map (sanity checks, occlusion agreement, heat outside the face), by name; absent in older files. */
  checks?: { name: string; passed: boolean | null }[];
}

/**
 * How one photo's heat map was coloured (`screen --json` photos' `heatScale`): on the study's
 * shared scale, or on the photo's own when the model has none for the map drawn.
 */
export interface HeatScaleUsed {
  /** `study`: shared across photos; `photo`: this photo's hottest place is the hot end. */
  basis: 'study' | 'photo';
  /** Heat value at the hot end of the colour scale. */
  top: number;
  /** This photo's hottest heat as a fraction of `top` (1 on its own scale; above 1 is drawn as 1). */
  peak: number;
  /** With `basis: study`: the percentile of the study's positive-class heat that `top` is, and over how many photos. */
  percentile?: number;
  photos?: number;
  /** The scale in one sentence, for a reader. */
  note: string;
}

/** What {@link evidenceHeat} needs of an explanation (a `FaceExplanation`). */
export interface MapEvidence {
  /** The map upsampled to the crop (ReLU'd). */
  heat: Float32Array;
  /** The map's cells: `cam` ReLU'd, `signed` before the ReLU. */
  cam: { cam: ArrayLike<number>; signed: ArrayLike<number> };
  /** The decision value the map explains. */
  score: number;
}

/**
 * The heat a map draws as net evidence for the positive class: its positive cells, scaled so that
 * they add up to how far the face's decision value rises above that of the study's typical control
 * (`controlScore`, the mean over its control photos), and to nothing when it does not. A map's cells
 * say where the decision comes from, to first order (for the contrastive map, relative to the
 * controls' mean map; Shrikumar et al. 2017), but its positive cells alone would show a control
 * scored near 0% as hot as a positive face: faces differ from the mean everywhere, in both
 * directions. Without `controlScore` (a bundle without the study's scale) the map's own signed sum
 * is the net evidence. The factor is the same for every cell, so region shares are unchanged.
 */
export function evidenceHeat(e: MapEvidence, controlScore?: number): Float32Array {
  let net = 0, positive = 0;
  for (let i = 0; i < e.cam.signed.length; i++) net += e.cam.signed[i];
  for (let i = 0; i < e.cam.cam.length; i++) positive += e.cam.cam[i];
  if (controlScore !== undefined) net = e.score - controlScore;
  const factor = positive > 0 ? Math.max(0, net) / positive : 0;
  return e.heat.map((v) => v * factor);
}

/** Largest value of a map (0 for a map with no positive value). */
export function heatPeak(heat: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < heat.length; i++) if (heat[i] > m) m = heat[i];
  return m;
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
/** Four significant digits: heat values are small numbers of any magnitude. */
const sig4 = (v: number) => Number(v.toPrecision(4));

/**
 * What a heat map's colours mean, for the map drawn (`cam`): the web app's caption under each map,
 * and `screen`'s text beside the PNG files, whose colour bar has no words of its own.
 */
export function heatMapCaption(cam: string | undefined): string {
  if (cam === 'contrastive') return 'Heatmap (contrastive HiResCAM): the warmer and stronger the colour, the more that area raised the model\'s score above that of a typical control face of the study; untinted areas gave no net evidence for it.';
  const name = cam === 'hirescam' ? 'HiResCAM' : cam === 'gradcam-14x14' ? 'Grad-CAM, 14x14' : 'Grad-CAM';
  return `Heatmap (${name}): the warmer and stronger the colour, the more that area raised the model's score; untinted areas gave no net evidence for it.`;
}

/**
 * The study's checks of a map that failed or could not be measured, in one sentence (`model.heatMapChecks`),
 * for the map the study checked; undefined when they all passed, for another map, or for a scale
 * without checks. A failed check (e.g. greying out each region ranks the regions otherwise) means
 * the region shares are one method's view, not where the score is known to come from.
 */
export function heatMapChecksNote(study: StudyHeatScale | undefined, cam: string): string | undefined {
  if (!study?.checks || study.cam !== cam) return undefined;
  const { total: n, failed, notMeasured: unmeasured } = summariseExplanationChecks(study.checks);
  if (!failed.length && !unmeasured.length) return undefined;
  const what = [
    ...(failed.length ? [`failed ${failed.length} of its ${n} checks (${failed.join(', ')})`] : []),
    ...(unmeasured.length ? [`could not be checked for ${unmeasured.length} of ${failed.length ? 'them' : `its ${n} checks`} (${unmeasured.join(', ')})`] : []),
  ];
  return `In the model's study these maps ${what.join(' and ')}: read the region shares as one method's view, not as established (the study's report, "What the model looks at", says why).`;
}

/**
 * The scale one photo's map is drawn on: the study's when it was measured on the same map, else
 * the photo's own (which says that colours cannot be compared between photos).
 */
export function heatScaleFor(heat: ArrayLike<number>, cam: string, study: StudyHeatScale | undefined): HeatScaleUsed {
  const peak = heatPeak(heat);
  if (study && study.cam === cam) {
    const pct = Math.round(100 * study.percentile * 10) / 10;
    return {
      basis: 'study', top: sig4(study.top), peak: r4(peak / study.top), percentile: study.percentile, photos: study.photos,
      note: `Colours on a scale shared by all photos: the hottest colour is the ${pct}th percentile of the heat on ${study.photos} of the study's positive-class photos (the sample its explanation analysis drew); no tint means no evidence for the positive class.`,
    };
  }
  const why = study ? `the model's shared scale was measured on the ${study.cam} map, not this ${cam} map` : 'the model carries no shared scale (made by an earlier version, or without the explanation analysis)';
  return { basis: 'photo', top: sig4(peak), peak: peak > 0 ? 1 : 0, note: `Colours on this photo's own scale (its hottest place is the hottest colour), because ${why}: colours cannot be compared between photos.` };
}
