/**
 * Subject-grouped, class-stratified K-fold splits, repeated with fresh shuffles. A subject's
 * photos always sit in one fold: a split by photo lets a face-recognition embedding recognise
 * the person rather than the phenotype, which inflates AUC far above chance even with no signal
 * (the leakage that subject-grouped CV exists to prevent; cf. Baek et al. 2025, Hsieh et al. 2022).
 */
import { PhenofaceError } from '../errors.ts';
import type { IndexFold } from '../classify/types.ts';
import { deriveSeed, mulberry32, shuffleInPlace } from '../math/random.ts';

/**
 * Each subject's label, checking that labels are 0/1 and that no subject carries two labels.
 * Subjects come out sorted by id so that splits do not depend on row order.
 */
export function subjectLabels(y: readonly number[], groups: readonly string[]): Map<string, number> {
  if (y.length !== groups.length) {
    throw new PhenofaceError('E_INPUT', `Labels and subject ids differ in length: ${y.length} vs ${groups.length}. Should be one of each per photo.`);
  }
  const labels = new Map<string, number>();
  for (let i = 0; i < y.length; i++) {
    const label = y[i];
    if (label !== 0 && label !== 1) {
      throw new PhenofaceError('E_INPUT', `Invalid label at row ${i}: ${JSON.stringify(label)}. Should be 0 or 1.`);
    }
    const seen = labels.get(groups[i]);
    if (seen === undefined) labels.set(groups[i], label);
    else if (seen !== label) {
      throw new PhenofaceError('E_INPUT', `Subject "${groups[i]}" has two labels (${seen} and ${label}, row ${i}). Should have one.`);
    }
  }
  return new Map([...labels].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Checks a fold count: an integer >= 2. */
export function checkFolds(k: number, name = 'folds'): void {
  if (!Number.isInteger(k) || k < 2) {
    throw new PhenofaceError('E_CONFIG', `Invalid ${name}: ${JSON.stringify(k)}. Should be an integer >= 2.`);
  }
}

/**
 * Subject-grouped, class-stratified K-fold. Within each class the subjects are shuffled and dealt
 * to the folds in turn, the second class continuing where the first stopped, so every fold holds
 * floor or ceil of (subjects of a class / k) subjects of each class and the fold sizes in subjects
 * differ by at most one. Throws `E_INPUT` when a class has fewer than `k` subjects (a test fold
 * would lack that class).
 */
export function groupedStratifiedKFold(y: readonly number[], groups: readonly string[], k: number, seed: number): IndexFold[] {
  checkFolds(k);
  const labels = subjectLabels(y, groups);
  const byClass: string[][] = [[], []];
  for (const [subject, label] of labels) byClass[label].push(subject);
  for (const label of [0, 1]) {
    if (byClass[label].length < k) {
      throw new PhenofaceError(
        'E_INPUT',
        `Class ${label} has ${byClass[label].length} subject(s), fewer than folds=${k}. Each fold needs a subject of each class: lower the number of folds or add subjects.`,
      );
    }
  }
  return dealSubjects(byClass, groups, k, seed);
}

/**
 * Deals each class's subjects, shuffled, to the folds in turn (each class continuing where the
 * previous stopped), and returns the folds' row indices.
 */
function dealSubjects(byClass: readonly string[][], groups: readonly string[], k: number, seed: number): IndexFold[] {
  const rng = mulberry32(seed);
  const foldOf = new Map<string, number>();
  let next = 0;
  for (const subjects of byClass) {
    for (const subject of shuffleInPlace([...subjects].sort(), rng)) {
      foldOf.set(subject, next);
      next = (next + 1) % k;
    }
  }
  const folds: IndexFold[] = Array.from({ length: k }, () => ({ train: [], test: [] }));
  for (let i = 0; i < groups.length; i++) {
    const f = foldOf.get(groups[i])!;
    for (let j = 0; j < k; j++) (j === f ? folds[j].test : folds[j].train).push(i);
  }
  return folds;
}

/**
 * Subject-grouped K-fold stratified over any number of classes `y` (0..K-1), for the ranked
 * differential: every class's subjects are spread over the folds as evenly as they go. A class with
 * fewer than `k` subjects is absent from some test folds, which a ranking tolerates (each of its
 * subjects is still tested once, by a model trained on the class's other subjects).
 * @throws PhenofaceError `E_INPUT` when a subject has two classes or a label is not an integer >= 0.
 */
export function groupedClassKFold(y: readonly number[], groups: readonly string[], k: number, seed: number): IndexFold[] {
  checkFolds(k);
  const classOf = new Map<string, number>();
  y.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0) throw new PhenofaceError('E_INPUT', `Invalid class at row ${i}: ${JSON.stringify(c)}. Should be an integer >= 0.`);
    const seen = classOf.get(groups[i]);
    if (seen !== undefined && seen !== c) throw new PhenofaceError('E_INPUT', `Subject "${groups[i]}" has two classes (${seen} and ${c}, row ${i}). Should have one.`);
    classOf.set(groups[i], c);
  });
  const byClass: string[][] = [];
  for (const [subject, c] of classOf) (byClass[c] ??= []).push(subject);
  return dealSubjects(byClass.filter(Boolean), groups, k, seed);
}

/** `repeats` independent shuffles of {@link groupedStratifiedKFold}; repeat r uses seed `deriveSeed(seed, r)`. */
export function repeatedGroupedStratifiedKFold(
  y: readonly number[],
  groups: readonly string[],
  k: number,
  repeats: number,
  seed: number,
): IndexFold[][] {
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new PhenofaceError('E_CONFIG', `Invalid repeats: ${JSON.stringify(repeats)}. Should be an integer >= 1.`);
  }
  return Array.from({ length: repeats }, (_, r) => groupedStratifiedKFold(y, groups, k, deriveSeed(seed, r)));
}
