/**
 * A reader for TensorFlow.js weight files (`*-weights_manifest.json` plus its `.bin` shards), the
 * format face-api and other tfjs models ship their parameters in. Dequantises uint8/uint16 weights
 * exactly as tfjs' `io.decodeWeights` does: `q * scale + min`, stored as float32.
 */
import { PhenofaceError } from '../../errors.ts';

/** One named weight tensor. */
export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

interface ManifestGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string; quantization?: { dtype: string; scale: number; min: number } }[];
}

const BYTES: Record<string, number> = { float32: 4, uint8: 1, uint16: 2 };

/**
 * Reads every weight of a tfjs weights manifest; `shard(path)` returns the bytes of a `.bin` file
 * named in the manifest (paths as written there).
 * @throws PhenofaceError `E_MODEL` on an unknown dtype or when the shards are too short.
 */
export function readTfjsWeights(manifestJson: Uint8Array, shard: (path: string) => Uint8Array): Map<string, NamedWeight> {
  let groups: ManifestGroup[];
  try {
    groups = JSON.parse(new TextDecoder().decode(manifestJson)) as ManifestGroup[];
    if (!Array.isArray(groups)) throw new Error('expected an array of weight groups');
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `Invalid tfjs weights manifest: ${(cause as Error).message}.`, { cause });
  }
  const weights = new Map<string, NamedWeight>();
  for (const group of groups) {
    const parts = group.paths.map(shard);
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (bytes.set(p, offset), offset + p.length), 0);
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const stored = w.quantization?.dtype ?? w.dtype;
      const width = BYTES[stored];
      if (!width || (w.quantization && stored === 'float32') || w.dtype !== 'float32') {
        throw new PhenofaceError('E_MODEL', `tfjs weight "${w.name}" is stored as ${stored} (dtype ${w.dtype}); expected float32, or float32 quantised to uint8/uint16.`);
      }
      if (offset + n * width > bytes.length) throw new PhenofaceError('E_MODEL', `tfjs weight "${w.name}" runs past the end of its shards (${bytes.length} bytes).`);
      const raw = bytes.slice(offset, offset + n * width).buffer; // an aligned copy
      offset += n * width;
      let data: Float32Array;
      if (stored === 'float32') data = new Float32Array(raw);
      else {
        const q = stored === 'uint8' ? new Uint8Array(raw) : new Uint16Array(raw);
        const { scale, min } = w.quantization!;
        data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = q[i] * scale + min;
      }
      weights.set(w.name, { shape: w.shape, data });
    }
  }
  return weights;
}
