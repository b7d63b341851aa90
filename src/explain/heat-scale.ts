/**
 * The colour scale of heat maps, shared across photos: a heat map's values are the positive-class
 * evidence of each part of the face (for HiResCAM and its contrastive form, the cells' terms sum to
 * the decision value's change; Draelos & Carin 2020), so one scale lets colours be compared between
 * photos and a photo with little evidence stay pale. `study` fixes the scale's hot end at a high
 * percentile of the heat on its positive-class photos and writes it beside the bundle as
 * `model/explain-scale.json`; screening draws with it. Without the file (older bundles, studies run
 * without explanations), or for another map than the study's, each photo is drawn on its own scale
 * (its hottest place the hot end), and the result says so.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';

/** File name of the scale inside the bundle folder. */
export const HEAT_SCALE_FILE = 'explain-scale.json';

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
  /** The `id` of the model bundle it belongs to. */
  bundleId?: string;
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

/**
 * The heat a map draws as net evidence for the positive class: its positive cells scaled by the
 * share of them that the negative cells leave standing, `max(0, sum signed) / sum max(0, signed)`.
 * A map's signed cells add up, to first order, to the change of the score it explains (for the
 * contrastive map, relative to the study's mean control; Shrikumar et al. 2017), and its negative
 * cells are evidence against. Drawn alone, the positive cells would show a face whose evidence
 * against outweighs them (a control scored near 0) as hot as a positive one; scaled, its heat
 * totals the net evidence for the positive class, and a face with none is not tinted. The factor is
 * the same for every cell, so region shares are unchanged.
 */
export function netEvidenceHeat(heat: Float32Array, signed: ArrayLike<number>): Float32Array {
  let net = 0, positive = 0;
  for (let i = 0; i < signed.length; i++) {
    net += signed[i];
    if (signed[i] > 0) positive += signed[i];
  }
  const factor = positive > 0 ? Math.max(0, net) / positive : 0;
  return factor === 1 ? heat : heat.map((v) => v * factor);
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
 * The scale one photo's map is drawn on: the study's when it was measured on the same map, else
 * the photo's own (which says that colours cannot be compared between photos).
 */
export function heatScaleFor(heat: ArrayLike<number>, cam: string, study: StudyHeatScale | undefined): HeatScaleUsed {
  const peak = heatPeak(heat);
  if (study && study.cam === cam) {
    const pct = Math.round(100 * study.percentile * 10) / 10;
    return {
      basis: 'study', top: sig4(study.top), peak: r4(peak / study.top), percentile: study.percentile, photos: study.photos,
      note: `Colours on a scale shared by all photos: the hottest colour is the ${pct}th percentile of the heat on the study's ${study.photos} positive-class photos; no tint means no evidence for the positive class.`,
    };
  }
  const why = study ? `the model's shared scale was measured on the ${study.cam} map, not this ${cam} map` : 'the model carries no shared scale (made by an earlier version, or without the explanation analysis)';
  return { basis: 'photo', top: sig4(peak), peak: peak > 0 ? 1 : 0, note: `Colours on this photo's own scale (its hottest place is the hottest colour), because ${why}: colours cannot be compared between photos.` };
}

/** Writes the scale into the bundle folder `dir`. */
export async function saveHeatScale(dir: string, scale: StudyHeatScale): Promise<string> {
  if (!(Number.isFinite(scale.top) && scale.top > 0)) throw new PhenofaceError('E_INPUT', `Invalid heat scale top: ${scale.top}. Expected a positive number (the study's positive-class photos had no heat).`);
  const file = path.join(dir, HEAT_SCALE_FILE);
  await writeFile(file, JSON.stringify({ contract: 1, ...scale }, null, 1) + '\n');
  return file;
}

/**
 * Reads the bundle folder's scale; undefined when there is none. E_MODEL when the file is
 * malformed or belongs to another backbone or bundle (`bundleId`, when both name one).
 */
export async function loadHeatScale(dir: string, backbone: string, bundleId?: string): Promise<StudyHeatScale | undefined> {
  const file = path.join(dir, HEAT_SCALE_FILE);
  if (!existsSync(file)) return undefined;
  const bad = (why: string) => new PhenofaceError('E_MODEL', `Invalid heat-map scale ${file}: ${why}. Expected the file \`phenoface study\` writes for this model; delete it to draw each photo on its own scale.`);
  let j: Partial<Record<keyof StudyHeatScale, unknown>>;
  try {
    j = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (j.backbone !== backbone) throw bad(`it is for backbone "${String(j.backbone)}", not "${backbone}"`);
  if (bundleId !== undefined && j.bundleId !== undefined && j.bundleId !== bundleId) throw bad(`it was made with model ${String(j.bundleId)}, not this one (${bundleId})`);
  const { cam, top, percentile, photos } = j;
  if (typeof cam !== 'string') throw bad('"cam" is missing');
  if (typeof top !== 'number' || !(Number.isFinite(top) && top > 0)) throw bad(`"top" is ${JSON.stringify(top)}, expected a positive number`);
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile < 1)) throw bad(`"percentile" is ${JSON.stringify(percentile)}, expected a number in (0, 1)`);
  if (!Number.isInteger(photos) || (photos as number) < 1) throw bad(`"photos" is ${JSON.stringify(photos)}, expected a positive integer`);
  return { backbone, cam, top, percentile, photos: photos as number, ...(typeof j.bundleId === 'string' ? { bundleId: j.bundleId } : {}) };
}
