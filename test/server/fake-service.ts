/**
 * A fake ScreenService for API and browser tests: no model, deterministic results computed from the
 * photo's pixels (sharp), per-photo errors as the real Screener reports them, what the call means
 * (validated rates, chance at the model's prevalence) and no HPO terms below the photo threshold,
 * as the Screener gives them, heatmaps drawn by the real overlay code on a shared scale, and hooks
 * to hold screenings (queue tests) and to count calls. A photo named `low-score...` scores far
 * below the threshold; one named `fault-E_MODEL...` fails with that server fault.
 */
import { isMainThread } from 'node:worker_threads';
import sharp, { type Stats } from 'sharp';
import { PhenofaceError, type ErrorCode } from '../../src/errors.ts';
import { DEFAULTS } from '../../src/config.ts';
import { boundChanceNote, postTest } from '../../src/evaluate/post-test.ts';
import { heatScaleFor } from '../../src/explain/heat-scale.ts';
import { photoOverlay, pngDataUrl } from '../../src/explain/overlay.ts';
import { heatMapScope } from '../../src/explain/scope.ts';
import { modelReads } from '../../src/features/describe.ts';
import type { FeatureName } from '../../src/features/types.ts';
import { regionsFromHeatMap, type Measurement, type ScreenPhoto, type ScreenResult } from '../../src/workflows/screen/result.ts';
import type { ModelInfo, ScreenOptions, ScreenService, UploadedPhoto } from '../../src/server/types.ts';
import type { Landmarks5 } from '../../src/types.ts';
import { tQuantile975 } from '../../src/math/student.ts';
import { viewAdvice } from '../../src/workflows/screen/photo-warnings.ts';

/** Where the fixture face sits, as fractions of the photo (fixtures.ts draws it there). */
export const FACE_LAYOUT = {
  box: { x: 0.25, y: 0.14, width: 0.5, height: 0.66 },
  landmarks: [[0.4, 0.4], [0.6, 0.4], [0.5, 0.52], [0.42, 0.64], [0.58, 0.64]] as [number, number][],
};

const est = (value: number, lo: number, hi: number) => ({ value, ci95: [lo, hi] as [number, number] });

/** What the fake model reads with these blocks, in the real model's words. */
function readsOf(features: FeatureName[]): string {
  return modelReads({ features: { features }, backbone: { name: 'mobilefacenet', ...(features.includes('embedding') ? { second: { name: 'dlib-resnet' } } : {}) } });
}
const level = (sens: number, spec: number, auc: number, units: number) => ({
  n: { units, positive: Math.round(units * 0.4), negative: units - Math.round(units * 0.4) },
  auc: est(auc, auc - 0.05, Math.min(1, auc + 0.04)),
  sensitivity: est(sens, sens - 0.08, Math.min(1, sens + 0.07)),
  specificity: est(spec, spec - 0.07, Math.min(1, spec + 0.06)),
});

/** A model card shaped as `Screener.info()` returns it (src/workflows/screen/screener.ts, src/classify/bundle.ts). */
export const FAKE_INFO: ModelInfo = {
  id: 'fake-model-1',
  createdAt: '2025-01-01T00:00:00.000Z',
  positive: 'vcfs',
  negative: 'control',
  backbone: 'mobilefacenet',
  secondBackbone: 'dlib-resnet',
  // As a default study's model: a stack whose embedding block reads both networks.
  features: ['embedding', 'regions'],
  reads: readsOf(['embedding', 'regions']),
  classifier: 'logistic',
  thresholds: { photo: 0.45, subject: 0.5 },
  training: {
    summary: {
      total: { subjects: 100, photos: 300 },
      byClass: { vcfs: { subjects: 40, photos: 120 }, control: { subjects: 60, photos: 180 } },
      byView: { frontal: { subjects: 100, photos: 200 }, oblique: { subjects: 50, photos: 70 }, profile: { subjects: 30, photos: 30 } },
    },
    datasetHash: 'f00dfeedcafe0123456789abcdef0123456789abcdef',
    photosUsed: 296,
    subjectsUsed: 100,
    warnings: [],
  },
  metrics: {
    subject: level(0.86, 0.9, 0.93, 100),
    photo: level(0.8, 0.85, 0.88, 296),
    byView: {
      frontal: { photo: level(0.9, 0.92, 0.95, 200), subject: level(0.9, 0.92, 0.95, 100) },
      oblique: { photo: level(0.78, 0.83, 0.86, 68), subject: level(0.8, 0.84, 0.87, 50) },
      profile: { photo: level(0.7, 0.78, 0.81, 28), subject: level(0.72, 0.8, 0.82, 30) },
    },
  },
  intendedUse: 'A screening aid for clinicians: flags people whose facial photographs resemble those of people with 22q11.2 deletion syndrome in the training data, to prompt genetic testing. Not a diagnosis.',
  limitations: ['A screening aid, not a diagnosis.', 'Trained on synthetic test data only.'],
  synthetic: true,
};

