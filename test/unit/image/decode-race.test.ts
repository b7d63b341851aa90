/**
 * decodeImage decides each file alone, whatever else is decoded at the same time. libvips keeps one
 * error buffer for the whole process, so a decision or message read from it can belong to another
 * photo. The pipeline pool decodes in worker threads of one process, and each thread decodes two
 * photos at once: both kinds of concurrency are run here, and every file's outcome (accepted with
 * the same pixels, or refused with the same code and message) must equal its outcome decoded alone.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTsWorker } from '../../../src/pipeline/threads.ts';
import { decodeMix, writeFixtures, type DecodeMixFile } from '../../fixtures-gen/images.ts';
import { decodeOutcome } from './decode-outcome.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

let dir: string;
let files: (DecodeMixFile & { path: string })[];
/** Each file's outcome decoded alone, one file at a time. */
const alone = new Map<string, string>();

beforeAll(async () => {
  const mix = (await Promise.all([1, 2].map((i) => decodeMix(readFileSync(path.join(demo, `sample${i}.jpg`)), `s${i}`, 640, i === 1 ? [0.35, 0.6, 0.85] : [0.45, 0.7, 0.95])))).flat();
  let paths: Record<string, string>;
  ({ dir, paths } = writeFixtures(Object.fromEntries(mix.map((f) => [f.name, f.bytes])), 'phenoface-race-'));
  files = mix.map((f) => ({ ...f, path: paths[f.name] }));
  for (const f of files) alone.set(f.path, await decodeOutcome(f.path));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `xs` in a pseudo-random order that changes with `seed`, so each round pairs different files. */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed * 2654435761 >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Each file whose outcome differs from its outcome alone, with both. */
function differences(outcomes: [string, string][]): string[] {
  return outcomes.filter(([p, o]) => o !== alone.get(p)).map(([p, o]) => `${path.basename(p)}: alone "${alone.get(p)}", concurrently "${o}"`);
}

describe('decodeImage under concurrency', () => {
  it('decides each file alone as its design says (truncated JPEGs refused, harmless faults accepted)', () => {
    for (const f of files) expect(alone.get(f.path)!.split(' ')[0], `${f.name}: ${alone.get(f.path)}`).toBe(f.expected);
  });

  it('gives every file its own outcome when all are decoded at once, in many orders', async () => {
    const diffs: string[] = [];
    for (let round = 0; round < 12; round++) {
      const order = shuffled(files, round + 1);
      const outcomes = await Promise.all(order.map(async (f) => [f.path, await decodeOutcome(f.path)] as [string, string]));
      diffs.push(...differences(outcomes).map((d) => `round ${round}: ${d}`));
    }
    expect(diffs).toEqual([]);
  });

  it('gives every file its own outcome when worker threads of one process decode at once, as the pipeline pool does', async () => {
    const workers: Worker[] = Array.from({ length: 3 }, () => startTsWorker(new URL('./decode-worker.ts', import.meta.url)));
    try {
      const ask = (w: Worker, batch: string[]) => new Promise<string[]>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage(batch);
      });
      const diffs: string[] = [];
      for (let round = 0; round < 6; round++) {
        const answers = await Promise.all(workers.map(async (w, i) => {
          const batch = shuffled(files, 100 * round + i).map((f) => f.path);
          const outcomes = await ask(w, batch);
          return batch.map((p, k) => [p, outcomes[k]] as [string, string]);
        }));
        diffs.push(...differences(answers.flat()).map((d) => `round ${round}: ${d}`));
      }
      expect(diffs).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
