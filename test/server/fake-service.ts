/**
 * A fake ScreenService for API and browser tests: no model, deterministic results computed from the
 * photo's pixels (sharp), per-photo errors as the real Screener reports them, and hooks to hold
 * screenings (queue tests) and to count calls.
 */
import sharp, { type Stats } from 'sharp';
import type { ScreenPhoto, ScreenResult } from '../../src/screen-types.ts';
import type { ModelInfo, ScreenOptions, ScreenService, UploadedPhoto } from '../../src/server/types.ts';
import type { Landmarks5 } from '../../src/types.ts';

/** Where the fixture face sits, as fractions of the photo (fixtures.ts draws it there). */
export const FACE_LAYOUT = {
  box: { x: 0.25, y: 0.14, width: 0.5, height: 0.66 },
  landmarks: [[0.4, 0.4], [0.6, 0.4], [0.5, 0.52], [0.42, 0.64], [0.58, 0.64]] as [number, number][],
};

export const FAKE_INFO: ModelInfo = {
  id: 'fake-model-1',
  backbone: 'mobilefacenet',
  positive: 'vcfs',
  negative: 'control',
  threshold: 0.5,
  createdAt: '2025-01-01T00:00:00.000Z',
  training: { subjects: { vcfs: 40, control: 60 }, photos: { vcfs: 120, control: 180 }, views: { frontal: 200, oblique: 70, profile: 30 }, sources: ['synthetic test data'] },
  metrics: {
    folds: 5,
    repeats: 5,
    subject: { auc: { value: 0.93, ci95: [0.88, 0.97] }, sensitivity: 0.86, specificity: 0.9, n: 100 },
    photo: { auc: { value: 0.88, ci95: [0.84, 0.92] }, sensitivity: 0.8, specificity: 0.85, n: 300 },
    byView: {
      frontal: { photo: { auc: 0.95, sensitivity: 0.9, specificity: 0.92, n: 200 } },
      oblique: { photo: { auc: 0.86, sensitivity: 0.78, specificity: 0.83, n: 70 } },
      profile: { photo: { auc: 0.81, sensitivity: 0.7, specificity: 0.78, n: 30 } },
    },
  },
  intendedUse: 'A screening aid for clinicians, to help decide whom to refer for genetic testing for 22q11.2 deletion syndrome.',
  limitations: ['A screening aid, not a diagnosis.', 'Trained on synthetic test data only.'],
};

const REGIONS = [
  { name: 'perinasal', share: 0.34, hpo: ['HP:0000414 bulbous nose', 'HP:0000430 underdeveloped nasal alae'] },
  { name: 'periorbital-left', share: 0.2, hpo: ['HP:0045025 narrow palpebral fissure', 'HP:0000629 periorbital fullness'] },
  { name: 'periorbital-right', share: 0.18, hpo: ['HP:0045025 narrow palpebral fissure', 'HP:0000629 periorbital fullness'] },
  { name: 'perioral', share: 0.14, hpo: ['HP:0000160 narrow mouth'] },
  { name: 'malar-left', share: 0.05, hpo: ['HP:0000272 malar flattening'] },
  { name: 'malar-right', share: 0.04, hpo: ['HP:0000272 malar flattening'] },
  { name: 'forehead', share: 0.03 },
  { name: 'outside-face', share: 0.02 },
];

export interface FakeServiceOptions {
  /** Awaited inside every screen() call (hold screenings running). */
  gate?: () => Promise<void>;
}

/** A heatmap as a PNG data URL at the photo's aspect: a warm blob on the nose and eyes, transparent elsewhere. */
async function heatmapDataUrl(width: number, height: number): Promise<string> {
  const scale = Math.min(1, 256 / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale));
  const rgba = Buffer.alloc(w * h * 4);
  const spots = [[0.5, 0.5, 0.12], [0.4, 0.4, 0.07], [0.6, 0.4, 0.07]];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (const [cx, cy, r] of spots) v = Math.max(v, Math.exp(-(((x / w - cx) ** 2 + (y / h - cy) ** 2) / (2 * r * r))));
      const i = (y * w + x) * 4;
      rgba[i] = 255; rgba[i + 1] = Math.round(255 * (1 - v)); rgba[i + 2] = 0; rgba[i + 3] = Math.round(220 * v);
    }
  }
  const png = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** A fake ScreenService. `calls` counts screen() calls; `closed` turns true after close(). */
export class FakeScreenService implements ScreenService {
  calls = 0;
  closed = false;
  constructor(private readonly opts: FakeServiceOptions = {}) {}

  info(): ModelInfo {
    return structuredClone(FAKE_INFO);
  }

  async screen(photos: UploadedPhoto[], opts: ScreenOptions = {}): Promise<ScreenResult> {
    this.calls++;
    await this.opts.gate?.();
    const results: ScreenPhoto[] = [];
    for (const photo of photos) results.push(await this.screenOne(photo, opts.explain ?? false));
    const probs = results.flatMap((p) => (p.probability === undefined ? [] : [p.probability]));
    const mean = probs.length ? probs.reduce((a, b) => a + b, 0) / probs.length : null;
    const sd = probs.length > 1 ? Math.sqrt(probs.reduce((a, p) => a + (p - mean!) ** 2, 0) / (probs.length - 1)) : 0;
    const half = probs.length > 1 ? 1.96 * sd / Math.sqrt(probs.length) : 0;
    return {
      contract: 1,
      subject: {
        probability: mean,
        label: mean === null ? null : mean >= FAKE_INFO.threshold! ? FAKE_INFO.positive : FAKE_INFO.negative,
        threshold: FAKE_INFO.threshold!,
        photos: probs.length,
        ...(probs.length > 1 ? { interval: [Math.max(0, mean! - half), Math.min(1, mean! + half)] as [number, number] } : {}),
      },
      photos: results,
      model: { id: FAKE_INFO.id, backbone: FAKE_INFO.backbone, positive: FAKE_INFO.positive, negative: FAKE_INFO.negative },
      disclaimer: 'A screening aid, not a diagnosis.',
    };
  }

  private async screenOne(photo: UploadedPhoto, explain: boolean): Promise<ScreenPhoto> {
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
    const out: ScreenPhoto = {
      path: photo.name,
      probability: Math.round((0.3 + 0.5 * (mean / 255)) * 1e6) / 1e6,
      view: profile ? 'profile' : 'frontal',
      pose: { yaw: profile ? 70 : 3, pitch: -2, roll: 1 },
      box: { x: b.x * width, y: b.y * height, width: b.width * width, height: b.height * height },
      landmarks5: FACE_LAYOUT.landmarks.map(([x, y]) => [x * width, y * height]) as Landmarks5,
      width,
      height,
      warnings: profile ? ['Profile photo: accuracy is lower than for a frontal photo.'] : [],
    };
    if (explain) {
      out.regions = REGIONS.map((r) => ({ ...r, ...(r.hpo ? { hpo: [...r.hpo] } : {}) }));
      out.heatmap = await heatmapDataUrl(width, height);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
