/**
 * The inference runtime: the model loader and manifest, ONNX sessions, graph reading. The only
 * folder that touches onnxruntime (via `session.ts`). The model builder (fetch, verify, convert)
 * is `build/install.ts`, imported only by the commands that build models.
 */
export { OnnxModel, type InferenceModel, type SessionOptions, type Tensor } from './session.ts';
export {
  DEFAULT_MODELS_DIR,
  MODEL_NAMES,
  loadManifest,
  loadModel,
  modelPath,
  modelStatus,
  type Alignment,
  type ManifestEntry,
  type ModelManifest,
  type Normalisation,
} from './models.ts';
export { readLinearHead, type DenseLayer, type LinearHead } from './linear-head.ts';
export { featureGridOf, graphTailOf, loadModelWithOutputs, loadTailBackward, readFeatureGrid, readGraphTail, tailReads, type FeatureGrid, type GraphTail, type TailBackward, type TailAdd, type TailConv, type TailNode, type TailPrelu } from './graph-tail.ts';
