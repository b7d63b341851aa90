/**
 * A study that costs no inference: tiny distinct PNGs in a manifest layout, and an embedding cache
 * already holding a 192-D embedding (with a class signal), the second network's embedding and
 * region-pooled maps (without), and 68 landmarks for every photo under the default backbone
 * and the current pipeline version, so `runStudy` finds every photo in the cache and never starts a
 * pipeline. Output tests run whole studies on it in well under a second each.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULTS } from '../../src/config.ts';
import { EmbeddingCache } from '../../src/data/cache.ts';
import { cacheVersion, regionFeaturesVersion, secondEmbeddingVersion } from '../../src/pipeline/pipeline.ts';
import { secondBackboneOf } from '../../src/embed/registry.ts';
import type { Face, Point } from '../../src/types.ts';
import { frontalFace, jittered } from '../unit/features/faces.ts';

/** The face every fixture photo is cached with. */
export const FACE: Face = { box: { x: 20, y: 20, width: 120, height: 120 }, score: 0.99, landmarks5: [[40, 60], [100, 60], [70, 90], [50, 120], [90, 120]], view: 'frontal' };
const DIM = 192;

let colour = 0;

/** A deterministic pseudo-random number in [0, 1) from two integers. */
function noise(a: number, b: number): number {
  const x = Math.sin(a * 12.9898 + b * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/**
 * A unit-length embedding: subject-specific noise, shifted along 8 axes of its own for every class
 * but the last (`shifted` is the class index, or -1 for none).
 */
function embedding(subject: number, photo: number, shifted: number): Float32Array {
  const v = new Float32Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = noise(subject * 31 + i, photo + 1) - 0.5 + (shifted >= 0 && i >= 8 * shifted && i < 8 * shifted + 8 ? 1.5 : 0);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** Hand-placed 68 landmarks with seeded noise; every class with a signal has a mouth 12 px narrower (60 px in the last class, the controls). */
function landmarks(subject: number, photo: number, positive: boolean): Point[] {
  const face = frontalFace();
  if (positive) {
    face[48] = [176, 330];
    face[54] = [224, 330];
  }
  return jittered(face, 1.5, subject * 100 + photo + 1);
}

/** Region-pooled maps without signal (8 regions x 192 channels), as the study's default `auto` asks for them. */
function regionMaps(subject: number, photo: number): { version: string; data: Float32Array } {
  return { version: regionFeaturesVersion(DEFAULTS.embed.backbone), data: Float32Array.from({ length: 8 * 192 }, (_, i) => noise(subject * 17 + i, photo + 101)) };
}

/** The second network's unit-length embedding without signal (128-D), as the study's default asks for it. */
export function secondEmbedding(subject: number, photo: number): { version: string; data: Float32Array } {
  const v = Float32Array.from({ length: 128 }, (_, i) => noise(subject * 23 + i, photo + 211) - 0.5);
  const norm = Math.hypot(...v);
  return { version: secondEmbeddingVersion(secondBackboneOf(DEFAULTS.embed.backbone)!), data: v.map((x) => x / norm) };
}

/** What {@link writeStudyData} made. */
export interface StudyData {
  /** The data folder (photos and manifest.csv). */
  root: string;
  manifest: string;
  photos: string[];
}

/**
 * Writes `subjects` people per class (`labels`, default vcfs and control; every class but the last
 * has its own signal) with `photos` photos each under `root`, a manifest, and puts every photo's
 * embedding into the cache file `cacheFile`.
 */
export async function writeStudyData(root: string, cacheFile: string, subjects = 6, photos = 2, labels: readonly string[] = ['vcfs', 'control']): Promise<StudyData> {
  mkdirSync(root, { recursive: true });
  const rows = ['path,subject,label,view'];
  const files: string[] = [];
  const cache = EmbeddingCache.open(cacheFile);
  try {
    for (let s = 0; s < labels.length * subjects; s++) {
      const c = Math.floor(s / subjects);
      for (let p = 0; p < photos; p++) {
        const rel = `img/s${s}/${p}.png`;
        const abs = path.join(root, rel);
        mkdirSync(path.dirname(abs), { recursive: true });
        colour++;
        writeFileSync(abs, await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: colour % 256, g: (colour >> 8) % 256, b: 91 } } }).png().toBuffer());
        cache.put({ sha256: await cache.contentHash(abs), backbone: DEFAULTS.embed.backbone, pipelineVersion: cacheVersion(DEFAULTS.embed.backbone) }, { face: FACE, embedding: embedding(s, p, c < labels.length - 1 ? c : -1), regionMaps: regionMaps(s, p), secondEmbedding: secondEmbedding(s, p), landmarks68: landmarks(s, p, c < labels.length - 1) });
        rows.push(`${rel},s${s},${labels[c]},frontal`);
        files.push(abs);
      }
    }
  } finally {
    cache.close();
  }
  const manifest = path.join(root, 'manifest.csv');
  writeFileSync(manifest, rows.join('\n') + '\n');
  return { root, manifest, photos: files };
}

/** Options for a quick study on {@link writeStudyData}'s data (no explanation analysis). */
export const QUICK_STUDY = { folds: 2, repeats: 1, bootstrap: 0, permutations: 0, seed: 1, explain: false as const, quiet: true, log: { err: () => {}, isTTY: false } };