const THRESHOLD = FAKE_INFO.thresholds!.subject;

/** Fixed measurements of a frontal photo: a narrow mouth beyond -2 SD (with its HPO term), a philtrum inside the control range. */
const FAKE_MEASUREMENTS: Measurement[] = [
  { name: 'mouth-width', label: 'Mouth width', region: 'perioral', value: 0.55, z: -2.4, hpo: [{ id: 'HP:0000160', label: 'Narrow mouth' }] },
  { name: 'philtrum-length', label: 'Philtrum length', region: 'perioral', value: 0.24, z: 0.8, hpo: [] },
];

/** Fixed geometry contributions of a frontal photo (log-odds by region, largest first), as a model with a geometry part gives them. */
const FAKE_GEOMETRY = {
  geometryRegions: [
    { name: 'perinasal', contribution: 0.82 }, { name: 'perioral', contribution: 0.31 }, { name: 'periorbital-left', contribution: 0.12 },
    { name: 'periorbital-right', contribution: 0.05 }, { name: 'forehead-glabella', contribution: 0 }, { name: 'malar-left', contribution: -0.04 },
    { name: 'malar-right', contribution: -0.11 }, { name: 'chin-jaw', contribution: -0.27 },
  ],
  geometryNote: 'Each region\'s contribution, through the face\'s measured geometry (landmark positions and the anthropometric panel), to this photo\'s log-odds (the natural logarithm of the score\'s odds, p/(1-p): +0.69 doubles the odds, -0.69 halves them), relative to the mean face of the study\'s photos; positive = towards "vcfs". Exact: the geometry part of the model is linear.',
};

const REGIONS = [
  { name: 'perinasal', share: 0.34, hpo: ['HP:0000414 bulbous nose', 'HP:0000430 underdeveloped nasal alae'] },
  { name: 'periorbital-left', share: 0.2, hpo: ['HP:0045025 narrow palpebral fissure', 'HP:0000629 periorbital fullness'] },
  { name: 'periorbital-right', share: 0.18, hpo: ['HP:0045025 narrow palpebral fissure', 'HP:0000629 periorbital fullness'] },
  { name: 'perioral', share: 0.14, hpo: ['HP:0000160 narrow mouth'] },
  { name: 'malar-left', share: 0.05, hpo: ['HP:0000272 malar flattening'] },
  { name: 'malar-right', share: 0.04, hpo: ['HP:0000272 malar flattening'] },
  { name: 'forehead-glabella', share: 0.02, hpo: ['HP:0000276 long face'] },
  { name: 'chin-jaw', share: 0.01, hpo: ['HP:0000276 long face'] },
  { name: 'outside-face', share: 0.02 },
];

export interface FakeServiceOptions {
  /** Awaited inside every screen() call (hold screenings running). */
  gate?: () => Promise<void>;
  /** Milliseconds of synchronous busy work per screen() call (the real pipeline's CPU-bound stretches). */
  blockMs?: number;
  /** Act as a ranking bundle: the model info holds `ranking` and results a `differential`. */
  ranking?: boolean;
  /** Give the calls a cross-validated specificity of 1 (no control called positive in the study). */
  perfectSpecificity?: boolean;
  /** Act as a model with no evidence: its cross-validated AUC per person is 0.58 (95% interval 0.45-0.71), reaching chance. */
  weakModel?: boolean;
  /** The prevalence the call's chance is computed at, as `screen --prevalence` sets it (default: the config's). */
  prevalence?: number;
  /** Act as a model on the face's geometry alone (`--features geometry`): it reads no face-recognition embedding. */
  geometryOnly?: boolean;
  /** Score every photo exactly 1, as a score within 0.00005 of 1 reads once rounded to four decimals, with heat beyond the top of the colour scale. */
  scoreOne?: boolean;
  /** Give the geometry contributions of a stack that weighs the geometry at almost nothing (a thousandth of the usual). */
  negligibleGeometry?: boolean;
  /** Act as a model whose study found its heat maps failing a check: results with heat-map regions carry this `model.heatMapChecks`. */
  heatMapChecks?: string;
  /** Give every result with a score this `subject.photosNote` (screened from fewer photos than the study's people had). */
  photosNote?: string;
  /** Draw every photo's heat with this peak, as a multiple of the colour scale's top (default: the photo's score). */
  heatPeak?: number;
}

