/**
 * The web app in Chromium (playwright-core) with a model whose cross-validated specificity is 1:
 * a positive call's chance is not shown as a certainty (100%); the page says why and gives the
 * range over the rates' intervals instead. Screenshots go to test/.tmp/e2e/.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeScreenService } from '../server/fake-service.ts';
import { facePhoto } from '../server/fixtures.ts';
import { buildWeb, CHROMIUM_ARGS, ensureChromium, OUT_DIR, shot, startServer } from './browser.ts';

const browserExe = ensureChromium();
if (!browserExe.path) console.warn(`chance-at-a-bound browser test skipped: ${browserExe.reason}`);

describe.skipIf(!browserExe.path)('web app: a chance from a validated rate of 1', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    const webRoot = await buildWeb(path.join(OUT_DIR, 'web-dist-chance'));
    browser = await chromium.launch({ executablePath: browserExe.path, args: CHROMIUM_ARGS, headless: true });
    ({ app, url } = await startServer({ service: new FakeScreenService({ perfectSpecificity: true }), webRoot }));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('says a positive call is not a certainty and gives the range, at any prevalence the clinician sets', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=probability]');
    expect(await page.locator('[data-testid=verdict]').textContent()).toMatch(/^Above the model's threshold/);
    expect(await page.locator('[data-testid=chance]').textContent()).toBe('not a certainty (see below)');
    const note = await page.locator('[data-testid=chance-note]').textContent();
    expect(note).toMatch(/^Not 100%: in cross-validation no control was called positive .* At the prevalence screened at \(1 in 4,000\), that range is \d.*% to 100\.0%\.$/);
    await page.fill('[data-testid=prevalence]', '100');
    expect(await page.locator('[data-testid=chance]').textContent()).toBe('not a certainty (see below)');
    expect(await page.locator('.meaning').textContent()).not.toMatch(/given this result: 100/);
    await page.screenshot({ path: shot('chance-at-bound'), fullPage: true });
    await page.close();
  });
});
