/**
 * The web app in Chromium (playwright-core) with a model whose cross-validated AUC per person has a
 * 95% interval reaching 0.5: the Model tab says, above its figures, that the model has not been
 * shown to tell people with the condition from people without it. Screenshots go to test/.tmp/e2e/.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeScreenService } from '../server/fake-service.ts';
import { buildWeb, CHROMIUM_ARGS, ensureChromium, OUT_DIR, shot, startServer } from './browser.ts';

const browserExe = ensureChromium();
if (!browserExe.path) console.warn(`no-evidence browser test skipped: ${browserExe.reason}`);

describe.skipIf(!browserExe.path)('web app: a model with no evidence', () => {
  let browser: Browser;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    const webRoot = await buildWeb(path.join(OUT_DIR, 'web-dist-no-evidence'));
    browser = await chromium.launch({ executablePath: browserExe.path, args: CHROMIUM_ARGS, headless: true });
    ({ app, url } = await startServer({ service: new FakeScreenService({ weakModel: true }), webRoot }));
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('says on the Model tab, above the figures, that the model carries no evidence', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}#/model`);
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
