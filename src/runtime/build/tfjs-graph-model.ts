/**
 * A reader for TensorFlow.js graph models (`model.json` with `format: "graph-model"`, written by
 * tfjs-converter from a TF SavedModel, plus its weight shards): it walks the TF operator graph
 * from the requested outputs back to the input and rewrites each TF op as the NHWC operator that
 * `convert-tflite.ts` lowers to ONNX. Generic over the op set below (what MediaPipe's mobile
 * networks use after tfjs-converter's fusing, e.g. human's `facemesh.json`), so a converted model
 * is checked by comparing its outputs with tfjs' own execution of the same file, not by reading a
 * hand-written layer list. Op semantics: TensorFlow's raw ops (tf.raw_ops) and tfjs-converter's
 * fused `_FusedConv2D` (conv, then `fused_ops` in order: BiasAdd, then Relu/Relu6/Prelu).
 */
import { PhenofaceError } from '../../errors.ts';
import { transposeData } from './convert-tflite.ts';
import { NhwcBuilder } from './nhwc-builder.ts';
import { readWeightGroups, type TypedWeight, type WeightGroup } from './tfjs-weights.ts';
import type { TfliteGraph } from './tflite.ts';

/** TF ops {@link tfjsGraphModel} reads. */
export const GRAPH_MODEL_OPS = [
  'Placeholder', 'Const', 'Identity', '_FusedConv2D', 'Conv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative',
  'AddV2', 'Add', 'Sub', 'Mul', 'Prelu', 'Relu', 'Relu6', 'Sigmoid', 'Tanh', 'MaxPool', 'AvgPool', 'Pad', 'Reshape',
  'ConcatV2',
] as const;

interface AttrValue { s?: string; i?: string; f?: number; b?: boolean; list?: { s?: string[]; i?: string[] }; shape?: { dim?: { size: string }[] } }
interface GraphNode { name: string; op: string; input?: string[]; attr?: Record<string, AttrValue> }
interface GraphSignature { inputs: Record<string, { name: string }>; outputs: Record<string, { name: string }> }
interface ModelJson {
  format?: string;
  modelTopology: { node: GraphNode[] };
  signature?: GraphSignature;
  userDefinedMetadata?: { signature?: GraphSignature };
  weightsManifest: WeightGroup[];
}

const BINARY: Record<string, string> = { AddV2: 'ADD', Add: 'ADD', Sub: 'SUB', Mul: 'MUL' };
const UNARY: Record<string, string> = { Relu: 'RELU', Relu6: 'RELU6', Sigmoid: 'LOGISTIC', Tanh: 'TANH' };
const FUSED_ACTIVATION: Record<string, string> = { Relu: 'RELU', Relu6: 'RELU6' };

function modelError(message: string): PhenofaceError {
  return new PhenofaceError('E_MODEL', message);
}

const text = (v: AttrValue | undefined) => (v?.s === undefined ? undefined : Buffer.from(v.s, 'base64').toString('utf8'));
const ints = (v: AttrValue | undefined, fallback: number[]) => v?.list?.i?.map(Number) ?? fallback;

