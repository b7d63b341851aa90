/**
 * Facial regions on the 112x112 ArcFace template, defined from its five landmarks, and each
 * region's share of a heat map. The regions follow the facial phenotype of 22q11.2 deletion
 * syndrome (McDonald-McGinn et al., Nat Rev Dis Primers 2015) as Baek et al. 2025 read their
 * Grad-CAM maps: periorbital, perinasal, perioral, malar, forehead/glabella, chin/jaw, plus
 * everything outside the face (hair, ears, background), where heat means shortcut learning.
 *
 * The masks are hard and form a partition of the 112x112 crop (each pixel in exactly one region),
 * built in a fixed priority order from shapes scaled by the inter-ocular distance of the
 * template. Left/right are as seen in the image (the contract's landmark convention:
 * `periorbital-left` is the eye on the image's left, the subject's right eye).
 */
import { ALIGNED_SIZE, ARCFACE_TEMPLATE } from '../align/template.ts';
import { PhenofaceError } from '../errors.ts';

/** Region names, in display order. */
export const REGION_NAMES = [
  'periorbital-left', 'periorbital-right', 'perinasal', 'perioral', 'forehead-glabella',
  'malar-left', 'malar-right', 'chin-jaw', 'outside-face',
] as const;

/** A region name. */
export type RegionName = (typeof REGION_NAMES)[number];

/**
 * Each region as a clinician names it. Sides are the patient's: the eye on the image's left is
 * the patient's right eye in an ordinary (not mirrored) photo.
 */
export const REGION_LABELS: Readonly<Record<RegionName, string>> = Object.freeze({
  'periorbital-left': "Around the patient's right eye",
  'periorbital-right': "Around the patient's left eye",
  perinasal: 'Nose',
  perioral: 'Mouth',
  'forehead-glabella': 'Forehead and glabella',
  'malar-left': "Patient's right cheek",
  'malar-right': "Patient's left cheek",
  'chin-jaw': 'Chin and jaw',
  'outside-face': 'Outside the face (hair, background)',
});

/**
 * A region's name from a result (`periorbital-left`) as a clinician names it, with the patient's
 * side ({@link REGION_LABELS}); a name that is not a region is given as it is.
 */
export function regionLabel(name: string): string {
  return (REGION_LABELS as Record<string, string>)[name] ?? name;
}

/**
 * HPO terms each region relates to (from the 22q11.2DS facial gestalt).
 * `HP:0000276 long face` concerns the whole face's proportions; it is attached to the two
 * regions that set the face's length, forehead/glabella and chin/jaw.
 */
export const REGION_HPO: Readonly<Record<RegionName, readonly string[]>> = Object.freeze({
  'periorbital-left': ['HP:0045025 narrow palpebral fissure', 'HP:0000582 upslanted palpebral fissure', 'HP:0000629 periorbital fullness'],
  'periorbital-right': ['HP:0045025 narrow palpebral fissure', 'HP:0000582 upslanted palpebral fissure', 'HP:0000629 periorbital fullness'],
  perinasal: ['HP:0000414 bulbous nose', 'HP:0000430 underdeveloped nasal alae', 'HP:0000426 prominent nasal bridge'],
  perioral: ['HP:0000160 narrow mouth', 'HP:0000347 micrognathia'],
  'forehead-glabella': ['HP:0000276 long face'],
  'malar-left': ['HP:0000272 malar flattening'],
  'malar-right': ['HP:0000272 malar flattening'],
  'chin-jaw': ['HP:0000276 long face'],
  'outside-face': [],
});

/**
 * What a heat map's region ranking cannot tell apart, for whoever reads it. Measured with a second
 * planting tool (`scripts/plant-tps.ts`, docs/benchmarks.md): where only the mouth was changed the
 * map ranked the nose, the narrow middle of the face between the eyes and the mouth, first for
 * half of the photos, where only the eyes were changed for 46%. A finer map (the 28x28 block) does
 * the same (docs/decisions.md), so the map's cell size is not the whole cause. The text quotes no
 * figure: the report's and the screen's numbers are the study's own.
 */
export const REGION_RANKING_NOTE =
  'Neighbouring regions are not told apart reliably: on test photos where only the mouth or only the eyes had been changed, the nose was often ranked first. Read "nose" as the middle of the face.';

/** Region masks on a square aligned crop: `labels[y * size + x]` is the index into {@link REGION_NAMES}. */
export interface RegionMasks {
  size: number;
  labels: Uint8Array;
  /** Pixel count of each region. */
  areas: number[];
}

const inEllipse = (x: number, y: number, cx: number, cy: number, rx: number, ry: number) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;

