/**
 * Seeded pseudo-random numbers, so that a study, a synthetic data set or a sanity check is
 * reproducible from its seed (Math.random cannot be seeded). One generator serves every layer
 * that draws: classifiers (the SVM's row order), evaluation (splits, bootstrap, permutations),
 * explanation checks and the synth and demo workflows. It lives in `math/`, at the bottom of the import
 * graph with `types.ts` and `errors.ts`, because it depends on nothing of Phenoface's but the errors,
 * so each of those layers can import it without importing another.
 */
import { createHash } from 'node:crypto';
import { PhenofaceError } from '../errors.ts';

/** A generator of uniform numbers in [0, 1). */
export type Rng = () => number;

/**
 * mulberry32 (Tommy Ettinger, public domain): a 32-bit state generator, fast and good enough for
 * shuffling and resampling (it passes gjrand's tests at the sizes we draw); not for cryptography.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The 32-bit finaliser of MurmurHash3: spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A seed for a sub-task (a repeat, a fold, a bootstrap) derived from a parent seed and integer
 * labels, so that sub-tasks draw independent streams and adding one never shifts another.
 */
export function deriveSeed(seed: number, ...parts: number[]): number {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const part of parts) h = fmix32(h ^ Math.imul((part >>> 0) + 0x7f4a7c15, 0x27d4eb2f));
  return h;
}

/** Checks a user-given seed: a safe integer (negative ones are taken modulo 2^32). */
export function checkSeed(seed: number, name = 'seed'): number {
  if (!Number.isSafeInteger(seed)) {
    throw new PhenofaceError('E_CONFIG', `Invalid ${name}: ${JSON.stringify(seed)}. Should be an integer.`);
  }
  return seed >>> 0;
}

/** A uniform integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Fisher-Yates shuffle in place; returns the array. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/**
 * A uniform number in [0, 1) determined by `seed` and the string key `key` (sha256 of both).
 * Keyed draws make a subject's value independent of which other subjects, or how many, are drawn,
 * and of their order.
 */
export function hashUniform(seed: number, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  // 48 bits are plenty and stay exact in a double.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** A {@link mulberry32} stream seeded from `(seed, key)` through {@link hashUniform}. */
export function seededStream(seed: number, key: string): Rng {
  return mulberry32(Math.floor(hashUniform(seed, key) * 2 ** 32) >>> 0);
}
