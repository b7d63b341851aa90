/**
 * A reader for TensorFlow Lite model files (FlatBuffers, `schema.fbs` of the TFLite repository),
 * written by hand over the `flatbuffers` package's ByteBuffer so that we need neither TensorFlow
 * nor generated code. It reads only what converting float32 inference graphs needs: tensors,
 * constant buffers, operators and the builtin options of the operators we lower
 * (see `convert-tflite.ts`). Field numbers follow tensorflow/lite/schema/schema.fbs.
 */
import { ByteBuffer } from 'flatbuffers';
import { PhenofaceError } from '../../errors.ts';

/** TFLite `TensorType` enum names, indexed by value. */
const TENSOR_TYPES = ['float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64', 'int8'] as const;
/** A TFLite element type (only the first ten of the schema are named; later ones read as `other`). */
export type TensorType = (typeof TENSOR_TYPES)[number] | 'other';

/** TFLite `BuiltinOperator` names for the codes we may meet, indexed by code. */
const BUILTIN_NAMES: Record<number, string> = {
  0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D', 4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED', 11: 'L2_NORMALIZATION', 14: 'LOGISTIC', 17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU',
  21: 'RELU6', 22: 'RESHAPE', 25: 'SOFTMAX', 28: 'TANH', 32: 'CUSTOM', 34: 'PAD', 39: 'TRANSPOSE', 40: 'MEAN',
  41: 'SUB', 42: 'DIV', 43: 'SQUEEZE', 45: 'STRIDED_SLICE', 49: 'SPLIT', 53: 'CAST', 54: 'PRELU', 55: 'MAXIMUM',
  47: 'EXP', 57: 'MINIMUM', 59: 'NEG', 74: 'SUM', 75: 'SQRT', 76: 'RSQRT', 77: 'SHAPE', 83: 'PACK', 82: 'REDUCE_MAX', 98: 'LEAKY_RELU', 101: 'ABS',
};

/** How an option field is read: FlatBuffers scalar kind, or an enum decoded to its name. */
type FieldKind = 'i32' | 'f32' | 'bool' | 'i32[]' | 'padding' | 'activation';
type OptionValue = number | boolean | string | number[];

const PADDING = ['SAME', 'VALID'];
const ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

/**
 * The `BuiltinOptions` union members we read, keyed by union type id: field names in schema
 * order (the field's position is its FlatBuffers slot), kind and default.
 */
const OPTION_TABLES: Record<number, [string, FieldKind, OptionValue][]> = {
  1: [['padding', 'padding', 'SAME'], ['strideW', 'i32', 0], ['strideH', 'i32', 0], ['activation', 'activation', 'NONE'], ['dilationW', 'i32', 1], ['dilationH', 'i32', 1]], // Conv2DOptions
  2: [['padding', 'padding', 'SAME'], ['strideW', 'i32', 0], ['strideH', 'i32', 0], ['depthMultiplier', 'i32', 0], ['activation', 'activation', 'NONE'], ['dilationW', 'i32', 1], ['dilationH', 'i32', 1]], // DepthwiseConv2DOptions
  5: [['padding', 'padding', 'SAME'], ['strideW', 'i32', 0], ['strideH', 'i32', 0], ['filterW', 'i32', 0], ['filterH', 'i32', 0], ['activation', 'activation', 'NONE']], // Pool2DOptions
  8: [['activation', 'activation', 'NONE'], ['weightsFormat', 'i32', 0], ['keepNumDims', 'bool', false]], // FullyConnectedOptions
  9: [['beta', 'f32', 0]], // SoftmaxOptions
  10: [['axis', 'i32', 0], ['activation', 'activation', 'NONE']], // ConcatenationOptions
  11: [['activation', 'activation', 'NONE']], // AddOptions
  12: [['activation', 'activation', 'NONE']], // L2NormOptions
  17: [['newShape', 'i32[]', []]], // ReshapeOptions
  21: [['activation', 'activation', 'NONE']], // MulOptions
  27: [['keepDims', 'bool', false]], // ReducerOptions
  28: [['activation', 'activation', 'NONE']], // SubOptions
  29: [['activation', 'activation', 'NONE']], // DivOptions
  30: [['squeezeDims', 'i32[]', []]], // SqueezeOptions
};

