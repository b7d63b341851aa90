/**
 * face-api's 68-point face landmark network (`FaceLandmark68Net` of `@vladmandic/face-api`, after
 * justadudewhohacks/face-api.js; MIT): a feature extractor of four densely connected blocks of
 * depthwise-separable convolutions (`faceFeatureExtractor/FaceFeatureExtractor.ts`,
 * `denseBlock.ts`, `common/depthwiseSeparableConv.ts`), a 7x7 average pool and one fully connected
 * layer (`faceProcessor/FaceProcessor.ts`) that regresses the 68 points of the iBUG-300W scheme
 * (Sagonas et al. 2013) as fractions of the input square.
 *
 * face-api defines the network in code and ships only the weights, so
 * {@link faceLandmark68Graph} rebuilds that code as an NHWC graph of TFLite operators (the form
 * `convert-tflite.ts` lowers), layer for layer.
 */
import { transposeData } from './convert-tflite.ts';
import { NhwcBuilder } from './nhwc-builder.ts';
import type { NamedWeight } from './tfjs-weights.ts';
import type { TfliteGraph } from './tflite.ts';

/** The network's input side in pixels (FaceFeatureExtractor.forwardInput: `toBatchTensor(112)`). */
export const LANDMARK68_INPUT_SIZE = 112;
/** face-api's per-channel RGB means, subtracted before dividing by {@link LANDMARK68_DIVISOR}. */
export const LANDMARK68_MEAN_RGB = [122.782, 117.001, 104.298] as const;
/** face-api divides the centred values by 255. */
export const LANDMARK68_DIVISOR = 255;
/** Name of the graph's output tensor: [N, 136], x0, y0, x1, y1, ... as fractions of the input side. */
export const LANDMARK68_OUTPUT = 'landmarks';

/** FaceLandmark68Net's layers on the shared NHWC builder. */
class Builder extends NhwcBuilder {
  constructor(weights: Map<string, NamedWeight>) {
    super(weights, 'face-api 68-point landmark weights');
  }

  /** `tf.conv2d(x, filters, stride, 'same') + bias`, then relu (a dense block's first layer). */
  conv(x: number, prefix: string, stride: number): number {
    const filters = this.weight(`${prefix}/filters`);
    const [kh, kw, cin, cout] = filters.shape; // tfjs HWIO
    const kernel = this.constant(`${prefix}/kernel`, [cout, kh, kw, cin], transposeData(filters.data, filters.shape, [3, 0, 1, 2]));
    const bias = this.constant(`${prefix}/bias`, [cout], this.weight(`${prefix}/bias`, [cout]).data);
    return this.op('CONV_2D', [x, kernel, bias], this.convShape(x, stride, cout), prefix,
      { padding: 'SAME', strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation: 'RELU' });
  }

  /** `depthwiseSeparableConv`: `tf.separableConv2d(x, depthwise, pointwise, stride, 'same') + bias`. */
  separable(x: number, prefix: string, stride: number, relu: boolean): number {
    const cin = this.shape(x)[3];
    const depthwise = this.weight(`${prefix}/depthwise_filter`, [3, 3, cin, 1]); // HWC1 = TFLite's 1HWC
    const pointwise = this.weight(`${prefix}/pointwise_filter`);
    const cout = pointwise.shape[3];
    const dw = this.op('DEPTHWISE_CONV_2D', [x, this.constant(`${prefix}/depthwise`, [1, 3, 3, cin], depthwise.data), -1], this.convShape(x, stride, cin), `${prefix}/depthwise`,
      { padding: 'SAME', strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, depthMultiplier: 1, activation: 'NONE' });
    const kernel = this.constant(`${prefix}/pointwise`, [cout, 1, 1, cin], transposeData(pointwise.data, pointwise.shape, [3, 0, 1, 2]));
    const bias = this.constant(`${prefix}/bias`, [cout], this.weight(`${prefix}/bias`, [cout]).data);
    return this.op('CONV_2D', [dw, kernel, bias], this.convShape(dw, 1, cout), prefix,
      { padding: 'SAME', strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, activation: relu ? 'RELU' : 'NONE' });
  }

  private convShape(x: number, stride: number, channels: number): number[] {
    const [n, h, w] = this.shape(x);
    return [n, NhwcBuilder.outSize(h, 3, stride, 'SAME'), NhwcBuilder.outSize(w, 3, stride, 'SAME'), channels];
  }

  /**
   * face-api `denseBlock4` (stride 2): out1 = relu(conv0(x)); each later conv k reads
   * relu(out1 + ... + out_k) and the block returns relu(out1 + ... + out4).
   */
  denseBlock(x: number, prefix: string, first: boolean): number {
    const out1 = first ? this.conv(x, `${prefix}/conv0`, 2) : this.separable(x, `${prefix}/conv0`, 2, true);
    let sum = out1;
    for (const k of [1, 2, 3]) {
      const input = k === 1 ? out1 : this.op('RELU', [sum], this.shape(sum), `${prefix}/in${k + 1}`);
      const out = this.separable(input, `${prefix}/conv${k}`, 1, false);
      sum = this.op('ADD', [sum, out], this.shape(out), `${prefix}/sum${k + 1}`, { activation: k === 3 ? 'RELU' : 'NONE' });
    }
    return sum;
  }
}

/**
 * FaceLandmark68Net as an NHWC graph: input `image` [1,112,112,3] RGB 0..255 (the mean
 * subtraction and division are the graph's first two ops), output {@link LANDMARK68_OUTPUT} [1,136].
 * @throws PhenofaceError `E_MODEL` when a weight is missing or has an unexpected shape.
 */
export function faceLandmark68Graph(weights: Map<string, NamedWeight>): TfliteGraph {
  const b = new Builder(weights);
  const input = b.value([1, LANDMARK68_INPUT_SIZE, LANDMARK68_INPUT_SIZE, 3], 'image');
  let x = b.normalise(input, LANDMARK68_MEAN_RGB, LANDMARK68_DIVISOR);
  ['dense0', 'dense1', 'dense2', 'dense3'].forEach((block, i) => (x = b.denseBlock(x, block, i === 0)));
  const pooled = b.pool('AVERAGE_POOL_2D', x, 7, 2, 'pool'); // [1, 1, 1, 256]
  const out = b.dense(pooled, b.weight('fc/weights', [256, 136]), b.weight('fc/bias', [136]), 'fc/kernel', LANDMARK68_OUTPUT);
  return b.graph([input], [out]);
}
