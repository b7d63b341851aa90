/**
 * Synth's seeded choice of affected subjects. Every draw is keyed by `(seed, name)` rather than
 * taken from one running stream (see `hashUniform` in `src/math/random.ts`), so a subject's choice does
 * not depend on which other subjects, or how many, are in the data set, nor on the order of the
 * manifest's rows.
 */
import { hashUniform } from '../../math/random.ts';

/**
 * The `round(fraction * n)` subjects with the smallest `hashUniform(seed, "affected:" + id)`:
 * a seeded draw without replacement that is independent of the order `subjects` come in.
 */
export function chooseAffected(subjects: readonly string[], fraction: number, seed: number): Set<string> {
  const unique = [...new Set(subjects)];
  const k = Math.round(fraction * unique.length);
  const ranked = unique
    .map((id) => ({ id, r: hashUniform(seed, `affected:${id}`) }))
    .sort((a, b) => a.r - b.r || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return new Set(ranked.slice(0, k).map((x) => x.id));
}
