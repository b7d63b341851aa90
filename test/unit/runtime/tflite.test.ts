import { Builder } from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { floatData, readTflite } from '../../../src/runtime/build/tflite.ts';

/** Writes a one-operator TFLite model with flatbuffers' Builder, field slots as in schema.fbs. */
function tinyModel(): Uint8Array {
  const b = new Builder(1024);
  const ints = (v: number[]) => {
    b.startVector(4, v.length, 4);
    for (let i = v.length - 1; i >= 0; i--) b.addInt32(v[i]);
    return b.endVector();
  };
  const tables = (v: number[]) => {
    b.startVector(4, v.length, 4);
    for (let i = v.length - 1; i >= 0; i--) b.addOffset(v[i]);
    return b.endVector();
  };
  const table = (fill: () => void, fields: number) => {
    b.startObject(fields);
    fill();
    return b.endObject();
  };
  const weights = new Uint8Array(new Float32Array([0.5, -2, 3.25, 1e-3, 7, -0.125]).buffer);
  const data = b.createByteVector(weights);
  const buffers = [table(() => {}, 1), table(() => b.addFieldOffset(0, data, 0), 1)];
  const tensor = (shape: number[], buffer: number, name: string, signature?: number[]) => {
    const [s, n, sig] = [ints(shape), b.createString(name), signature ? ints(signature) : 0];
    return table(() => {
      b.addFieldOffset(0, s, 0);
      b.addFieldInt8(1, 0, null); // FLOAT32
      b.addFieldInt32(2, buffer, 0);
      b.addFieldOffset(3, n, 0);
      if (sig) b.addFieldOffset(7, sig, 0);
    }, 8);
  };
  const tensors = [tensor([1, 4, 4, 2], 0, 'input', [-1, -1, -1, 2]), tensor([3, 1, 1, 2], 1, 'weights'), tensor([1, 2, 4, 3], 0, 'output')];
  const options = table(() => {
    b.addFieldInt8(0, 1, 0); // padding VALID
    b.addFieldInt32(1, 1, 0); // stride_w
    b.addFieldInt32(2, 2, 0); // stride_h
    b.addFieldInt8(3, 3, 0); // RELU6
  }, 6);
  const [opIn, opOut] = [ints([0, 1, -1]), ints([2])];
  const conv = table(() => {
    b.addFieldInt32(0, 0, null);
    b.addFieldOffset(1, opIn, 0);
    b.addFieldOffset(2, opOut, 0);
    b.addFieldInt8(3, 1, 0); // BuiltinOptions.Conv2DOptions
    b.addFieldOffset(4, options, 0);
  }, 5);
  const [tv, si, so, ops] = [tables(tensors), ints([0]), ints([2]), tables([conv])];
  const subgraph = table(() => {
    b.addFieldOffset(0, tv, 0);
    b.addFieldOffset(1, si, 0);
    b.addFieldOffset(2, so, 0);
    b.addFieldOffset(3, ops, 0);
  }, 5);
  // OperatorCode: the new int32 builtin_code (slot 3) wins over the deprecated int8 one (slot 0).
  const codes = [table(() => b.addFieldInt8(0, 3, null), 4), table(() => { b.addFieldInt8(0, 127, null); b.addFieldInt32(3, 150, null); }, 4)];
  const [cv, sv, bv] = [tables(codes), tables([subgraph]), tables(buffers)];
  const model = table(() => {
    b.addFieldInt32(0, 3, null);
    b.addFieldOffset(1, cv, 0);
    b.addFieldOffset(2, sv, 0);
    b.addFieldOffset(4, bv, 0);
  }, 5);
  b.finish(model, 'TFL3');
  return b.asUint8Array();
}

describe('readTflite', () => {
  it('reads tensors, constant buffers, operators and their builtin options', () => {
    const g = readTflite(tinyModel());
    expect(g.version).toBe(3);
    expect(g.inputs).toEqual([0]);
    expect(g.outputs).toEqual([2]);
    expect(g.tensors.map((t) => [t.name, t.shape, t.type, t.data !== undefined])).toEqual([
      ['input', [1, 4, 4, 2], 'float32', false],
      ['weights', [3, 1, 1, 2], 'float32', true],
      ['output', [1, 2, 4, 3], 'float32', false],
    ]);
    expect(g.tensors[0].shapeSignature).toEqual([-1, -1, -1, 2]);
    expect([...floatData(g.tensors[1])]).toEqual([0.5, -2, 3.25, Math.fround(1e-3), 7, -0.125]);
    expect(g.operators).toEqual([
      { op: 'CONV_2D', inputs: [0, 1, -1], outputs: [2], options: { padding: 'VALID', strideW: 1, strideH: 2, activation: 'RELU6', dilationW: 1, dilationH: 1 } },
    ]);
  });

  it('refuses bytes that are not a TFLite FlatBuffer with E_MODEL', () => {
    expect(() => readTflite(new TextEncoder().encode('this is not a model at all'))).toThrow(expect.objectContaining({ code: 'E_MODEL' }));
  });
});
