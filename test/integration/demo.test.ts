/**
 * `phenoface demo --quick` end to end, in process: bundled photos -> people -> synth -> study ->
 * screening of two held-out people -> report. Needs the built models and the installed
 * `@vladmandic/face-api` photos; skips with a message without them. Takes 1-3 minutes on 2 cores.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { checkDemoModels, readDemoResult, type DemoResult } from '../../src/workflows/demo/demo.ts';
import { bundledPhotoPaths } from '../../src/workflows/demo/people.ts';
import { memoryIO, type MemoryIO } from '../support/io.ts';

function missing(): string | undefined {
  try {
    checkDemoModels();
    const absent = bundledPhotoPaths().filter((p) => !existsSync(p));
    return absent.length ? `demo photos absent: ${absent.join(', ')}` : undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
const why = missing();
if (why) console.warn(`demo.test.ts: end-to-end demo skipped: ${why}`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'phenoface-demo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('phenoface demo: usage', () => {
  it('rejects a bad strength and stray arguments with exit 2, and a foreign non-empty folder with E_INPUT', async () => {
    let io = memoryIO(dir);
    expect(await main(['demo', '--strength', '2'], io)).toBe(2);
    expect(io.stderr).toContain('Invalid --strength: "2". Should be a number in [0, 1].');
    io = memoryIO(dir);
    expect(await main(['demo', 'photos/'], io)).toBe(2);
    expect(io.stderr).toContain('Unexpected argument "photos/"');
    if (why) return; // the folder check comes after the model check
    await mkdir(path.join(dir, 'foreign'));
    await writeFile(path.join(dir, 'foreign', 'notes.txt'), 'mine');
    io = memoryIO(dir);
    expect(await main(['demo', '--out', 'foreign', '--no-open'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: Output folder ".*foreign" is not empty and holds no earlier demo/);
    expect(await readFile(path.join(dir, 'foreign', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it.skipIf(Boolean(why))('refuses --photos inside the output folder, a labelled folder ROOT/<label>/<subject>/<photo>, and photos in which too few people have a face', async () => {
    await mkdir(path.join(dir, 'mine', 'photos', 'p1'), { recursive: true });
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toFile(path.join(dir, 'mine', 'photos', 'p1', '1.jpg'));
    let io = memoryIO(dir);
    expect(await main(['demo', '--out', 'mine', '--photos', 'mine/photos', '--no-open'], io)).toBe(2);
    expect(io.stderr).toContain(`E_USAGE: --out "${path.join(dir, 'mine')}" holds the input "${path.join(dir, 'mine', 'photos')}"`);
    // The study's labelled layout: each label folder would be one person, so it is refused before anything is written.
    for (const [label, person] of [['control', 'c1'], ['control', 'c2'], ['vcfs', 'v1']]) {
      await mkdir(path.join(dir, 'labelled', label, person), { recursive: true });
      await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toFile(path.join(dir, 'labelled', label, person, '1.jpg'));
    }
    io = memoryIO(dir);
    expect(await main(['demo', '--out', 'labelled-out', '--photos', 'labelled', '--no-open', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain(`E_MANIFEST: Folder "${path.join(dir, 'labelled')}" holds photos in folders two levels down that are not views`);
    expect(io.stderr).toContain(`pass one label's folder (e.g. "${path.join(dir, 'labelled', 'control')}")`);
    expect(existsSync(path.join(dir, 'labelled-out'))).toBe(false);
    // Three "people" whose photos hold no face: synth skips every photo and the demo says why.
    for (const person of ['a', 'b', 'c']) {
      await mkdir(path.join(dir, 'faceless', person), { recursive: true });
      await sharp({ create: { width: 160, height: 160, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toFile(path.join(dir, 'faceless', person, '1.jpg'));
    }
    io = memoryIO(dir);
    expect(await main(['demo', '--out', 'faceless-out', '--photos', 'faceless', '--no-open', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_INPUT: Only 0 people have a photo with a usable face (of 3); the demo needs at least 8.');
  });
});

describe.skipIf(Boolean(why))('phenoface demo --quick end to end', () => {
  let io: MemoryIO;
  let code: number;
  let result: DemoResult;
  const out = () => path.join(dir, 'demo-out');

  beforeAll(async () => {
    io = memoryIO(dir);
    code = await main(['demo', '--out', 'demo-out', '--quick', '--no-open', '--quiet'], io);
    result = await readDemoResult(out());
  }, 600_000);

  it('exits 0 and prints a summary labelled synthetic with the report path', () => {
    expect(io.stderr).toBe('');
    expect(code).toBe(0);
    expect(io.stdout).toContain('SYNTHETIC data, not a clinical model');
    expect(io.stdout).toContain(`report    ${path.join(out(), 'study', 'report.html')}`);
  });

  it('built people from the bundled photos and planted the warp in half of them', async () => {
    expect(result.study.photosFromCache).toBe(0);
    expect(result.people).toBe(20);
    expect(result.photos).toBe(20 * 4);
    expect(result.synth.affected).toBe(10);
    const truth = JSON.parse(await readFile(path.join(out(), 'synth', 'truth.json'), 'utf8'));
    expect(truth.options.strength).toBe(0.9);
    expect(Object.values(truth.subjects).filter((s: any) => s.label === 'vcfs')).toHaveLength(10);
  });

  it('writes report.html with the synthetic banner and the demo section, and a model marked synthetic', async () => {
    const html = await readFile(path.join(out(), 'study', 'report.html'), 'utf8');
    expect(html).toContain('<strong>Synthetic data.</strong>');
    expect(html).toContain('<section id="demo"><h2>Demo (synthetic)</h2>');
    // The study's report stays whole: its explanation section is kept beside the demo's.
    expect(html).toContain('<section id="explanations">');
    const model = JSON.parse(await readFile(path.join(out(), 'study', 'model', 'model.json'), 'utf8'));
    expect(model.synthetic).toBe(true);
    // Every sanity check is measured, the shuffled-label one included, whatever blocks the final
    // model stacks (a stack fitted on shuffled labels would give the embedding no weight to map).
    const x = JSON.parse(await readFile(path.join(out(), 'study', 'explanation.json'), 'utf8'));
    expect(x.sanity.map((c: { name: string }) => c.name)).toContain('shuffled labels');
    for (const c of x.sanity) expect(c.spearman.mean, c.name).toEqual(expect.any(Number));
    // The demo's model reads both networks, so the maps are not the whole score, and say so.
    expect(x.scope).toContain("dlib-resnet's held at its training mean");
    expect(html).toContain('held at its training mean');
    expect(model.limitations.join(' ')).toContain('SYNTHETIC');
  });

  it('screens one planted and one control person that the study never saw', async () => {
    expect(result.screenings.map((s) => s.truthLabel).sort()).toEqual(['control', 'vcfs']);
    const predictions = await readFile(path.join(out(), 'study', 'predictions.csv'), 'utf8');
    for (const s of result.screenings) {
      expect(predictions).not.toContain(`,${s.subject},`);
      const screen = JSON.parse(await readFile(path.join(out(), 'screen', `${s.subject}.json`), 'utf8'));
      expect(screen.contract).toBe(1);
      expect(screen.photos).toHaveLength(4);
      expect(screen.photos.every((p: any) => typeof p.probability === 'number' && !p.error)).toBe(true);
      expect(screen.subject.probability).toBeGreaterThanOrEqual(0);
      expect(screen.subject.probability).toBeLessThanOrEqual(1);
      expect(['vcfs', 'control']).toContain(screen.subject.label);
    }
    // Each held-out person's photos come with heatmaps and ranked regions.
    expect(result.explain.status).toBe('done');
    const photo = JSON.parse(await readFile(result.screenings[0].file, 'utf8')).photos[0];
    expect(existsSync(photo.heatmap)).toBe(true);
    expect(photo.regions.length).toBeGreaterThan(0);
  });
});
