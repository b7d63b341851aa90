/**
 * dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1`, Davis King 2017: a
 * ResNet-34 with layers removed and filters halved, 29 conv layers, 128-D output, trained on about
 * 3 million faces of 7485 identities from FaceScrub, VGG-Face and the web, none from LFW; public
 * domain), as face-api ports it to TensorFlow.js (`src/faceRecognitionNet/` of
 * `@vladmandic/face-api`: FaceRecognitionNet.ts, residualLayer.ts, convLayer.ts, scaleLayer.ts).
 *
 * face-api defines the network in code and ships only the weights, so {@link dlibResnetGraph}
 * rebuilds that code as an NHWC graph of TFLite operators (the form `convert-tflite.ts` lowers),
 * layer for layer, with one constant fold: each conv's following per-channel scale layer
 * (`x * w + b`) is folded into the conv's kernel and bias.
 */
import { PhenofaceError } from '../../errors.ts';
import { transposeData } from './convert-tflite.ts';
import type { NamedWeight } from './tfjs-weights.ts';
import { NhwcBuilder } from './nhwc-builder.ts';
import type { TfliteGraph } from './tflite.ts';

/** face-api's input size (FaceRecognitionNet.forwardInput): 150x150 aligned chips. */
export const DLIB_INPUT_SIZE = 150;
/** face-api's per-channel RGB means, subtracted before the division (FaceRecognitionNet.forwardInput). */
export const DLIB_MEAN_RGB = [122.782, 117.001, 104.298] as const;
/** face-api divides by 255 after subtracting the means (dlib itself divides by 256). */
export const DLIB_DIVISOR = 255;

/** Name of the graph's output tensor. */
export const DLIB_OUTPUT = 'descriptor';

/** face-api's FaceRecognitionNet layers on the shared NHWC builder. */
class Builder extends NhwcBuilder {
  constructor(weights: Map<string, NamedWeight>) {
    super(weights, 'face-api recognition weights');
  }

  /** face-api `convLayer`: conv2d, + bias, scale layer (folded), optional relu. */
  conv(x: number, prefix: string, stride: number, relu: boolean, padding: 'SAME' | 'VALID'): number {
    const filters = this.weight(`${prefix}/conv/filters`);
    const [kh, kw, cin, cout] = filters.shape; // tfjs HWIO
    const bias = this.weight(`${prefix}/conv/bias`, [cout]).data;
    const scale = this.weight(`${prefix}/scale/weights`, [cout]).data;
    const shift = this.weight(`${prefix}/scale/biases`, [cout]).data;
    const kernel = transposeData(filters.data, filters.shape, [3, 0, 1, 2]); // -> TFLite OHWI
    const per = kh * kw * cin;
    for (let o = 0; o < cout; o++) for (let k = 0; k < per; k++) kernel[o * per + k] *= scale[o];
    const folded = bias.map((b, o) => b * scale[o] + shift[o]);
    const [n, h, w] = this.shape(x);
    const size = (d: number, k: number) => NhwcBuilder.outSize(d, k, stride, padding);
    return this.op('CONV_2D', [x, this.constant(`${prefix}/kernel`, [cout, kh, kw, cin], kernel), this.constant(`${prefix}/bias`, [cout], folded)],
      [n, size(h, kh), size(w, kw), cout], prefix, { padding, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1, activation: relu ? 'RELU' : 'NONE' });
  }

  /** face-api `residual`: conv (relu), conv, + x, relu. */
  residual(x: number, prefix: string): number {
    const out = this.conv(this.conv(x, `${prefix}/conv1`, 1, true, 'SAME'), `${prefix}/conv2`, 1, false, 'SAME');
    return this.op('ADD', [out, x], this.shape(x), `${prefix}/add`, { activation: 'RELU' });
  }

  /**
   * face-api `residualDown`: strided conv (relu), conv; the shortcut is a 2x2/2 average pool with
   * zero channels appended when the width doubles; when the pooled map is one pixel larger, the
   * conv branch gets a zero row and column at the end. Then add, relu.
   */
  residualDown(x: number, prefix: string): number {
    let out = this.conv(this.conv(x, `${prefix}/conv1`, 2, true, 'VALID'), `${prefix}/conv2`, 1, false, 'SAME');
    let pooled = this.pool('AVERAGE_POOL_2D', x, 2, 2, `${prefix}/pool`);
    const [, ph, pw, pc] = this.shape(pooled);
    const [, oh, ow, oc] = this.shape(out);
    if (ph !== oh || pw !== ow) {
      if (ph !== oh + 1 || pw !== ow + 1) throw new PhenofaceError('E_MODEL', `${prefix}: cannot match the shortcut [${ph},${pw}] to the conv branch [${oh},${ow}].`);
      out = this.pad(out, [0, 0, 0, 1, 0, 1, 0, 0], `${prefix}/pad_hw`);
    }
    if (pc !== oc) pooled = this.pad(pooled, [0, 0, 0, 0, 0, 0, 0, oc - pc], `${prefix}/pad_channels`);
    return this.op('ADD', [pooled, out], this.shape(out), `${prefix}/add`, { activation: 'RELU' });
  }
}

/**
 * face-api's FaceRecognitionNet as an NHWC graph: input `image` [1,150,150,3] RGB 0..255 (the
 * mean subtraction and division are the graph's first two ops), output {@link DLIB_OUTPUT} [1,128].
 * @throws PhenofaceError `E_MODEL` when a weight is missing or has an unexpected shape.
 */
export function dlibResnetGraph(weights: Map<string, NamedWeight>): TfliteGraph {
  const b = new Builder(weights);
  const input = b.value([1, DLIB_INPUT_SIZE, DLIB_INPUT_SIZE, 3], 'image');
  let x = b.normalise(input, DLIB_MEAN_RGB, DLIB_DIVISOR);
  x = b.conv(x, 'conv32_down', 2, true, 'VALID');
  x = b.pool('MAX_POOL_2D', x, 3, 2, 'pool');
  for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) x = b.residual(x, block);
  x = b.residualDown(x, 'conv64_down');
  for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) x = b.residual(x, block);
  x = b.residualDown(x, 'conv128_down');
  for (const block of ['conv128_1', 'conv128_2']) x = b.residual(x, block);
  x = b.residualDown(x, 'conv256_down');
  for (const block of ['conv256_1', 'conv256_2']) x = b.residual(x, block);
  x = b.residualDown(x, 'conv256_down_out');
  const pooled = b.op('MEAN', [x, b.constant('spatial_axes', [2], Int32Array.of(1, 2))], [1, b.shape(x)[3]], 'global_average', { keepDims: false });
  const out = b.dense(pooled, b.weight('fc', [256, 128]), undefined, 'fc/weights', DLIB_OUTPUT); // face-api: matMul(globalAvg, fc)
  return b.graph([input], [out]);
}
