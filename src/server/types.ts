/**
 * What the web server needs from the rest of Phenoface, as interfaces: the server is a leaf
 * (architecture.md) and is built around an injected {@link ScreenService}, so its tests run with a
 * fake service and no model, and `src/cli/serve.ts` wires the real `Screener` (`src/workflows/screen/screener.ts`).
 */
import type { ScreenResult } from '../workflows/screen/result.ts';
import type { ModelInfo } from './api-types.ts';

export type * from './api-types.ts';

/** One uploaded photo, held in memory only (never written to disk unless `--keep` is given). */
export interface UploadedPhoto {
  /** The client's file name, as given (used as the result's `path`; never logged). */
  name: string;
  /** The file's bytes: a Buffer where the upload was read, a plain Uint8Array once copied to a worker thread. */
  bytes: Uint8Array;
}

/** Options of one screening. */
export interface ScreenOptions {
  /** Produce Grad-CAM heatmaps (PNG data URLs) and region shares. */
  explain?: boolean;
  /** The pre-test chance the result's chance assumes (`serve --prevalence`; default the configuration's). */
  prevalence?: number;
}

/**
 * The screening service the server drives; the real one is `Screener` from `src/workflows/screen/screener.ts`.
 * `screen` reports per-photo failures (no face, undecodable) inside the result, and throws a
 * `PhenofaceError` only for a failure of the whole request.
 */
export interface ScreenService {
  info(): ModelInfo;
  screen(photos: UploadedPhoto[], opts?: ScreenOptions): Promise<ScreenResult>;
  close(): Promise<void>;
}

