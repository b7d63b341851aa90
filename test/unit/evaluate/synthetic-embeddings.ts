/**
 * Synthetic embeddings shaped like a study's cache: each subject has its own random centre (the
 * identity a face-recognition embedding encodes), photos scatter around it, and positives are
 * shifted along one hidden direction by `signal` (0 = no phenotype). Rows are L2-normalised like
 * real embeddings. Profile photos carry half the signal and more noise, as real profiles do.
 */
import { deriveSeed, mulberry32, type Rng } from '../../../src/math/random.ts';
import type { View } from '../../../src/types.ts';

export interface SyntheticOptions {
  subjects: number;
  /** Mean photos per subject (each subject gets 1..2·mean-1). */
  photosPerSubject: number;
  /** Exact total number of photos (counts are then nudged at random to add up to it). */
  totalPhotos?: number;
  dim: number;
  /** Shift of positives along the hidden direction, in units of the per-photo noise. */
  signal: number;
  /** Fraction of subjects labelled positive. */
  positiveFraction?: number;
  /** Spread of subject centres relative to per-photo noise (identity strength). */
  identity?: number;
  seed: number;
}

export interface SyntheticStudy {
  X: Float32Array[];
  y: number[];
  subjects: string[];
  photoIds: string[];
  views: View[];
  sex: string[];
}

function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function syntheticStudy(o: SyntheticOptions): SyntheticStudy {
  const rng = mulberry32(deriveSeed(o.seed, 1));
  const identity = o.identity ?? 1.5;
  const noise = 1 / Math.sqrt(o.dim);
  const direction = Array.from({ length: o.dim }, () => gaussian(rng));
  const norm = Math.hypot(...direction);
  const out: SyntheticStudy = { X: [], y: [], subjects: [], photoIds: [], views: [], sex: [] };
  const nPos = Math.round(o.subjects * (o.positiveFraction ?? 0.5));
  const labels: number[] = Array.from({ length: o.subjects }, (_, s) => (s < nPos ? 1 : 0));
  for (let s = labels.length - 1; s > 0; s--) {
    const j = Math.floor(rng() * (s + 1));
    [labels[s], labels[j]] = [labels[j], labels[s]];
  }
  const counts = Array.from({ length: o.subjects }, () => 1 + Math.floor(rng() * (2 * o.photosPerSubject - 1)));
  if (o.totalPhotos !== undefined) {
    let total = counts.reduce((a, b) => a + b, 0);
    while (total !== o.totalPhotos) {
      const s = Math.floor(rng() * o.subjects);
      const step = total < o.totalPhotos ? 1 : counts[s] > 1 ? -1 : 0;
      counts[s] += step;
      total += step;
    }
  }
  for (let s = 0; s < o.subjects; s++) {
    const centre = Array.from({ length: o.dim }, () => gaussian(rng) * noise * identity);
    const photos = counts[s];
    const sex = rng() < 0.5 ? 'F' : 'M';
    for (let p = 0; p < photos; p++) {
      const r = rng();
      const view: View = r < 0.6 ? 'frontal' : r < 0.85 ? 'oblique' : 'profile';
      const shift = labels[s] * o.signal * noise * (view === 'profile' ? 0.5 : 1);
      const photoNoise = noise * (view === 'profile' ? 1.5 : 1);
      const v = new Float32Array(o.dim);
      let len = 0;
      for (let a = 0; a < o.dim; a++) {
        v[a] = centre[a] + (shift * direction[a]) / norm + gaussian(rng) * photoNoise;
        len += v[a] * v[a];
      }
      len = Math.sqrt(len);
      for (let a = 0; a < o.dim; a++) v[a] /= len;
      out.X.push(v);
      out.y.push(labels[s]);
      out.subjects.push(`s${String(s).padStart(4, '0')}`);
      out.photoIds.push(`${labels[s] ? 'vcfs' : 'control'}/s${s}/p${p}.jpg`);
      out.views.push(view);
      out.sex.push(sex);
    }
  }
  return out;
}