/** One tensor of a subgraph. */
export interface TfliteTensor {
  name: string;
  /** Static shape as stored (`-1` never appears here; see `shapeSignature`). */
  shape: number[];
  /** Shape with `-1` for dynamic dimensions, when the file records one. */
  shapeSignature?: number[];
  type: TensorType;
  /** Constant contents (little-endian), or undefined for activations. */
  data?: Uint8Array;
  /** True when the tensor carries quantisation scales (we only convert float graphs). */
  quantized: boolean;
}

/** One operator: builtin name, tensor indices (-1 = optional input absent) and decoded options. */
export interface TfliteOperator {
  op: string;
  inputs: number[];
  outputs: number[];
  options: Record<string, OptionValue>;
}

/** The first subgraph of a model, the only one inference graphs like ours have. */
export interface TfliteGraph {
  version: number;
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}

/** A view of one FlatBuffers table: reads fields by their schema position. */
class Table {
  constructor(
    private readonly bb: ByteBuffer,
    private readonly pos: number,
  ) {}
  private at(field: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * field);
  }
  i32(field: number, dflt = 0): number {
    const o = this.at(field);
    return o ? this.bb.readInt32(this.pos + o) : dflt;
  }
  u32(field: number, dflt = 0): number {
    const o = this.at(field);
    return o ? this.bb.readUint32(this.pos + o) : dflt;
  }
  i8(field: number, dflt = 0): number {
    const o = this.at(field);
    return o ? this.bb.readInt8(this.pos + o) : dflt;
  }
  u8(field: number, dflt = 0): number {
    const o = this.at(field);
    return o ? this.bb.readUint8(this.pos + o) : dflt;
  }
  f32(field: number, dflt = 0): number {
    const o = this.at(field);
    return o ? this.bb.readFloat32(this.pos + o) : dflt;
  }
  u64(field: number): bigint {
    const o = this.at(field);
    return o ? this.bb.readUint64(this.pos + o) : 0n;
  }
  has(field: number): boolean {
    return this.at(field) !== 0;
  }
  str(field: number): string {
    const o = this.at(field);
    return o ? (this.bb.__string(this.pos + o) as string) : '';
  }
  table(field: number): Table | undefined {
    const o = this.at(field);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : undefined;
  }
  tables(field: number): Table[] {
    const o = this.at(field);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return Array.from({ length: n }, (_, i) => new Table(this.bb, this.bb.__indirect(start + 4 * i)));
  }
  i32s(field: number): number[] {
    const o = this.at(field);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    return Array.from({ length: n }, (_, i) => this.bb.readInt32(start + 4 * i));
  }
  bytes(field: number): Uint8Array | undefined {
    const o = this.at(field);
    if (!o) return undefined;
    const start = this.bb.__vector(this.pos + o);
    return this.bb.bytes().subarray(start, start + this.bb.__vector_len(this.pos + o));
  }
}

function readOptions(type: number, table: Table | undefined): Record<string, OptionValue> {
  const fields = OPTION_TABLES[type];
  const options: Record<string, OptionValue> = {};
  if (!fields) return options;
  fields.forEach(([name, kind, dflt], i) => {
    if (!table || !table.has(i)) options[name] = dflt;
    else if (kind === 'i32') options[name] = table.i32(i);
    else if (kind === 'f32') options[name] = table.f32(i);
    else if (kind === 'bool') options[name] = table.u8(i) !== 0;
    else if (kind === 'i32[]') options[name] = table.i32s(i);
    else if (kind === 'padding') options[name] = PADDING[table.i8(i)] ?? `padding#${table.i8(i)}`;
    else options[name] = ACTIVATIONS[table.i8(i)] ?? `activation#${table.i8(i)}`;
  });
  return options;
}

