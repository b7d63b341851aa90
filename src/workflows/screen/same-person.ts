/**
 * A screening takes every photo it is given as one person's and fuses their scores. A photo of
 * someone else among them (a sibling, a mix-up of files) would move the person's result unseen, so
 * each frontal photo is compared with the mean of the person's other frontal photos on the
 * backbone's embedding, and one that matches them less than nearly all of one person's photos do
 * (`data.samePersonMinCosine`) is warned. Only frontal photos are compared: a face seen from the
 * side matches the same face seen from the front too little to tell.
 */
import { DEFAULTS } from '../../config.ts';
import type { View } from '../../types.ts';

/** One screened face: its embedding and its view. */
export interface ScreenedFace {
  vector: ArrayLike<number>;
  view?: View;
}

/**
 * For each face, the warning that it may show another person, or undefined: a frontal face whose
 * cosine with the normalised mean of the other frontal faces' unit embeddings is below the
 * backbone's `minCosine`. No warning with fewer than two frontal faces, or for a backbone without
 * a calibrated threshold.
 */
export function otherPersonWarnings(faces: readonly ScreenedFace[], backbone: string, minCosine: number | undefined = DEFAULTS.data.samePersonMinCosine[backbone]): (string | undefined)[] {
  const frontal = faces.flatMap((f, i) => (f.view === 'frontal' ? [{ i, unit: unit(f.vector) }] : []));
  const out: (string | undefined)[] = faces.map(() => undefined);
  if (minCosine === undefined || frontal.length < 2) return out;
  const sum = new Float64Array(frontal[0].unit.length);
  for (const f of frontal) f.unit.forEach((x, k) => (sum[k] += x));
  for (const f of frontal) {
    const others = Array.from(sum, (x, k) => x - f.unit[k]);
    const norm = Math.hypot(...others);
    const cosine = norm > 0 ? f.unit.reduce((a, x, k) => a + x * others[k], 0) / norm : 1;
    if (cosine < minCosine) {
      out[f.i] = `may show another person: this face matches the person's other frontal photos at cosine ${cosine.toFixed(2)}, where 99.5% of one person's frontal photos match their others at ${minCosine} or more (${backbone}, CFP-dev); check that every photo is of this person, since the result averages them all`;
    }
  }
  return out;
}

/** `v` scaled to unit length (a zero vector stays zero). */
function unit(v: ArrayLike<number>): number[] {
  const n = Math.hypot(...Array.from(v));
  return Array.from(v, (x) => (n > 0 ? x / n : 0));
}

/** Adds {@link otherPersonWarnings} to the warnings of the screened photos they concern. */
export function warnOtherPeople(faces: readonly (ScreenedFace & { photo: { warnings?: string[] } })[], backbone: string): void {
  otherPersonWarnings(faces, backbone).forEach((w, k) => {
    if (w) (faces[k].photo.warnings ??= []).push(w);
  });
}
