/**
 * The classifier registry, keyed by name (the deepface habit): `createClassifier` builds a family
 * for a study, `classifierFromJSON` restores a fitted one from a model bundle.
 */
import { PhenofaceError } from '../errors.ts';
import { centroidClassifier, FittedCentroid } from './centroid.ts';
import { DEFAULTS } from '../config.ts';
import { logisticClassifier, logisticFromJSON } from './logistic.ts';
import { svmClassifier, svmFromJSON } from './svm.ts';
import type { Classifier, ClassifierJSON, FittedClassifier } from './types.ts';

/** Options of a classifier family. */
export interface ClassifierOptions {
  /** Hyperparameter grid searched by the inner CV (defaults in `DEFAULTS.classify`). */
  grid?: readonly number[];
  /** Value used when tuning is off (the permutation test). */
  fixed?: number;
}

interface Family {
  create(grid: readonly number[], fixed: number): Classifier;
  fromJSON(json: ClassifierJSON): FittedClassifier;
  defaults: { grid: readonly number[]; fixed: number };
}

const FAMILIES: Record<string, Family> = {
  logistic: { create: logisticClassifier, fromJSON: logisticFromJSON, defaults: DEFAULTS.classify.logistic },
  svm: { create: svmClassifier, fromJSON: svmFromJSON, defaults: DEFAULTS.classify.svm },
  centroid: { create: centroidClassifier, fromJSON: FittedCentroid.fromJSON, defaults: DEFAULTS.classify.centroid },
};

/** Registered classifier names. */
export const CLASSIFIER_NAMES: readonly string[] = Object.keys(FAMILIES);

function family(name: string, code: 'E_CONFIG' | 'E_BUNDLE'): Family {
  const found = Object.hasOwn(FAMILIES, name) ? FAMILIES[name] : undefined;
  if (!found) throw new PhenofaceError(code, `Unsupported classifier: ${JSON.stringify(name)}. Should be one of: ${CLASSIFIER_NAMES.join(', ')}.`);
  return found;
}

/** A classifier family by name; throws `E_CONFIG` for an unknown name. */
export function createClassifier(name: string, options: ClassifierOptions = {}): Classifier {
  const f = family(name, 'E_CONFIG');
  const classifier = f.create(options.grid ?? f.defaults.grid, options.fixed ?? f.defaults.fixed);
  created.add(classifier);
  return classifier;
}

/** Classifiers made by {@link createClassifier}. */
const created = new WeakSet<Classifier>();

/**
 * Restores a fitted classifier from `toJSON()` output (e.g. read from a model bundle). Throws
 * `E_BUNDLE` when the record is not a Phenoface classifier, has an unknown name or version, or
 * its parameters are malformed.
 */
export function classifierFromJSON(json: unknown): FittedClassifier {
  const j = json as Partial<ClassifierJSON> | null;
  if (typeof j !== 'object' || j === null || j.kind !== 'phenoface-classifier') {
    throw new PhenofaceError('E_BUNDLE', 'Invalid classifier record: "kind" should be "phenoface-classifier".');
  }
  if (j.version !== 1) throw new PhenofaceError('E_BUNDLE', `Unsupported classifier record version: ${JSON.stringify(j.version)}. Should be 1.`);
  if (!Number.isInteger(j.dim) || (j.dim as number) < 1) {
    throw new PhenofaceError('E_BUNDLE', `Invalid classifier record: dim is ${JSON.stringify(j.dim)}. Should be a positive integer.`);
  }
  if (typeof j.params !== 'object' || j.params === null) throw new PhenofaceError('E_BUNDLE', 'Invalid classifier record: "params" should be an object.');
  return family(String(j.name), 'E_BUNDLE').fromJSON(j as ClassifierJSON);
}

/**
 * True when `c` was built by {@link createClassifier}, so `createClassifier(c.name, { grid:
 * c.grid, fixed: c.fixedValue })` rebuilds it exactly (how a worker thread gets its classifier).
 */
export function isRegistered(c: Classifier): boolean {
  return created.has(c);
}
