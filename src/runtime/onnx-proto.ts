/**
 * A minimal writer for ONNX `ModelProto` bytes (onnx/onnx.proto, IR version 8), hand-rolled
 * protobuf encoding so that model conversion needs no generated code. It covers what our
 * converters emit: nodes with int/float/string/ints/floats attributes, float32/int64
 * initialisers stored as `raw_data`, and graph inputs/outputs with static or symbolic dims.
 * Field numbers are those of onnx.proto; comments name the message and field. A matching reader
 * (`decodeOnnxModel`) takes built models' weights back out.
 */
import { PhenofaceError } from '../errors.ts';

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

// ---------------------------------------------------------------------------------------------
// Reading: the inverse of `encodeOnnxModel` for the fields it writes (enough to take a built
// model's weights back out, e.g. the linear embedding head that Grad-CAM differentiates).

/** Walks the fields of one protobuf message: `(field, wireType, value)` where value is a varint, or the bytes of a length-delimited or fixed field. */
function* fields(buf: Uint8Array): Generator<[number, number, bigint | Uint8Array]> {
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new RangeError('truncated varint');
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >>> 3, wire = key & 7;
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 2 || wire === 1 || wire === 5) {
      const len = wire === 2 ? Number(varint()) : wire === 1 ? 8 : 4;
      if (pos + len > buf.length) throw new RangeError(`field ${field} runs past the end of its message`);
      yield [field, wire, buf.subarray(pos, pos + len)];
      pos += len;
    } else throw new RangeError(`unsupported protobuf wire type ${wire} (field ${field})`);
  }
}

const text = (v: bigint | Uint8Array) => new TextDecoder().decode(v as Uint8Array);
const float32 = (v: bigint | Uint8Array) => new DataView((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, 4).getFloat32(0, true);

function readAttribute(buf: Uint8Array): [string, OnnxAttribute] {
  let name = '';
  let type = 0;
  const ints: number[] = [], floats: number[] = [];
  let f = 0, i = 0, s = '';
  for (const [field, , v] of fields(buf)) {
    if (field === 1) name = text(v);
    else if (field === 2) f = float32(v);
    else if (field === 3) i = Number(BigInt.asIntN(64, v as bigint));
    else if (field === 4) s = text(v);
    else if (field === 7) floats.push(float32(v));
    else if (field === 8) ints.push(Number(BigInt.asIntN(64, v as bigint)));
    else if (field === 20) type = Number(v);
  }
  const attr: OnnxAttribute = type === ATTR.f ? { f } : type === ATTR.i ? { i } : type === ATTR.s ? { s } : type === ATTR.floats ? { floats } : { ints };
  return [name, attr];
}

function readTensor(buf: Uint8Array): OnnxInitializer {
  const dims: number[] = [];
  let type = 0, name = '';
  let raw = new Uint8Array(0);
  for (const [field, , v] of fields(buf)) {
    if (field === 1) dims.push(Number(v));
    else if (field === 2) type = Number(v);
    else if (field === 8) name = text(v);
    else if (field === 9) raw = new Uint8Array(v as Uint8Array); // a copy (Buffer#slice would share), aligned for the typed-array view
  }
  if (type !== FLOAT && type !== INT64) throw new RangeError(`initializer "${name}" has data type ${type}; only float32 and int64 raw_data are read`);
  return { name, dims, data: type === FLOAT ? new Float32Array(raw.buffer, 0, raw.length / 4) : new BigInt64Array(raw.buffer, 0, raw.length / 8) };
}

function readValueInfo(buf: Uint8Array): OnnxValueInfo {
  let name = '', doc: string | undefined;
  const dims: (number | string)[] = [];
  for (const [field, , v] of fields(buf)) {
    if (field === 1) name = text(v);
    else if (field === 3) doc = text(v);
    else if (field === 2) {
      for (const [tf, , tv] of fields(v as Uint8Array)) if (tf === 1) for (const [sf, , sv] of fields(tv as Uint8Array)) if (sf === 2) for (const [df, , dv] of fields(sv as Uint8Array)) {
        if (df === 1) for (const [dimF, , dimV] of fields(dv as Uint8Array)) dims.push(dimF === 1 ? Number(dimV) : text(dimV));
      }
    }
  }
  return { name, dims, ...(doc === undefined ? {} : { doc }) };
}

/**
 * Parses ONNX `ModelProto` bytes as written by {@link encodeOnnxModel} (nodes, float32/int64
 * raw-data initialisers, inputs, outputs, doc and metadata); fields it does not write are skipped.
 * @throws PhenofaceError `E_MODEL` on bytes that are not such a model.
 */
export function decodeOnnxModel(bytes: Uint8Array): OnnxGraph {
  const graph: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [] };
  const metadata: Record<string, string> = {};
  try {
    for (const [field, wire, v] of fields(bytes)) {
      if (field === 6 && wire === 2) graph.doc = text(v);
      else if (field === 14 && wire === 2) {
        let key = '', value = '';
        for (const [f, , x] of fields(v as Uint8Array)) if (f === 1) key = text(x); else if (f === 2) value = text(x);
        metadata[key] = value;
      } else if (field === 7 && wire === 2) {
        for (const [gf, , gv] of fields(v as Uint8Array)) {
          if (gf === 2) graph.name = text(gv);
          else if (gf === 5) graph.initializers.push(readTensor(gv as Uint8Array));
          else if (gf === 11) graph.inputs.push(readValueInfo(gv as Uint8Array));
          else if (gf === 12) graph.outputs.push(readValueInfo(gv as Uint8Array));
          else if (gf === 1) {
            const node: OnnxNode = { op: '', inputs: [], outputs: [] };
            const attributes: Record<string, OnnxAttribute> = {};
            for (const [nf, , nv] of fields(gv as Uint8Array)) {
              if (nf === 1) node.inputs.push(text(nv));
              else if (nf === 2) node.outputs.push(text(nv));
              else if (nf === 3) node.name = text(nv);
              else if (nf === 4) node.op = text(nv);
              else if (nf === 5) {
                const [name, attr] = readAttribute(nv as Uint8Array);
                attributes[name] = attr;
              }
            }
            if (Object.keys(attributes).length) node.attributes = attributes;
            graph.nodes.push(node);
          }
        }
      }
    }
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `Cannot read ONNX model bytes: ${(cause as Error).message}. Expected a model written by \`phenoface models build\`.`, { cause });
  }
  if (Object.keys(metadata).length) graph.metadata = metadata;
  return graph;
}