/** The TF graph being rewritten: node lookup, weights, and the NHWC tensor computed for each node. */
class Walker extends NhwcBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly done = new Map<string, number>();
  constructor(model: ModelJson, private readonly typed: Map<string, TypedWeight>, private readonly label: string) {
    super(new Map(), label);
    for (const n of model.modelTopology.node) this.nodes.set(n.name, n);
  }

  /** A node's raw constant value. */
  constValue(ref: string): TypedWeight {
    const name = ref.replace(/:0$/, '');
    const node = this.nodes.get(name);
    const w = this.typed.get(name);
    if (!node || node.op !== 'Const' || !w) throw modelError(`${this.label}: "${name}" is not a constant with stored weights.`);
    return w;
  }

  private floatConst(ref: string): TypedWeight & { data: Float32Array } {
    const w = this.constValue(ref);
    if (!(w.data instanceof Float32Array)) throw modelError(`${this.label}: "${ref}" is int32; expected float32.`);
    return w as TypedWeight & { data: Float32Array };
  }

  /** The NHWC tensor of a node's output, rewriting the node (and, first, its inputs) on first use. */
  tensorOf(ref: string): number {
    if (ref.startsWith('^')) throw modelError(`${this.label}: control input "${ref}" is not supported.`);
    const name = ref.replace(/:0$/, '');
    if (/:\d+$/.test(name)) throw modelError(`${this.label}: "${ref}" reads a second output of a node; only single-output ops are supported.`);
    let t = this.done.get(name);
    if (t === undefined) {
      const node = this.nodes.get(name);
      if (!node) throw modelError(`${this.label}: no node "${name}".`);
      t = this.rewrite(node);
      this.done.set(name, t);
    }
    return t;
  }

  private rewrite(node: GraphNode): number {
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    const attr = node.attr ?? {};
    const op = node.op;
    if (op === 'Placeholder') return this.value((attr.shape?.shape?.dim ?? []).map((d) => (Number(d.size) < 0 ? 1 : Number(d.size))), node.name);
    if (op === 'Identity') return this.tensorOf(inputs[0]);
    if (op === 'Const') {
      const w = this.constValue(node.name);
      return this.constant(node.name, w.shape, w.data);
    }
    if (op === '_FusedConv2D' || op === 'Conv2D' || op === 'DepthwiseConv2dNative' || op === 'FusedDepthwiseConv2dNative') return this.conv(node, inputs);
    if (BINARY[op]) return this.op(BINARY[op], [this.tensorOf(inputs[0]), this.tensorOf(inputs[1])], this.broadcastShape(inputs), node.name, { activation: 'NONE' });
    if (UNARY[op]) return this.unary(UNARY[op], this.tensorOf(inputs[0]), node.name);
    if (op === 'Prelu') return this.prelu(this.tensorOf(inputs[0]), inputs[1], node.name);
    if (op === 'MaxPool' || op === 'AvgPool') return this.pooling(node, inputs[0]);
    if (op === 'Pad') {
      const pads = this.constValue(inputs[1]);
      if (!(pads.data instanceof Int32Array) || pads.shape.join() !== '4,2') throw modelError(`${this.label}: Pad "${node.name}" needs int32 paddings of shape [4, 2].`);
      return this.pad(this.tensorOf(inputs[0]), [...pads.data], node.name);
    }
    if (op === 'Reshape') return this.reshape(node, inputs);
    if (op === 'ConcatV2') return this.concat(node, inputs);
    throw modelError(`${this.label}: unsupported TF op ${op} ("${node.name}"). Should be one of: ${GRAPH_MODEL_OPS.join(', ')}.`);
  }

  private unary(op: string, x: number, name: string): number {
    return this.op(op, [x], this.shape(x), name);
  }

  private prelu(x: number, alphaRef: string, name: string): number {
    const alpha = this.floatConst(alphaRef);
    return this.op('PRELU', [x, this.constant(`${name}/alpha`, alpha.shape, alpha.data)], this.shape(x), name);
  }

  private broadcastShape(inputs: string[]): number[] {
    const [a, b] = inputs.map((i) => this.shape(this.tensorOf(i)));
    const rank = Math.max(a.length, b.length);
    const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
    return pad(a).map((d, i) => Math.max(d, pad(b)[i]));
  }

  /** Strides, dilations and padding of a conv or pool node, checked to be NHWC and implicit. */
  private geometry(node: GraphNode): { strideH: number; strideW: number; dilationH: number; dilationW: number; padding: 'SAME' | 'VALID' } {
    const attr = node.attr ?? {};
    const format = text(attr.data_format) ?? 'NHWC';
    const padding = text(attr.padding);
    if (format !== 'NHWC') throw modelError(`${this.label}: "${node.name}" has data_format ${format}; expected NHWC.`);
    if (padding !== 'SAME' && padding !== 'VALID') throw modelError(`${this.label}: "${node.name}" has padding ${padding}; expected SAME or VALID.`);
    const [, strideH, strideW] = ints(attr.strides, [1, 1, 1, 1]);
    const [, dilationH, dilationW] = ints(attr.dilations, [1, 1, 1, 1]);
    return { strideH, strideW, dilationH, dilationW, padding };
  }

  private outShape(x: number, kh: number, kw: number, g: ReturnType<Walker['geometry']>, channels: number): number[] {
    const [n, h, w] = this.shape(x);
    const size = (d: number, k: number, s: number, dil: number) => NhwcBuilder.outSize(d, (k - 1) * dil + 1, s, g.padding);
    return [n, size(h, kh, g.strideH, g.dilationH), size(w, kw, g.strideW, g.dilationW), channels];
  }

  /** Conv2D / depthwise conv, with tfjs-converter's fused BiasAdd and activation when present. */
  private conv(node: GraphNode, inputs: string[]): number {
    const g = this.geometry(node);
    const x = this.tensorOf(inputs[0]);
    const filter = this.floatConst(inputs[1]);
    const [kh, kw, cin, m] = filter.shape; // TF: HWIO, or HW C M for depthwise
    const depthwise = node.op.includes('Depthwise');
    const fused = (node.attr?.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
    const [biasOp, activation, ...rest] = fused;
    if (rest.length || (biasOp !== undefined && biasOp !== 'BiasAdd') || (activation !== undefined && activation !== 'Prelu' && !FUSED_ACTIVATION[activation])) {
      throw modelError(`${this.label}: "${node.name}" fuses [${fused}]; expected BiasAdd, optionally followed by Relu, Relu6 or Prelu.`);
    }
    const cout = depthwise ? cin * m : m;
    // TFLite layouts: conv OHWI; depthwise 1 H W (C*M), which is TF's H W C M memory as it is.
    const kernel = depthwise ? this.constant(`${node.name}/kernel`, [1, kh, kw, cout], filter.data)
      : this.constant(`${node.name}/kernel`, [cout, kh, kw, cin], transposeData(filter.data, filter.shape, [3, 0, 1, 2]));
    const bias = biasOp ? this.constant(`${node.name}/bias`, [cout], this.floatConst(inputs[2]).data) : -1;
    const options = { padding: g.padding, strideH: g.strideH, strideW: g.strideW, dilationH: g.dilationH, dilationW: g.dilationW, activation: FUSED_ACTIVATION[activation] ?? 'NONE', ...(depthwise ? { depthMultiplier: m } : {}) };
    const shape = this.outShape(x, kh, kw, g, cout);
    if (activation !== 'Prelu') return this.op(depthwise ? 'DEPTHWISE_CONV_2D' : 'CONV_2D', [x, kernel, bias], shape, node.name, options);
    const y = this.op(depthwise ? 'DEPTHWISE_CONV_2D' : 'CONV_2D', [x, kernel, bias], shape, `${node.name}/conv`, options);
    return this.prelu(y, inputs[3], node.name);
  }

  private pooling(node: GraphNode, input: string): number {
    const g = this.geometry(node);
    const x = this.tensorOf(input);
    const [, kh, kw] = ints(node.attr?.ksize, []);
    return this.op(node.op === 'MaxPool' ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [x], this.outShape(x, kh, kw, g, this.shape(x)[3]), node.name,
      { padding: g.padding, strideH: g.strideH, strideW: g.strideW, filterH: kh, filterW: kw, activation: 'NONE' });
  }

  /** ConcatV2: the tensors, then the axis as a scalar int32 constant. */
  private concat(node: GraphNode, inputs: string[]): number {
    const axisValue = this.constValue(inputs[inputs.length - 1]);
    if (!(axisValue.data instanceof Int32Array) || axisValue.data.length !== 1) throw modelError(`${this.label}: ConcatV2 "${node.name}" needs a scalar int32 axis.`);
    const parts = inputs.slice(0, -1).map((i) => this.tensorOf(i));
    const shapes = parts.map((t) => this.shape(t));
    const axis = axisValue.data[0] < 0 ? axisValue.data[0] + shapes[0].length : axisValue.data[0];
    const shape = shapes[0].map((d, i) => (i === axis ? shapes.reduce((s, sh) => s + sh[i], 0) : d));
    return this.op('CONCATENATION', parts, shape, node.name, { axis, activation: 'NONE' });
  }

  private reshape(node: GraphNode, inputs: string[]): number {
    const x = this.tensorOf(inputs[0]);
    const target = this.constValue(inputs[1]);
    if (!(target.data instanceof Int32Array)) throw modelError(`${this.label}: Reshape "${node.name}" needs an int32 shape.`);
    const count = this.shape(x).reduce((a, b) => a * b, 1);
    const known = [...target.data].filter((d) => d >= 0).reduce((a, b) => a * b, 1);
    const shape = [...target.data].map((d) => (d < 0 ? count / known : d));
    return this.op('RESHAPE', [x, this.constant(`${node.name}/shape`, target.shape, target.data)], shape, node.name);
  }
}

