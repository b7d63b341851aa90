/**
 * The weights of an embedding network's linear head, read back from its built ONNX file: the
 * part between the last feature map (output `features`) and the embedding (output `embedding`).
 * In MobileFaceNet (Chen et al. 2018) that part is a global depthwise convolution (GDC: one
 * HxW kernel per channel, VALID) followed by 1x1 convolutions, with no non-linearity, so the
 * embedding is an affine function of the feature map and Grad-CAM's gradient through it is exact
 * and analytic (`explain/`). Reading the weights from the ONNX file the backbone runs keeps the
 * two in step: the manifest's checksum covers both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PhenofaceError } from '../errors.ts';
import { modelPath } from './models.ts';
import { decodeOnnxModel, type OnnxGraph, type OnnxInitializer } from './onnx-proto.ts';

/** A 1x1 convolution (a dense layer on the channel vector): `y = W x + b`. */
export interface DenseLayer {
  /** Row-major `[outputs, inputs]`. */
  weight: Float32Array;
  bias: Float32Array;
  inputs: number;
  outputs: number;
}

/** A linear GDC head: `embedding = dense_n(... dense_1(gdc(F)))`, F of shape `[channels, height, width]`. */
export interface LinearHead {
  channels: number;
  height: number;
  width: number;
  /** One `height x width` kernel per channel, `[channels, height, width]` row-major. */
  depthwise: Float32Array;
  /** Per-channel bias of the depthwise convolution (zeros when it has none). */
  depthwiseBias: Float32Array;
  /** The 1x1 convolutions after it, in order. */
  dense: DenseLayer[];
  /** Embedding length (outputs of the last dense layer). */
  dim: number;
}

function headError(model: string, what: string): PhenofaceError {
  return new PhenofaceError('E_MODEL', `Model "${model}" has no linear head from "features" to "embedding": ${what}. Grad-CAM's exact gradient needs a backbone whose head is a global depthwise convolution followed by 1x1 convolutions (MobileFaceNet).`);
}

/** Reads the linear head from a decoded graph (exported for tests on small graphs). */
export function linearHeadOf(graph: OnnxGraph, model: string, from = 'features', to = 'embedding'): LinearHead {
  const inits = new Map<string, OnnxInitializer>(graph.initializers.map((t) => [t.name, t]));
  const floats = (name: string | undefined, size: number, what: string): Float32Array => {
    const t = name === undefined ? undefined : inits.get(name);
    if (!t || !(t.data instanceof Float32Array) || t.data.length !== size) throw headError(model, `${what} "${name}" is not a float constant of ${size} values`);
    return t.data;
  };
  const fdims = graph.outputs.find((o) => o.name === from)?.dims;
  if (!fdims) throw headError(model, `no output "${from}" (rebuild the models with \`npx phenoface models build\`)`);
  if (!graph.outputs.some((o) => o.name === to)) throw headError(model, `no output "${to}"`);
  const [, channels, height, width] = fdims as number[];
  if (fdims.length !== 4 || ![channels, height, width].every((d) => Number.isInteger(d) && d > 0)) throw headError(model, `"${from}" has dims [${fdims}]; expected [N, C, H, W] with fixed C, H, W`);

  const head: LinearHead = { channels, height, width, depthwise: new Float32Array(0), depthwiseBias: new Float32Array(channels), dense: [], dim: channels };
  let tensor = from;
  let width1 = channels; // channel count flowing through the head
  for (let step = 0; tensor !== to; step++) {
    const consumers = graph.nodes.filter((n) => n.inputs.includes(tensor));
    if (consumers.length !== 1) throw headError(model, `"${tensor}" feeds ${consumers.length} nodes; expected exactly one`);
    const node = consumers[0];
    const a = node.attributes ?? {};
    const ints = (k: string) => (a[k] && 'ints' in a[k] ? (a[k] as { ints: number[] }).ints : undefined);
    if (node.op === 'Conv') {
      const pads = ints('pads') ?? [];
      const autoPad = a.auto_pad && 's' in a.auto_pad ? a.auto_pad.s : 'NOTSET';
      if (pads.some((p) => p !== 0) || !['NOTSET', 'VALID'].includes(autoPad) || (ints('strides') ?? []).some((s) => s !== 1) || (ints('dilations') ?? []).some((d) => d !== 1)) {
        throw headError(model, `convolution "${node.name}" pads, strides or dilates`);
      }
      const group = a.group && 'i' in a.group ? a.group.i : 1;
      const w = inits.get(node.inputs[1]);
      if (step === 0) {
        if (group !== channels || w?.dims.join() !== [channels, 1, height, width].join()) throw headError(model, `the first node "${node.name}" is not a ${height}x${width} depthwise convolution over ${channels} channels`);
        head.depthwise = floats(node.inputs[1], channels * height * width, 'depthwise kernel');
        if (node.inputs[2]) head.depthwiseBias = floats(node.inputs[2], channels, 'depthwise bias');
      } else {
        const out = w?.dims[0] ?? 0;
        if (group !== 1 || w?.dims.join() !== [out, width1, 1, 1].join()) throw headError(model, `node "${node.name}" is not a 1x1 convolution from ${width1} channels`);
        const weight = floats(node.inputs[1], out * width1, '1x1 weight');
        const bias = node.inputs[2] ? floats(node.inputs[2], out, '1x1 bias') : new Float32Array(out);
        head.dense.push({ weight, bias, inputs: width1, outputs: out });
        width1 = out;
      }
    } else if ((node.op === 'Reshape' || node.op === 'Flatten') && step > 0) {
      // [N, C, 1, 1] -> [N, C]: the spatial axes are 1 after the GDC, so this only drops them.
    } else {
      throw headError(model, `node "${node.name}" is ${node.op}, which is not linear or not expected here`);
    }
    tensor = node.outputs[0];
  }
  if (head.depthwise.length === 0) throw headError(model, `"${from}" goes straight to "${to}"`);
  head.dim = width1;
  return head;
}

/**
 * Reads a built model's linear head (see module doc).
 * @throws PhenofaceError `E_MODEL` when the model is not built or has no such head.
 */
export function readLinearHead(name: string, opts: { dir?: string } = {}): LinearHead {
  const path = modelPath(name, opts.dir);
  if (!existsSync(path)) throw new PhenofaceError('E_MODEL', `Model "${name}" is not built (missing ${path}). Run \`npx phenoface models build\`.`);
  return linearHeadOf(decodeOnnxModel(readFileSync(path)), name);
}
