/**
 * A minimal writer for ONNX `ModelProto` bytes (onnx/onnx.proto, IR version 8), hand-rolled
 * protobuf encoding so that model conversion needs no generated code. It covers what our
 * converters emit: nodes with int/float/string/ints/floats attributes, float32/int64
 * initialisers stored as `raw_data`, and graph inputs/outputs with static or symbolic dims.
 * Field numbers are those of onnx.proto; comments name the message and field.
 */

/** ONNX opset our converters target (Softmax-13 per-axis semantics, ReduceSum with axes input). */
export const ONNX_OPSET = 17;
/** IR version that goes with opset 17 (onnx/docs/Versioning.md). */
export const ONNX_IR_VERSION = 8;

/** A node attribute, tagged with its ONNX type. */
export type OnnxAttribute = { i: number } | { f: number } | { s: string } | { ints: number[] } | { floats: number[] };

/** One graph node. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, OnnxAttribute>;
}

/** A constant tensor (initialiser). */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: float32 with fixed (number) or symbolic (string) dims. */
export interface OnnxValueInfo {
  name: string;
  dims: (number | string)[];
  doc?: string;
}

/** A whole model as our converters build it. */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Free text stored as the model's `doc_string` (provenance). */
  doc?: string;
  /** Stored as `metadata_props`. */
  metadata?: Record<string, string>;
}

/** TensorProto.DataType values. */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType values. */
const ATTR = { f: 1, i: 2, s: 3, floats: 6, ints: 7 } as const;

/** Accumulates one protobuf message. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
  private varint(value: bigint): void {
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }
  private tag(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType));
  }
  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(value));
    return this;
  }
  float(field: number, value: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(value.length));
    this.push(value);
    return this;
  }
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }
  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function writeAttribute(w: Writer, name: string, attr: OnnxAttribute): void {
  // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20.
  w.string(1, name);
  if ('f' in attr) w.float(2, attr.f).int(20, ATTR.f);
  else if ('i' in attr) w.int(3, attr.i).int(20, ATTR.i);
  else if ('s' in attr) w.string(4, attr.s).int(20, ATTR.s);
  else if ('floats' in attr) {
    for (const v of attr.floats) w.float(7, v);
    w.int(20, ATTR.floats);
  } else {
    for (const v of attr.ints) w.int(8, v);
    w.int(20, ATTR.ints);
  }
}

function writeTensor(w: Writer, t: OnnxInitializer): void {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian, as on every platform Node runs on).
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeValueInfo(w: Writer, v: OnnxValueInfo): void {
  // ValueInfoProto: name 1, type 2, doc_string 3. TypeProto: tensor_type 1.
  // TypeProto.Tensor: elem_type 1, shape 2. TensorShapeProto: dim 1. Dimension: dim_value 1, dim_param 2.
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT);
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      });
    }),
  );
  if (v.doc) w.string(3, v.doc);
}

/** Serialise a graph as ONNX `ModelProto` bytes (opset {@link ONNX_OPSET}, default domain). */
export function encodeOnnxModel(graph: OnnxGraph, producer = 'phenoface'): Uint8Array {
  const w = new Writer();
  // ModelProto: ir_version 1, producer_name 2, doc_string 6, graph 7, opset_import 8, metadata_props 14.
  w.int(1, ONNX_IR_VERSION);
  w.string(2, producer);
  if (graph.doc) w.string(6, graph.doc);
  w.message(7, (g) => {
    // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
        for (const i of node.inputs) n.string(1, i);
        for (const o of node.outputs) n.string(2, o);
        if (node.name) n.string(3, node.name);
        n.string(4, node.op);
        for (const [name, attr] of Object.entries(node.attributes ?? {})) n.message(5, (a) => writeAttribute(a, name, attr));
      });
    }
    g.string(2, graph.name);
    for (const t of graph.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of graph.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of graph.outputs) g.message(12, (m) => writeValueInfo(m, v));
  });
  // OperatorSetIdProto: domain 1 (empty = ai.onnx), version 2.
  w.message(8, (o) => o.int(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(graph.metadata ?? {})) w.message(14, (m) => m.string(1, key).string(2, value));
  return w.finish();
}
