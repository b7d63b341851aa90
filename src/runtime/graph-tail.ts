/**
 * A backbone's tail for finer Grad-CAM layers: the sub-graph between an intermediate
 * feature map (e.g. MobileFaceNet's last 14x14 block) and the `features` output, read back from
 * the built ONNX file as plain weights, and a session of the same model that also returns that
 * intermediate map, and the tail's exact backward pass as a second small ONNX graph built from the
 * same weights (the tail is only convolutions with folded batch norm, PReLU and residual
 * additions, whose reverse-mode derivatives are ONNX operators again), so no autodiff runtime is
 * needed. Reading the weights from the file the backbone runs keeps the two in step, as `linear-head.ts`
 * does for the linear head.
 */
import { existsSync, readFileSync } from 'node:fs';
import { PhenofaceError } from '../errors.ts';
import { modelPath } from './models.ts';
import { decodeOnnxModel, encodeOnnxModel, type OnnxGraph, type OnnxNode } from './onnx-proto.ts';
import { OnnxModel, type InferenceModel } from './session.ts';

/** A convolution of the tail (batch norm folded in): weight `[out, in / group, kh, kw]`. */
export interface TailConv {
  op: 'Conv';
  input: string;
  output: string;
  weight: Float32Array;
  /** `[out, in / group, kh, kw]`. */
  weightDims: [number, number, number, number];
  bias: Float32Array;
  group: number;
  strides: [number, number];
  /** `SAME_UPPER` (TensorFlow's SAME: the extra padding row/column at the end) or explicit `[top, left, bottom, right]`. */
  pads: 'SAME_UPPER' | [number, number, number, number];
}

/** A per-channel PReLU: `y = x > 0 ? x : slope[c] * x`. */
export interface TailPrelu {
  op: 'PRelu';
  input: string;
  output: string;
  slope: Float32Array;
}

/** An element-wise sum of two tensors of the same shape (a residual connection). */
export interface TailAdd {
  op: 'Add';
  inputs: [string, string];
  output: string;
}

/** One node of a tail. */
export type TailNode = TailConv | TailPrelu | TailAdd;

/** The nodes from `input` to `output`, in execution order. */
export interface GraphTail {
  input: string;
  output: string;
  nodes: TailNode[];
}

function tailError(model: string, what: string): PhenofaceError {
  return new PhenofaceError('E_MODEL', `Model "${model}" has no plain tail for a finer Grad-CAM layer: ${what}. Supported: Conv (group 1 or depthwise), PRelu and Add between the layer and "features".`);
}

/** Reads the tail from a decoded graph (exported for tests on small graphs). */
export function graphTailOf(graph: OnnxGraph, model: string, from: string, to = 'features'): GraphTail {
  const inits = new Map(graph.initializers.map((t) => [t.name, t]));
  const floats = (name: string | undefined, what: string): Float32Array => {
    const t = name === undefined ? undefined : inits.get(name);
    if (!t || !(t.data instanceof Float32Array)) throw tailError(model, `${what} "${name}" is not a float constant`);
    return t.data;
  };
  const first = graph.nodes.findIndex((n) => n.inputs.includes(from));
  const last = graph.nodes.findIndex((n) => n.outputs.includes(to));
  if (first < 0) throw tailError(model, `no node reads "${from}"`);
  if (last < first) throw tailError(model, `"${to}" is not computed after "${from}"`);
  const known = new Set([from]);
  const nodes: TailNode[] = [];
  for (const node of graph.nodes.slice(first, last + 1)) {
    const data = node.inputs.filter((x) => x && !inits.has(x));
    const missing = data.find((x) => !known.has(x));
    if (missing !== undefined) throw tailError(model, `node "${node.name}" reads "${missing}", which does not come from "${from}"`);
    const a = node.attributes ?? {};
    const ints = (k: string) => (a[k] && 'ints' in a[k] ? (a[k] as { ints: number[] }).ints : undefined);
    if (node.op === 'Conv') {
      const w = inits.get(node.inputs[1]);
      if (!w || w.dims.length !== 4) throw tailError(model, `convolution "${node.name}" has no 4-D weight`);
      if ((ints('dilations') ?? [1, 1]).some((d) => d !== 1)) throw tailError(model, `convolution "${node.name}" is dilated`);
      const autoPad = a.auto_pad && 's' in a.auto_pad ? a.auto_pad.s : 'NOTSET';
      const p = ints('pads') ?? [0, 0, 0, 0];
      let pads: TailConv['pads'];
      if (autoPad === 'SAME_UPPER') pads = 'SAME_UPPER';
      else if (autoPad === 'NOTSET' || autoPad === 'VALID') pads = [p[0], p[1], p[2], p[3]];
      else throw tailError(model, `convolution "${node.name}" pads ${autoPad}`);
      const s = ints('strides') ?? [1, 1];
      const weightDims = w.dims as [number, number, number, number];
      nodes.push({
        op: 'Conv', input: node.inputs[0], output: node.outputs[0], weight: floats(node.inputs[1], 'weight'), weightDims,
        bias: node.inputs[2] ? floats(node.inputs[2], 'bias') : new Float32Array(weightDims[0]),
        group: a.group && 'i' in a.group ? a.group.i : 1, strides: [s[0], s[1]], pads,
      });
    } else if (node.op === 'PRelu') {
      nodes.push({ op: 'PRelu', input: node.inputs[0], output: node.outputs[0], slope: floats(node.inputs[1], 'slope') });
    } else if (node.op === 'Add' && data.length === 2) {
      nodes.push({ op: 'Add', inputs: [data[0], data[1]], output: node.outputs[0] });
    } else {
      throw tailError(model, `node "${node.name}" is ${node.op}`);
    }
    known.add(node.outputs[0]);
  }
  return { input: from, output: to, nodes };
}

