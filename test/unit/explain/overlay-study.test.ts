import { describe, expect, it } from 'vitest';
import type { FoldReport, OofPrediction } from '../../../src/evaluate/crossval.ts';
import { DEFAULTS } from '../../../src/config.ts';
import { alignedOverlay, photoOverlay, pngDataUrl } from '../../../src/explain/overlay.ts';
import { REGION_NAMES, type RegionName } from '../../../src/explain/regions.ts';
import { explanationSection } from '../../../src/report/explanation.ts';
import type { PhotoRecord } from '../../../src/explain/study-result.ts';
import { oofCorrectness, samplePhotos, summarisePhotoRecords, type StudyPhoto } from '../../../src/workflows/study/explanation.ts';
import { colormapLut } from '../../../src/image/index.ts';
import type { RgbImage } from '../../../src/types.ts';

const grey = (w: number, h: number, v = 100): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(v) });

describe('overlays', () => {
  it('alignedOverlay: hottest pixel takes the top colour of the scale, zero heat the bottom one; a colour bar is appended', () => {
    const heat = new Float32Array(112 * 112);
    heat[50 * 112 + 60] = 5;
    const out = alignedOverlay(grey(112, 112), heat, { alpha: 1, colormap: 'jet', warmOnly: false });
    const lut = colormapLut('jet');
    expect(out.height).toBe(112);
    expect(out.width).toBe(112 + 2 + 7);
    const px = (x: number, y: number) => [...out.data.subarray(3 * (y * out.width + x), 3 * (y * out.width + x) + 3)];
    expect(px(60, 50)).toEqual([...lut.subarray(255 * 3, 256 * 3)]);
    expect(px(0, 0)).toEqual([...lut.subarray(0, 3)]);
    expect(px(out.width - 1, 0)).toEqual([...lut.subarray(255 * 3, 256 * 3)]); // bar: top = hottest
  });

  it('warm only (the default): no heat leaves the face untouched, the colour weight grows with the heat; the bar fades to white', () => {
    const heat = new Float32Array(112 * 112);
    heat[50 * 112 + 60] = 5;
    heat[10 * 112 + 10] = 2.5;
    const out = alignedOverlay(grey(112, 112), heat, { alpha: 0.5, colormap: 'jet' });
    const lut = colormapLut('jet');
    const px = (x: number, y: number) => [...out.data.subarray(3 * (y * out.width + x), 3 * (y * out.width + x) + 3)];
    expect(px(0, 0)).toEqual([100, 100, 100]);
    expect(px(60, 50)).toEqual([...lut.subarray(255 * 3, 256 * 3)].map((c) => Math.round(0.5 * 100 + 0.5 * c)));
    const k = 3 * Math.round(255 * 0.5);
    expect(px(10, 10)).toEqual([...lut.subarray(k, k + 3)].map((c) => Math.round(0.75 * 100 + 0.25 * c)));
    expect(px(out.width - 1, 0)).toEqual([...lut.subarray(255 * 3, 256 * 3)]);
    expect(px(out.width - 1, 111)).toEqual([255, 255, 255]);
  });

  it('on a shared scale (top), a map with a tenth of the heat is drawn a tenth as strongly; on its own scale it looks as hot', () => {
    const hot = new Float32Array(112 * 112).fill(0);
    for (let i = 0; i < hot.length; i += 7) hot[i] = 4;
    const faint = hot.map((v) => v / 10);
    const tint = (img: RgbImage) => {
      let s = 0;
      for (let y = 0; y < 112; y++) for (let x = 0; x < 112; x++) for (let c = 0; c < 3; c++) s += Math.abs(img.data[3 * (y * img.width + x) + c] - 100);
      return s;
    };
    const shared = { alpha: 0.5, top: 4 };
    const [tHot, tFaint] = [alignedOverlay(grey(112, 112), hot, shared), alignedOverlay(grey(112, 112), faint, shared)].map(tint);
    expect(tFaint).toBeLessThan(0.15 * tHot);
    expect(tint(alignedOverlay(grey(112, 112), faint, { alpha: 0.5 }))).toBe(tHot);
    // Heat above the top is drawn as the top.
    expect(tint(alignedOverlay(grey(112, 112), hot.map((v) => v * 3), shared))).toBe(tHot);
  });

  it('photoOverlay warps the aligned heat back through the inverse alignment and leaves the rest of the photo alone', () => {
    // photo -> aligned: scale 0.5, shift (-20, -10); aligned (80, 30) is photo (200, 80)
    const matrix: [number, number, number, number, number, number] = [0.5, 0, -20, 0, 0.5, -10];
    const heat = new Float32Array(112 * 112);
    heat[30 * 112 + 80] = 1;
    const photo = grey(400, 300, 90);
    const out = photoOverlay(photo, matrix, heat, 112, { alpha: 1, colormap: 'inferno', warmOnly: false });
    const lut = colormapLut('inferno');
    const px = (x: number, y: number) => [...out.data.subarray(3 * (y * out.width + x), 3 * (y * out.width + x) + 3)];
    expect(px(200, 80)).toEqual([...lut.subarray(255 * 3, 256 * 3)]);
    expect(px(30, 15)).toEqual([90, 90, 90]); // aligned (-5, -2.5): outside the crop
    expect(px(300, 250)).toEqual([90, 90, 90]); // aligned (130, 115): outside the crop
    expect(px(100, 100)).toEqual([...lut.subarray(0, 3)]); // inside the crop, no heat
    expect(out.width).toBe(400 + 2 + 25);
  });

  it('pngDataUrl gives a PNG data URL', async () => {
    const url = await pngDataUrl(grey(4, 4));
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(url.split(',')[1], 'base64').subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('oofCorrectness', () => {
  const folds: FoldReport[] = [0, 1].flatMap((repeat) => [0, 1].map((fold) => ({ repeat, fold, trainPhotos: 0, testPhotos: 0, trainSubjects: 0, testSubjects: 0, hyper: {}, thresholds: { photo: 0.5, subject: 0.4 } })));
  const p = (path: string, subject: string, label: number, repeat: number, probability: number): OofPrediction => ({ path, subject, label, view: null, repeat, fold: 0, probability });

  it('majority over repeats against the fold thresholds; a subject fuses its photos by the mean', () => {
    const preds = [
      p('a1', 'A', 1, 0, 0.6), p('a1', 'A', 1, 1, 0.7), // right twice
      p('a2', 'A', 1, 0, 0.3), p('a2', 'A', 1, 1, 0.2), // wrong twice; A's means 0.45, 0.45 >= 0.4: right
      p('b1', 'B', 0, 0, 0.55), p('b1', 'B', 0, 1, 0.45), // one each: a tie counts as wrong
    ];
    const v = oofCorrectness(preds, folds);
    expect(Object.fromEntries(v.photo)).toEqual({ a1: true, a2: false, b1: false });
    expect(Object.fromEntries(v.subject)).toEqual({ A: true, B: false });
  });
});

describe('samplePhotos', () => {
  it('alternates classes, caps photos per subject and in total, is seeded', () => {
    const photos: StudyPhoto[] = Array.from({ length: 60 }, (_, i) => ({ path: `p${i}`, abs: `/x/p${i}`, subject: `s${i % 20}`, y: i % 20 < 5 ? 1 : 0 }));
    const s = samplePhotos(photos, 16, 2, 3);
    expect(s).toHaveLength(16);
    const perSubject = new Map<string, number>();
    for (const x of s) perSubject.set(x.subject, (perSubject.get(x.subject) ?? 0) + 1);
    expect(Math.max(...perSubject.values())).toBe(2);
    expect(s.filter((x) => x.y === 1).length).toBe(8);
    expect(samplePhotos(photos, 16, 2, 3)).toEqual(s);
    expect(samplePhotos(photos, 16, 2, 4)).not.toEqual(s);
  });
});

describe('summarisePhotoRecords', () => {
  const shares = (top: RegionName) => Object.fromEntries(REGION_NAMES.map((r) => [r, r === top ? 0.6 : 0.05])) as Record<RegionName, number>;
  const record = (i: number, positive: boolean, top: RegionName, sanity: number, outside: number): PhotoRecord => ({
    path: `p${i}`, subject: `s${i}`, label: positive ? 'vcfs' : 'control', view: 'frontal', correct: true, subjectCorrect: true, score: 1,
    top, shares: shares(top), outsideEnergy: outside, occlusion: shares(top), occlusionAgreement: 0.9,
    sanity: { 'randomised classifier': sanity }, regionSanity: { 'randomised classifier': sanity }, shuffledTop: 'outside-face',
  });
  const o = { ...DEFAULTS.explain.study };
  const io = { backbone: 'mobilefacenet', positive: 'vcfs', negative: 'control' };

  it('top-region frequencies, passed sanity checks and no warnings for a face-focused, model-sensitive explanation', async () => {
    const recs = Array.from({ length: 10 }, (_, i) => record(i, i < 6, i < 5 ? 'perinasal' : 'perioral', 0.1 * (i % 3), 0.05));
    const x = summarisePhotoRecords(recs, [], io, o, 6, 0.36);
    expect(x.topRegion.photos).toBe(6);
    expect(x.topRegion.real.perinasal).toBeCloseTo(5 / 6, 12);
    expect(x.topRegion.shuffled!['outside-face']).toBe(1);
    expect(x.regions.positives.perinasal.mean).toBeCloseTo((5 * 0.6 + 0.05) / 6, 12);
    expect(x.regions.positives.perinasal.ci95![0]).toBeLessThanOrEqual(x.regions.positives.perinasal.mean!);
    expect(x.sanity[0].passed).toBe(true);
    expect(x.warnings).toEqual([]);
    expect(x.occlusionMapTop).toBeNull();
    recs[0].occlusionMap = { shares: shares('perinasal'), top: 'perinasal', shuffledTop: 'perioral' };
    recs[1].occlusionMap = { shares: shares('perioral'), top: 'perioral', shuffledTop: null };
    const y = summarisePhotoRecords(recs, [], io, o, 6, 0.36);
    expect(y.occlusionMapTop!.photos).toBe(2);
    expect(y.occlusionMapTop!.real.perinasal).toBe(0.5);
    expect(y.occlusionMapTop!.shuffled!.perioral).toBe(0.5);
    expect(y.gradcamTop).toBeNull();
    recs[2].gradcam = { shares: shares('perinasal'), top: 'perinasal', shuffledTop: 'malar-left' };
    const z = summarisePhotoRecords(recs, [], io, o, 6, 0.36, 'contrastive');
    expect(z.cam).toBe('contrastive');
    expect(z.method).toMatch(/^contrastive HiResCAM/);
    expect(z.gradcamTop).toEqual(expect.objectContaining({ photos: 1 }));
    expect(z.gradcamTop!.real.perinasal).toBe(1);
    expect(z.gradcamTop!.shuffled!['malar-left']).toBe(1);
    const zs = (await explanationSection(z, null)).html;
    expect(zs).toContain('<th>Grad-CAM 7&times;7, 1 photos</th>');
    expect(zs).toContain('Contrastive HiResCAM of the final model');
    const section = await explanationSection(x, null);
    expect(section.html).toContain('HP:0000414 bulbous nose');
    expect(section.html).toMatch(/<th scope="row">sanity: randomised classifier<\/th>.*?<td>passed<\/td>/s);
  });

  it('flags loudly an explanation that does not change under randomisation, and heat outside the face', async () => {
    const recs = Array.from({ length: 8 }, (_, i) => record(i, i < 4, 'outside-face', 0.9, 0.5));
    const x = summarisePhotoRecords(recs, [], io, o, 4, 0.36);
    expect(x.sanity[0].passed).toBe(false);
    expect(x.warnings.some((w) => w.startsWith('SANITY CHECK FAILED (randomised classifier)'))).toBe(true);
    expect(x.outsideFace.densityRatio).toBeCloseTo((0.5 / 0.36) / (0.5 / 0.64), 12);
    expect(x.warnings.some((w) => w.startsWith('SHORTCUT WARNING'))).toBe(true);
    const section = await explanationSection(x, null);
    expect(section.html).toMatch(/<th scope="row">sanity: randomised classifier<\/th>.*?<strong>FAILED<\/strong>/s);
    expect(section.html).toContain('class="warn"');
  });
});
