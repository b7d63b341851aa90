/**
 * Permutation test of "the embeddings carry no information about the label" (Ojala & Garriga
 * 2010, "Permutation tests for studying classifier performance", test 1). Labels are permuted
 * between subjects, never between photos of one subject: a photo-level shuffle would break the
 * subject structure the real labels have and give a null distribution that is too easy to beat.
 * Each permutation re-runs the whole cross-validation (new splits, standardisation, fits).
 */
import { subjectLabels } from './splits.ts';
import { shuffleInPlace, type Rng } from '../math/random.ts';

/**
 * Labels with the subjects' labels shuffled among subjects (class counts kept); every photo takes
 * its subject's new label. Subjects are taken in sorted order so the result depends only on the
 * generator's state, not on row order.
 */
export function permuteSubjectLabels(y: readonly number[], groups: readonly string[], rng: Rng): number[] {
  const labels = subjectLabels(y, groups);
  const subjects = [...labels.keys()];
  const shuffled = shuffleInPlace([...labels.values()], rng);
  const next = new Map(subjects.map((s, i) => [s, shuffled[i]]));
  return groups.map((g) => next.get(g)!);
}

/**
 * The permutation p-value (1 + #{null >= observed}) / (1 + P): counting the observed labelling as
 * one of the permutations keeps the test exact and p > 0 (Phipson & Smyth 2010).
 */
export function permutationPValue(observed: number, nulls: readonly number[]): number {
  let atLeast = 0;
  for (const v of nulls) if (v >= observed) atLeast++;
  return (1 + atLeast) / (1 + nulls.length);
}

/**
 * What to say beside a permutation p-value at its floor, 1 / (permutations + 1), where no
 * permutation reached the observed statistic: that p is the smallest the test's size can give, a
 * bound rather than a measured rarity (empty otherwise).
 */
export function permutationFloorNote(p: number, permutations: number): string {
  return p <= 1 / (permutations + 1) + 1e-12 ? ` (no permutation reached it: the smallest p that ${permutations} permutations can give)` : '';
}