/** The fake ranking bundle's classes and figures (as `metrics.json`'s `ranking` headline). */
export const FAKE_RANKING = {
  classes: ['control', 'noonan', 'vcfs', 'williams'],
  metrics: {
    subject: { top1: est(0.62, 0.55, 0.7), top3: est(0.91, 0.86, 0.95) },
    photo: { top1: est(0.55, 0.5, 0.6), top3: est(0.88, 0.84, 0.92) },
    chance: { uniform: { top1: 0.25, top3: 0.75, top5: 1, top10: 1 } },
  },
};

/** The fake's shared colour scale: heat 1 is its hot end (as a study's percentile would be). */
const FAKE_STUDY_SCALE = { backbone: 'mobilefacenet', cam: 'contrastive', top: 1, percentile: 0.99, photos: 40, controlScore: -2 };

/**
 * A heatmap made as the real one is (src/explain/overlay.ts, on the fake study's shared scale): a
 * 112x112 map over the face box with blobs on the nose and eyes whose height is the photo's score
 * (the fake's stand-in for its evidence), warped onto the photo shrunk to at most 800 px, with its
 * colour bar. Returns the data URL and the scale it was drawn on.
 */
async function fakeHeatmap(bytes: Uint8Array, width: number, height: number, evidence: number): Promise<Pick<ScreenPhoto, 'heatmap' | 'heatScale'>> {
  const shrink = Math.min(1, 800 / Math.max(width, height));
  const w = Math.max(1, Math.round(width * shrink)), h = Math.max(1, Math.round(height * shrink));
  const data = await sharp(bytes).rotate().resize(w, h, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const size = 112;
  const heat = new Float32Array(size * size);
  const spots = [[0.5, 0.58, 0.12], [0.3, 0.4, 0.07], [0.7, 0.4, 0.07]];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let v = 0;
      for (const [cx, cy, r] of spots) v = Math.max(v, Math.exp(-(((x / size - cx) ** 2 + (y / size - cy) ** 2) / (2 * r * r))));
      heat[y * size + x] = evidence * v;
    }
  }
  const b = FACE_LAYOUT.box;
  const a = size / (b.width * w), e = size / (b.height * h);
  const matrix: [number, number, number, number, number, number] = [a, 0, -b.x * w * a, 0, e, -b.y * h * e];
  const heatmap = await pngDataUrl(photoOverlay({ width: w, height: h, data: new Uint8Array(data) }, matrix, heat, size, { top: FAKE_STUDY_SCALE.top }));
  return { heatmap, heatScale: heatScaleFor(heat, FAKE_STUDY_SCALE.cam, FAKE_STUDY_SCALE) };
}

/** What a call means, as the Screener gives it: the fake model's validated per-person rates and the chance at `prevalence`. */
function meaning(positive: boolean, perfectSpecificity = false, prevalence = DEFAULTS.evaluate.prevalence): Partial<ScreenResult['subject']> {
  const rates = FAKE_INFO.metrics!.subject as { sensitivity: { value: number; ci95: [number, number] }; specificity: { value: number; ci95: [number, number] } };
  const specificity = perfectSpecificity ? { value: 1, ci95: [0.9, 1] as [number, number] } : rates.specificity;
  const m = postTest(positive, rates.sensitivity, specificity, prevalence);
  return { prevalence: m.prevalence, sensitivity: m.sensitivity, specificity: m.specificity, likelihoodRatio: m.likelihoodRatio, ...(m.likelihoodRatioRange ? { likelihoodRatioRange: m.likelihoodRatioRange } : {}), ppv: m.ppv, chance: m.chance, ...(m.chanceRange ? { chanceRange: m.chanceRange } : {}), ...boundChanceNote(positive, m.chance, m.chanceRange !== null) };
}

