/**
 * `screen --explain DIR` and the web app's explainer end to end: a toy model bundle, real faces
 * (two LFW photos of one person from the shared data, else two of the group photos that ship with
 * @vladmandic/face-api), overlays written as PNG and returned as data URLs, for each map.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { Explainer } from '../../../src/explain/explainer.ts';
import { saveReference } from '../../../src/explain/reference.ts';
import { classifierScorer } from '../../../src/explain/explainer.ts';
import { saveHeatScale } from '../../../src/explain/heat-scale-file.ts';
import { studyHeatScale } from '../../../src/workflows/study/explanation.ts';
import { dataUrlExplainer, fileExplainer } from '../../../src/workflows/screen/explainer.ts';
import { REGION_NAMES } from '../../../src/explain/regions.ts';
import { modelPath } from '../../../src/runtime/index.ts';
import { Screener } from '../../../src/workflows/screen/screener.ts';
import { decodeImage } from '../../../src/image/index.ts';
import { toyBundle } from '../../support/toy-bundle.ts';

const shared = process.env.PHENOFACE_SHARED ?? path.resolve(__dirname, '../../../../shared');
const lfw = path.join(shared, 'data/lfw/images_deepfunneled');
const ready = existsSync(modelPath('mobilefacenet'));
if (!ready) console.log('explain screen tests skipped: the models are not built (npm install builds them)');

/** Two photos with a face: of one LFW person when the shared data is there, else face-api's demo photos. */
function twoPhotos(): string[] {
  if (existsSync(lfw)) {
    const person = readdirSync(lfw).sort().find((p) => readdirSync(path.join(lfw, p)).length >= 2)!;
    return readdirSync(path.join(lfw, person)).sort().slice(0, 2).map((f) => path.join(lfw, person, f));
  }
  const pkg = path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
  return [1, 3].map((i) => path.join(pkg, 'demo', `sample${i}.jpg`));
}


