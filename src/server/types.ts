/**
 * What the web server needs from the rest of Phenoface, as interfaces: the server is a leaf
 * (architecture.md) and is built around an injected {@link ScreenService}, so its tests run with a
 * fake service and no model, and `src/cli/serve.ts` wires the real `Screener` (`src/screen.ts`).
 */
import type { ScreenResult } from '../screen-types.ts';
import type { View } from '../types.ts';

/** One uploaded photo, held in memory only (never written to disk unless `--keep` is given). */
export interface UploadedPhoto {
  /** The client's file name, as given (used as the result's `path`; never logged). */
  name: string;
  bytes: Buffer;
}

/** A figure as `metrics.json` writes it: a bare number or a value with its 95% interval. */
export type Figure = number | { value: number; ci95?: [number, number] };

/** Cross-validated figures at one level (photo or subject). Extra fields are kept and shown. */
export interface LevelMetrics {
  auc?: Figure;
  sensitivity?: Figure;
  specificity?: Figure;
  accuracy?: Figure;
  balancedAccuracy?: Figure;
  /** Photos or subjects the figures were computed on. */
  n?: number;
  [name: string]: unknown;
}

/** Photo- and subject-level figures. */
export interface LevelPair {
  photo?: LevelMetrics;
  subject?: LevelMetrics;
}

/** Cross-validated performance, shaped like the contract's `metrics.json`. */
export interface ModelMetrics extends LevelPair {
  byView?: Partial<Record<View, LevelPair>>;
  folds?: number;
  repeats?: number;
  [name: string]: unknown;
}

/**
 * What a model bundle says about itself, for the model page and the result's "validated
 * performance". Only `id`, `backbone`, `positive` and `negative` are required; the UI shows
 * whatever else is present.
 */
export interface ModelInfo {
  id: string;
  backbone: string;
  positive: string;
  negative: string;
  /** Decision threshold on the positive-class probability. */
  threshold?: number;
  /** When the bundle was trained (ISO 8601). */
  createdAt?: string;
  /** Training data summary: counts of subjects and photos (per class, per view), sources. */
  training?: Record<string, unknown>;
  metrics?: ModelMetrics;
  intendedUse?: string;
  limitations?: string[];
  [name: string]: unknown;
}

/** Options of one screening. */
export interface ScreenOptions {
  /** Produce Grad-CAM heatmaps (PNG data URLs) and region shares. */
  explain?: boolean;
}

/**
 * The screening service the server drives; the real one is `Screener` from `src/screen.ts`.
 * `screen` reports per-photo failures (no face, undecodable) inside the result, and throws a
 * `PhenofaceError` only for a failure of the whole request.
 */
export interface ScreenService {
  info(): ModelInfo;
  screen(photos: UploadedPhoto[], opts?: ScreenOptions): Promise<ScreenResult>;
  close(): Promise<void>;
}