/** A fake ScreenService. `calls` counts screen() calls; `closed` turns true after close(). */
export class FakeScreenService implements ScreenService {
  calls = 0;
  closed = false;
  constructor(private readonly opts: FakeServiceOptions = {}) {}

  info(): ModelInfo {
    const info = structuredClone(this.opts.ranking ? { ...FAKE_INFO, ranking: FAKE_RANKING } : FAKE_INFO);
    if (this.opts.weakModel) info.metrics!.subject!.auc = est(0.58, 0.45, 0.71);
    if (this.opts.geometryOnly) {
      delete info.secondBackbone;
      Object.assign(info, { features: ['geometry'], reads: readsOf(['geometry']) });
    }
    return info;
  }

  /** A differential shaped like the real one: every class, most probable first, the subject's probability as vcfs's share. */
  private differential(mean: number | null): Pick<ScreenResult, 'differential' | 'differentialNote'> {
    if (!this.opts.ranking || mean === null) return {};
    const rest = (1 - mean) / 3;
    const entries = FAKE_RANKING.classes.map((label, k) => ({ label, probability: label === 'vcfs' ? mean : rest * (1 + 0.2 * (k - 1)) }));
    return { differential: entries.sort((a, b) => b.probability - a.probability), differentialNote: 'Fake differential among the four classes of the fake model.' };
  }

  async screen(photos: UploadedPhoto[], opts: ScreenOptions = {}): Promise<ScreenResult> {
    this.calls++;
    await this.opts.gate?.();
    if (this.opts.blockMs) { const end = performance.now() + this.opts.blockMs; while (performance.now() < end); }
    const special = /^(throw-(E_[A-Z_]+)|crash)\b/.exec(photos[0]?.name ?? '');
    if (special?.[2]) throw new PhenofaceError(special[2] as ErrorCode, `Planted ${special[2]} for ${photos[0].name}`);
    if (special && !isMainThread) process.exit(3); // a worker dying mid-screening
    const results: ScreenPhoto[] = [];
    for (const photo of photos) results.push(await this.screenOne(photo, opts.explain ?? false));
    const probs = results.flatMap((p) => (p.probability === undefined ? [] : [p.probability]));
    const mean = probs.length ? probs.reduce((a, b) => a + b, 0) / probs.length : null;
    const sd = probs.length > 1 ? Math.sqrt(probs.reduce((a, p) => a + (p - mean!) ** 2, 0) / (probs.length - 1)) : 0;
    const half = probs.length > 1 ? tQuantile975(probs.length - 1) * sd / Math.sqrt(probs.length) : 0;
    return {
      contract: 1,
      subject: {
        probability: mean,
        label: mean === null ? null : mean >= THRESHOLD ? FAKE_INFO.positive : FAKE_INFO.negative,
        threshold: THRESHOLD,
        photos: probs.length,
        ...(probs.length > 1 ? { interval: [Math.max(0, mean! - half), Math.min(1, mean! + half)] as [number, number] } : {}),
        ...(mean === null ? {} : meaning(mean >= THRESHOLD, this.opts.perfectSpecificity, opts.prevalence ?? this.opts.prevalence)),
        ...(mean !== null && this.opts.photosNote ? { photosNote: this.opts.photosNote } : {}),
        ...(probs.length ? { measurements: FAKE_MEASUREMENTS.map((m) => ({ ...m, view: 'frontal' as const, photos: probs.length })), measurementsNote: 'z-scores are against controls of this study (label control), not population norms.' } : {}),
      },
      photos: results,
      ...this.differential(mean),
      model: {
        id: FAKE_INFO.id, backbone: FAKE_INFO.backbone, photoThreshold: FAKE_INFO.thresholds!.photo, features: this.info().features, reads: this.info().reads, positive: FAKE_INFO.positive, negative: FAKE_INFO.negative,
        ...(results.some(regionsFromHeatMap) ? { heatMapScope: heatMapScope(['embedding', 'regions'], FAKE_INFO.backbone, FAKE_INFO.secondBackbone) } : {}),
        ...(results.some(regionsFromHeatMap) && this.opts.heatMapChecks ? { heatMapChecks: this.opts.heatMapChecks } : {}),
      },
      disclaimer: 'A screening aid, not a diagnosis.',
    };
  }

