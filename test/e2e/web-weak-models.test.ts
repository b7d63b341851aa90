/**
 * The web app in Chromium (playwright-core) with models whose figures could be misread: one whose
 * cross-validated specificity is 1 (a positive call's chance is not shown as a certainty; the page
 * says why and gives the range), and one whose AUC interval per person reaches 0.5 (the Model tab
 * says, above its figures, that the model carries no evidence). Screenshots go to test/.tmp/e2e/.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeScreenService, type FakeServiceOptions } from '../server/fake-service.ts';
import { facePhoto } from '../server/fixtures.ts';
import { buildWeb, CHROMIUM_ARGS, ensureChromium, OUT_DIR, shot, startServer } from './browser.ts';

const browserExe = ensureChromium();
if (!browserExe.path) console.warn(`weak-model browser tests skipped: ${browserExe.reason}`);

describe.skipIf(!browserExe.path)('web app: models whose figures could be misread', () => {
  let browser: Browser;
  let webRoot: string;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    webRoot = await buildWeb(path.join(OUT_DIR, 'web-dist-weak-models'));
    browser = await chromium.launch({ executablePath: browserExe.path, args: CHROMIUM_ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(apps.map((a) => a.close()));
  });

  /** The URL of a server screening with a fake model of these options. */
  async function serve(opts: FakeServiceOptions): Promise<string> {
    const { app, url } = await startServer({ service: new FakeScreenService(opts), webRoot });
    apps.push(app);
    return url;
  }

  it('says a positive call of a model with specificity 1 is not a certainty and gives the range, at any prevalence', async () => {
    const page = await browser.newPage();
    await page.goto(await serve({ perfectSpecificity: true }));
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

  it('says on the Model tab, above the figures, that a model whose AUC interval reaches 0.5 carries no evidence', async () => {
    const page = await browser.newPage();
    await page.goto(`${await serve({ weakModel: true })}#/model`);
    await page.waitForSelector('table.metrics');
    const note = page.locator('[data-testid=model-no-evidence]');
    expect(await note.textContent()).toBe("No evidence: this model has not been shown to tell people with the condition from people without it, as the model's cross-validated AUC per person (0.58, 95% interval 0.45-0.71) reaches 0.5, chance level. Results from it carry no evidence; do not act on them.");
    expect(await note.getAttribute('role')).toBe('note');
    const [noteBox, tableBox] = [await note.boundingBox(), await page.locator('table.metrics').boundingBox()];
    expect(noteBox!.y).toBeLessThan(tableBox!.y);
    await page.screenshot({ path: shot('model-no-evidence'), fullPage: true });
    await page.close();
  });
});
