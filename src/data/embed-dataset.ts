/**
 * Embed every photo of a data set through the cache: hash each file, take cached results, run the
 * (injected) detect/align/embed pipeline on the rest, and put each result the moment it is done,
 * so an interrupted run resumes where it stopped and a re-run costs one `stat` per photo (content
 * hashes are remembered by path, size and mtime).
 *
 * A photo's failure is a per-photo record (the CLI contract's batch rule) and the batch goes on.
 * Failures that depend on the photo alone (no face, undecodable...) are cached like results; any
 * other failure (a model error, an internal bug, a file that vanished) is not, so it is retried.
 */
import { PhenofaceError, toErrorRecord, type ErrorCode } from '../errors.ts';
import type { Face, Point, View } from '../types.ts';
import type { CacheKey, EmbeddingCache, ErrorRecord } from './cache.ts';
import { DEFAULTS } from '../config.ts';
import type { Dataset, DatasetItem } from './manifest.ts';

/** Error codes that are a property of the photo's bytes, so caching them is safe. */
export const CACHEABLE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_DECODE', 'E_UNSUPPORTED', 'E_TOO_LARGE', 'E_TOO_SMALL', 'E_NO_FACE']);

/**
 * Files with the same bytes share one cache entry and one pipeline run, so one failure message
 * serves them all. It is kept with the photo's path replaced by this mark ({@link pathless}) and
 * each photo gets it back with its own path ({@link errorOfPhoto}): an error never names another file.
 */
const PHOTO_MARK = '<photo>';

/** `error` with the path of the photo that produced it replaced by {@link PHOTO_MARK}. */
function pathless(error: ErrorRecord, absPath: string): ErrorRecord {
  return { ...error, message: error.message.split(absPath).join(PHOTO_MARK) };
}

/** A shared failure as the photo at `absPath` reports it. */
function errorOfPhoto(error: ErrorRecord, absPath: string): ErrorRecord {
  return { ...error, message: error.message.split(PHOTO_MARK).join(absPath) };
}

/** A vector computed beside the embedding, wanted at one version: its field and its name in errors. */
interface WantedVector {
  field: 'regionMaps' | 'secondEmbedding';
  version: string;
  what: string;
}

/** The vectors `options` asks for beside the embedding (a cached result without one of them, or of another version, is computed again). */
function wantedVectors({ regionVersion, secondVersion }: Pick<EmbedDatasetOptions, 'regionVersion' | 'secondVersion'>): WantedVector[] {
  return [
    ...(regionVersion !== undefined ? [{ field: 'regionMaps' as const, version: regionVersion, what: 'region maps' }] : []),
    ...(secondVersion !== undefined ? [{ field: 'secondEmbedding' as const, version: secondVersion, what: 'second embedding' }] : []),
  ];
}

/** Progress of one phase: `hash` (hash files, look them up) then `embed` (run the pipeline on misses). */
export interface EmbedProgress {
  phase: 'hash' | 'embed';
  done: number;
  total: number;
  /** Photos found in the cache (known after the hash phase). */
  cached: number;
  /** Photos that failed so far. */
  failed: number;
  elapsedSec: number;
  /** Photos per second in this phase. */
  ratePerSec: number;
  /** Seconds left in this phase at the current rate; undefined before the first photo. */
  etaSec?: number;
}

