/**
 * The JSON shapes of the HTTP API (CLI contract "HTTP API of serve"), shared by the server and the
 * browser UI (`web/`): plain data only, no Node types, so the UI typechecks against them.
 */
import type { ScreenPhoto } from '../workflows/screen/result.ts';
import type { View } from '../types.ts';

/**
 * A figure as `metrics.json` and the model bundle write it: a value with its 95% subject-bootstrap
 * interval (`null` when undefined), or a bare number.
 */
export type Figure = number | { value: number | null; ci95?: [number, number] | null };

/** Cross-validated figures at one level (photo or subject). Extra fields are kept. */
export interface LevelMetrics {
  auc?: Figure;
  sensitivity?: Figure;
  specificity?: Figure;
  accuracy?: Figure;
  balancedAccuracy?: Figure;
  /** Units evaluated: a count, or `{units, positive, negative}` as `study` writes it. */
  n?: number | { units: number; positive?: number; negative?: number };
  [name: string]: unknown;
}

/** Photo- and subject-level figures. */
export interface LevelPair {
  photo?: LevelMetrics;
  subject?: LevelMetrics;
}

/** Cross-validated performance as the bundle keeps it (`metrics.json` shape: photo, subject, byView). */
export interface ModelMetrics extends LevelPair {
  byView?: Partial<Record<View, LevelPair>>;
  folds?: number;
  repeats?: number;
  [name: string]: unknown;
}

/** Counts of people and photos. */
export interface Counts {
  subjects: number;
  photos: number;
}

/** The training-data summary a bundle from `study` holds (other fields are shown as they are). */
export interface TrainingSummary {
  subjectsUsed?: number;
  photosUsed?: number;
  datasetHash?: string;
  warnings?: string[];
  summary?: {
    total?: Counts;
    byClass?: Record<string, Counts & { byView?: Record<string, Counts> }>;
    byView?: Record<string, Counts>;
  };
  [name: string]: unknown;
}

/**
 * What a model bundle says about itself (`Screener.info()` of `src/workflows/screen/screener.ts`), for the model page
 * and the result's "validated performance". Only `id`, `backbone`, `positive` and `negative` are
 * required; the UI shows whatever else is present.
 */
export interface ModelInfo {
  id: string;
  /** The face-recognition network installed with the model; what the model reads of it, if anything, is in `reads`. */
  backbone: string;
  /** The second network whose embedding the model reads beside the backbone's (absent when none). */
  secondBackbone?: string;
  /** The feature blocks the model scores with (`embedding`, `geometry`, `regions`). */
  features?: string[];
  /** What the model reads, in words: e.g. "face geometry (landmarks and measurements); no face-recognition embedding". */
  reads?: string;
  positive: string;
  negative: string;
  classifier?: string;
  /** Decision thresholds on the positive-class probability, per photo and per person (fused). */
  thresholds?: { photo: number; subject: number };
  /** When the bundle was trained (ISO 8601). */
  createdAt?: string;
  training?: TrainingSummary;
  metrics?: ModelMetrics;
  intendedUse?: string;
  limitations?: string[];
  /** True for a bundle trained on synthetic data (the demo): not a clinical model. */
  synthetic?: boolean;
  /** A ranking bundle's classes and its cross-validated ranking figures (`metrics.json`'s `ranking` headline). */
  ranking?: { classes: string[]; metrics: { subject?: Record<string, Figure>; photo?: Record<string, Figure>; chance?: { uniform?: Record<string, number> } } };
  [name: string]: unknown;
}

/** `GET /api/health`: status, the model's identity, upload limits (the UI checks them first) and the queue. */
export interface HealthResponse {
  contract: 1;
  status: 'ok';
  model: Pick<ModelInfo, 'id' | 'backbone' | 'features' | 'reads' | 'positive' | 'negative'>;
  limits: { maxFiles: number; maxFileBytes: number; maxPixels: number };
  /** True when the server was started with `--keep` and writes photos to disk. */
  keepsPhotos: boolean;
  queue: { running: number; waiting: number; capacity: number };
}

/** An error response of the API (contract: `{"contract":1,"error":{"code","message"}}`), with per-photo records on 422. */
export interface ApiErrorResponse {
  contract: 1;
  error: { code: string; message: string };
  photos?: ScreenPhoto[];
}