/**
 * One spatial axis (`d`: 0 rows, 1 columns) of a convolution on an input `size` long: its output
 * length and the padding before and after, as onnxruntime computes them (`SAME_UPPER` puts the odd
 * padding pixel at the end).
 */
function convAxis(node: TailConv, d: 0 | 1, size: number): { out: number; begin: number; end: number } {
  const k = node.weightDims[2 + d], s = node.strides[d];
  if (node.pads === 'SAME_UPPER') {
    const out = Math.ceil(size / s);
    const total = Math.max(0, (out - 1) * s + k - size);
    return { out, begin: Math.floor(total / 2), end: total - Math.floor(total / 2) };
  }
  const [begin, end] = [node.pads[d], node.pads[d + 2]];
  return { out: Math.floor((size + begin + end - k) / s) + 1, begin, end };
}

/**
 * The forward tensors a tail's backward pass reads: the PReLU inputs, whose signs gate the
 * gradient (fetch them as extra outputs of the forward run).
 */
export function tailReads(tail: GraphTail): string[] {
  return [...new Set(tail.nodes.flatMap((n) => (n.op === 'PRelu' ? [n.input] : [])))];
}

/**
 * Where the cells of a feature map sit on the network's input: cell `i` of an axis is centred on
 * input pixel `offset + stride * i` (pixel centres at integer coordinates). Each convolution
 * multiplies the stride and moves the offset by `stride_in * ((k - 1) / 2 - pad_begin)`.
 * TensorFlow's SAME padding puts the odd padding pixel at the end, so its stride-2 layers do not
 * centre their cells: MobileFaceNet's 14x14 cells are centred at `8i + 7` and its 7x7 cells at
 * `16i + 15`, not at `8i + 3.5` and `16i + 7.5` as a plain resize of the map assumes (a 3.5 and
 * 7.5 px shift towards the top left of the 112 px crop).
 */
export interface FeatureGrid {
  /** `[y, x]` input pixels per cell. */
  stride: [number, number];
  /** `[y, x]` input pixel under the centre of cell 0. */
  offset: [number, number];
}

/**
 * The {@link FeatureGrid} of tensor `to` (exported for tests on small graphs): walks the plain
 * nodes (Conv, PRelu, Add) from the graph's input to it, tracking each tensor's size and grid.
 * @throws PhenofaceError `E_MODEL` for other operators or residual inputs on different grids.
 */
export function featureGridOf(graph: OnnxGraph, model: string, to: string): FeatureGrid {
  const input = graph.inputs[0];
  const [h, w] = input.dims.slice(-2).map(Number);
  if (!(h > 0 && w > 0)) throw new PhenofaceError('E_MODEL', `Model "${model}": input "${input.name}" has no fixed spatial size.`);
  type Grid = { h: number; w: number; stride: [number, number]; offset: [number, number] };
  const grids = new Map<string, Grid>([[input.name, { h, w, stride: [1, 1], offset: [0, 0] }]]);
  for (const node of graphTailOf(graph, model, input.name, to).nodes) {
    if (node.op === 'PRelu') grids.set(node.output, grids.get(node.input)!);
    else if (node.op === 'Add') {
      const [a, b] = node.inputs.map((x) => grids.get(x)!);
      if (a.h !== b.h || a.w !== b.w || a.stride.some((v, k) => v !== b.stride[k]) || a.offset.some((v, k) => v !== b.offset[k])) {
        throw new PhenofaceError('E_MODEL', `Model "${model}": addition "${node.output}" sums maps on different grids.`);
      }
      grids.set(node.output, a);
    } else {
      const x = grids.get(node.input)!;
      const axis = (d: 0 | 1, size: number) => {
        const { out, begin } = convAxis(node, d, size);
        return { out, stride: x.stride[d] * node.strides[d], offset: x.offset[d] + x.stride[d] * ((node.weightDims[2 + d] - 1) / 2 - begin) };
      };
      const ay = axis(0, x.h), ax = axis(1, x.w);
      grids.set(node.output, { h: ay.out, w: ax.out, stride: [ay.stride, ax.stride], offset: [ay.offset, ax.offset] });
    }
  }
  const g = grids.get(to)!;
  return { stride: g.stride, offset: g.offset };
}

