/**
 * Where `phenoface demo` writes: never inside the photo folder it reads, never over a file, and all
 * at once: a demo that fails leaves the earlier demo in its folder as it was (its embedding cache
 * included). Needs the built models (the demo checks them first); skips without them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { checkDemoModels } from '../../src/workflows/demo/demo.ts';
import { memoryIO } from '../support/io.ts';
import { snapshot } from '../cli/snapshot.ts';

const why = (() => {
  try {
    checkDemoModels();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
})();
if (why) console.warn(`demo-output.test.ts skipped: ${why}`);

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'phenoface-demo-out-'));
  // Three "people" whose photos hold no face: the demo fails after synth with E_INPUT.
  for (const person of ['a', 'b', 'c']) {
    await mkdir(path.join(dir, 'faceless', person), { recursive: true });
    await sharp({ create: { width: 160, height: 160, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toFile(path.join(dir, 'faceless', person, '1.jpg'));
  }
  await writeFile(path.join(dir, 'notes.txt'), 'mine\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(Boolean(why))('phenoface demo --out', () => {
  it('refuses an output folder inside the --photos folder (E_USAGE, exit 2), writing nothing', async () => {
    const before = snapshot(path.join(dir, 'faceless'));
    const io = memoryIO(dir);
    expect(await main(['demo', '--photos', 'faceless', '--out', 'faceless/demo', '--no-open', '--quiet'], io)).toBe(2);
    expect(io.stderr).toMatch(/E_USAGE: --out ".*demo" lies inside the input folder ".*faceless"/);
    expect(snapshot(path.join(dir, 'faceless'))).toEqual(before);
    expect(existsSync(path.join(dir, 'faceless', 'demo'))).toBe(false);
  });

  it('refuses --photos of one person with E_INPUT (exit 1) saying how many people it needs, not an option the demo does not have', async () => {
    await mkdir(path.join(dir, 'one-person', 'p1'), { recursive: true });
    await sharp({ create: { width: 160, height: 160, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toFile(path.join(dir, 'one-person', 'p1', '1.jpg'));
    const io = memoryIO(dir);
    expect(await main(['demo', '--photos', 'one-person', '--out', 'one-out', '--no-open', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_INPUT: ');
    expect(io.stderr).toContain('the demo needs at least 8');
    expect(io.stderr).not.toContain('--fraction');
    expect(existsSync(path.join(dir, 'one-out'))).toBe(false);
  });

  it('refuses an output that is a file (E_INPUT, exit 1)', async () => {
    const io = memoryIO(dir);
    expect(await main(['demo', '--photos', 'faceless', '--out', 'notes.txt', '--no-open', '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_INPUT: --out ".*notes\.txt" is a file\. Should be a folder/);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
  });

  it('a demo that fails leaves the earlier demo and its cache as they were', async () => {
    const out = path.join(dir, 'earlier');
    await mkdir(path.join(out, 'study', 'model'), { recursive: true });
    await writeFile(path.join(out, 'demo.json'), JSON.stringify({ contract: 1, generator: 'phenoface demo', synthetic: true }) + '\n');
    await writeFile(path.join(out, 'study', 'report.html'), '<p>the earlier demo</p>');
    await writeFile(path.join(out, 'study', 'model', 'model.json'), '{}');
    await writeFile(path.join(out, 'cache.sqlite'), '');
    const before = snapshot(out);
    const io = memoryIO(dir);
    expect(await main(['demo', '--photos', 'faceless', '--out', 'earlier', '--no-open', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_INPUT: Only 0 people have a photo with a usable face (of 3)');
    expect(snapshot(out)).toEqual(before);
    expect(readdirSync(dir).filter((n) => n.startsWith('.earlier.'))).toEqual([]);
  });

  it('a demo that fails in a new folder leaves no folder behind', async () => {
    const io = memoryIO(dir);
    expect(await main(['demo', '--photos', 'faceless', '--out', 'new/demo', '--no-open', '--quiet'], io)).toBe(1);
    expect(io.stderr).toContain('E_INPUT: Only 0 people have a photo with a usable face (of 3)');
    expect(existsSync(path.join(dir, 'new'))).toBe(false);
  });
});
