/**
 * The fitted form shared by the two linear classifiers (logistic regression, linear SVM): a
 * standardiser, weights on the standardised features, an intercept, and for the SVM a Platt
 * sigmoid from decision value to probability (logistic regression maps with the plain sigmoid).
 */
import { checkRows, dot, finiteNumber, numberArray, sigmoid, Standardiser } from './linalg.ts';
import { applyPlatt, plattFromJSON, type Platt } from './platt.ts';
import { classifierJSON, type ClassifierJSON, type FittedClassifier, type Selection } from './types.ts';

/** Weights on standardised features and the intercept. */
export interface LinearModel {
  weights: Float64Array;
  bias: number;
}

/** A fitted linear classifier. */
export class FittedLinear implements FittedClassifier {
  readonly dim: number;
  /** Weights and intercept folded onto raw (unstandardised) embeddings for prediction. */
  private readonly rawWeights: Float64Array;
  private readonly rawBias: number;

  constructor(
    readonly name: string,
    readonly hyper: Readonly<Record<string, number>>,
    readonly standardiser: Standardiser,
    readonly model: LinearModel,
    readonly platt?: Platt,
    readonly selection?: Selection,
    readonly innerOof?: Float64Array,
  ) {
    this.dim = model.weights.length;
    this.rawWeights = model.weights.map((w, a) => w / standardiser.scale[a]);
    this.rawBias = model.bias - dot(this.rawWeights, 0, standardiser.mean, 0, this.dim);
  }

  /** The decision value w·z + b of each row. */
  decision(X: readonly Float32Array[]): number[] {
    checkRows(X, this.dim);
    return X.map((x) => dot(x, 0, this.rawWeights, 0, this.dim) + this.rawBias);
  }

  /** d decision / d x: the weights folded onto raw embeddings (the same for every x). */
  decisionGradient(x: Float32Array): Float32Array {
    checkRows([x], this.dim);
    return Float32Array.from(this.rawWeights);
  }

  predictProba(X: readonly Float32Array[]): number[] {
    const platt = this.platt;
    return this.decision(X).map((s) => (platt ? applyPlatt(platt, s) : sigmoid(s)));
  }

  toJSON(): ClassifierJSON {
    const params: Record<string, unknown> = {
      standardiser: this.standardiser.toJSON(),
      weights: [...this.model.weights],
      bias: this.model.bias,
    };
    if (this.platt) params.platt = { ...this.platt };
    return classifierJSON(this, params);
  }

  /** Restores from `toJSON()` output; `withPlatt` says whether the record must carry a sigmoid. */
  static fromJSON(json: ClassifierJSON, hyperName: string, withPlatt: boolean): FittedLinear {
    const p = json.params;
    return new FittedLinear(
      json.name,
      { [hyperName]: finiteNumber(json.hyper?.[hyperName], `hyper.${hyperName}`) },
      Standardiser.fromJSON(p.standardiser, json.dim),
      { weights: numberArray(p.weights, json.dim, 'weights'), bias: finiteNumber(p.bias, 'bias') },
      withPlatt ? plattFromJSON(p.platt) : undefined,
    );
  }
}