/**
 * The {@link FeatureGrid} of a built model's tensor `to` (e.g. `features`, or a finer Grad-CAM layer).
 * @throws PhenofaceError `E_MODEL` when the model is not built or other operators lie on the way.
 */
export function readFeatureGrid(name: string, to: string, opts: { dir?: string } = {}): FeatureGrid {
  return featureGridOf(decodeBuilt(name, opts.dir), name, to);
}

/** `[c, h, w]` of every tensor of a tail, from its input's shape (convolution output sizes as onnxruntime computes them). */
function tailShapes(tail: GraphTail, input: readonly [number, number, number]): Map<string, [number, number, number]> {
  const shapes = new Map<string, [number, number, number]>([[tail.input, [input[0], input[1], input[2]]]]);
  for (const n of tail.nodes) {
    if (n.op === 'PRelu') shapes.set(n.output, shapes.get(n.input)!);
    else if (n.op === 'Add') shapes.set(n.output, shapes.get(n.inputs[0])!);
    else {
      const [, h, w] = shapes.get(n.input)!;
      shapes.set(n.output, [n.weightDims[0], convAxis(n, 0, h).out, convAxis(n, 1, w).out]);
    }
  }
  return shapes;
}

/**
 * The reverse-mode gradient of a tail as an ONNX graph: inputs `grad_out` (the gradient at the
 * tail's output) and the PReLU inputs of the forward pass (their signs gate the gradient);
 * outputs `grad:<tensor>` for each tensor of `wanted` (e.g. the tail's input and a layer inside
 * it). Each convolution's backward-data is a ConvTranspose with the same weights, strides, group
 * and padding (the transposed convolution, exactly); PReLU passes `gy` where its input was
 * positive and `slope * gy` elsewhere; a tensor read by several nodes sums their gradients.
 * See {@link loadTailBackward}.
 */
function tailBackwardGraph(tail: GraphTail, shapes: ReadonlyMap<string, readonly [number, number, number]>, wanted: readonly string[]): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxGraph['initializers'] = [{ name: 'zero', dims: [], data: new Float32Array([0]) }];
  const parts = new Map<string, string[]>([[tail.output, ['grad_out']]]);
  let k = 0;
  const gradOf = (t: string): string | undefined => {
    const list = parts.get(t);
    if (!list || list.length === 1) return list?.[0];
    const sum = `sum${k++}`;
    nodes.push({ op: 'Sum', inputs: list, outputs: [sum] });
    parts.set(t, [sum]);
    return sum;
  };
  const add = (t: string, g: string) => parts.set(t, [...(parts.get(t) ?? []), g]);
  for (let i = tail.nodes.length - 1; i >= 0; i--) {
    const n = tail.nodes[i];
    const gy = gradOf(n.output);
    if (!gy) continue; // does not reach the output
    if (n.op === 'Add') {
      add(n.inputs[0], gy);
      add(n.inputs[1], gy);
      continue;
    }
    const out = `g${k++}`;
    if (n.op === 'PRelu') {
      initializers.push({ name: `${out}/slope`, dims: [1, n.slope.length, 1, 1], data: n.slope });
      nodes.push({ op: 'Greater', inputs: [n.input, 'zero'], outputs: [`${out}/positive`] });
      nodes.push({ op: 'Mul', inputs: [gy, `${out}/slope`], outputs: [`${out}/scaled`] });
      nodes.push({ op: 'Where', inputs: [`${out}/positive`, gy, `${out}/scaled`], outputs: [out] });
    } else {
      const [, h, w] = shapes.get(n.input)!;
      const [ay, ax] = [convAxis(n, 0, h), convAxis(n, 1, w)];
      const [, , kh, kw] = n.weightDims;
      const [sy, sx] = n.strides;
      initializers.push({ name: `${out}/weight`, dims: [...n.weightDims], data: n.weight });
      nodes.push({ op: 'ConvTranspose', inputs: [gy, `${out}/weight`], outputs: [out], attributes: {
        kernel_shape: { ints: [kh, kw] }, strides: { ints: [sy, sx] }, dilations: { ints: [1, 1] }, group: { i: n.group }, pads: { ints: [ay.begin, ax.begin, ay.end, ax.end] },
        // the rows and columns the forward convolution's stride dropped at the end
        output_padding: { ints: [h - ((ay.out - 1) * sy + kh - ay.begin - ay.end), w - ((ax.out - 1) * sx + kw - ax.begin - ax.end)] },
      } });
    }
    add(n.input, out);
  }
  const dims = (t: string) => [1, ...shapes.get(t)!];
  for (const t of wanted) {
    const g = gradOf(t);
    if (!g) throw new PhenofaceError('E_MODEL', `The tail's output does not depend on "${t}".`);
    nodes.push({ op: 'Identity', inputs: [g], outputs: [`grad:${t}`] });
  }
  return {
    name: 'tail-backward', nodes, initializers,
    inputs: [{ name: 'grad_out', dims: dims(tail.output) }, ...tailReads(tail).map((t) => ({ name: t, dims: dims(t) }))],
    outputs: wanted.map((t) => ({ name: `grad:${t}`, dims: dims(t) })),
  };
}

