/**
 * Nothing but the asked-for output is written: a real `phenoface embed` run in a child process with a
 * fresh HOME and TMPDIR leaves HOME empty (no onnxruntime telemetry database or device id) and
 * TMPDIR holding only tsx's compile cache of Phenoface's own source; and a TMPDIR that cannot hold
 * that cache does not stop the command.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const sample = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo', 'sample3.jpg');
const modelsBuilt = ['pnet', 'rnet', 'onet', 'mobilefacenet'].every((m) => existsSync(path.join(REPO, 'models', `${m}.onnx`)));
if (!modelsBuilt) console.warn('no-stray-files.test.ts skipped: the models are not built (run `npx phenoface models build`)');

const filesBelow = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.relative(dir, path.join(d.parentPath, d.name)));

describe('files written outside the output', () => {
  it.runIf(modelsBuilt)('embed writes its output and nothing under HOME; TMPDIR holds only the tsx cache', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-stray-'));
    for (const d of ['home', 'tmp', 'cwd']) mkdirSync(path.join(root, d));
    copyFileSync(sample, path.join(root, 'cwd', 'face.jpg'));
    const env = { ...process.env, HOME: path.join(root, 'home'), TMPDIR: path.join(root, 'tmp'), XDG_CACHE_HOME: '' };
    delete (env as Record<string, string | undefined>).ORT_DISABLE_TELEMETRY;
    const run = spawnSync(process.execPath, [path.join(REPO, 'bin', 'phenoface.mjs'), 'embed', 'face.jpg', '--out', 'face.jsonl', '--quiet'], { cwd: path.join(root, 'cwd'), env, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(filesBelow(path.join(root, 'cwd')).sort()).toEqual(['face.jpg', 'face.jsonl']);
    expect(filesBelow(path.join(root, 'home'))).toEqual([]);
    expect(filesBelow(path.join(root, 'tmp')).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  }, 150_000);

  it('runs where the temp dir cannot hold the tsx cache, without it', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-no-tmp-'));
    writeFileSync(path.join(root, 'not-a-folder'), '');
    const env = { ...process.env, TMPDIR: path.join(root, 'not-a-folder') };
    const run = spawnSync(process.execPath, [path.join(REPO, 'bin', 'phenoface.mjs'), '--help'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Phenoface: /);
  }, 150_000);
});
