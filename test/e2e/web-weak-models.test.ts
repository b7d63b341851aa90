/**
 * The web app in Chromium (playwright-core) with models and results whose figures could be misread:
 * a model whose cross-validated specificity is 1 (a positive call's chance is not shown as a
 * certainty; the page says why and gives the range), one whose AUC interval per person reaches 0.5
 * (the Model tab says, above its figures, that the model carries no evidence), one on the face's
 * geometry alone (named by what it reads, not by the backbone installed with it), and results
 * screened at a referral clinic's 30% and at 1 in 4,000 (the page shows and computes the chance at
 * exactly that prevalence, in the form the CLI prints it, and takes either form), and a model whose
 * study found its heat maps failing a check (a warning above the photos), and a person screened from
 * fewer photos than the study's people had (the per-photo rates beside the per-person ones). Screenshots go to
 * test/.tmp/e2e/.
 */
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { likelihoodRatioText, postTest, probabilityText } from '../../src/evaluate/post-test.ts';
import type { ScreenResult } from '../../src/workflows/screen/result.ts';
import { FAKE_INFO, FakeScreenService, type FakeServiceOptions } from '../server/fake-service.ts';
import { facePhoto } from '../server/fixtures.ts';
import { buildWeb, CHROMIUM_ARGS, ensureChromium, OUT_DIR, shot, startServer } from './browser.ts';

const browserExe = ensureChromium();

/** A chance as the page writes it (result-view.ts): as `screen` prints it. */
const chanceText = (v: number): string => probabilityText(v);

/** The fake model's chance of the condition after a positive call at `prevalence`, as the page should write it. */
function positiveChanceAt(prevalence: number): string {
  const rates = FAKE_INFO.metrics!.subject as { sensitivity: { value: number }; specificity: { value: number } };
  return chanceText(postTest(true, rates.sensitivity, rates.specificity, prevalence).chance!);
}

