/**
 * Cosine nearest-neighbour / centroid classifier in the style of GestaltMatcher (Hsieh et al.
 * 2022, "GestaltMatcher facilitates rare disease matching using facial phenotype descriptors"),
 * which ranks diagnoses by cosine distance between a patient's face embedding and a gallery of
 * diagnosed patients' embeddings.
 *
 * Embeddings are standardised on the training rows and scaled to unit length; each training
 * subject becomes one gallery entry (the normalised mean of its photos), so a subject with many
 * photos counts once. The score of a photo is the mean cosine similarity to its k most similar
 * positive subjects minus the same for negative subjects; k = 0 compares with the two class
 * centroids (normalised means of the gallery entries) instead. k is chosen by the inner grouped CV
 * and scores become probabilities with a Platt sigmoid fitted on inner out-of-fold scores.
 */
import { PhenofaceError } from '../errors.ts';
import { checkRows, dot, finiteNumber, numberArray, Standardiser, type Packed } from './linalg.ts';
import { applyPlatt, plattFromJSON, type Platt } from './platt.ts';
import { TunedClassifier, type GridSolver } from './tuning.ts';
import { classifierJSON, type ClassifierJSON, type FittedClassifier, type Selection } from './types.ts';

/** The gallery: one unit vector per training subject (k > 0) or per class (k = 0). */
export interface CentroidModel {
  k: number;
  d: number;
  /** Row-major unit vectors. */
  vectors: Float64Array;
  /** 0/1 label of each vector. */
  labels: Uint8Array;
}

function normalise(v: Float64Array, offset: number, d: number): void {
  let norm = 0;
  for (let a = 0; a < d; a++) norm += v[offset + a] ** 2;
  if (norm > 0) for (let a = 0, inv = 1 / Math.sqrt(norm); a < d; a++) v[offset + a] *= inv;
}

/** Normalised means of the rows of `Z` per key (`keys[i]` names row i's group), with its label. */
function meanPerKey(Z: Packed, keys: readonly string[], y: ArrayLike<number>): { vectors: Float64Array; labels: Uint8Array } {
  const index = new Map<string, number>();
  const labels: number[] = [];
  for (let i = 0; i < Z.n; i++) {
    if (!index.has(keys[i])) {
      index.set(keys[i], labels.length);
      labels.push(y[i]);
    }
  }
  const { d } = Z;
  const vectors = new Float64Array(labels.length * d);
  for (let i = 0; i < Z.n; i++) {
    const o = index.get(keys[i])! * d;
    for (let a = 0; a < d; a++) vectors[o + a] += Z.rows[i * d + a];
  }
  for (let s = 0; s < labels.length; s++) normalise(vectors, s * d, d);
  return { vectors, labels: Uint8Array.from(labels) };
}

/** Builds the gallery of a training set for a given k. */
export function fitCentroidPacked(Z: Packed, y: ArrayLike<number>, groups: readonly string[], k: number): CentroidModel {
  if (!(Number.isInteger(k) && k >= 0)) throw new PhenofaceError('E_CONFIG', `Invalid centroid k: ${k}. Should be an integer >= 0.`);
  const subjects = meanPerKey(Z, groups, y);
  if (k > 0) return { k, d: Z.d, ...subjects };
  const perSubject: Packed = { n: subjects.labels.length, d: Z.d, rows: subjects.vectors };
  const classes = meanPerKey(perSubject, Array.from(subjects.labels, String), subjects.labels);
  return { k, d: Z.d, ...classes };
}

/** Mean of the k largest similarities to each class, positive minus negative. */
function scoreRow(model: CentroidModel, rows: ArrayLike<number>, offset: number, top: [Float64Array, Float64Array]): number {
  const { d, k } = model;
  const kk = Math.max(1, k);
  const count = [0, 0];
  for (let s = 0; s < model.labels.length; s++) {
    const sim = dot(rows, offset, model.vectors, s * d, d);
    const c = model.labels[s];
    const best = top[c];
    // insertion into a descending list of at most kk similarities
    let j = Math.min(count[c], kk - 1);
    if (count[c] >= kk && sim <= best[j]) continue;
    while (j > 0 && best[j - 1] < sim) {
      best[j] = best[j - 1];
      j--;
    }
    best[j] = sim;
    count[c] = Math.min(count[c] + 1, kk);
  }
  const mean = (c: number) => top[c].subarray(0, count[c]).reduce((sum, v) => sum + v, 0) / count[c];
  return mean(1) - mean(0);
}

