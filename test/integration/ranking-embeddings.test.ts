/**
 * A ten-class ranking from precomputed embeddings, end to end through the CLI as a pooled study
 * would run it: `study --embeddings` with defaults but for the effort (no photo on disk, a network
 * Phenoface does not ship), ranking.csv and metrics.json's ranking recomputed from the CSV, then
 * `screen --embeddings` giving one person's ranked differential.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';
import { rankingEmbeddings } from '../unit/evaluate/ranking-embeddings.ts';

const labels = ['angelman', 'cdls', 'control', 'kabuki', 'noonan', 'pws', 'smith-magenis', 'sotos', 'vcfs', 'williams'];
const data = rankingEmbeddings({ labels, subjectsPerClass: 8, photos: 2, dim: 40, signal: 5, seed: 21 });
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-rank-emb-'));
  writeFileSync(path.join(dir, 'pooled.csv'), ['path,subject,label', ...data.X.map((_, i) => `${data.photoIds[i]},${data.subjects[i]},${labels[data.classes[i]]}`)].join('\n') + '\n');
  writeFileSync(path.join(dir, 'pooled.jsonl'), data.X.map((x, i) => JSON.stringify({ contract: 1, path: data.photoIds[i], backbone: 'other-net', embedding: Array.from(x, (v) => v * 3) })).join('\n') + '\n');
  // One held-out "williams" person's photos, as a site would embed them.
  const person = rankingEmbeddings({ labels, subjectsPerClass: 1, photos: 2, dim: 40, signal: 5, seed: 21 });
  const rows = person.X.map((x, i) => ({ x, c: person.classes[i] })).filter((r) => labels[r.c] === 'williams');
  writeFileSync(path.join(dir, 'person.jsonl'), rows.map((r, i) => JSON.stringify({ contract: 1, path: `p/${i}.jpg`, backbone: 'other-net', embedding: Array.from(r.x) })).join('\n') + '\n');
});

describe('ten-class ranking from embeddings', () => {
  it('ranks, writes ranking.csv that its metrics follow from, and screens a person into a differential', async () => {
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', 'pooled.csv', '--embeddings', 'pooled.jsonl', '--out', 'out', '--folds', '4', '--repeats', '1', '--bootstrap', '100', '--permutations', '0', '--quiet'], io);
    expect(code, io.stderr).toBe(0);
    const metrics = JSON.parse(readFileSync(path.join(dir, 'out/metrics.json'), 'utf8'));
    expect(metrics.mode).toBe('ranking');
    expect(metrics.positive).toBe('vcfs');
    expect(metrics.ranking.chance.uniform.top1).toBeCloseTo(0.1, 12);
    expect(metrics.ranking.subject.top1.value).toBeGreaterThan(0.5);
    const csv = readFileSync(path.join(dir, 'out/ranking.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(csv).toHaveLength(data.X.length);
    expect(metrics.ranking.photo.top3.value).toBeCloseTo(csv.filter((r) => Number(r[6]) <= 3).length / csv.length, 12);
    expect(metrics.ranking.perClass.vcfs.support).toEqual({ subjects: 8, photos: 16 });

    const screen = memoryIO(dir);
    expect(await main(['screen', '--model', 'out/model', '--embeddings', 'person.jsonl', '--json'], screen)).toBe(0);
    const result = JSON.parse(screen.stdout);
    expect(result.differential).toHaveLength(10);
    expect(result.differential[0].label).toBe('williams');
    expect(result.model.classes).toEqual(labels);
    expect(result.subject.probability).toBeLessThan(0.5); // vcfs against the rest, for a williams person
  }, 120_000);
});
