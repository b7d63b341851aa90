/**
 * A reader for TensorFlow.js weight files (`*-weights_manifest.json`, or the `weightsManifest` of a
 * graph model's `model.json`, plus the `.bin` shards it names), the format face-api, human and other
 * tfjs models ship their parameters in. Dequantises exactly as tfjs' `io.decodeWeights` does:
 * uint8/uint16 as `q * scale + min`, float16 widened to float32.
 */
import { PhenofaceError } from '../../errors.ts';

/** One named float weight tensor. */
export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

/** One named weight tensor of a graph model: float32 parameters, or int32 shapes and paddings. */
export interface TypedWeight {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** One group of a tfjs weights manifest: its shards and the weights they hold, in order. */
export interface WeightGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale?: number; min?: number } }[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** IEEE 754 half precision bits to a number (what tfjs' float16 dequantisation computes). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** One weight's stored bytes (an aligned copy) decoded to its dtype. */
function decode(w: WeightGroup['weights'][number], raw: ArrayBuffer, n: number): Float32Array | Int32Array {
  const stored = w.quantization?.dtype ?? w.dtype;
  if (stored === 'int32') return new Int32Array(raw);
  if (stored === 'float32') return new Float32Array(raw);
  if (stored === 'float16') return Float32Array.from(new Uint16Array(raw), halfToFloat);
  const q = stored === 'uint8' ? new Uint8Array(raw) : new Uint16Array(raw);
  const { scale = 1, min = 0 } = w.quantization!;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = q[i] * scale + min;
  return data;
}

/**
 * Reads every weight of the manifest groups; `shard(path)` returns the bytes of a `.bin` file named
 * in the manifest (paths as written there).
 * @throws PhenofaceError `E_MODEL` on an unknown dtype or when the shards are too short.
 */
export function readWeightGroups(groups: readonly WeightGroup[], shard: (path: string) => Uint8Array): Map<string, TypedWeight> {
  const weights = new Map<string, TypedWeight>();
  for (const group of groups) {
    const parts = group.paths.map(shard);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (bytes.set(p, offset), offset + p.length), 0);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const stored = w.quantization?.dtype ?? w.dtype;
      const width = BYTES[stored];
      const valid = width && (w.dtype === 'float32' ? stored !== 'int32' : w.dtype === 'int32' && !w.quantization);
      if (!valid || (w.quantization && stored === 'float32')) {
        throw new PhenofaceError('E_MODEL', `tfjs weight "${w.name}" is stored as ${stored} (dtype ${w.dtype}); expected float32 (possibly quantised to uint8/uint16/float16) or int32.`);
      }
      if (offset + n * width > bytes.length) throw new PhenofaceError('E_MODEL', `tfjs weight "${w.name}" runs past the end of its shards (${bytes.length} bytes).`);
      weights.set(w.name, { shape: w.shape, data: decode(w, bytes.slice(offset, offset + n * width).buffer, n) });
      offset += n * width;
    }
  }
  return weights;
}

/**
 * Reads every weight of a tfjs weights manifest file, all of them float32 (possibly quantised).
 * @throws PhenofaceError `E_MODEL` on invalid JSON, an int32 or unknown dtype, or short shards.
 */
export function readTfjsWeights(manifestJson: Uint8Array, shard: (path: string) => Uint8Array): Map<string, NamedWeight> {
  let groups: WeightGroup[];
  try {
    groups = JSON.parse(new TextDecoder().decode(manifestJson)) as WeightGroup[];
    if (!Array.isArray(groups)) throw new Error('expected an array of weight groups');
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `Invalid tfjs weights manifest: ${(cause as Error).message}.`, { cause });
  }
  const weights = readWeightGroups(groups, shard);
  for (const [name, w] of weights) {
    if (!(w.data instanceof Float32Array)) throw new PhenofaceError('E_MODEL', `tfjs weight "${name}" is int32; expected only float32 weights in a weights manifest.`);
  }
  return weights as Map<string, NamedWeight>;
}
