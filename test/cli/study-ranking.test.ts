/**
 * `phenoface study` on three classes, end to end on cached embeddings: without `--positive` it
 * ranks the classes (ranking.csv, metrics.json's `ranking`, the report's section, the bundle's
 * ranking model) beside the reference class's one-vs-rest results; with `--positive` it is
 * one-vs-rest, and its report says which classes were pooled as the negative.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadBundle } from '../../src/classify/bundle.ts';
import { rankingLine } from '../../src/cli/study.ts';
import type { RankingMetrics } from '../../src/evaluate/ranking.ts';
import { memoryIO } from '../support/io.ts';
import { writeStudyData, type StudyData } from './study-fixture.ts';

let dir: string;
let data: StudyData;
const quick = ['--folds', '3', '--repeats', '1', '--bootstrap', '50', '--permutations', '0', '--quiet'];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-study-ranking-'));
  data = await writeStudyData(path.join(dir, 'data'), path.join(dir, 'cache.sqlite'), 6, 2, ['vcfs', 'noonan', 'control']);
});

describe('phenoface study with three classes', () => {
  it('ranks them without --positive', async () => {
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', data.manifest, '--out', 'ranked', '--cache', 'cache.sqlite', ...quick], io);
    expect(code, io.stderr).toBe(0);
    expect(io.stdout).toMatch(/ranking of 3 classes: top-1 per person \d\.\d{3}.*the lines above are "vcfs" against all other classes/);
    expect(io.stdout).not.toMatch(/top-3/); // 1 by construction with three classes
    const out = path.join(dir, 'ranked');
    const header = readFileSync(path.join(out, 'ranking.csv'), 'utf8').split('\n')[0];
    expect(header).toBe('path,subject,label,repeat,fold,predicted,rank,subjectPredicted,subjectRank,probability:control,probability:noonan,probability:vcfs');
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics.mode).toBe('ranking');
    expect(metrics.positive).toBe('vcfs');
    expect(metrics.negativeClasses).toEqual(['control', 'noonan']);
    expect(Object.keys(metrics.ranking.photo)).toEqual(['top1', 'top3', 'top5', 'top10']);
    expect(metrics.ranking.subject.top1.value).toBeGreaterThan(0.6);
    expect(Object.keys(metrics.ranking.perClass)).toEqual(['control', 'noonan', 'vcfs']);
    const predictions = readFileSync(path.join(out, 'predictions.csv'), 'utf8');
    expect(new Set(predictions.trim().split('\n').slice(1).map((l) => l.split(',')[2]))).toEqual(new Set(['vcfs', 'not-vcfs']));
    const report = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(report).toContain('Ranked differential');
    expect(report).toContain('Top-k accuracy');
    const bundle = await loadBundle(path.join(out, 'model'));
    expect(bundle.ranker?.labels).toEqual(['control', 'noonan', 'vcfs']);
    expect(bundle.ranking?.classes).toEqual(['control', 'noonan', 'vcfs']);
    const card = readFileSync(path.join(out, 'model', 'MODEL_CARD.md'), 'utf8');
    expect(card).toMatch(/## Ranked differential \(3 classes: control, noonan, vcfs\)\n- Top-1 per person \d\.\d{3}/);
    expect(card).not.toMatch(/top-3/i);
  });

  it('headlines top-3 only when it is not 1 by construction (four classes or more)', () => {
    const e = (value: number) => ({ value, ci95: [value - 0.1, Math.min(1, value + 0.1)] as [number, number] });
    const m = (classes: string[], top3: number) => ({ classes, subject: { top1: e(0.6), top3: e(top3) }, chance: { uniform: { top1: 1 / classes.length, top3: Math.min(1, 3 / classes.length) }, majority: { subject: 0.4 } } }) as unknown as RankingMetrics;
    const f = (x: { value: number | null }) => x.value!.toFixed(3);
    expect(rankingLine(m(['a', 'b', 'c'], 1), 'a', f)).toBe('ranking of 3 classes: top-1 per person 0.600 (chance 0.333; majority class 0.400); the lines above are "a" against all other classes');
    expect(rankingLine(m(['a', 'b', 'c', 'd'], 0.9), 'a', f)).toBe('ranking of 4 classes: top-1 per person 0.600, top-3 0.900 (chance 0.250 and 0.750; majority class 0.400); the lines above are "a" against all other classes');
  });

  it('is one-vs-rest with --positive, and says so', async () => {
    const io = memoryIO(dir);
    const code = await main(['study', '--manifest', data.manifest, '--out', 'ovr', '--cache', 'cache.sqlite', '--positive', 'noonan', ...quick], io);
    expect(code, io.stderr).toBe(0);
    const out = path.join(dir, 'ovr');
    expect(existsSync(path.join(out, 'ranking.csv'))).toBe(false);
    const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ mode: 'one-vs-rest', positive: 'noonan', negative: 'not-noonan', negativeClasses: ['control', 'vcfs'] });
    expect(metrics.ranking).toBeUndefined();
    expect(metrics.subject.n).toEqual({ units: 18, positive: 6, negative: 12 });
    const report = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(report).toMatch(/This study is one-vs-rest: &ldquo;noonan&rdquo; against every other class, pooled as &ldquo;not-noonan&rdquo; \(&ldquo;control&rdquo;, &ldquo;vcfs&rdquo;\)/);
  });
});
