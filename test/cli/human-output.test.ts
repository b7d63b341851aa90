/**
 * What a person at a terminal sees: without `--json` no command prints raw JSON (a line of text per
 * photo and a summary instead), and the long stages of a study (cross-validation, explanations)
 * show their progress to the last item, as the embedding already did.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';
import { writeStudyData } from './study-fixture.ts';

const require = createRequire(import.meta.url);
const sample = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample3.jpg');

/** The lines of `text` that parse as a JSON object or array: raw JSON a person would have to read. */
function jsonLines(text: string): string[] {
  return text.split('\n').filter((line) => {
    const t = line.trim();
    if (!t.startsWith('{') && !t.startsWith('[')) return false;
    try {
      JSON.parse(t);
      return true;
    } catch {
      return false;
    }
  });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-human-'));
  writeFileSync(path.join(dir, 'not-a-photo.jpg'), 'this is not an image\n');
});

describe('human-readable output (no --json)', () => {
  it('detect: a failed photo is a line of text, not a JSON record', async () => {
    const io = memoryIO(dir);
    expect(await main(['detect', sample, 'not-a-photo.jpg', '--quiet'], io)).toBe(3);
    expect(jsonLines(io.stdout + io.stderr)).toEqual([]);
    expect(io.stdout).toMatch(/^not-a-photo\.jpg: E_DECODE: /m);
    expect(io.stdout).toMatch(/sample3\.jpg: \d+x\d+, \d+ faces?: frontal face \(yaw -?\d+°, score [01]\.\d{3}\) at /);
  }, 120_000);

  it('embed: a line of text per photo and a summary, the vectors only with --json or --out', async () => {
    const io = memoryIO(dir);
    expect(await main(['embed', sample, 'not-a-photo.jpg'], io)).toBe(3);
    expect(jsonLines(io.stdout + io.stderr)).toEqual([]);
    expect(io.stdout).toMatch(/sample3\.jpg: frontal face \(.*\), 192-D mobilefacenet embedding/);
    expect(io.stdout).toMatch(/^not-a-photo\.jpg: E_DECODE: /m);
    expect(io.stderr).toMatch(/embed: 1 of 2 photos embedded; the vectors are written by --out FILE\.jsonl or --json/);

    const json = memoryIO(dir);
    expect(await main(['embed', sample, 'not-a-photo.jpg', '--json'], json)).toBe(3);
    const [ok, failed] = json.lines();
    expect(ok).toMatchObject({ contract: 1, path: sample, backbone: 'mobilefacenet' });
    expect(ok.embedding).toHaveLength(192);
    expect(failed).toMatchObject({ contract: 1, path: 'not-a-photo.jpg', error: { code: 'E_DECODE' } });
    expect(json.stderr).toBe('');
  }, 120_000);

  it('detect and embed: a photo whose name holds a line break is still one line of text', async () => {
    const { copyFileSync } = await import('node:fs');
    copyFileSync(sample, path.join(dir, 'two\nlines.jpg'));
    writeFileSync(path.join(dir, 'bad\nname.jpg'), 'not an image\n');
    for (const command of ['detect', 'embed']) {
      const io = memoryIO(dir);
      expect(await main([command, 'two\nlines.jpg', 'bad\nname.jpg', '--quiet'], io)).toBe(3);
      const lines = io.stdout.trimEnd().split('\n');
      expect(lines, io.stdout).toHaveLength(2);
      expect(lines[0]).toMatch(/^two\\u\{a\}lines\.jpg: /);
      expect(lines[1]).toMatch(/^bad\\u\{a\}name\.jpg: E_DECODE: /);
    }
  }, 120_000);
});

describe('study progress (no terminal: one line per step, and the last)', () => {
  it('shows cross-validation and explanations to their final count, and prints no JSON', async () => {
    const data = await writeStudyData(path.join(dir, 'study-data'), path.join(dir, 'cache.sqlite'));
    const io = memoryIO(dir);
    // 2 folds x 1 repeat, and 3 permutations of 2 folds plus the real labels' run with the fixed hyperparameter: 2 + 4 x 2 fits.
    const argv = ['study', '--manifest', path.relative(dir, data.manifest), '--out', 'study-out', '--cache', 'cache.sqlite', '--folds', '2', '--repeats', '1', '--bootstrap', '0', '--permutations', '3'];
    expect(await main(argv, io)).toBe(0);
    expect(io.stderr).toMatch(/^study cross-validation 10\/10 \(100%\), [\d.]+ fits\/s, ETA 0s$/m);
    // Every photo of the fixture is in the explanation sample (fewer than the 200 it is bounded by).
    expect(io.stderr).toMatch(new RegExp(`^study explain ${data.photos.length}/${data.photos.length} \\(100%\\), [\\d.]+ photos/s, ETA 0s$`, 'm'));
    expect(jsonLines(io.stdout + io.stderr)).toEqual([]);
  }, 300_000);
});
