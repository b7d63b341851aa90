/** `phenoface embed`: contract lines with unit-length embeddings; manifest paths cannot escape. */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';

const require = createRequire(import.meta.url);
const sample = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample3.jpg');

describe('phenoface embed', () => {
  it('writes one contract line per photo, paths as listed, refusing paths that leave the manifest folder', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-embed-'));
    mkdirSync(path.join(dir, 'data', 'p1'), { recursive: true });
    copyFileSync(sample, path.join(dir, 'data', 'p1', 'a.jpg'));
    writeFileSync(path.join(dir, 'secret.jpg'), readFileSync(sample));
    writeFileSync(path.join(dir, 'data', 'manifest.csv'), 'path,subject\np1/a.jpg,p1\n../secret.jpg,p2\n/etc/hostname,p3\np1/a.jpg,p1\n');
    const io = memoryIO(dir);
    const code = await main(['embed', '--manifest', 'data/manifest.csv', '--out', 'out.jsonl', '--quiet'], io);
    expect(code).toBe(3);
    const lines = readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.path)).toEqual(['p1/a.jpg', '../secret.jpg', '/etc/hostname', 'p1/a.jpg']);
    const [ok, up, abs, again] = lines;
    expect(again.error).toMatchObject({ code: 'E_MANIFEST', message: 'Manifest row 4: path "p1/a.jpg" is listed again (first at row 1); each photo once.' });
    expect(ok.contract).toBe(1);
    expect(ok.backbone).toBe('mobilefacenet');
    expect(ok.embedding).toHaveLength(192);
    expect(Math.hypot(...ok.embedding)).toBeCloseTo(1, 3);
    // The second network's vector that a study's embedding block reads beside the backbone's.
    expect(ok.secondEmbedding.backbone).toBe('dlib-resnet');
    expect(ok.secondEmbedding.embedding).toHaveLength(128);
    expect(Math.hypot(...ok.secondEmbedding.embedding)).toBeCloseTo(1, 3);
    expect(Object.keys(ok.face)).toEqual(expect.arrayContaining(['box', 'score', 'landmarks5']));
    expect(up.error.code).toBe('E_MANIFEST');
    expect(up.error.message).toMatch(/\.\./);
    expect(abs.error.code).toBe('E_MANIFEST');
    expect(abs.error.message).toMatch(/absolute/);
  });

  it('refuses a manifest with no data row below its header (E_MANIFEST, exit 1), writing nothing, as synth does', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-embed-empty-'));
    writeFileSync(path.join(dir, 'header-only.csv'), 'path,subject\n');
    const io = memoryIO(dir);
    expect(await main(['embed', '--manifest', 'header-only.csv', '--out', 'out.jsonl', '--quiet'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_MANIFEST: Manifest "header-only\.csv" has no data rows below its header/);
    expect(existsSync(path.join(dir, 'out.jsonl'))).toBe(false);
    const json = memoryIO(dir);
    expect(await main(['embed', '--manifest', 'header-only.csv', '--json'], json)).toBe(1);
    expect(json.stdout).toBe('');
  });

  it('takes a folder laid out as ROOT/<label>/<subject>/<image> for --manifest, paths relative to ROOT', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-embed-layout-'));
    for (const [label, subject] of [['control', 'c1'], ['vcfs', 'v1']]) {
      mkdirSync(path.join(dir, 'root', label, subject), { recursive: true });
      copyFileSync(sample, path.join(dir, 'root', label, subject, 'a.jpg'));
    }
    const io = memoryIO(dir);
    expect(await main(['embed', '--manifest', 'root', '--json', '--quiet'], io)).toBe(0);
    expect(io.lines().map((l) => l.path)).toEqual(['control/c1/a.jpg', 'vcfs/v1/a.jpg']);
  });
});
