/**
 * Whether a study's classes hold enough people for its folds, checked before any photo is read and
 * again once photos without a usable face are left out.
 */
import type { Dataset } from '../../data/index.ts';
import { MIN_INNER_CV_SUBJECTS } from '../../classify/tuning.ts';
import { PhenofaceError } from '../../errors.ts';

/** Classes named in one message about class sizes; the rest are counted. */
const MAX_NAMED_CLASSES = 20;

/**
 * E_MANIFEST when the classes hold too few people for the folds (checked on the manifest, then on
 * the photos kept, `removed` saying which were left out): every
 * test fold needs a person of each class (so each of the two classes needs `folds` people), every
 * training set needs two people of each (the inner cross-validation that tunes the classifier and
 * fixes its threshold splits them by person), and a ranking needs two people in each of its
 * classes (a held-out class must be learnt from another person). The advice fits the shortfall: one of the two
 * classes with fewer than three people needs people whatever the folds (two folds leave one of two
 * people to train on), while a class short only of the folds can also be met by other folds.
 */
export function checkClassSizes(dataset: Pick<Dataset, 'items' | 'positive' | 'negative' | 'mode' | 'classes'>, folds: number, removed?: string): void {
  // A data set may hold hundreds of classes: the message names the first few of a list.
  const names = (list: Iterable<string>) => {
    const all = [...list];
    const more = all.length - MAX_NAMED_CLASSES;
    return all.slice(0, MAX_NAMED_CLASSES).map((n) => `"${n}"`).join(', ') + (more > 0 ? ` and ${more} more` : '');
  };
  const binary = binaryClassSizes(dataset);
  const short = binary.filter((c) => !foldsFit(c.n, folds));
  const problems = short.map((c) =>
    c.n < folds
      ? `"${c.name}" has ${c.n} ${c.n === 1 ? 'person' : 'people'}, fewer than the ${folds} folds (each test fold needs a person of each class)`
      : `"${c.name}" has ${c.n} people: with ${folds} folds a training set holds ${trainingPeople(c.n, folds)} of them, and the inner cross-validation that tunes the classifier and fixes its threshold needs ${MIN_INNER_CV_SUBJECTS}`,
  );
  const tooFewBinary = new Set(short.filter((c) => c.n < MIN_INNER_CV_SUBJECTS + 1).map((c) => c.name));
  const tooFew = new Set<string>();
  if (dataset.mode === 'ranking') {
    const byClass = new Map<string, Set<string>>();
    for (const item of dataset.items) {
      if (!byClass.has(item.label)) byClass.set(item.label, new Set());
      byClass.get(item.label)!.add(item.subject);
    }
    const thin = (dataset.classes ?? []).filter((label) => (byClass.get(label)?.size ?? 0) < 2);
    const size = (label: string) => byClass.get(label)?.size ?? 0;
    const which = thin.length === 1
      ? `class ${names(thin)} has ${size(thin[0]) === 1 ? '1 person' : `${size(thin[0])} people`}`
      : `${thin.length} classes have ${thin.every((label) => size(label) === 1) ? '1 person each' : 'fewer than 2 people each'} (${names(thin)})`;
    if (thin.length) problems.push(`${which}, and a ranking needs 2 in each class (a held-out class must be learnt from another person)`);
    for (const label of thin) if (!tooFewBinary.has(label)) tooFew.add(label);
  }
  if (!problems.length) return;
  const foldable = short.filter((c) => !tooFewBinary.has(c.name));
  const otherFolds = foldable.length ? `add people, or ${foldsAdvice(binary.filter((c) => !tooFewBinary.has(c.name)).map((c) => c.n), folds)}` : '';
  const needPeople = [
    ...(tooFewBinary.size ? [`Add people to ${names(tooFewBinary)}: each of the two classes needs at least ${MIN_INNER_CV_SUBJECTS + 1} people (${MIN_INNER_CV_SUBJECTS} in every training set), whatever --folds.`] : []),
    ...(tooFew.size ? [`Add people to ${names(tooFew)}: a class needs at least 2 people, whatever --folds.`] : []),
  ];
  const advice = needPeople.length
    ? `${needPeople.join(' ')}${otherFolds ? ` For ${names(foldable.map((c) => c.name))}: ${otherFolds}.` : ''}`
    : `${otherFolds[0].toUpperCase()}${otherFolds.slice(1)}.`;
  throw new PhenofaceError('E_MANIFEST', `Too few people for the study${removed ? ` after removing photos ${removed}` : ''}: ${problems.join('; ')}. ${advice}`);
}

/** People in each of the two classes of the binary model (a ranking's reference class and the rest). */
function binaryClassSizes(dataset: Pick<Dataset, 'items' | 'positive' | 'negative'>): { name: string; n: number }[] {
  const people = (y: number) => new Set(dataset.items.filter((i) => i.y === y).map((i) => i.subject)).size;
  return [{ name: dataset.positive, n: people(1) }, { name: dataset.negative, n: people(0) }];
}

/**
 * The outer folds of a study not told how many: the most, up to `most`, that both classes' people
 * suit ({@link checkClassSizes}' rule), so that a pilot study of a few people runs with fewer
 * folds instead of being refused; `most` where none suits (the check then says what is short).
 */
export function fittingFolds(dataset: Pick<Dataset, 'items' | 'positive' | 'negative'>, most: number): number {
  const sizes = binaryClassSizes(dataset).map((c) => c.n);
  for (let k = most; k >= 2; k--) if (sizes.every((n) => foldsFit(n, k))) return k;
  return most;
}

/** People of a class of `n` in the smallest training set, its people dealt evenly to `folds` folds (`groupedStratifiedKFold`). */
const trainingPeople = (n: number, folds: number) => n - Math.ceil(n / folds);

/** Whether `folds` folds suit a class of `n` people: one of them in each test fold, and enough in each training set. */
const foldsFit = (n: number, folds: number) => n >= folds && trainingPeople(n, folds) >= MIN_INNER_CV_SUBJECTS;

/**
 * The folds to offer for classes of `sizes` people (each at least 3): the most folds up to
 * `folds` that suit them all, else the fewest above it (a class of 3 fits only 3 folds).
 */
function foldsAdvice(sizes: readonly number[], folds: number): string {
  const fit = (k: number) => sizes.every((n) => foldsFit(n, k));
  for (let k = folds - 1; k >= 2; k--) if (fit(k)) return `lower --folds to ${k}`;
  for (let k = folds + 1; k <= Math.max(...sizes); k++) if (fit(k)) return `set --folds to ${k}`;
  return 'add people';
}