/** What the page reads around the prevalence field: the text before it, its value, the text after it. */
function prevalenceShown(page: Page): Promise<[string, string, string]> {
  return page.locator('[data-testid=prevalence]').evaluate((input: HTMLInputElement) => [input.previousElementSibling!.textContent!, input.value, input.nextElementSibling!.textContent!]);
}
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
    expect(note).toMatch(/^Not 100%: in cross-validation no control was called positive .* At the prevalence screened at \(1 in 4,000\), that range is \d.*% to 100%\.$/);
    await page.fill('[data-testid=prevalence]', '100');
    expect(await page.locator('[data-testid=chance]').textContent()).toBe('not a certainty (see below)');
    expect(await page.locator('.meaning').textContent()).not.toMatch(/given this result: 100/);
    await page.screenshot({ path: shot('chance-at-bound'), fullPage: true });
    await page.close();
  });

  it("warns above the photos when the model's study found its heat maps failing a check, and only then", async () => {
    const heatMapChecks = "In the model's study these maps failed 1 of its 5 checks (occlusion agreement): read the region shares as one method's view, not as established.";
    for (const [opts, shown] of [[{ heatMapChecks }, true], [{}, false]] as const) {
      const page = await browser.newPage();
      await page.goto(await serve(opts));
      await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
      await page.click('[data-testid=screen-button]');
      await page.waitForSelector('[data-testid=probability]');
      await page.waitForSelector('.region-note');
      if (shown) {
        expect(await page.locator('.map-checks li').textContent()).toBe(`Warning: ${heatMapChecks}`);
        await page.screenshot({ path: shot('map-checks'), fullPage: true });
      } else {
        expect(await page.locator('.map-checks').count()).toBe(0);
      }
      await page.close();
    }
  });

  it("gives the study's per-photo rates after the per-person ones and the chance, for a person screened from fewer photos", async () => {
    const photosNote = "The per-person sensitivity and specificity are of the study's people scored from the mean of all their photos (4.0 per person on average); this result is from 1 photo. One photo at a time, the study's photos gave a sensitivity of 88.9% (95% CI 66.7%-100%) and a specificity of 75.0% (95% CI 49.9%-100%).";
    const page = await browser.newPage();
    await page.goto(await serve({ photosNote }));
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=probability]');
    // After the chance, whose "the rates'" are the per-person ones.
    const paragraphs = await page.locator('.meaning > p').allTextContents();
    expect(paragraphs.map((p) => p.split(' ').slice(0, 2).join(' '))).toEqual(['In cross-validation,', 'Chance of', 'The per-person']);
    expect(paragraphs[2]).toBe(photosNote);
    await page.close();
  });

  it('never shows a score of exactly 1 (rounded to four decimals) as 100%, for the person, its interval or a photo', async () => {
    const page = await browser.newPage();
    await page.goto(await serve({ scoreOne: true }));
    const photo = await facePhoto(480, 600);
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: photo }, { name: 'front-2.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=probability]');
    expect(await page.locator('[data-testid=probability]').textContent()).toBe('>99%');
    expect(await page.locator('.interval').textContent()).toBe('95% interval from the spread of the 2 photos: >99% to >99%.');
    expect(await page.locator('.badge.neutral').allTextContents()).toEqual(['Score >99%', 'Score >99%']);
    expect(await page.locator('.summary').textContent()).not.toMatch(/Score 100%|: 100% to 100%/);
    // Heat beyond the colour scale's top is said to be beyond it, not "100% of the top".
    const caption = await page.locator('[data-testid=heat-caption]').first().textContent();
    expect(caption).toMatch(/This photo's strongest evidence goes beyond the top of the scale \(\d\.\d times it\) and is drawn in its hottest colour\.$/);
    expect(caption).not.toMatch(/100% of the top/);
    await page.close();
  });

  it('says heat just beyond the top of the colour scale is beyond it, not "1.0 times it"', async () => {
    const page = await browser.newPage();
    await page.goto(await serve({ heatPeak: 1.002 }));
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=heat-caption]');
    const caption = await page.locator('[data-testid=heat-caption]').first().textContent();
    expect(caption).toMatch(/This photo's strongest evidence goes beyond the top of the scale \(by under 5%\) and is drawn in its hottest colour\.$/);
    expect(caption).not.toMatch(/1\.0 times it/);
    await page.close();
  });

  it("says when the geometry part barely moves a photo's score, instead of drawing its thousandths as full bars with signs", async () => {
    const page = await browser.newPage();
    await page.goto(await serve({ negligibleGeometry: true }));
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=geometry-regions]');
    expect(await page.locator('[data-testid=geometry-negligible]').textContent()).toMatch(/^Every region moves this photo's log-odds by less than 0\.005 through the face's geometry/);
    const values = await page.locator('[data-testid=geometry-regions] td.num').allTextContents();
    expect(new Set(values)).toEqual(new Set(['0.00']));
    const widths = await page.locator('[data-testid=geometry-regions] .geo-bar').evaluateAll((bars) => bars.map((b) => parseFloat((b as HTMLElement).style.width)));
    expect(Math.max(...widths)).toBeLessThan(1);
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

  /** Screens one positive photo on a server screening at `opts`; returns the page and the server's result. */
  async function screenedPositive(opts: FakeServiceOptions): Promise<{ page: Page; result: ScreenResult }> {
    const page = await browser.newPage();
    await page.goto(await serve(opts));
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
    const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/screen');
    await page.click('[data-testid=screen-button]');
    const result = await (await response).json() as ScreenResult;
    await page.waitForSelector('[data-testid=probability]');
    expect(await page.locator('[data-testid=verdict]').textContent()).toMatch(/^Above the model's threshold/);
    return { page, result };
  }

  it("shows and computes the chance at a referral clinic's prevalence of 30%, not at 1 in 3", async () => {
    const { page, result } = await screenedPositive({ prevalence: 0.3 });
    expect(result.subject.prevalence).toBe(0.3);
    expect(positiveChanceAt(0.3)).not.toBe(positiveChanceAt(1 / 3));
    expect(await prevalenceShown(page)).toEqual(['', '30', '%']);
    expect(await page.locator('[data-testid=prevalence-form]').inputValue()).toBe('percent');
    const chance = await page.locator('[data-testid=chance]').textContent();
    expect(chance).toBe(positiveChanceAt(0.3));
    expect(chance).toBe(chanceText(result.subject.chance!));
    expect(await page.locator('[data-testid=chance-range]').textContent()).toMatch(/^ At 30%, its range over the rates' 95% intervals is /);
    // The likelihood ratio is shown with the range the chance range follows from.
    expect(result.subject.likelihoodRatioRange).toHaveLength(2);
    expect(await page.locator('.meaning').textContent()).toContain(`; likelihood ratio of this result ${likelihoodRatioText(result.subject.likelihoodRatio, result.subject.likelihoodRatioRange)}.`);
    expect(likelihoodRatioText(result.subject.likelihoodRatio, result.subject.likelihoodRatioRange)).toMatch(/over the rates' 95% intervals/);
    // A higher prevalence still, which no "1 in N" of a whole N can state.
    await page.fill('[data-testid=prevalence]', '60');
    expect(await page.locator('[data-testid=chance]').textContent()).toBe(positiveChanceAt(0.6));
    await page.emulateMedia({ media: 'print' });
    await page.screenshot({ path: shot('chance-at-30-percent'), fullPage: true });
    await page.close();
  });

  it('shows and computes the chance at 1 in 4,000, and takes a percentage when switched to one', async () => {
    const { page, result } = await screenedPositive({ prevalence: 1 / 4000 });
    expect(await prevalenceShown(page)).toEqual(['1 in ', '4000', '']);
    const chance = await page.locator('[data-testid=chance]').textContent();
    expect(chance).toBe(positiveChanceAt(1 / 4000));
    expect(chance).toBe(chanceText(result.subject.chance!));
    expect(await page.locator('[data-testid=chance-range]').textContent()).toMatch(/^ At 1 in 4,000, its range/);
    await page.fill('[data-testid=prevalence]', '100');
    expect(await page.locator('[data-testid=chance]').textContent()).toBe(positiveChanceAt(1 / 100));
    // The same prevalence as a percentage, then a referral clinic's.
    await page.selectOption('[data-testid=prevalence-form]', 'percent');
    expect(await prevalenceShown(page)).toEqual(['', '1', '%']);
    expect(await page.locator('[data-testid=chance]').textContent()).toBe(positiveChanceAt(1 / 100));
    await page.fill('[data-testid=prevalence]', '30');
    expect(await page.locator('[data-testid=chance]').textContent()).toBe(positiveChanceAt(0.3));
    await page.screenshot({ path: shot('prevalence-as-percentage'), fullPage: true });
    await page.fill('[data-testid=prevalence]', '100');
    expect(await page.locator('[data-testid=chance]').textContent()).toBe('–');
    await page.close();
  });

  it('says on the Model tab, in the footer and on the printed summary that a geometry-only model reads no face-recognition embedding', async () => {
    const page = await browser.newPage();
    await page.goto(`${await serve({ geometryOnly: true })}#/model`);
    await page.waitForSelector('table.metrics');
    const reads = 'face geometry (landmarks and measurements); no face-recognition embedding';
    expect(await page.locator('dl.facts dt', { hasText: 'Reads' }).locator('xpath=following-sibling::dd[1]').textContent()).toBe(reads);
    expect(await page.locator('.model-page').textContent()).not.toMatch(/backbone|mobilefacenet/i);
    await expect.poll(() => page.locator('#footer-model').textContent()).toBe(`Model fake-model-1 (reads ${reads})`);
    // The printed summary's header names it by its blocks, not by the backbone.
    await page.goto(page.url().replace(/#.*$/, ''));
    await page.setInputFiles('[data-testid=file-input]', [{ name: 'front.jpg', mimeType: 'image/jpeg', buffer: await facePhoto(480, 600) }]);
    await page.click('[data-testid=screen-button]');
    await page.waitForSelector('[data-testid=probability]');
    expect(await page.locator('.print-header').textContent()).toMatch(/model fake-model-1 \(geometry only\)/);
    await page.close();
  });
});
