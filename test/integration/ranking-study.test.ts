/**
 * A three-class study's ranking on generated embeddings, end to end from the study's rows: the
 * ranked differential is cross-validated, ranking.csv is written, and every figure of
 * metrics.json's `ranking` (top-k per photo and per person, per-class support, sensitivity and
 * AUC, confusion) is recomputed here from ranking.csv alone.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCsvRecords } from '../../src/data/csv.ts';
import type { Dataset, PhotoResult } from '../../src/data/index.ts';
import { auc } from '../../src/evaluate/metrics.ts';
import type { RankingMetrics } from '../../src/evaluate/ranking.ts';
import { rankStudy } from '../../src/workflows/study/ranking.ts';
import { rankingEmbeddings } from '../unit/evaluate/ranking-embeddings.ts';

const labels = ['control', 'noonan', 'vcfs'];
const data = rankingEmbeddings({ labels, subjectsPerClass: 9, photos: 3, dim: 24, signal: 3.5, seed: 11 });
const used: PhotoResult[] = data.X.map((embedding, i) => ({
  item: { path: data.photoIds[i], absPath: `/nowhere/${data.photoIds[i]}`, subject: data.subjects[i], label: labels[data.classes[i]], y: data.classes[i] === 2 ? 1 : 0, meta: {} },
  cached: false,
  embedding,
}));
const dataset = { root: '/nowhere', positive: 'vcfs', negative: 'not-vcfs', classes: labels, mode: 'ranking', items: used.map((u) => u.item), summary: { total: { subjects: 27, photos: 81 }, byClass: {}, byView: {} } } as Dataset;

function readRows(file: string): Record<string, string>[] {
  const records = [...readCsvRecords(readFileSync(file, 'utf8'))].map((r) => ('fields' in r ? r.fields : []));
  const [header, ...rows] = records.filter((r) => r.length > 1);
  return rows.map((r) => Object.fromEntries(header.map((h, j) => [h, r[j]])));
}

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('ranking study (3 classes, generated embeddings)', async () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'ranking-study-'));
  const out = await rankStudy(work, dataset, used, { folds: 3, repeats: 2, seed: 5, bootstrap: 200, backbone: 'mobilefacenet' }, () => {});
  const m = out.metrics as unknown as RankingMetrics;
  const rows = readRows(out.file);
  const repeats = [0, 1].map((r) => rows.filter((x) => Number(x.repeat) === r));

  it('writes the contract columns, one row per photo per repeat', () => {
    expect(Object.keys(rows[0]).slice(0, 7)).toEqual(['path', 'subject', 'label', 'repeat', 'fold', 'predicted', 'rank']);
    expect(rows).toHaveLength(81 * 2);
    for (const r of rows) {
      expect(labels).toContain(r.predicted);
      expect(Number(r.rank)).toBeGreaterThanOrEqual(1);
      expect(Number(r.rank) === 1).toBe(r.predicted === r.label);
    }
  });

  it('finds the planted classes far above chance', () => {
    expect(m.subject.top1.value).toBeGreaterThan(0.6);
    expect(m.subject.top1.ci95![0]).toBeGreaterThan(m.chance.uniform.top1);
    expect(m.chance.uniform.top1).toBeCloseTo(1 / 3, 12);
  });

  it("recomputes metrics.json's top-k per photo and per person from ranking.csv", () => {
    for (const k of [1, 3] as const) {
      const photo = mean(repeats.map((rs) => rs.filter((r) => Number(r.rank) <= k).length / rs.length));
      expect(m.photo[`top${k}`].value).toBeCloseTo(photo, 12);
      const subject = mean(repeats.map((rs) => {
        const bySubject = new Map(rs.map((r) => [r.subject, Number(r.subjectRank)]));
        return [...bySubject.values()].filter((rank) => rank <= k).length / bySubject.size;
      }));
      expect(m.subject[`top${k}`].value).toBeCloseTo(subject, 12);
    }
  });

  it("recomputes each class's support, sensitivity, AUC and the confusion matrix from ranking.csv", () => {
    for (const c of labels) {
      const mine = repeats[0].filter((r) => r.label === c);
      expect(m.perClass[c].support).toEqual({ subjects: new Set(mine.map((r) => r.subject)).size, photos: mine.length });
      const sens = mean(repeats.map((rs) => rs.filter((r) => r.label === c && r.predicted === c).length / rs.filter((r) => r.label === c).length));
      expect(m.perClass[c].photo.sensitivity.value).toBeCloseTo(sens, 12);
      // Probabilities are rounded to 6 decimals in the CSV.
      const photoAuc = mean(repeats.map((rs) => auc(rs.map((r) => Number(r[`probability:${c}`])), rs.map((r) => (r.label === c ? 1 : 0)))!));
      expect(m.perClass[c].photo.auc.value).toBeCloseTo(photoAuc, 4);
    }
    const confusion = labels.map((t) => labels.map((q) => mean(repeats.map((rs) => rs.filter((r) => r.label === t && r.predicted === q).length))));
    m.confusion.photo.forEach((row, t) => row.forEach((v, q) => expect(v).toBeCloseTo(confusion[t][q], 3)));
  });

  it('fits a final ranker for the bundle and a report section', () => {
    expect(out.bundle.classes).toEqual(labels);
    expect(out.bundle.classifier.name).toBe('ranking');
    expect(out.final.rank([data.X[0]])[0]).toHaveLength(3);
    expect(out.section.html).toContain('Top-k accuracy');
    expect(out.section.html).toContain('<svg');
  });

  it('says what the ranker learns from and that its folds and figures are not the binary model\'s', () => {
    const family = out.final.family === 'gallery' ? 'a cosine gallery' : 'multinomial logistic regression';
    expect(out.section.html).toContain(`The final ranking model is ${family}. It learns from the mobilefacenet embedding alone`);
    expect(out.section.html).toContain('in folds of its own (ranking.csv&#39;s folds are not predictions.csv&#39;s)');
  });
});