/**
 * Builds the region partition of the ArcFace template (or of another `size`-pixel crop whose
 * template landmarks are given, e.g. a backbone with its own alignment). All lengths are in
 * units of the inter-ocular distance `d` (35.2 px in the 112 template), so the masks scale with
 * the template. Pixel `(x, y)` is tested at `(x, y)` (the template, like `cv2.warpAffine`, puts
 * pixel centres at integer coordinates); priority order:
 * 1. periorbital: an ellipse around each eye (0.43 d wide, 0.3 d high half-axes), lids and the
 *    skin around the fissure;
 * 2. perinasal: from the nasal bridge between the eyes (0.23 d above the eye line) to just below
 *    the nose tip (0.23 d below it), a trapezoid 0.14 d wide each side at the bridge and
 *    0.36 d at the alae;
 * 3. perioral: an ellipse around the mouth and philtrum (0.6 d by 0.32 d half-axes, centred
 *    0.06 d above the mouth corners' line);
 * 4. outside-face: outside the face oval (centred on the midline 0.2 d above the point halfway
 *    between eye line and mouth line, half-axes 1.31 d wide and 1.65 d high): hair, ears, background;
 * 5. forehead/glabella: above 0.2 d over the eye line (brows, glabella, forehead);
 * 6. chin/jaw: below 0.2 d under the mouth line;
 * 7. malar left/right: the rest of the face, split at the facial midline (cheeks, zygomas, temples).
 */
export function regionMasks(size = ALIGNED_SIZE, template: readonly (readonly [number, number])[] = ARCFACE_TEMPLATE): RegionMasks {
  if (!(Number.isInteger(size) && size >= 8) || template.length !== 5) {
    throw new PhenofaceError('E_INPUT', `Invalid region template: size ${size}, ${template.length} landmarks. Expected an integer size >= 8 and 5 landmarks.`);
  }
  const [le, re, nose, ml, mr] = template;
  const d = Math.hypot(re[0] - le[0], re[1] - le[1]);
  const eyeY = (le[1] + re[1]) / 2;
  const mouthY = (ml[1] + mr[1]) / 2;
  const midX = (le[0] + re[0] + ml[0] + mr[0]) / 4;
  const index = (name: RegionName) => REGION_NAMES.indexOf(name);
  const faceCy = (eyeY + mouthY) / 2 - 0.2 * d;
  const labels = new Uint8Array(size * size);
  const areas = new Array<number>(REGION_NAMES.length).fill(0);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const x = px, y = py;
      let r: RegionName;
      const bridgeTop = eyeY - 0.23 * d, noseBottom = nose[1] + 0.23 * d;
      const t = (y - bridgeTop) / (noseBottom - bridgeTop);
      if (inEllipse(x, y, le[0], le[1], 0.43 * d, 0.3 * d)) r = 'periorbital-left';
      else if (inEllipse(x, y, re[0], re[1], 0.43 * d, 0.3 * d)) r = 'periorbital-right';
      else if (t >= 0 && t <= 1 && Math.abs(x - nose[0]) <= (0.14 + 0.22 * t) * d) r = 'perinasal';
      else if (inEllipse(x, y, (ml[0] + mr[0]) / 2, mouthY - 0.06 * d, 0.6 * d, 0.32 * d)) r = 'perioral';
      else if (!inEllipse(x, y, midX, faceCy, 1.31 * d, 1.65 * d)) r = 'outside-face';
      else if (y < eyeY - 0.2 * d) r = 'forehead-glabella';
      else if (y > mouthY + 0.2 * d) r = 'chin-jaw';
      else r = x < midX ? 'malar-left' : 'malar-right';
      const k = index(r);
      labels[py * size + px] = k;
      areas[k]++;
    }
  }
  return { size, labels, areas };
}

/** Importance of one facial region in a photo's heatmap, as a screening result reports it. */
export interface RegionShare {
  /** Region name, e.g. `periorbital-left`, `perinasal`. */
  name: string;
  /** Share of heatmap energy per unit area, normalised to sum to 1 over regions. */
  share: number;
  /** HPO terms the region relates to, e.g. `HP:0000414 bulbous nose`. */
  hpo?: string[];
}

/** One region's part of a heat map. */
export interface RegionScore extends RegionShare {
  name: RegionName;
  /** Share of the map's energy per unit area, normalised to sum to 1 over regions (the ranking). */
  share: number;
  /** Plain share of the map's energy in the region (sums to 1; large regions get more). */
  energy: number;
  /** Region area as a fraction of the crop. */
  area: number;
  hpo: string[];
}

/**
 * Each region's share of a non-negative heat map on the masks' grid (e.g. a ReLU'd Grad-CAM
 * upsampled to 112x112): energy per pixel of each region, normalised to sum to 1 over regions,
 * so a small region with concentrated heat ranks above a large lukewarm one. A map with no
 * energy gives every region share 0. Returned in {@link REGION_NAMES} order.
 */