  private async screenOne(photo: UploadedPhoto, explain: boolean): Promise<ScreenPhoto> {
    // A server fault found on one photo, as the real Screener reports a damaged explanation reference.
    const fault = /^fault-(E_[A-Z_]+)/.exec(photo.name);
    if (fault) return { path: photo.name, error: { code: fault[1], message: `Explanation reference /srv/phenoface/model/explain-reference.json holds 3 values, checked on ${JSON.stringify(photo.name)}; expected 196.` } };
    let width: number, height: number, stats: Stats;
    try {
      const img = sharp(photo.bytes, { failOn: 'error' }).rotate();
      const { info } = await img.clone().raw().toBuffer({ resolveWithObject: true });
      ({ width, height } = info);
      stats = await img.stats();
    } catch (err) {
      return { path: photo.name, error: { code: 'E_DECODE', message: `Image ${JSON.stringify(photo.name)} could not be decoded (${(err as Error).message.split('\n')[0]}).` } };
    }
    if (Math.max(...stats.channels.map((c) => c.stdev)) < 2) {
      return { path: photo.name, width, height, error: { code: 'E_NO_FACE', message: `No face found in ${JSON.stringify(photo.name)}.` } };
    }
    const profile = /profile/i.test(photo.name);
    const b = FACE_LAYOUT.box;
    const mean = stats.channels.slice(0, 3).reduce((a, c) => a + c.mean, 0) / 3;
    const low = /^low-score/.test(photo.name);
    const probability = this.opts.scoreOne ? 1 : Math.round((low ? 0.05 + 0.1 * (mean / 255) : 0.3 + 0.5 * (mean / 255)) * 1e6) / 1e6;
    const out: ScreenPhoto = {
      path: photo.name,
      probability,
      view: profile ? 'profile' : 'frontal',
      pose: { yaw: profile ? 70 : 3, pitch: -2, roll: 1 },
      box: { x: b.x * width, y: b.y * height, width: b.width * width, height: b.height * height },
      landmarks5: FACE_LAYOUT.landmarks.map(([x, y]) => [x * width, y * height]) as Landmarks5,
      width,
      height,
      // The Screener's own view advice on the fake model's figures, at its full printed length.
      warnings: viewAdvice(profile ? 'profile' : 'frontal', FAKE_INFO.metrics!.byView!),
      ...(profile ? {} : { measurements: FAKE_MEASUREMENTS.map((m) => ({ ...m, hpo: [...m.hpo] })), geometryNote: FAKE_GEOMETRY.geometryNote, geometryRegions: FAKE_GEOMETRY.geometryRegions.map((g) => ({ ...g, contribution: this.opts.negligibleGeometry ? Math.round(g.contribution * 10) / 1e4 : g.contribution })) }),
    };
    if (explain) {
      // HPO terms only at or above the photo threshold, as the Screener attaches them (withoutFindingsBelowThreshold).
      const above = probability >= FAKE_INFO.thresholds!.photo;
      out.regions = REGIONS.map((r) => ({ name: r.name, share: r.share, ...(r.hpo && above ? { hpo: [...r.hpo] } : {}) }));
      Object.assign(out, { cam: FAKE_STUDY_SCALE.cam }, await fakeHeatmap(photo.bytes, width, height, this.opts.heatPeak ?? (this.opts.scoreOne ? 1.6 : probability)));
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Factory for worker-thread tests (WorkerScreenService's `exportName`): `opts.failInit` makes loading
 * fail with that code, like a bad bundle; a warning is sent through `warn` as the real loader does.
 */
export async function createFakeService(opts: FakeServiceOptions & { failInit?: ErrorCode }, warn: (message: string) => void): Promise<ScreenService> {
  if (opts.failInit) throw new PhenofaceError(opts.failInit, `Planted ${opts.failInit} at load`);
  warn('fake service loaded');
  return new FakeScreenService({ blockMs: opts.blockMs });
}