/**
 * A tfjs graph model as an NHWC operator graph (batch 1; the ONNX conversion makes the batch
 * dynamic) whose outputs are the signature outputs named in `outputs`, in that order, each tensor
 * renamed to its signature key. Nodes that no requested output depends on are left out.
 * `shard(path)` returns a weight file named in the model's manifest.
 * @throws PhenofaceError `E_MODEL` on another format, an unknown output, or an op outside {@link GRAPH_MODEL_OPS}.
 */
export function tfjsGraphModel(modelJson: Uint8Array, shard: (path: string) => Uint8Array, outputs: readonly string[], what = 'tfjs graph model'): TfliteGraph {
  let model: ModelJson;
  try {
    model = JSON.parse(new TextDecoder().decode(modelJson)) as ModelJson;
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `${what}: invalid model.json (${(cause as Error).message}).`, { cause });
  }
  // Some tfjs-converter versions put the signature in the user metadata; tfjs-converter's
  // GraphModel.loadWithWeightMap reads it from there first, and so does this reader.
  model.signature = model.userDefinedMetadata?.signature ?? model.signature;
  if (model.format !== 'graph-model' || !model.signature || !Array.isArray(model.modelTopology?.node)) {
    throw modelError(`${what}: format "${model.format}"; expected a tfjs "graph-model" with a signature.`);
  }
  const walker = new Walker(model, readWeightGroups(model.weightsManifest, shard), what);
  const inputs = Object.values(model.signature.inputs);
  if (inputs.length !== 1) throw modelError(`${what}: ${inputs.length} inputs; expected one.`);
  const input = walker.tensorOf(inputs[0].name);
  const outs = outputs.map((key) => {
    const sig = model.signature!.outputs[key];
    if (!sig) throw modelError(`${what}: no signature output "${key}". Should be one of: ${Object.keys(model.signature!.outputs).join(', ')}.`);
    const t = walker.tensorOf(sig.name);
    walker.tensors[t].name = key;
    return t;
  });
  return walker.graph([input], outs);
}
