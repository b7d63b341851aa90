/**
 * The study's geometry explanation: the final model's region contributions averaged over the
 * correctly screened positive photos only, and the report's table that says they are in sample.
 */
import { describe, expect, it } from 'vitest';
import { createClassifier } from '../../../src/classify/index.ts';
import { groupedStratifiedKFold } from '../../../src/evaluate/splits.ts';
import { fitFeatureModel, geometryExplanation } from '../../../src/features/index.ts';
import { geometryTable } from '../../../src/report/explanation.ts';
import { studyGeometryExplanation } from '../../../src/workflows/study/geometry-explanation.ts';
import { plantedNoseStudy } from '../features/faces.ts';

const d = plantedNoseStudy();
const rows = { inputs: d.rows, y: d.y, subjects: d.subjects, photoIds: d.rows.map((_, i) => `p${i}.jpg`) };
const fitOpts = { seed: 1, innerFolds: 3, split: groupedStratifiedKFold, patience: 1 };
const fitted = (features: ('embedding' | 'geometry')[]) => fitFeatureModel(d.rows, d.y, d.subjects, createClassifier('logistic'), { ...fitOpts, request: features, available: ['embedding', 'geometry'] }).model;

describe('studyGeometryExplanation', () => {
  const model = fitted(['geometry']);
  // Every other positive photo counts as correctly screened; controls never enter.
  const correct = new Map(rows.photoIds.map((id, i) => [id, i % 2 === 0 || d.y[i] === 0]));

  it('averages the exact contributions over the correct positive photos, each person once', () => {
    const g = studyGeometryExplanation(model, rows, correct, { positive: 'vcfs', bootstrap: 50, seed: 3 })!;
    const chosen = rows.inputs.map((_, i) => i).filter((i) => d.y[i] === 1 && i % 2 === 0);
    expect(g.photos).toBe(chosen.length);
    expect(g.subjects).toBe(new Set(chosen.map((i) => d.subjects[i])).size);
    const explain = geometryExplanation(model)!;
    const bySubject = new Map<string, number[]>();
    for (const i of chosen) bySubject.set(d.subjects[i], [...(bySubject.get(d.subjects[i]) ?? []), explain(d.rows[i])!.find((p) => p.region === 'perinasal')!.contribution]);
    const perPerson = [...bySubject.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
    expect(g.regions.perinasal!.mean).toBeCloseTo(perPerson.reduce((a, b) => a + b, 0) / perPerson.length, 9);
    expect(g.regions.perinasal!.ci95![0]).toBeLessThan(g.regions.perinasal!.mean!);
    expect(g.regions['outside-face']).toBeUndefined();
    expect(Object.values(g.first).reduce((a, b) => a + b!, 0)).toBeCloseTo(1, 9);
    // The planted nose: the nose contributes most on most positive photos.
    expect(g.first.perinasal).toBeGreaterThan(0.5);
  });

  it('is undefined without a geometry part, or without a correct positive photo', () => {
    expect(studyGeometryExplanation(fitted(['embedding']), rows, correct, { positive: 'vcfs', bootstrap: 0, seed: 3 })).toBeUndefined();
    expect(studyGeometryExplanation(model, rows, new Map(), { positive: 'vcfs', bootstrap: 0, seed: 3 })).toBeUndefined();
  });

  it('the report table ranks regions by mean contribution and says it is in sample', () => {
    const g = studyGeometryExplanation(model, rows, correct, { positive: 'vcfs', bootstrap: 0, seed: 3 })!;
    const html = geometryTable(g);
    expect(html).toContain('In sample:');
    expect(html).toContain(`on ${g.photos} correctly screened vcfs photos`);
    expect(html.indexOf('>Nose<')).toBeLessThan(html.indexOf('>Chin and jaw<'));
  });
});