export function regionScores(heat: Float32Array | Float64Array, masks: RegionMasks): RegionScore[] {
  const n = masks.size * masks.size;
  if (heat.length !== n) throw new PhenofaceError('E_INPUT', `Heat map of ${heat.length} values for ${masks.size}x${masks.size} region masks. Expected ${n}.`);
  const energy = new Array<number>(REGION_NAMES.length).fill(0);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = heat[i];
    if (!(v >= 0)) throw new PhenofaceError('E_INPUT', `Heat map value ${v} at index ${i}. Expected non-negative finite numbers (a ReLU'd map).`);
    energy[masks.labels[i]] += v;
    total += v;
  }
  const density = energy.map((e, k) => (masks.areas[k] ? e / masks.areas[k] : 0));
  const sum = density.reduce((a, b) => a + b, 0);
  return REGION_NAMES.map((name, k) => ({
    name,
    share: sum > 0 ? density[k] / sum : 0,
    energy: total > 0 ? energy[k] / total : 0,
    area: masks.areas[k] / n,
    hpo: [...REGION_HPO[name]],
  }));
}

/** The regions a feature map is pooled in: the face's, not the background (heat there is a shortcut). */
export const POOLED_REGIONS: readonly RegionName[] = REGION_NAMES.filter((r) => r !== 'outside-face');

/**
 * How one feature map's cells are averaged inside each facial region: `weights[r]` holds, per cell
 * (`y * w + x`), the share of region `r`'s pixels nearest to that cell's centre (it sums to 1).
 * Each pixel of the crop goes to the cell whose centre is nearest (`grid`: cell `i` centred at
 * `offset + stride * i`), so every region gets cells, however small it is, and cells straddling a
 * border count in proportion to the region pixels they cover.
 */
export interface RegionPooling {
  h: number;
  w: number;
  regions: readonly RegionName[];
  weights: Float32Array[];
}

/** The {@link RegionPooling} of an `h x w` map on `grid` over `masks`, for the {@link POOLED_REGIONS}. */
export function regionPooling(masks: RegionMasks, grid: { stride: readonly [number, number]; offset: readonly [number, number] }, h: number, w: number): RegionPooling {
  const cell = (p: number, d: 0 | 1, n: number) => Math.min(n - 1, Math.max(0, Math.round((p - grid.offset[d]) / grid.stride[d])));
  const weights = POOLED_REGIONS.map(() => new Float32Array(h * w));
  const index = new Map(POOLED_REGIONS.map((r, k) => [REGION_NAMES.indexOf(r), k]));
  for (let y = 0; y < masks.size; y++) {
    for (let x = 0; x < masks.size; x++) {
      const k = index.get(masks.labels[y * masks.size + x]);
      if (k !== undefined) weights[k][cell(y, 0, h) * w + cell(x, 1, w)]++;
    }
  }
  for (const row of weights) {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) for (let i = 0; i < row.length; i++) row[i] /= total;
  }
  return { h, w, regions: POOLED_REGIONS, weights };
}

/**
 * Mean of each channel of a `[c, h, w]` map inside each region: `c` values per region, regions in
 * `pooling.regions` order (`out[r * c + channel]`).
 */
export function poolInRegions(map: { c: number; h: number; w: number; data: Float32Array }, pooling: RegionPooling): Float32Array {
  const { c, h, w, data } = map;
  if (h !== pooling.h || w !== pooling.w || data.length !== c * h * w) {
    throw new PhenofaceError('E_INPUT', `Feature map ${c}x${h}x${w} (${data.length} values) for a ${pooling.h}x${pooling.w} region pooling. Expected matching sizes.`);
  }
  const hw = h * w;
  const out = new Float32Array(pooling.regions.length * c);
  pooling.weights.forEach((wt, r) => {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      const o = ch * hw;
      for (let i = 0; i < hw; i++) s += wt[i] * data[o + i];
      out[r * c + ch] = s;
    }
  });
  return out;
}

/**
 * Below this, in log-odds, a region's geometry contribution moves the photo's score by at most an
 * eighth of a percentage point at any score (d p / d logit is at most 1/4): a stack that gives the geometry little
 * weight makes every region's contribution this small, and its ranking then means nothing.
 */
export const GEOMETRY_NEGLIGIBLE_LOGODDS = 0.005;

/** Whether every region's geometry contribution of a photo is negligible (see {@link GEOMETRY_NEGLIGIBLE_LOGODDS}). */
export function geometryNegligible(regions: readonly { contribution: number }[]): boolean {
  return regions.length > 0 && regions.every((r) => Math.abs(r.contribution) < GEOMETRY_NEGLIGIBLE_LOGODDS);
}

/** The sentence said instead of a ranking when {@link geometryNegligible}. */
export const GEOMETRY_NEGLIGIBLE_NOTE = `Every region moves this photo's log-odds by less than ${GEOMETRY_NEGLIGIBLE_LOGODDS} through the face's geometry: that part of the model hardly moves its score, so which region leads means nothing here.`;
