/**
 * The web app in Chromium (playwright-core) on a tablet and with a negative result, against the
 * server with the fake screening service: at 768 px the results tables fit (region and HPO columns
 * visible, nothing scrolled out of sight); a photo scored below the threshold shows what the call
 * means, no HPO terms and a pale heat map on the shared colour scale; a file that is not a photo,
 * added beside a good one, is reported while the good one is screened. Screenshots go to
 * test/.tmp/e2e/.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeScreenService } from '../server/fake-service.ts';
import { facePhoto } from '../server/fixtures.ts';
import { buildWeb, CHROMIUM_ARGS, ensureChromium, OUT_DIR, shot, startServer } from './browser.ts';

const browserExe = ensureChromium();
if (!browserExe.path) console.warn(`tablet and negative-result browser tests skipped: ${browserExe.reason}`);

/**
 * How strongly the heat map tints the photo where it tints it most: per pixel, the mean absolute
 * difference over the channels between the heatmap's photo part and the photo (0-255 levels),
 * averaged over the 5% of pixels that differ most.
 */
function heatTint(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const heat = document.querySelector<HTMLImageElement>('[data-testid=heatmap]')!;
    const photo = document.querySelector<HTMLImageElement>('.stage-photo')!;
    await Promise.all([heat, photo].map((img) => img.decode()));
    const w = photo.naturalWidth, hgt = photo.naturalHeight;
    const pixels = (img: HTMLImageElement, sw: number, sh: number) => {
      const c = document.createElement('canvas');
      c.width = w; c.height = hgt;
      const ctx = c.getContext('2d')!;
      ctx.drawImage(img, 0, 0, sw, sh, 0, 0, w, hgt);
      return ctx.getImageData(0, 0, w, hgt).data;
    };
    // The heatmap is the photo (shrunk to at most 800 px) with a colour bar on its right: compare its photo part.
    const a = pixels(heat, Math.round(heat.naturalHeight * (w / hgt)), heat.naturalHeight);
    const b = pixels(photo, w, hgt);
    const diff = new Float32Array(a.length / 4);
    for (let i = 0; i < a.length; i += 4) diff[i / 4] = (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2])) / 3;
    const top = diff.sort().subarray(Math.floor(diff.length * 0.95));
    return top.reduce((s, v) => s + v, 0) / top.length;
  });
}

