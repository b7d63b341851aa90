import { describe, expect, it } from 'vitest';
import { encodeOnnxModel } from '../../../src/runtime/onnx-proto.ts';
import { OnnxModel } from '../../../src/runtime/session.ts';

describe('encodeOnnxModel', () => {
  it('writes a model onnxruntime runs: int64/float initialisers, int, ints, float and string attributes, symbolic dims', async () => {
    const bytes = encodeOnnxModel({
      name: 'g',
      nodes: [
        { op: 'Mul', inputs: ['x', 'c'], outputs: ['m'] },
        { op: 'Reshape', inputs: ['m', 'shape'], outputs: ['r'] },
        { op: 'LeakyRelu', inputs: ['r'], outputs: ['l'], attributes: { alpha: { f: 0.25 } } },
        { op: 'Transpose', inputs: ['l'], outputs: ['t'], attributes: { perm: { ints: [1, 0] } } },
        { op: 'Flatten', inputs: ['t'], outputs: ['f'], attributes: { axis: { i: 0 } } },
        { op: 'MaxPool', inputs: ['x4'], outputs: ['p'], attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, auto_pad: { s: 'SAME_UPPER' } } },
      ],
      initializers: [
        { name: 'c', dims: [3], data: new Float32Array([1, 2, -3]) },
        { name: 'shape', dims: [2], data: new BigInt64Array([-1n, 3n]) },
      ],
      inputs: [{ name: 'x', dims: ['N', 3] }, { name: 'x4', dims: [1, 1, 'H', 'W'] }],
      outputs: [{ name: 'f', dims: [1, 'K'] }, { name: 'p', dims: [1, 1, 'h', 'w'] }],
      metadata: { source: 'test' },
    });
    const model = await OnnxModel.load(bytes, { threads: 1 });
    expect(model.inputNames).toEqual(['x', 'x4']);
    const out = await model.run({
      x: { data: new Float32Array([1, 1, 1, 2, 2, 2]), dims: [2, 3] },
      x4: { data: Float32Array.from({ length: 9 }, (_, i) => i), dims: [1, 1, 3, 3] },
    });
    await model.dispose();
    // Mul -> [[1,2,-3],[2,4,-6]]; LeakyRelu 0.25; transposed to [[1,2],[2,4],[-0.75,-1.5]]; flattened.
    expect([...out.f.data]).toEqual([1, 2, 2, 4, -0.75, -1.5]);
    // SAME_UPPER 2x2/2 max pool of 0..8 on 3x3: windows {0,1,3,4}, {2,5}, {6,7}, {8}.
    expect(out.p.dims).toEqual([1, 1, 2, 2]);
    expect([...out.p.data]).toEqual([4, 5, 7, 8]);
  });
});
