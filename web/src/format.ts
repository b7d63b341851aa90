/** Plain-language wording of results, codes and figures for clinicians. */
import type { Figure, LevelMetrics } from '../../src/server/api-types.ts';
import type { View } from '../../src/types.ts';
import { REGION_LABELS } from '../../src/explain/regions.ts';
import { singleValueClause } from '../../src/evaluate/post-test.ts';

/** A probability as a whole percentage ("62%"); below 1% and above 99% say so. */
export function pct(p: number | null | undefined, digits = 0): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p > 0 && p < 0.01 && digits === 0) return '<1%';
  if (p < 1 && p > 0.99 && digits === 0) return '>99%';
  return `${(p * 100).toFixed(digits)}%`;
}

/**
 * A classifier score (or a probability of the differential) as a whole percentage that is never
 * a certainty: a score is rounded to four decimals, so one of exactly 1 or 0 is only near it
 * (">99%", "<1%"). Counted rates, which can be exactly 100%, go through `pct`.
 */
export function scorePct(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p >= 1) return '>99%';
  if (p <= 0) return '<1%';
  return pct(p);
}

/** A figure's value, or undefined. */
export function figureValue(f: Figure | undefined): number | undefined {
  if (f === undefined || f === null) return undefined;
  const v = typeof f === 'number' ? f : f.value;
  return v === null || !Number.isFinite(v) ? undefined : v;
}

/** A figure as "91% (86–95%)"; an interval of one value says it is no certainty, as the report does. */
export function figureText(f: Figure | undefined, asPercent = true): string {
  const v = figureValue(f);
  if (v === undefined) return '–';
  const fmt = (x: number) => (asPercent ? pct(x) : x.toFixed(2));
  const ci = typeof f === 'object' && f?.ci95 ? ` (${fmt(f.ci95[0])}–${fmt(f.ci95[1])}${singleValueClause(f.ci95)})` : '';
  return `${fmt(v)}${ci}`;
}

/**
 * The figures shown for one level or view. `n` says what it counts (`unit`: people or photos) and,
 * where the bundle keeps them, how many of each class: a 100% sensitivity of 4 affected people is
 * not one of 40.
 */
export function metricCells(m: LevelMetrics | undefined, unit: 'people' | 'photos'): { sensitivity: string; specificity: string; auc: string; n: string } {
  const n = typeof m?.n === 'number' ? { units: m.n } : m?.n;
  const split = typeof n?.positive === 'number' && typeof n?.negative === 'number' ? `: ${n.positive} with, ${n.negative} without` : '';
  return {
    sensitivity: figureText(m?.sensitivity),
    specificity: figureText(m?.specificity),
    auc: figureText(m?.auc, false),
    n: typeof n?.units === 'number' ? `${n.units} ${unit}${split}` : '–',
  };
}

const CLASS_NAMES: Record<string, string> = {
  vcfs: '22q11.2 deletion syndrome',
  '22q11.2ds': '22q11.2 deletion syndrome',
  control: 'no syndrome (control)',
};

/**
 * A class name as a clinician reads it. Class names come from the study's manifest, so only
 * CLASS_NAMES' own entries are looked up: a class "constructor" or "__proto__" is shown as it is,
 * not as what the object's prototype holds under that name.
 */
export function className(name: string): string {
  const key = name.toLowerCase();
  return Object.hasOwn(CLASS_NAMES, key) ? CLASS_NAMES[key] : name;
}

export const VIEW_TEXT: Record<View, { label: string; note: string }> = {
  frontal: { label: 'Frontal', note: 'Frontal photo.' },
  oblique: { label: 'Oblique', note: 'Oblique (turned) photo: see the warnings for how this model did on oblique photos.' },
  profile: { label: 'Profile', note: 'Profile photo: see the warnings for how this model did on profile photos.' },
};

/** A facial region's name as a clinician says it (REGION_LABELS: sides are the patient's); the code name is kept in a tooltip. */
export function regionName(name: string): string {
  return (REGION_LABELS as Record<string, string>)[name] ?? name.replace(/[-_]/g, ' ');
}

const ERROR_TEXT: Record<string, string> = {
  E_NO_FACE: 'No face was found. Use a photo in which the face is clearly visible, well lit and not cut off.',
  E_DECODE: 'This file could not be read as a photo: it may be damaged or incomplete. Export it again as JPEG.',
  E_UNSUPPORTED: 'This file type is not accepted. Use a JPEG, PNG, WebP, GIF, TIFF or AVIF photo.',
  E_TOO_LARGE: 'This photo is too large. Use a smaller photo (at most 20 MB and 50 megapixels).',
  E_TOO_SMALL: 'This photo is too small to find a face in. Use a larger photo.',
  E_BUSY: 'The server is busy with other screenings. Please try again in a moment.',
  E_UNAUTHORIZED: 'This server needs an access token.',
  E_NETWORK: 'The Phenoface server cannot be reached.',
};

/** A code's plain explanation, or undefined when the server's message is the best we have. */
export function errorAdvice(code: string): string | undefined {
  return Object.hasOwn(ERROR_TEXT, code) ? ERROR_TEXT[code] : undefined;
}

/**
 * What a photo's error says to the clinician: the code's plain explanation, with the server's
 * finding that a face shows when the photo is turned (an E_NO_FACE of a photo whose orientation
 * tag was lost), which the generic advice would otherwise hide; else the server's message.
 */
export function photoErrorText(error: { code: string; message: string }): string {
  const advice = errorAdvice(error.code);
  const turned = error.code === 'E_NO_FACE' ? /A face is found with the photo turned (90|180|270) degrees clockwise/.exec(error.message) : null;
  if (advice && turned) return `No face was found upright, but one is with the photo turned ${turned[1]} degrees clockwise: its orientation tag may be missing. Turn the photo upright and screen it again.`;
  return advice ?? error.message;
}

/** Bytes as "3.2 MB". */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
