/** The heat maps' colour scale shared across photos: measured from a study's positive-class maps, kept beside the bundle, applied per map. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evidenceHeat, heatMapChecksNote, heatScaleFor } from '../../../src/explain/heat-scale.ts';
import { HEAT_SCALE_FILE, loadHeatScale, saveHeatScale } from '../../../src/explain/heat-scale-file.ts';
import { studyHeatScale } from '../../../src/workflows/study/explanation.ts';

/** A map whose cells' positive part sums to `positive`, explaining decision `score`. */
const map = (heat: Float32Array, score: number, positive = 1) => ({ heat, score, cam: { cam: [positive], signed: [positive] } });

describe('studyHeatScale', () => {
  it('measures evidence from the controls\' mean decision and takes the percentile of the drawn heat pooled over every pixel of the positive-class maps', () => {
    // 200 pixels: 0, 1, ..., 199 split over two maps; each map's decision is 2 above the controls' mean (-1), its cells sum to 1: drawn twice as hot.
    const a = Float32Array.from({ length: 100 }, (_, i) => 2 * i);
    const b = Float32Array.from({ length: 100 }, (_, i) => 2 * i + 1);
    const s = studyHeatScale([map(a, 1), map(b, 1)], [-2, 0], 'mobilefacenet', 'contrastive', 0.99)!;
    expect(s).toMatchObject({ backbone: 'mobilefacenet', cam: 'contrastive', percentile: 0.99, photos: 2, controlScore: -1 });
    expect(s.top).toBeCloseTo(2 * 197.01, 2); // the 99th percentile (type 7) of 0..199 is 0.99 * 199
  });

  it('gives no scale without photos of both classes, or when the positive maps\' heat is zero at the percentile', () => {
    const heat = Float32Array.from({ length: 100 }, (_, i) => i);
    expect(studyHeatScale([], [0], 'mobilefacenet', 'hirescam', 0.99)).toBeUndefined();
    expect(studyHeatScale([map(heat, 1)], [], 'mobilefacenet', 'hirescam', 0.99)).toBeUndefined();
    expect(studyHeatScale([map(heat, -1)], [0], 'mobilefacenet', 'hirescam', 0.99)).toBeUndefined();
  });
});

describe('evidenceHeat', () => {
  const heat = Float32Array.from([4, 0, 2]);
  const cells = { cam: [3, 0, 1], signed: [3, -1, 1] };

  it('scales the positive cells to add up to the decision\'s rise above the typical control: none below it', () => {
    expect(Array.from(evidenceHeat({ heat, cam: cells, score: 1 }, -1))).toEqual([2, 0, 1]); // rise 2 over positive cells 4
    expect(Array.from(evidenceHeat({ heat, cam: cells, score: 7 }, -1))).toEqual([8, 0, 4]);
    expect(Array.from(evidenceHeat({ heat, cam: cells, score: -3 }, -1))).toEqual([0, 0, 0]);
  });

  it('without the typical control, the signed cells\' sum is the net evidence: the positive cells less what the negative ones take back', () => {
    expect(Array.from(evidenceHeat({ heat, cam: cells, score: 99 }))).toEqual([3, 0, 1.5]); // net 3 of 4 positive
    expect(Array.from(evidenceHeat({ heat, cam: { cam: [3, 0, 1], signed: [3, -5, 1] }, score: 99 }))).toEqual([0, 0, 0]);
    expect(Array.from(evidenceHeat({ heat: new Float32Array(3), cam: { cam: [0, 0, 0], signed: [0, -1, 0] }, score: 0 }))).toEqual([0, 0, 0]);
  });
});

describe('heatScaleFor', () => {
  const study = { backbone: 'mobilefacenet', cam: 'contrastive', top: 2, percentile: 0.99, photos: 40, controlScore: -3 };
  const heat = Float32Array.from([0, 0.1, 0.5]);

  it('uses the study\'s scale for the map it was measured on: the photo\'s peak as a fraction of it', () => {
    const s = heatScaleFor(heat, 'contrastive', study);
    expect(s).toMatchObject({ basis: 'study', top: 2, peak: 0.25, percentile: 0.99, photos: 40 });
    // 40 is the explanation sample's count, not the study's: it must not read as all of them.
    expect(s.note).toContain("99th percentile of the heat on 40 of the study's positive-class photos (the sample its explanation analysis drew)");
  });

  it('falls back to the photo\'s own scale, saying why, for another map or without a study scale', () => {
    const other = heatScaleFor(heat, 'gradcam', study);
    expect(other).toMatchObject({ basis: 'photo', top: 0.5, peak: 1 });
    expect(other.note).toMatch(/measured on the contrastive map, not this gradcam map: colours cannot be compared between photos/);
    const none = heatScaleFor(heat, 'contrastive', undefined);
    expect(none).toMatchObject({ basis: 'photo', top: 0.5, peak: 1 });
    expect(none.note).toContain('carries no shared scale');
    expect(heatScaleFor(new Float32Array(4), 'contrastive', undefined)).toMatchObject({ basis: 'photo', top: 0, peak: 0 });
  });
});