/** Options of {@link embedDataset}. */
export interface EmbedDatasetOptions {
  cache: EmbeddingCache;
  /** Version of what computes a result (the pipeline and its models, `cacheVersion`); part of the cache key. */
  pipelineVersion: string;
  /** Backbone id; part of the cache key. */
  backbone: string;
  /**
   * The real pipeline for one photo: its chosen face, embedding, (when the pipeline places them)
   * the face's 68 dense landmarks and (when asked for) its region-pooled maps; throws
   * `PhenofaceError` on failure.
   */
  embedOne: (absPath: string) => Promise<{ face: Face; embedding: Float32Array; landmarks68?: Point[]; regionMaps?: Float32Array; secondEmbedding?: Float32Array }>;
  /**
   * Also wanted: each photo's region-pooled maps of this version (`regionFeaturesVersion`). A
   * cached result without them, or with another version's, is computed again.
   */
  regionVersion?: string;
  /** Also wanted: each photo's second-network embedding of this version (`secondEmbeddingVersion`), likewise. */
  secondVersion?: string;
  onProgress?: (progress: EmbedProgress) => void;
  /** Photos in flight at once (default {@link DEFAULTS.data}.concurrency). */
  concurrency?: number;
  /** Stops scheduling new photos; those in flight finish and are cached. Unfinished photos get an error record. */
  signal?: AbortSignal;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

/** One photo's outcome. */
export interface PhotoResult {
  item: DatasetItem;
  /** Content sha256; undefined when the file could not be read. */
  sha256?: string;
  /** True when the result came from the cache. */
  cached: boolean;
  face?: Face;
  embedding?: Float32Array;
  /** The chosen face's 68 iBUG-300W points in image pixels (see `landmarks/ibug68.ts`), when the pipeline placed them. */
  landmarks68?: Point[];
  /** The region-pooled maps, when {@link EmbedDatasetOptions.regionVersion} asked for them. */
  regionMaps?: Float32Array;
  /** The second network's embedding, when {@link EmbedDatasetOptions.secondVersion} asked for it. */
  secondEmbedding?: Float32Array;
  /** The manifest's view, else the view estimated from the face. */
  view?: View;
  error?: ErrorRecord;
}

/** All outcomes, in the data set's order, with counts. */
export interface EmbedDatasetResult {
  results: PhotoResult[];
  counts: { total: number; cached: number; computed: number; failed: number };
  /** absPath -> sha256 of every readable photo (for `datasetHash`). */
  contentHashes: Map<string, string>;
}

/** Run `work(i)` for i in [0, n) with at most `concurrency` in flight, stopping early on `signal`. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n && !signal?.aborted) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
}

function progressTracker(phase: EmbedProgress['phase'], total: number, now: () => number, counts: { cached: number; failed: number }, onProgress?: (p: EmbedProgress) => void) {
  const start = now();
  let done = 0;
  const emit = () => {
    if (!onProgress) return;
    const elapsedSec = (now() - start) / 1000;
    const ratePerSec = elapsedSec > 0 ? done / elapsedSec : 0;
    const etaSec = ratePerSec > 0 ? (total - done) / ratePerSec : done === total ? 0 : undefined;
    onProgress({ phase, done, total, cached: counts.cached, failed: counts.failed, elapsedSec, ratePerSec, etaSec });
  };
  emit();
  return () => {
    done++;
    emit();
  };
}

/**
 * Embed every photo of `dataset` through `cache`. Never throws for one photo's failure; throws
 * `E_INPUT` for invalid options.
 */
export async function embedDataset(dataset: Dataset, options: EmbedDatasetOptions): Promise<EmbedDatasetResult> {
  const { cache, pipelineVersion, backbone, embedOne, onProgress, signal } = options;
  const wanted = wantedVectors(options);
  const concurrency = options.concurrency ?? DEFAULTS.data.concurrency;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new PhenofaceError('E_INPUT', `Invalid concurrency: ${concurrency}. Should be an integer >= 1.`);
  const items = dataset.items;
  const results: PhotoResult[] = items.map((item) => ({ item, cached: false, ...(item.view ? { view: item.view } : {}) }));
  const counts = { total: items.length, cached: 0, computed: 0, failed: 0 };
  const contentHashes = new Map<string, string>();
  const fail = (r: PhotoResult, error: ErrorRecord) => {
    r.error = error;
    counts.failed++;
  };

  // Phase 1: hash and look up. Cheap next to embedding, and it tells how many photos are left.
  const misses: number[] = [];
  const hashed = progressTracker('hash', items.length, now, counts, onProgress);
  await pool(items.length, Math.max(concurrency, DEFAULTS.data.hashConcurrency), async (i) => {
    const r = results[i];
    try {
      r.sha256 = await cache.contentHash(r.item.absPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_INPUT';
      fail(r, { code, message: `Cannot read "${r.item.path}": ${(err as Error).message}` });
      return hashed();
    }
    const hit = cache.get({ sha256: r.sha256, backbone, pipelineVersion });
    const lacks = hit !== undefined && 'embedding' in hit && wanted.some((w) => hit[w.field]?.version !== w.version);
    if (hit === undefined || lacks) misses.push(i);
    else {
      r.cached = true;
      counts.cached++;
      if ('error' in hit) fail(r, errorOfPhoto(hit.error, r.item.absPath));
      else Object.assign(r, { face: hit.face, embedding: hit.embedding, view: r.view ?? hit.face.view, ...(hit.landmarks68 && { landmarks68: hit.landmarks68 }), ...Object.fromEntries(wanted.map((w) => [w.field, hit[w.field]!.data])) });
    }
    hashed();
  }, signal);
  // In manifest order, whatever order the hashes finished in.
  for (const r of results) if (r.sha256) contentHashes.set(r.item.absPath, r.sha256);
  // Identical files (the same photo under two paths) are embedded once.
  const bySha = new Map<string, number[]>();
  for (const i of misses.sort((a, b) => a - b)) bySha.set(results[i].sha256!, [...(bySha.get(results[i].sha256!) ?? []), i]);
  const groups = [...bySha.values()];

  // Phase 2: run the pipeline on the misses, putting each result as soon as it is done.
  const embedded = progressTracker('embed', misses.length, now, counts, onProgress);
  await pool(groups.length, concurrency, async (g) => {
    const group = groups[g].map((i) => results[i]);
    const first = group[0];
    const key: CacheKey = { sha256: first.sha256!, backbone, pipelineVersion };
    try {
      const out = await embedOne(first.item.absPath);
      const { face, embedding, landmarks68 } = out;
      for (const [what, v] of [['embedding', embedding], ...wanted.map((w) => [w.what, out[w.field]] as const)] as const) {
        if (!(v instanceof Float32Array) || v.length === 0 || !v.every(Number.isFinite)) {
          throw new PhenofaceError('E_MODEL', `The pipeline returned invalid ${what} for "${first.item.path}"; expected a non-empty Float32Array of finite numbers.`);
        }
      }
      const vectors = Object.fromEntries(wanted.map((w) => [w.field, out[w.field]!]));
      cache.put(key, { face, embedding, ...(landmarks68 && { landmarks68 }), ...Object.fromEntries(wanted.map((w) => [w.field, { version: w.version, data: out[w.field]! }])) });
      for (const r of group) Object.assign(r, { face, embedding, view: r.view ?? face.view, ...(landmarks68 && { landmarks68 }), ...vectors });
      counts.computed += group.length;
    } catch (err) {
      const error = pathless(toErrorRecord(err), first.item.absPath);
      if (CACHEABLE_ERROR_CODES.has(error.code)) cache.put(key, { error });
      for (const r of group) fail(r, errorOfPhoto(error, r.item.absPath));
    }
    group.forEach(() => embedded());
  }, signal);

  if (signal?.aborted) {
    for (const r of results) {
      if (r.embedding === undefined && r.error === undefined) fail(r, { code: 'E_INTERNAL', message: `Not processed: the run was stopped before "${r.item.path}".` });
    }
  }
  return { results, counts, contentHashes };
}
