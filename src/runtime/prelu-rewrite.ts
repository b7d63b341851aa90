/**
 * A load-time graph rewrite for onnxruntime's CPU provider: a `Conv -> PRelu` pair becomes two
 * convolutions whose activation and sum onnxruntime fuses, so the layer stays in its blocked
 * (NCHWc) layout.
 *
 * Why: onnxruntime runs a PRelu with per-channel slopes as a generic broadcast outside the blocked
 * layout. In MTCNN's O-Net the first PRelu took 32% of the run, and reordering tensors around it
 * another ~10% (onnxruntime profile, 30 crops, 1 thread).
 *
 * The rewrite is exact in real arithmetic. With `z = conv_W(x)` and per-channel slopes `a_c <= 1`:
 *
 *   PRelu_a(z) = z + Relu((a - 1) * z) = conv_W(x) + Relu(conv_{(a - 1) W}(x))
 *
 * For `z > 0` the second term is 0; for `z < 0` it is `(a - 1) z`, and `z + (a - 1) z = a z`.
 * Scaling a convolution's output channel by `k` means scaling its weights and bias by `k`. In float32
 * the outputs differ from the PRelu graph only by rounding (tested).
 *
 * The rewrite is applied only where it was measured to pay:
 * - **Slopes above 1** would need a LeakyRelu on the first convolution, whose sum onnxruntime then
 *   cannot fuse. P-Net's and R-Net's first layers have one (1.01, 1.30); rewritten they were no faster.
 * - **Large fan-in** (`in channels x kernel area` over `maxFanIn`): the extra convolution costs more
 *   than the PRelu it replaces. For example R-Net's second layer is 28 x 3 x 3 = 252.
 *
 * With MTCNN's weights, that leaves O-Net's first layer: O-Net went from 17 to 11.5 ms per 30
 * crops. The model files on disk stay the faithful conversions; only the session's copy is rewritten.
 */
import type { OnnxGraph, OnnxInitializer, OnnxNode } from './onnx-proto.ts';

/** Fan-in (input channels x kernel area) up to which a Conv -> PRelu pair is rewritten (see module doc). */
export const PRELU_REWRITE_MAX_FAN_IN = 64;

/** Rewrites the eligible Conv -> PRelu pairs of `graph` (see module doc); returns a new graph and how many pairs it rewrote. */
export function rewriteConvPrelu(graph: OnnxGraph, maxFanIn = PRELU_REWRITE_MAX_FAN_IN): { graph: OnnxGraph; rewritten: number } {
  const inits = new Map(graph.initializers.map((i) => [i.name, i]));
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const outputs = new Set(graph.outputs.map((o) => o.name));
  const producer = new Map(graph.nodes.map((n) => [n.outputs[0], n]));
  const replaced = new Map<OnnxNode, OnnxNode[]>();
  const dropped = new Set<OnnxNode>();
  const added: OnnxInitializer[] = [];
  for (const prelu of graph.nodes) {
    if (prelu.op !== 'PRelu') continue;
    const conv = producer.get(prelu.inputs[0]);
    if (!conv || conv.op !== 'Conv' || consumers.get(conv.outputs[0]) !== 1 || outputs.has(conv.outputs[0])) continue;
    const weight = inits.get(conv.inputs[1]);
    const bias = conv.inputs[2] === undefined ? undefined : inits.get(conv.inputs[2]);
    const slope = inits.get(prelu.inputs[1]);
    if (!(weight?.data instanceof Float32Array) || !(bias?.data instanceof Float32Array) || !(slope?.data instanceof Float32Array)) continue;
    const channels = weight.dims[0];
    const per = weight.data.length / channels;
    const a = slope.data;
    if (per > maxFanIn || a.length !== channels || bias.data.length !== channels || !a.every((v) => v <= 1)) continue;
    const w2 = new Float32Array(weight.data.length);
    const b2 = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const k = a[c] - 1;
      b2[c] = k * bias.data[c];
      for (let j = 0; j < per; j++) w2[c * per + j] = k * weight.data[c * per + j];
    }
    const base = prelu.outputs[0];
    const n = { w: `${base}/negative/weights`, b: `${base}/negative/bias`, neg: `${base}/negative/conv`, relu: `${base}/negative/relu` };
    added.push({ name: n.w, dims: weight.dims, data: w2 }, { name: n.b, dims: bias.dims, data: b2 });
    replaced.set(conv, [
      conv,
      { ...conv, name: n.neg, inputs: [conv.inputs[0], n.w, n.b], outputs: [n.neg] },
      { op: 'Relu', name: n.relu, inputs: [n.neg], outputs: [n.relu] },
      { op: 'Add', name: `${base}/sum`, inputs: [conv.outputs[0], n.relu], outputs: [base] },
    ]);
    dropped.add(prelu);
  }
  if (replaced.size === 0) return { graph, rewritten: 0 };
  const nodes = graph.nodes.flatMap((node) => (dropped.has(node) ? [] : replaced.get(node) ?? [node]));
  // Slopes no node reads any more are dropped with their PRelu.
  const used = new Set(nodes.flatMap((node) => node.inputs));
  return { graph: { ...graph, nodes, initializers: [...graph.initializers, ...added].filter((i) => used.has(i.name)) }, rewritten: replaced.size };
}
