/**
 * The web app with a real model bundle (the `Screener` of src/workflows/screen/screener.ts and its data-URL explainer,
 * in a worker thread, loaded as `phenoface serve` loads them) in Chromium: upload a real photo, see the result, the
 * face box, the heatmap and the regions. Needs a bundle: PHENOFACE_E2E_MODEL=DIR/model (e.g. from
 * `phenoface demo`); the photo is PHENOFACE_E2E_PHOTO or face-api's demo photo sample2.jpg.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRealService } from '../../src/cli/serve.ts';
import type { ScreenService } from '../../src/server/types.ts';
import { buildWeb, CHROMIUM_ARGS, ensureChromium, OUT_DIR, shot, startServer } from './browser.ts';

const MODEL = process.env.PHENOFACE_E2E_MODEL;
const require = createRequire(import.meta.url);
const PHOTO = process.env.PHENOFACE_E2E_PHOTO ?? path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo/sample2.jpg');

function skipReason(): string | undefined {
  if (!MODEL) return 'PHENOFACE_E2E_MODEL is not set (give it a model/ folder from `phenoface study` or `phenoface demo`)';
  if (!existsSync(path.join(MODEL, 'model.json'))) return `${MODEL}/model.json does not exist`;
  if (!existsSync(PHOTO)) return `the test photo ${PHOTO} does not exist (set PHENOFACE_E2E_PHOTO)`;
  const browser = ensureChromium();
  return browser.path ? undefined : browser.reason;
}
const reason = skipReason();
if (reason) console.warn(`real-model e2e test skipped: ${reason}`);

describe.skipIf(reason !== undefined)('web app with a real model', () => {
  let browser: Browser;
  let service: ScreenService;
  let app: FastifyInstance;
  let url: string;
  const warnings: string[] = [];

  beforeAll(async () => {
    service = await loadRealService(MODEL!, (m) => warnings.push(m));
    const webRoot = await buildWeb(path.join(OUT_DIR, 'web-dist-real'));
    ({ app, url } = await startServer({ service, webRoot }));
    browser = await chromium.launch({ executablePath: ensureChromium().path, args: CHROMIUM_ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await service?.close();
  });

  it('screens a real photo in the browser: probability, face box on the face, heatmap, regions', async () => {
    expect(warnings).toEqual([]); // the explainer loaded: heatmaps are expected
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url);
    await expect.poll(() => page.locator('#footer-model').textContent()).toContain(service.info().id);
    await page.setInputFiles('[data-testid=file-input]', [{ name: path.basename(PHOTO), mimeType: 'image/jpeg', buffer: readFileSync(PHOTO) }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=probability]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=probability]').textContent()).toMatch(/^(<1|>99|\d{1,2})%$/);
    const card = page.locator('[data-testid=photo-card]');
    expect(await card.count()).toBe(1);
    expect(await card.locator('.error-text').count()).toBe(0);
    // The box lies inside the photo.
    const box = await card.locator('rect.face-box').evaluate((r) => ({ x: Number(r.getAttribute('x')), y: Number(r.getAttribute('y')), w: Number(r.getAttribute('width')), h: Number(r.getAttribute('height')) }));
    const viewBox = (await card.locator('svg.stage-overlay').getAttribute('viewBox'))!.split(' ').map(Number);
    expect(box.w).toBeGreaterThan(20);
    expect(box.x + box.w).toBeLessThanOrEqual(viewBox[2] + 1);
    expect(box.y + box.h).toBeLessThanOrEqual(viewBox[3] + 1);
    expect(await card.locator('circle.landmark').count()).toBe(5);
    const heat = card.locator('[data-testid=heatmap]');
    await expect.poll(() => heat.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    expect(await card.locator('table.regions tbody tr').count()).toBeGreaterThanOrEqual(5);
    // HPO terms only for a photo at or above the model's photo threshold (a region is where the score comes from, not a finding).
    const photoPct = Number((await card.locator('.badge.neutral').textContent())!.replace(/[^\d]/g, ''));
    const thresholdPct = 100 * service.info().thresholds!.photo;
    const regionsText = await card.locator('table.regions').textContent();
    if (photoPct > thresholdPct + 1) expect(regionsText).toMatch(/HP:\d{7}/);
    if (photoPct < thresholdPct - 1) expect(regionsText).not.toMatch(/HP:\d{7}/);
    // The heat map says which colour scale it was drawn on: the study's, shared across photos.
    expect(await card.locator('[data-testid=heat-caption]').textContent()).toContain('Colours on a scale shared by all photos');
    // Every region the explainer names has a plain-language name in the UI.
    const names = await card.locator('table.regions tbody th').evaluateAll((ths) => ths.map((th) => [th.getAttribute('title'), th.textContent]));
    expect(names.filter(([code, text]) => text === code?.replace(/[-_]/g, ' '))).toEqual([]);
    await page.screenshot({ path: shot('real-model-result'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
