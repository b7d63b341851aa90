/**
 * Every figure of the report's results follows from metrics.json: the confusion counts (one
 * repeat's integers and their range over the repeats), the calibration points with their Wilson
 * intervals, and the ROC curves, from a whole `study` run on the inference-free fixture.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../src/evaluate/metrics.ts';
import { runStudy } from '../../src/workflows/study/study.ts';
import { QUICK_STUDY, writeStudyData } from './study-fixture.ts';

type Confusion = { tp: number; fp: number; tn: number; fn: number };
let metrics: any;
let html: string;
let bundle: any;
let modelDir: string;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-study-report-'));
  const cache = path.join(dir, 'cache', 'cache.sqlite');
  const data = await writeStudyData(path.join(dir, 'data'), cache, 8, 2);
  const res = await runStudy({ source: data.manifest, out: path.join(dir, 'out'), cache, ...QUICK_STUDY, folds: 2, repeats: 3, bootstrap: 20 });
  modelDir = res.files.model;
  metrics = JSON.parse(readFileSync(res.files.metrics, 'utf8'));
  html = readFileSync(res.files.report, 'utf8');
  bundle = JSON.parse(readFileSync(path.join(res.files.model, 'model.json'), 'utf8'));
}, 120_000);

describe('study: the report\'s figures are in metrics.json', () => {
  it('the majority-class baseline has no AUC (a constant score ranks no one) and says why', () => {
    for (const level of ['photo', 'subject']) expect(metrics.baseline[level].auc).toBeNull();
    expect(metrics.baseline.note).toMatch(/constant score ranks no one/);
  });

  it('confusion counts: each repeat\'s integers in metrics.json, the first shown, the range over repeats stated', () => {
    for (const [level, word] of [['subject', 'person'], ['photo', 'photo']] as const) {
      const byRepeat: Confusion[] = metrics[level].confusionByRepeat;
      expect(byRepeat).toHaveLength(3);
      for (const c of byRepeat) {
        expect(Object.values(c).every(Number.isInteger)).toBe(true);
        expect(c.tp + c.fn).toBe(metrics[level].n.positive);
        expect(c.fp + c.tn).toBe(metrics[level].n.negative);
      }
      const table = html.match(new RegExp(`<caption>Confusion per ${word}, repeat 1 of 3[^<]*</caption>(.*?)</table>`, 's'))![1];
      const cells = [...table.matchAll(/<td class="count">(\d+)<\/td>/g)].map((m) => Number(m[1]));
      const c = byRepeat[0];
      expect(cells).toEqual([c.tp, c.fn, c.fp, c.tn]);
      const tp = byRepeat.map((r) => r.tp);
      const range = Math.min(...tp) === Math.max(...tp) ? `${tp[0]}` : `${Math.min(...tp)}&ndash;${Math.max(...tp)}`;
      expect(html).toContain(`vcfs called vcfs ${range},`);
    }
  });

  it('calibration: one point per person (or photo) with counts, positives and the Wilson interval they give', () => {
    for (const level of ['subject', 'photo']) {
      const bins = metrics[level].calibration;
      expect(bins.reduce((s: number, b: any) => s + b.count, 0)).toBe(metrics[level].n.units);
      for (const b of bins) expect(b.ci95).toEqual(wilsonInterval(b.positives, b.count));
    }
  });

  it('ROC: the curves the report draws, with their AUC as in the tables', () => {
    for (const level of ['subject', 'photo']) {
      expect(metrics[level].roc.fpr).toHaveLength(101);
      expect(metrics[level].roc.tpr).toHaveLength(101);
    }
    expect(html).toContain(`per person (AUC ${metrics.subject.auc.value.toFixed(3)})`);
    expect(html).toContain(`per photo (AUC ${metrics.photo.auc.value.toFixed(3)})`);
  });
});

describe('study: measurements', () => {
  it('the bundle keeps the controls\' norms per view, from the control people only', () => {
    const mouth = bundle.measurementNorms.views.frontal['mouth-width'];
    expect(mouth).toMatchObject({ subjects: 8, photos: 16 });
    expect(bundle.measurementNorms.population).toBe('controls of this study (label control)');
    expect(readFileSync(path.join(modelDir, 'MODEL_CARD.md'), 'utf8')).toContain('not population norms');
  });

  it('the report compares cases with controls per measurement, with the interval of the difference', () => {
    const section = html.match(/<section id="measurements">(.*?)<\/section>/s)![1];
    const row = section.match(/<tr><td>Mouth width<\/td><td>frontal<\/td><td>8<\/td>.*?<\/tr>/s)![0];
    const [diff, lo, hi] = [...row.matchAll(/(-?\d+\.\d{3})/g)].map((m) => Number(m[1])).slice(-3);
    expect(diff).toBeLessThan(0); // the planted narrow mouth
    expect(lo).toBeLessThanOrEqual(diff);
    expect(hi).toBeLessThan(0);
    expect(section).toContain('not against population norms');
    expect(section).toMatch(/Sensitivity:.*does not rule a difference out/s);
  });
});
