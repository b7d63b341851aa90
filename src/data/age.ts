/**
 * The `age` column as subgroups: ages written as numbers (years) fall into bands, so the subgroup
 * tables compare stages of the face rather than one row per distinct age.
 */
import { parseDecimal } from '../math/decimal.ts';

/**
 * Each photo's age band (`"2 to <6 years"`, `"18+ years"`: labels that sort in age order when digits
 * are compared as numbers), cut at `edges` (ascending years), when every given age is a number of
 * years (decimal notation, at least 0) or says that the age is not known ("NA", "unknown", "?":
 * {@link isUnknownAge}, kept as written, as the other subgroup columns keep theirs, so the report
 * counts them); otherwise the values as written, since a column of words ("infant", "adult") or
 * ranges ("2-5") is already a grouping. An empty cell stays undefined.
 */
export function ageSubgroups(ages: readonly (string | undefined)[], edges: readonly number[]): (string | undefined)[] {
  const blank = (a: string | undefined): a is undefined => a === undefined || a.trim() === '';
  const given = ages.filter((a) => !blank(a)) as string[];
  const isYears = (a: string) => { const y = parseDecimal(a); return y >= 0 && Number.isFinite(y); };
  if (!given.some(isYears) || !given.every((a) => isYears(a) || isUnknownAge(a))) return [...ages];
  const band = (y: number): string => {
    const upper = edges.findIndex((e) => y < e);
    if (upper === 0) return `0 to <${edges[0]} years`;
    if (upper < 0) return `${edges.at(-1)}+ years`;
    return `${edges[upper - 1]} to <${edges[upper]} years`;
  };
  return ages.map((a) => (blank(a) ? undefined : isYears(a) ? band(parseDecimal(a)) : a));
}

/**
 * Whether an age cell is a spreadsheet's or a registry's way of writing "not known" (NA, N/A, NaN,
 * null, none, unknown, not known, missing, ?, -, .), which must not stop the numeric ages from
 * falling into bands.
 */
export function isUnknownAge(a: string): boolean {
  return /^\s*(n\/?a|nan|null|none|unknown|not known|missing|\?+|-+|\.)\s*$/i.test(a);
}
