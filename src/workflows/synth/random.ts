/**
 * Seeded randomness for synth. Every draw is keyed by `(seed, name)` rather than taken from one
 * running stream, so a subject's choice and jitter do not depend on which other subjects, or how
 * many, are in the data set, nor on the order of the manifest's rows.
 */
import { createHash } from 'node:crypto';

/** A uniform number in [0, 1) determined by `seed` and the string key `key`. */
export function hashUniform(seed: number, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  // 48 bits are plenty and stay exact in a double.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** A stream of uniforms in [0, 1) (mulberry32) seeded from `(seed, key)`. */
export function seededStream(seed: number, key: string): () => number {
  let state = Math.floor(hashUniform(seed, key) * 2 ** 32) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

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
