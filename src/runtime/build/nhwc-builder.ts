/**
 * A small builder of NHWC operator graphs (the `TfliteGraph` form that `convert-tflite.ts` lowers)
 * with static shapes, for networks that ship only weights and define their layers in code:
 * face-api's TensorFlow.js ports (`dlib-resnet.ts`, `face-landmark68.ts`). Each rebuilds its
 * network layer for layer on this builder, reading weights by their tfjs names.
 */
import { PhenofaceError } from '../../errors.ts';
import { transposeData } from './convert-tflite.ts';
import type { NamedWeight } from './tfjs-weights.ts';
import type { TfliteGraph, TfliteOperator, TfliteTensor } from './tflite.ts';

/** Builds an NHWC graph while tracking static shapes. */
export class NhwcBuilder {
  readonly tensors: TfliteTensor[] = [];
  readonly operators: TfliteOperator[] = [];
  /** `what` names the weight set in error messages (e.g. "face-api recognition weights"). */
  constructor(private readonly weights: Map<string, NamedWeight>, private readonly what: string) {}

  /**
   * A weight by its tfjs name, checked against `shape` when given.
   * @throws PhenofaceError `E_MODEL` when it is missing or has another shape.
   */
  weight(name: string, shape?: number[]): NamedWeight {
    const w = this.weights.get(name);
    if (!w) throw new PhenofaceError('E_MODEL', `${this.what} lack "${name}".`);
    if (shape && w.shape.join() !== shape.join()) throw new PhenofaceError('E_MODEL', `${this.what}: "${name}" has shape [${w.shape}]; expected [${shape}].`);
    return w;
  }
  /** An activation tensor (no data). */
  value(shape: number[], name: string): number {
    this.tensors.push({ name, shape, type: 'float32', quantized: false });
    return this.tensors.length - 1;
  }
  /** A constant tensor. */
  constant(name: string, shape: number[], data: Float32Array | Int32Array): number {
    const type = data instanceof Int32Array ? 'int32' : 'float32';
    this.tensors.push({ name, shape, type, quantized: false, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return this.tensors.length - 1;
  }
  /** One operator with one output of the given shape. */
  op(op: string, inputs: number[], shape: number[], name: string, options: TfliteOperator['options'] = {}): number {
    const out = this.value(shape, name);
    this.operators.push({ op, inputs, outputs: [out], options });
    return out;
  }
  shape(t: number): number[] {
    return this.tensors[t].shape;
  }

  /** TF's output size along one axis for `padding` (SAME: ceil(d / stride); VALID: floor((d - k) / stride) + 1). */
  static outSize(d: number, k: number, stride: number, padding: 'SAME' | 'VALID'): number {
    return padding === 'SAME' ? Math.ceil(d / stride) : Math.floor((d - k) / stride) + 1;
  }

  /** `(x - mean) / divisor` per RGB channel: the input normalisation face-api's networks apply. */
  normalise(x: number, meanRgb: readonly number[], divisor: number): number {
    const centred = this.op('SUB', [x, this.constant('mean_rgb', [3], Float32Array.from(meanRgb))], this.shape(x), 'centred', { activation: 'NONE' });
    return this.op('DIV', [centred, this.constant('divisor', [], Float32Array.of(divisor))], this.shape(x), 'normalised', { activation: 'NONE' });
  }

  /** A VALID k x k pooling with the given stride. */
  pool(op: 'MAX_POOL_2D' | 'AVERAGE_POOL_2D', x: number, k: number, stride: number, name: string): number {
    const [n, h, w, c] = this.shape(x);
    const size = (d: number) => NhwcBuilder.outSize(d, k, stride, 'VALID');
    return this.op(op, [x], [n, size(h), size(w), c], name, { padding: 'VALID', strideH: stride, strideW: stride, filterH: k, filterW: k, activation: 'NONE' });
  }

  /** Zero padding; `pads` is [before, after] for each of the four axes. */
  pad(x: number, pads: number[], name: string): number {
    const shape = this.shape(x).map((d, i) => d + pads[2 * i] + pads[2 * i + 1]);
    return this.op('PAD', [x, this.constant(`${name}/paddings`, [4, 2], Int32Array.from(pads))], shape, name);
  }

  /**
   * tfjs `matMul(x, w) + bias` on a flat [1, depth] (or [1, 1, 1, depth]) input: tfjs stores `w` as
   * [depth, units], TFLite's FULLY_CONNECTED wants [units, depth] (the constant `kernelName`).
   */
  dense(x: number, w: NamedWeight, bias: NamedWeight | undefined, kernelName: string, name: string): number {
    const [depth, units] = w.shape;
    const kernel = this.constant(kernelName, [units, depth], transposeData(w.data, w.shape, [1, 0]));
    const b = bias ? this.constant(`${name}/bias`, [units], bias.data) : -1;
    return this.op('FULLY_CONNECTED', [x, kernel, b], [1, units], name, { activation: 'NONE', keepNumDims: false });
  }

  /** The finished graph. */
  graph(inputs: number[], outputs: number[]): TfliteGraph {
    return { version: 3, tensors: this.tensors, operators: this.operators, inputs, outputs };
  }
}
