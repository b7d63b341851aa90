/** The seeded generator of splits, bootstrap and permutations; implemented in `classify/random.ts` (see there). */
export { checkSeed, deriveSeed, mulberry32, randomInt, shuffleInPlace, type Rng } from '../classify/random.ts';