/**
 * Parse a `.tflite` file's first subgraph.
 * @throws PhenofaceError `E_MODEL` when the bytes are not a TFLite (`TFL3`) FlatBuffer.
 */
export function readTflite(bytes: Uint8Array): TfliteGraph {
  const bb = new ByteBuffer(bytes);
  if (bytes.length < 8 || !bb.__has_identifier('TFL3')) {
    throw new PhenofaceError('E_MODEL', `Not a TFLite model: expected the FlatBuffer identifier "TFL3" at byte 4, got ${JSON.stringify(String.fromCharCode(...bytes.subarray(4, 8)))}.`);
  }
  const model = new Table(bb, bb.readInt32(0));
  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
  const opNames = model.tables(1).map((code) => {
    // OperatorCode: deprecated_builtin_code (int8) 0, custom_code 1, version 2, builtin_code (int32) 3.
    const builtin = Math.max(code.i8(0), code.i32(3));
    return BUILTIN_NAMES[builtin] ?? (builtin === 32 ? `CUSTOM:${code.str(1)}` : `BUILTIN#${builtin}`);
  });
  // Buffer: data 0, offset 1, size 2 (offset/size locate data appended after a >2 GB flatbuffer).
  const buffers = model.tables(4).map((buf) => {
    const offset = Number(buf.u64(1));
    if (offset > 1) return bytes.subarray(offset, offset + Number(buf.u64(2)));
    const data = buf.bytes(0);
    return data && data.length > 0 ? data : undefined;
  });
  const subgraphs = model.tables(2);
  if (subgraphs.length === 0) throw new PhenofaceError('E_MODEL', 'TFLite model has no subgraph; expected one.');
  const graph = subgraphs[0];
  // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4.
  const tensors = graph.tables(0).map((t): TfliteTensor => {
    // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, is_variable 5, sparsity 6, shape_signature 7.
    const quant = t.table(4);
    const signature = t.i32s(7);
    return {
      name: t.str(3),
      shape: t.i32s(0),
      shapeSignature: signature.length ? signature : undefined,
      type: TENSOR_TYPES[t.i8(1)] ?? 'other',
      data: buffers[t.u32(2)],
      quantized: quant !== undefined && quant.i32s(2).length > 0, // QuantizationParameters.scale is field 2
    };
  });
  // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4.
  const operators = graph.tables(3).map((op): TfliteOperator => ({
    op: opNames[op.u32(0)] ?? `opcode#${op.u32(0)}`,
    inputs: op.i32s(1),
    outputs: op.i32s(2),
    options: readOptions(op.u8(3), op.table(4)),
  }));
  return { version: model.u32(0), tensors, operators, inputs: graph.i32s(1), outputs: graph.i32s(2) };
}

/** A constant tensor's contents as float32 (copied, so unaligned buffers are fine). */
export function floatData(tensor: TfliteTensor): Float32Array {
  if (!tensor.data || tensor.type !== 'float32') {
    throw new PhenofaceError('E_MODEL', `TFLite tensor "${tensor.name}" is not a float32 constant (type ${tensor.type}, ${tensor.data ? 'has' : 'no'} data).`);
  }
  return new Float32Array(new Uint8Array(tensor.data).buffer); // copies (Buffer#slice would not)
}

/** A constant tensor's contents as int32 (copied). */
export function int32Data(tensor: TfliteTensor): Int32Array {
  if (!tensor.data || tensor.type !== 'int32') {
    throw new PhenofaceError('E_MODEL', `TFLite tensor "${tensor.name}" is not an int32 constant (type ${tensor.type}, ${tensor.data ? 'has' : 'no'} data).`);
  }
  return new Int32Array(new Uint8Array(tensor.data).buffer);
}