describe.skipIf(!browserExe.path)('web app on a tablet, and a negative result', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    const webRoot = await buildWeb(path.join(OUT_DIR, 'web-dist-tablet'));
    browser = await chromium.launch({ executablePath: browserExe.path, args: CHROMIUM_ARGS, headless: true });
    ({ app, url } = await startServer({ service: new FakeScreenService(), webRoot }));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A page at `width` px that records page errors, showing the result of screening `files`. */
  async function screened(width: number, files: { name: string; mimeType: string; buffer: Buffer }[], opts: { isMobile?: boolean } = {}) {
    const context = await browser.newContext({ viewport: { width, height: 1024 }, deviceScaleFactor: 1, ...(opts.isMobile ? { isMobile: true, hasTouch: true } : {}) });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.goto(url);
    await page.setInputFiles('[data-testid=file-input]', files);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=probability]');
    return { page, errors, close: () => context.close() };
  }
  const jpeg = async (name: string, buffer: Promise<Buffer>) => ({ name, mimeType: 'image/jpeg', buffer: await buffer });

  it('at 768 px (tablet) the results tables fit: region, share and HPO columns in view, no horizontal scrolling', async () => {
    const { page, errors, close } = await screened(768, [
      await jpeg('front.jpg', facePhoto(600, 800)),
      { name: 'left-profile.png', mimeType: 'image/png', buffer: await facePhoto(500, 600, 'png', '#d8a888') },
    ], { isMobile: true });
    expect(await page.locator('table.regions').count()).toBe(2);
    // The frontal photo's geometry table is among the tables that must fit.
    expect(await page.locator('table.geometry').count()).toBe(1);
    const layout = await page.evaluate(() => {
      const cut: string[] = [];
      for (const wrap of Array.from(document.querySelectorAll<HTMLElement>('.table-scroll'))) {
        if (wrap.scrollWidth > wrap.clientWidth + 1) cut.push(`.table-scroll scrolls: ${wrap.scrollWidth} > ${wrap.clientWidth}`);
      }
      for (const cell of Array.from(document.querySelectorAll<HTMLElement>('.result table th, .result table td'))) {
        const r = cell.getBoundingClientRect();
        const card = cell.closest('.card')!.getBoundingClientRect();
        if (r.right > card.right + 0.5 || r.right > window.innerWidth || r.left < card.left - 0.5) cut.push(`"${cell.textContent!.trim().slice(0, 30)}" at ${Math.round(r.left)}-${Math.round(r.right)}, card ${Math.round(card.left)}-${Math.round(card.right)}`);
      }
      const heads = Array.from(document.querySelectorAll('table.regions thead th')).map((th) => th.textContent);
      return { cut, heads, page: document.documentElement.scrollWidth <= window.innerWidth };
    });
    expect(layout.cut).toEqual([]);
    expect(layout.page).toBe(true);
    expect(layout.heads).toEqual(['Region', 'Share', 'Related features (HPO)', 'Region', 'Share', 'Related features (HPO)']);
    const hpo = page.locator('table.regions thead th', { hasText: 'Related features (HPO)' }).first();
    await hpo.scrollIntoViewIfNeeded();
    expect(await hpo.isVisible()).toBe(true);
    expect(await page.locator('table.regions').first().textContent()).toContain('HP:0000414 bulbous nose');
    await page.screenshot({ path: shot('tablet-two-photos'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  });

  it('a photo scored below the threshold: the call and what it means, no HPO terms, a pale heat map on the shared scale', async () => {
    const positive = await screened(1024, [await jpeg('front.jpg', facePhoto(480, 600))]);
    const tintPositive = await heatTint(positive.page);
    await positive.close();

    const { page, errors, close } = await screened(768, [await jpeg('low-score-front.jpg', facePhoto(480, 600))]);
    expect(await page.locator('[data-testid=verdict]').textContent()).toMatch(/^Below the model's threshold/);
    expect(await page.locator('.summary').getAttribute('class')).toContain('is-below');
    const meaning = await page.locator('.meaning').textContent();
    expect(meaning).toMatch(/flagged 86\.0% of people with 22q11\.2 deletion syndrome and cleared 90\.0% of people without it/);
    expect(meaning).toMatch(/Chance of 22q11\.2 deletion syndrome given this result: .*at a prevalence of 1 in/);
    expect(await page.locator('[data-testid=chance]').textContent()).toMatch(/^\d.*%$/);
    // The region table says its shares are of what little raises a score below the photo threshold, with no findings: no HPO term in any row.
    const regions = await page.locator('table.regions').textContent();
    expect(regions).toMatch(/^Below the model's photo threshold: where what little raises the score comes from, by facial region/);
    expect(regions).not.toMatch(/HP:\d/);
    expect(await page.locator('table.regions td.hpo').allTextContents()).toEqual(new Array(9).fill('–'));
    // The heat map: on the shared scale, a small fraction of the positive photo's tint; the caption and legend say so.
    const caption = await page.locator('[data-testid=heat-caption]').textContent();
    expect(caption).toContain('Colours on a scale shared by all photos');
    expect(caption).toMatch(/This photo's strongest evidence reaches \d+% of the top of the scale/);
    await expect.poll(() => page.locator('.heat-legend').evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(3);
    expect(await page.locator('[data-testid=legend-peak]').count()).toBe(1);
    const tintNegative = await heatTint(page);
    // Measured: about 17 levels for the positive photo (score 57%), 5 for this one (score 11%), JPEG decoding noise included.
    expect(tintPositive).toBeGreaterThan(10);
    expect(tintNegative).toBeLessThan(8);
    expect(tintNegative).toBeLessThan(0.35 * tintPositive);
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await page.screenshot({ path: shot('negative-result-tablet'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  });

  it('a file that is not a photo beside a good one: the good one is screened, the other gets an error line', async () => {
    const { page, errors, close } = await screened(1024, [
      { name: 'referral-letter.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7 Dear colleague, please see this patient.') },
      await jpeg('front.jpg', facePhoto(480, 600)),
    ]);
    expect(await page.locator('[data-testid=status]').textContent()).toBe('Done: 1 of 2 photos screened. Not screened: "referral-letter.pdf" (see the message on each below).');
    const cards = page.locator('[data-testid=photo-card]');
    expect(await cards.count()).toBe(2);
    expect(await cards.nth(0).locator('.error-text').textContent()).toContain('This file type is not accepted');
    expect(await cards.nth(0).locator('img').count()).toBe(0);
    expect(await cards.nth(1).locator('.badge.neutral').textContent()).toMatch(/^Score \d+%$/);
    expect(await page.locator('[data-testid=probability]').textContent()).toMatch(/^\d+%$/);
    await page.screenshot({ path: shot('non-image-beside-photo'), fullPage: true });
    expect(errors).toEqual([]);
    await close();
  });
});
