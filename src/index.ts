/**
 * Phenoface's public API: the stages a photo flows through (decode -> detect -> align -> embed),
 * the pipeline that wires them, and the workflows that compose them (study, screen, synth), with
 * their configuration and typed errors. Re-exports only; each module documents its own behaviour.
 *
 * @example Screen one person's photos with a model written by `phenoface study`:
 * ```ts
 * import { PhenofaceError, Screener } from 'phenoface';
 *
 * const screener = await Screener.load('results/model');
 * try {
 *   const result = await screener.screen([
 *     { name: 'front.jpg', path: 'patient/front.jpg' },
 *     { name: 'left.jpg', path: 'patient/left.jpg' },
 *   ]);
 *   console.log(result.subject.label, result.subject.probability); // a score at the model's threshold
 * } catch (err) {
 *   if (err instanceof PhenofaceError) console.error(err.code, err.message);
 * } finally {
 *   await screener.close();
 * }
 * ```
 *
 * @example Embed a photo (the face chosen as `embed` chooses it):
 * ```ts
 * import { Pipeline } from 'phenoface';
 *
 * const pipeline = await Pipeline.create();
 * const { face, embedding } = await pipeline.embedFile('photo.jpg'); // E_NO_FACE when none
 * await pipeline.close();
 * ```
 */
export * from './types.ts';
export * from './errors.ts';
export { DEFAULTS, resolveConfig, type PhenofaceConfig, type PartialConfig } from './config.ts';
export { decodeImage, type DecodedImage } from './image/index.ts';
export { alignFace, alignmentMatrix, ARCFACE_TEMPLATE, ALIGNED_SIZE } from './align/index.ts';
export { estimatePose, viewOfFace } from './pose/index.ts';
export { backbones, cosine, l2normalize } from './embed/index.ts';
export { DenseLandmarker, DENSE_LANDMARK_MODELS, EXTRA_POINTS, IBUG68, fivePointsOf68, type DenseLandmarkSpec } from './landmarks/index.ts';
export { Pipeline, chooseFace, PIPELINE_VERSION, type DetectResult, type EmbedResult, type PipelineOptions } from './pipeline/pipeline.ts';
export { PipelinePool, type PipelinePoolOptions } from './pipeline/pool.ts';
export { loadDataset, type Dataset, type DatasetItem } from './data/index.ts';
export { readEmbeddingFile, type EmbeddingFile, type EmbeddingOrigin, type EmbeddingProblem } from './data/embedding-file.ts';
export { validateBySite, type SiteValidation } from './evaluate/sites.ts';
export { loadBundle, type ModelBundle } from './classify/bundle.ts';
export { runStudy, type StudyOptions, type StudyResult } from './workflows/study/study.ts';
export { Screener, DISCLAIMER, type ScreenResult, type ScreenPhoto } from './workflows/screen/screener.ts';
export { screenEmbeddings } from './workflows/screen/embeddings.ts';
export { synthesize } from './workflows/synth/index.ts';
export { ensureModels } from './runtime/build/install.ts';
export { loadModel } from './runtime/index.ts';