describe('heatMapChecksNote', () => {
  const study = { backbone: 'mobilefacenet', cam: 'contrastive', top: 2, percentile: 0.99, photos: 40, controlScore: -3 };
  const checks = (occlusion: boolean | null) => [{ name: 'sanity: randomised classifier', passed: true }, { name: 'occlusion agreement', passed: occlusion }];

  it("says which of the study's checks of the map drawn failed, and how to read the regions then", () => {
    expect(heatMapChecksNote({ ...study, checks: checks(false) }, 'contrastive')).toBe(
      "In the model's study these maps failed 1 of its 2 checks (occlusion agreement): read the region shares as one method's view, not as established (the study's report, \"What the model looks at\", says why).");
    expect(heatMapChecksNote({ ...study, checks: checks(null) }, 'contrastive')).toContain('could not be checked for 1 of its 2 checks (occlusion agreement)');
  });

  it('says nothing when every check passed, for another map than the one checked, or without checks', () => {
    expect(heatMapChecksNote({ ...study, checks: checks(true) }, 'contrastive')).toBeUndefined();
    expect(heatMapChecksNote({ ...study, checks: checks(false) }, 'gradcam')).toBeUndefined();
    expect(heatMapChecksNote(study, 'contrastive')).toBeUndefined();
    expect(heatMapChecksNote(undefined, 'contrastive')).toBeUndefined();
  });
});

describe('heat scale file', () => {
  const scale = { backbone: 'mobilefacenet', cam: 'contrastive', top: 0.0123, percentile: 0.99, photos: 12, controlScore: -2.5 };

  it('round-trips, is absent for older bundles, belongs to one backbone and bundle', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scale-'));
    expect(await loadHeatScale(dir, 'mobilefacenet')).toBeUndefined();
    await saveHeatScale(dir, { ...scale, bundleId: 'aaaa' });
    expect(await loadHeatScale(dir, 'mobilefacenet', 'aaaa')).toEqual({ ...scale, bundleId: 'aaaa' });
    await expect(loadHeatScale(dir, 'mobilefacenet', 'bbbb')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('made with model aaaa, not this one (bbbb)') });
    await expect(loadHeatScale(dir, 'dlib-resnet')).rejects.toMatchObject({ code: 'E_MODEL' });
    const checks = [{ name: 'occlusion agreement', passed: false }, { name: 'heat outside the face', passed: null }];
    await saveHeatScale(dir, { ...scale, checks });
    expect(await loadHeatScale(dir, 'mobilefacenet')).toEqual({ ...scale, checks });
  });

  it.skipIf(process.platform === 'win32')('refuses a pipe or a folder in the file\'s place with E_MODEL instead of waiting on it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'heat-scale-'));
    execFileSync('mkfifo', [path.join(dir, HEAT_SCALE_FILE)]);
    await expect(loadHeatScale(dir, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('not a regular file') });
    const other = mkdtempSync(path.join(os.tmpdir(), 'heat-scale-'));
    mkdirSync(path.join(other, HEAT_SCALE_FILE));
    await expect(loadHeatScale(other, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('a folder') });
  });

  it('refuses a file that is not a JSON object with E_MODEL (not a crash), without quoting what the file holds', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scale-'));
    const file = path.join(dir, HEAT_SCALE_FILE);
    for (const [text, why] of [['null', 'it holds null, not a JSON object'], ['[1]', 'it holds an array'], ['7', 'it holds a number'], ['secret:x:0:0', 'it is not valid JSON']]) {
      writeFileSync(file, text);
      const err = await loadHeatScale(dir, 'mobilefacenet').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_MODEL', message: expect.stringContaining(why) });
      expect((err as Error).message).not.toContain('secret');
    }
    // A byte-order mark (some editors save one) is not part of the JSON.
    await saveHeatScale(dir, scale);
    writeFileSync(file, '\uFEFF' + readFileSync(file, 'utf8'));
    expect(await loadHeatScale(dir, 'mobilefacenet')).toEqual(scale);
  });

  it('refuses a malformed file with E_MODEL, and will not write a scale without heat', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scale-'));
    await saveHeatScale(dir, scale);
    const file = path.join(dir, HEAT_SCALE_FILE);
    const j = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...j, top: -1 }));
    await expect(loadHeatScale(dir, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('"top" is -1') });
    writeFileSync(file, JSON.stringify({ ...j, percentile: 99 }));
    await expect(loadHeatScale(dir, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('"percentile" is 99') });
    writeFileSync(file, JSON.stringify({ ...j, controlScore: null }));
    await expect(loadHeatScale(dir, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('"controlScore" is null') });
    writeFileSync(file, JSON.stringify({ ...j, checks: [{ name: 'occlusion agreement', passed: 'no' }] }));
    await expect(loadHeatScale(dir, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('"checks" is not a list') });
    writeFileSync(file, '{');
    await expect(loadHeatScale(dir, 'mobilefacenet')).rejects.toMatchObject({ code: 'E_MODEL' });
    await expect(saveHeatScale(dir, { ...scale, top: 0 })).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});