/** A tail's backward pass in onnxruntime (see {@link loadTailBackward}). */
export interface TailBackward {
  /** The forward-pass tensors it reads ({@link tailReads}). */
  readonly reads: readonly string[];
  /** Gradients at the `wanted` tensors, given the gradient at the tail's output and the forward tensors it reads. */
  run(gOut: ArrayLike<number>, acts: ReadonlyMap<string, { data: Float32Array }>): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}

/**
 * Builds and opens the tail's backward pass ({@link tailBackwardGraph}) for an input of shape
 * `input` (`[c, h, w]`). The tail's backward in onnxruntime takes ~4 ms from MobileFaceNet's
 * 14x14 block and ~15 ms from its 28x28 block on 2 cores, against ~100 and ~420 ms in JS.
 */
export async function loadTailBackward(tail: GraphTail, input: readonly [number, number, number], wanted: readonly string[], opts: { threads: number }): Promise<TailBackward> {
  const shapes = tailShapes(tail, input);
  const graph = tailBackwardGraph(tail, shapes, wanted);
  const model = await OnnxModel.load(encodeOnnxModel(graph), { threads: opts.threads });
  const reads = graph.inputs.slice(1).map((i) => i.name);
  const outDims = [1, ...shapes.get(tail.output)!];
  return {
    reads,
    async run(gOut, acts) {
      const feeds: Record<string, { data: Float32Array; dims: number[] }> = { grad_out: { data: Float32Array.from(gOut), dims: outDims } };
      for (const t of reads) {
        const a = acts.get(t);
        if (!a) throw new PhenofaceError('E_MODEL', `The tail's backward pass needs the forward tensor "${t}".`);
        feeds[t] = { data: a.data, dims: [1, ...shapes.get(t)!] };
      }
      const out = await model.run(feeds);
      return Object.fromEntries(wanted.map((t) => [t, out[`grad:${t}`].data]));
    },
    dispose: () => model.dispose(),
  };
}

function decodeBuilt(name: string, dir?: string): OnnxGraph {
  const path = modelPath(name, dir);
  if (!existsSync(path)) throw new PhenofaceError('E_MODEL', `Model "${name}" is not built (missing ${path}). Run \`npx phenoface models build\`.`);
  return decodeOnnxModel(readFileSync(path));
}

/**
 * Reads a built model's tail from the intermediate tensor `from` to `to` (see module doc).
 * @throws PhenofaceError `E_MODEL` when the model is not built or the tail has other operators.
 */
export function readGraphTail(name: string, from: string, opts: { dir?: string; to?: string } = {}): GraphTail {
  return graphTailOf(decodeBuilt(name, opts.dir), name, from, opts.to);
}

/**
 * Opens a built model with extra outputs: each named intermediate tensor becomes an output of
 * the same name (shape `[N, C, H, W]`), beside the model's own. The file on disk is not changed.
 * @throws PhenofaceError `E_MODEL` when the model is not built or has no such tensor.
 */
export async function loadModelWithOutputs(name: string, tensors: readonly string[], opts: { threads: number; dir?: string }): Promise<InferenceModel> {
  const graph = decodeBuilt(name, opts.dir);
  for (const t of tensors) {
    if (!graph.nodes.some((n) => n.outputs.includes(t))) throw new PhenofaceError('E_MODEL', `Model "${name}" computes no tensor "${t}".`);
  }
  const extra = tensors.filter((t) => !graph.outputs.some((o) => o.name === t)).map((t) => ({ name: t, dims: ['N', 'C', 'H', 'W'] }));
  return OnnxModel.load(encodeOnnxModel({ ...graph, outputs: [...graph.outputs, ...extra] }), { threads: opts.threads });
}
