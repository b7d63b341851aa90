/** Data layer: data sets in (manifest or folder), the embedding cache, leakage guards, progress. */
export { loadDataset, datasetHash, IMAGE_EXTENSIONS } from './manifest.ts';
export type { Dataset, DatasetItem, DatasetSummary, Counts, LoadDatasetOptions, ManifestProblem, ManifestProblemKind } from './manifest.ts';
export { normalizeDataPath, lexicalPathProblem, resolveInside } from './paths.ts';
export { EmbeddingCache, hashFile } from './cache.ts';
export type { CacheKey, CacheValue, CacheEntry, CacheStats, ErrorRecord } from './cache.ts';
export { embedDataset, CACHEABLE_ERROR_CODES } from './embed-dataset.ts';
export type { EmbedDatasetOptions, EmbedDatasetResult, EmbedProgress, PhotoResult } from './embed-dataset.ts';
export { ProgressReporter, formatProgressLine, formatDuration } from './progress.ts';
export type { ProgressSink } from './progress.ts';
export { checkLeakage, percentile, warningWithoutNames } from './leakage.ts';
export { ageSubgroups } from './age.ts';
export { printable } from './printable.ts';
export type { LeakageOptions, LeakageReport, LeakageWarning, LeakagePhoto, PhotoRef, IdentityRule, IdentityThreshold, DuplicateContentWarning, NearDuplicateWarning, SamePersonWarning } from './leakage.ts';
