/**
 * The inference runtime: model registry and installer, ONNX sessions, and the TFLite -> ONNX
 * converter behind them. The only folder that touches onnxruntime (via `session.ts`).
 */
export { OnnxModel, type InferenceModel, type SessionOptions, type Tensor } from './session.ts';
export {
  DEFAULT_MODELS_DIR,
  MODEL_NAMES,
  ensureModels,
  loadManifest,
  loadModel,
  modelPath,
  modelStatus,
  converterHash,
  specHash,
  type Alignment,
  type EnsureOptions,
  type EnsureResult,
  type ManifestEntry,
  type ModelManifest,
  type Normalisation,
} from './models.ts';
export { readLinearHead, type DenseLayer, type LinearHead } from './linear-head.ts';
export { featureGridOf, graphTailOf, loadModelWithOutputs, loadTailBackward, readFeatureGrid, readGraphTail, tailReads, type FeatureGrid, type GraphTail, type TailBackward, type TailAdd, type TailConv, type TailNode, type TailPrelu } from './graph-tail.ts';