describe.skipIf(!ready)('screen explainers', () => {
  // Collected even when skipped: only look for photos when the tests run.
  const photos = ready ? twoPhotos() : [];

  it('fileExplainer writes both overlays per photo and returns ranked regions with HPO terms and the paths', async () => {
    // Thresholds of 0: every photo is above them, so its regions carry their HPO terms.
    const screener = await Screener.load(await toyBundle(undefined, { photo: 0, subject: 0 }));
    try {
      const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'explain-out-')), 'heat');
      const explain = await fileExplainer(screener, dir);
      const result = await screener.screen(photos.map((p) => ({ name: p, path: p })), { explain });
      expect(result.photos.every((p) => !p.error)).toBe(true);
      for (const [i, p] of result.photos.entries()) {
        // No control reference beside this bundle: the default contrastive map falls back to HiResCAM.
        expect(p.cam).toBe('hirescam');
        expect(p.regions!.map((r) => r.name).sort()).toEqual([...REGION_NAMES].sort());
        const shares = p.regions!.map((r) => r.share);
        expect(shares).toEqual([...shares].sort((a, b) => b - a));
        // shares sum to 1, or are all 0 when the map holds no evidence for the positive class (all cells <= 0 before the ReLU)
        const total = shares.reduce((a, b) => a + b, 0);
        expect(Math.abs(total - 1) < 1e-3 || total === 0).toBe(true);
        expect(p.regions!.find((r) => r.name === 'perinasal')!.hpo).toContain('HP:0000414 bulbous nose');
        expect(path.basename(p.heatmap!)).toBe(`0${i + 1}-${path.basename(photos[i], '.jpg')}.heatmap.png`);
        const meta = await sharp(readFileSync(p.heatmap!)).metadata();
        const photo = await decodeImage(photos[i], screener.pipeline.config.image);
        expect(meta.format).toBe('png');
        expect(meta.width).toBeGreaterThan(photo.width); // the photo plus the colour bar
        expect(meta.height).toBe(photo.height);
        const aligned = await sharp(readFileSync(p.heatmapAligned!)).metadata();
        expect([aligned.width! > 112, aligned.height]).toEqual([true, 112]);
      }
    } finally {
      await screener.close();
    }
  }, 60_000);

  it("says beside the regions when the model's study found its map failing a check, for that map only", async () => {
    const dir = await toyBundle();
    const screener = await Screener.load(dir);
    try {
      // No control reference beside the toy bundle: the default map is plain HiResCAM, the map this scale's checks are of.
      const checks = [{ name: 'sanity: randomised classifier', passed: true }, { name: 'occlusion agreement', passed: false }];
      await saveHeatScale(dir, { backbone: 'mobilefacenet', cam: 'hirescam', top: 1, percentile: 0.99, photos: 4, controlScore: 0, bundleId: screener.bundle.id, checks });
      const inputs = [{ name: photos[0], path: photos[0] }];
      const out = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'explain-out-')), 'heat');
      const failed = "In the model's study these maps failed 1 of its 2 checks (occlusion agreement)";
      expect((await screener.screen(inputs, { explain: await fileExplainer(screener, out()) })).model.heatMapChecks).toContain(failed);
      expect((await screener.screen(inputs, { explain: dataUrlExplainer(screener) })).model.heatMapChecks).toContain(failed);
      // The checks were of the study's map, not of Grad-CAM; and without an explanation there are no regions to qualify.
      expect((await screener.screen(inputs, { explain: await fileExplainer(screener, out(), { cam: 'gradcam' }) })).model.heatMapChecks).toBeUndefined();
      expect((await screener.screen(inputs)).model.heatMapChecks).toBeUndefined();
    } finally {
      await screener.close();
    }
  }, 60_000);

  it('dataUrlExplainer returns PNG data URLs and writes nothing', async () => {
    const screener = await Screener.load(await toyBundle());
    try {
      const result = await screener.screen([{ name: 'upload.jpg', bytes: readFileSync(photos[0]) }], { explain: dataUrlExplainer(screener) });
      const p = result.photos[0];
      expect(p.heatmap!.startsWith('data:image/png;base64,')).toBe(true);
      expect(p.heatmapAligned!.startsWith('data:image/png;base64,')).toBe(true);
      expect(p.regions).toHaveLength(REGION_NAMES.length);
      // No control reference beside this bundle: no contrastive map.
      expect(p.cam).toBe('hirescam');
      // Baek et al.'s 7x7 Grad-CAM on request: another map.
      const gradcam = dataUrlExplainer(screener, { cam: 'gradcam' });
      const g = await screener.screen([{ name: 'upload.jpg', bytes: readFileSync(photos[0]) }], { explain: gradcam });
      expect(g.photos[0].cam).toBe('gradcam');
      // dispose frees its sessions; the web app's explainer prepares them again when used after it.
      await gradcam.dispose!();
      await gradcam.dispose!();
      expect((await screener.screen([{ name: 'upload.jpg', bytes: readFileSync(photos[0]) }], { explain: gradcam })).photos[0].regions).toEqual(g.photos[0].regions);
      await gradcam.dispose!();
      expect(g.photos[0].regions).toHaveLength(REGION_NAMES.length);
      expect(g.photos[0].regions).not.toEqual(p.regions);
    } finally {
      await screener.close();
    }
  }, 60_000);

  it('with the study\'s control reference beside the bundle, both explainers draw contrastive HiResCAM', async () => {
    const dir = await toyBundle();
    const screener = await Screener.load(dir);
    try {
      // A reference from other faces (the second photo's), as a study's controls would give.
      const embedded = await screener.pipeline.embedFile(photos[1]);
      const ex = Explainer.create(screener.pipeline.backbone!);
      await ex.loadFineLayer();
      const mean = await ex.meanFineMap([embedded.aligned.image]);
      await ex.dispose();
      const layer = DEFAULTS.explain.fineLayer.mobilefacenet;
      await saveReference(dir, { backbone: 'mobilefacenet', layer, dims: [mean.c, mean.h, mean.w], faces: 1, data: mean.data });
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'explain-out-')), 'heat');
      const result = await screener.screen([{ name: photos[0], path: photos[0] }], { explain: await fileExplainer(screener, out) });
      const p = result.photos[0];
      expect(p.cam).toBe('contrastive');
      expect(p.regions!.map((r) => r.name).sort()).toEqual([...REGION_NAMES].sort());
      expect(path.basename(p.heatmapAligned!)).toBe(`01-${path.basename(photos[0], '.jpg')}.heatmap-aligned.png`);
      expect((await sharp(readFileSync(p.heatmapAligned!)).metadata()).height).toBe(112);
      // The same photo under plain HiResCAM: another map (the reference changes what is attributed).
      const plain = await screener.screen([{ name: photos[0], path: photos[0] }], { explain: await fileExplainer(screener, out, { cam: 'hirescam' }) });
      expect(plain.photos[0].cam).toBe('hirescam');
      expect(plain.photos[0].regions).not.toEqual(p.regions);
      // Against a reference of the face itself nothing differs: an empty map (all shares 0).
      const own = await screener.pipeline.embedFile(photos[0]);
      const ex2 = Explainer.create(screener.pipeline.backbone!);
      await ex2.loadFineLayer();
      const self = await ex2.meanFineMap([own.aligned.image]);
      await ex2.dispose();
      await saveReference(dir, { backbone: 'mobilefacenet', layer, dims: [self.c, self.h, self.w], faces: 1, data: self.data });
      const same = await screener.screen([{ name: 'upload.jpg', bytes: readFileSync(photos[0]) }], { explain: dataUrlExplainer(screener) });
      expect(same.photos[0].heatmapAligned!.startsWith('data:image/png;base64,')).toBe(true);
      expect(same.photos[0].regions!.every((r) => r.share === 0)).toBe(true);
    } finally {
      await screener.close();
    }
  }, 60_000);

  it('a control reference of another shape than the backbone\'s layer fails each photo as E_MODEL naming the file, and the batch goes on', async () => {
    const dir = await toyBundle();
    const screener = await Screener.load(dir);
    try {
      // Half the channels, the data consistent with its dims: only the backbone can tell it is wrong.
      const dims: [number, number, number] = [64, 14, 14];
      await saveReference(dir, { backbone: 'mobilefacenet', layer: DEFAULTS.explain.fineLayer.mobilefacenet, dims, faces: 1, data: new Float32Array(dims[0] * dims[1] * dims[2]) });
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'explain-out-')), 'heat');
      const result = await screener.screen(photos.map((p) => ({ name: p, path: p })), { explain: await fileExplainer(screener, out) });
      for (const p of result.photos) {
        expect(p.error?.code).toBe('E_MODEL');
        expect(p.error?.message).toContain(`${path.join(dir, 'explain-reference.json')}: its map is 64x14x14, but the backbone's layer gives 128x14x14`);
      }
      expect(result.photos).toHaveLength(photos.length);
    } finally {
      await screener.close();
    }
  }, 60_000);

  it('a photo scored far below threshold is drawn markedly paler than a positive one (net evidence, on the study\'s shared scale)', async () => {
    // face-api's demo photos: the first the study's positive, the next two its controls, the last a new photo like them.
    const pkg = path.dirname(createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json'));
    const [positive, ...others] = [2, 3, 4, 1].map((i) => path.join(pkg, 'demo', `sample${i}.jpg`));
    const negative = others[2];
    // A model whose decision runs from the controls' mean embedding to the positive's (decision +4 there, -4 at the mean).
    const probe = await Screener.load(await toyBundle());
    const embed = async (p: string) => probe.pipeline.embedFile(p);
    const [a, ...cs] = await Promise.all([positive, ...others].map(embed));
    await probe.close();
    const m = Array.from(a.embedding.vector, (_, i) => cs.reduce((s, c) => s + c.embedding.vector[i], 0) / cs.length);
    const diff = Array.from(a.embedding.vector, (v, i) => v - m[i]);
    const k = 8 / diff.reduce((s, v) => s + v * v, 0);
    const weights = diff.map((v) => k * v);
    const bias = -weights.reduce((s, w, i) => s + (w * (a.embedding.vector[i] + m[i])) / 2, 0);
    const dir = await toyBundle(undefined, undefined, { weights, bias });
    const screener = await Screener.load(dir);
    try {
      // The study's files: the controls' mean map (contrastive reference), and the scale from its positive photo's map.
      const ex = Explainer.create(screener.pipeline.backbone!);
      await ex.loadFineLayer();
      const mean = await ex.meanFineMap(cs.slice(0, 2).map((c) => c.aligned.image));
      const scorer = classifierScorer(screener.bundle.model);
      const e = await ex.explainFine(await ex.forwardFine(a.aligned.image), scorer, 'hirescam', mean.data);
      const controlScores = cs.slice(0, 2).map((c) => scorer.score(c.embedding.vector));
      await ex.dispose();
      await saveReference(dir, { backbone: 'mobilefacenet', layer: DEFAULTS.explain.fineLayer.mobilefacenet, dims: [mean.c, mean.h, mean.w], faces: 2, data: mean.data, bundleId: screener.bundle.id });
      const inputs = [positive, negative].map((p) => ({ name: p, path: p }));
      const own = await screener.screen(inputs, { explain: dataUrlExplainer(screener) });
      expect(own.photos[0].probability).toBeGreaterThan(0.9);
      expect(own.photos[1].probability).toBeLessThan(0.1);
      // Without the study's scale each photo is on its own, and says so. (The negative photo's own net
      // evidence is measured against the reference map of two controls, not against the threshold,
      // so whether any is left depends on how those two score: only the shared scale below compares.)
      expect(own.photos.map((p) => [p.cam, p.heatScale!.basis])).toEqual([['contrastive', 'photo'], ['contrastive', 'photo']]);
      expect(own.photos[0].heatScale!.peak).toBe(1);
      expect(own.photos[1].heatScale!.note).toContain('cannot be compared between photos');
      await saveHeatScale(dir, { ...studyHeatScale([e], controlScores, 'mobilefacenet', 'contrastive', DEFAULTS.explain.heatScalePercentile)!, bundleId: screener.bundle.id });
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'explain-out-')), 'heat');
      const shared = await screener.screen(inputs, { explain: await fileExplainer(screener, out) });
      const [pos, neg] = shared.photos;
      expect([pos.heatScale!.basis, neg.heatScale!.basis]).toEqual(['study', 'study']);
      expect(neg.heatScale!.peak).toBeLessThan(0.5 * pos.heatScale!.peak);
      // How much the overlay tints the photo: mean absolute change per pixel channel.
      const tint = async (p: typeof pos, file: string) => {
        const img = await decodeImage(file, screener.pipeline.config.image);
        const raw = await sharp(readFileSync(p.heatmap!)).extract({ left: 0, top: 0, width: img.width, height: img.height }).removeAlpha().raw().toBuffer();
        let s = 0;
        for (let i = 0; i < raw.length; i++) s += Math.abs(raw[i] - img.data[i]);
        return s / raw.length;
      };
      const [tPos, tNeg] = [await tint(pos, positive), await tint(neg, negative)];
      expect(tNeg).toBeLessThan(0.5 * tPos);
      // The negative photo's regions carry no HPO terms (below the photo threshold).
      expect(neg.regions!.every((r) => r.hpo === undefined)).toBe(true);
    } finally {
      await screener.close();
    }
  }, 90_000);
});
