/**
 * Synthetic many-class embeddings: each class (a "syndrome") shifts its subjects along its own
 * hidden direction by `signal`; each subject has its own identity centre and photos scatter around
 * it. Rows are L2-normalised like real embeddings. With `signal` 0 no class is recognisable.
 */
import { deriveSeed, mulberry32, type Rng } from '../../../src/math/random.ts';

export interface RankingEmbeddings {
  X: Float32Array[];
  classes: number[];
  labels: string[];
  subjects: string[];
  photoIds: string[];
}

function gaussian(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** `subjectsPerClass` people of each of `labels`, `photos` photos each, in `dim` dimensions. */
export function rankingEmbeddings(o: { labels: string[]; subjectsPerClass: number; photos: number; dim: number; signal: number; seed: number }): RankingEmbeddings {
  const rng = mulberry32(deriveSeed(o.seed, 7));
  const noise = 1 / Math.sqrt(o.dim);
  const directions = o.labels.map(() => {
    const v = Array.from({ length: o.dim }, () => gaussian(rng));
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const out: RankingEmbeddings = { X: [], classes: [], labels: o.labels, subjects: [], photoIds: [] };
  o.labels.forEach((label, c) => {
    for (let s = 0; s < o.subjectsPerClass; s++) {
      const centre = directions[c].map((d) => o.signal * noise * d + 1.5 * noise * gaussian(rng));
      for (let p = 0; p < o.photos; p++) {
        const v = centre.map((x) => x + noise * gaussian(rng));
        const n = Math.hypot(...v);
        out.X.push(Float32Array.from(v, (x) => x / n));
        out.classes.push(c);
        out.subjects.push(`${label}-${s}`);
        out.photoIds.push(`${label}/${s}/${p}.jpg`);
      }
    }
  });
  return out;
}
