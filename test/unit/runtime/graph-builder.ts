/**
 * Builds small in-memory TFLite graphs (the `TfliteGraph` the reader returns) for the converter
 * tests, with seeded random constants so failures reproduce.
 */
import type { TfliteGraph, TfliteOperator, TfliteTensor } from '../../../src/runtime/build/tflite.ts';

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

export function randomArray(n: number, rnd: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rnd() * scale);
}

export class GraphBuilder {
  readonly tensors: TfliteTensor[] = [];
  readonly operators: TfliteOperator[] = [];
  constructor(private readonly rnd: () => number) {}

  /** An activation tensor (no data). */
  value(shape: number[], name = `t${this.tensors.length}`): number {
    this.tensors.push({ name, shape, type: 'float32', quantized: false });
    return this.tensors.length - 1;
  }
  /** A float32 constant; random values unless given. */
  constant(shape: number[], values?: ArrayLike<number>, scale = 0.5): number {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = values ? Float32Array.from(values) : randomArray(n, this.rnd, scale);
    this.tensors.push({ name: `c${this.tensors.length}`, shape, type: 'float32', quantized: false, data: new Uint8Array(data.buffer) });
    return this.tensors.length - 1;
  }
  int32(values: number[]): number {
    this.tensors.push({ name: `i${this.tensors.length}`, shape: [values.length], type: 'int32', quantized: false, data: new Uint8Array(Int32Array.from(values).buffer) });
    return this.tensors.length - 1;
  }
  /** Adds an operator writing a new tensor of `shape`; returns that tensor. */
  op(op: string, inputs: number[], shape: number[], options: TfliteOperator['options'] = {}): number {
    const out = this.value(shape);
    this.operators.push({ op, inputs, outputs: [out], options });
    return out;
  }
  graph(input: number, outputs: number[]): TfliteGraph {
    return { version: 3, tensors: this.tensors, operators: this.operators, inputs: [input], outputs };
  }
}