/** Scores of the rows of a packed matrix (standardised, unit rows). */
function scorePacked(model: CentroidModel, Z: Packed): Float64Array {
  const kk = Math.max(1, model.k);
  const top: [Float64Array, Float64Array] = [new Float64Array(kk), new Float64Array(kk)];
  return Float64Array.from({ length: Z.n }, (_, i) => scoreRow(model, Z.rows, i * Z.d, top));
}

const solver: GridSolver<CentroidModel> = {
  unitRows: true,
  probabilistic: false,
  fit: (Z, y, groups, k) => fitCentroidPacked(Z, y, groups, k),
  score: scorePacked,
};

/** A fitted cosine nearest-neighbour / centroid classifier. */
export class FittedCentroid implements FittedClassifier {
  readonly name = 'centroid';
  readonly dim: number;
  readonly hyper: Readonly<Record<string, number>>;

  constructor(
    readonly standardiser: Standardiser,
    readonly model: CentroidModel,
    readonly platt: Platt,
    readonly selection?: Selection,
    readonly innerOof?: Float64Array,
  ) {
    this.dim = model.d;
    this.hyper = { k: model.k };
  }

  /** The score before Platt's sigmoid: mean top-k cosine to positives minus to negatives. */
  decision(X: readonly Float32Array[]): number[] {
    checkRows(X, this.dim);
    return Array.from(scorePacked(this.model, this.standardiser.pack(X, X.map((_, i) => i))));
  }

  predictProba(X: readonly Float32Array[]): number[] {
    return this.decision(X).map((s) => applyPlatt(this.platt, s));
  }

  /**
   * d decision / d x. The score is u·(a - b) with u the standardised unit row and a, b the means of
   * the gallery vectors it is compared with: the two class centroids (k = 0), or its k most similar
   * positive and negative subjects (k > 0). Those neighbours stay the same under a small change of
   * x except at ties, so this is the exact gradient almost everywhere (a kNN score is piecewise
   * linear in u); it is then carried through the unit scaling and the standardisation.
   */
  decisionGradient(x: Float32Array): Float32Array {
    checkRows([x], this.dim);
    const { d, k } = this.model;
    const { mean, scale } = this.standardiser;
    const z = Float64Array.from(x, (v, a) => (v - mean[a]) / scale[a]);
    const norm = Math.sqrt(z.reduce((s, v) => s + v * v, 0)) || 1;
    const u = z.map((v) => v / norm);
    const sims = Array.from(this.model.labels, (label, s) => ({ label, s, sim: dot(u, 0, this.model.vectors, s * d, d) }));
    const direction = new Float64Array(d);
    for (const label of [0, 1]) {
      const top = sims.filter((e) => e.label === label).sort((p, q) => q.sim - p.sim).slice(0, Math.max(1, k));
      for (const e of top) for (let a = 0; a < d; a++) direction[a] += ((label ? 1 : -1) * this.model.vectors[e.s * d + a]) / top.length;
    }
    // through u = z / |z| (Jacobian (I - u u^T) / |z|), then z = (x - mean) / scale
    const along = dot(direction, 0, u, 0, d);
    return Float32Array.from(direction, (v, a) => (v - along * u[a]) / norm / scale[a]);
  }

  /**
   * With k > 0 the record holds one vector per training subject (standardised mean embeddings):
   * a bundle of this classifier carries derived data of every training patient.
   */
  toJSON(): ClassifierJSON {
    return classifierJSON(this, {
      standardiser: this.standardiser.toJSON(),
      vectors: [...this.model.vectors],
      labels: [...this.model.labels],
      platt: { ...this.platt },
    });
  }

  static fromJSON(json: ClassifierJSON): FittedCentroid {
    const p = json.params;
    const k = finiteNumber(json.hyper?.k, 'hyper.k');
    const labels = Array.isArray(p.labels) ? p.labels : [];
    if (labels.length === 0 || labels.some((l) => l !== 0 && l !== 1)) {
      throw new PhenofaceError('E_BUNDLE', 'Invalid classifier: labels should be a non-empty array of 0/1.');
    }
    const vectors = numberArray(p.vectors, labels.length * json.dim, 'vectors');
    const standardiser = Standardiser.fromJSON(p.standardiser, json.dim);
    return new FittedCentroid(
      new Standardiser(standardiser.mean, standardiser.scale, true),
      { k, d: json.dim, vectors, labels: Uint8Array.from(labels as number[]) },
      plattFromJSON(p.platt),
    );
  }
}

/** The cosine nearest-neighbour / centroid family with its k grid and the k used when tuning is off. */
export function centroidClassifier(grid: readonly number[], fixed: number): TunedClassifier<CentroidModel> {
  return new TunedClassifier('centroid', 'k', grid, fixed, solver, (t) => new FittedCentroid(t.standardiser, t.model, t.platt!, t.selection, t.innerOof));
}
