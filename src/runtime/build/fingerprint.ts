/**
 * What a built model was built from, as hashes: the model's spec ({@link specHash}) and the
 * conversion code ({@link converterHash}). The builder records both in `models/manifest.json`;
 * the loader's staleness check compares them, so editing a spec (a new output, other conventions)
 * or the converter (a graph rewrite) rebuilds the models it affects on the next `models build`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PhenofaceError } from '../../errors.ts';
import { canonicalJson } from '../../types.ts';
import type { ModelSpec } from './model-specs.ts';

/** Hex sha256 of some bytes: the checksum the manifest records for package files and ONNX files. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * sha256 of a model spec's data: name, description, license, package source and files, input
 * conventions and the convert spec (input, outputs, layout). Every one of them reaches the ONNX
 * file (graph, doc string or metadata), so a model built from another spec is stale. The `graph`
 * function is code, not data; its code is covered by {@link converterHash}.
 */
export function specHash(spec: ModelSpec): string {
  const { graph: _code, ...data } = spec;
  return createHash('sha256').update(canonicalJson(data)).digest('hex');
}

/**
 * The modules whose code decides what bytes a conversion writes: the file readers, the TFLite
 * fusion and lowering, the graph builders of face-api's networks, the tfjs graph-model walker, the ONNX encoder, and the specs' graph functions.
 * Paths are relative to `src/runtime/` and are part of the hash.
 */
const CONVERTER_MODULES = ['build/tflite.ts', 'build/tfjs-weights.ts', 'build/convert-tflite.ts', 'build/nhwc-builder.ts', 'build/dlib-resnet.ts', 'build/face-landmark68.ts', 'build/tfjs-graph-model.ts', 'onnx-proto.ts', 'build/model-specs.ts'] as const;

/**
 * The converter's version: sha256 of the source text of {@link CONVERTER_MODULES} (line endings
 * normalised). Derived from the code rather than a number to bump by hand, which a graph rewrite
 * can forget; the price is a rebuild (about a second) after an edit that changes no output byte.
 * @throws PhenofaceError `E_MODEL` when a converter source file cannot be read.
 */
export function converterHash(): string {
  const hash = createHash('sha256');
  for (const name of CONVERTER_MODULES) {
    const path = fileURLToPath(new URL(`../${name}`, import.meta.url));
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new PhenofaceError('E_MODEL', `Cannot read the converter source ${path} (${(cause as Error).message}); expected the Phenoface sources under src/runtime/.`, { cause });
    }
    hash.update(`${name}\0${text.replace(/\r\n/g, '\n')}\0`);
  }
  return hash.digest('hex');
}
