/** Fixtures for the data-layer tests: a temp folder of tiny, distinct PNGs and manifest files. */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PhenofaceError } from '../../../src/errors.ts';

let colour = 0;

/** A fresh temp folder; `cleanup()` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'phenoface-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write an 8x8 PNG of a colour no other call uses (so every file's content differs). */
export async function writeImage(file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  colour++;
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: colour % 256, g: (colour >> 8) % 256, b: 77 } } }).png().toBuffer();
  writeFileSync(file, png);
}

/** Write images at the given paths under `root`. */
export async function writeImages(root: string, rels: string[]): Promise<void> {
  for (const rel of rels) await writeImage(path.join(root, rel));
}

/** Write a manifest (lines joined with `eol`) and return its path. */
export function writeManifest(root: string, lines: string[], opts: { eol?: string; bom?: boolean; name?: string } = {}): string {
  const file = path.join(root, opts.name ?? 'manifest.csv');
  mkdirSync(root, { recursive: true });
  writeFileSync(file, (opts.bom ? '\uFEFF' : '') + lines.join(opts.eol ?? '\n') + (opts.eol ?? '\n'));
  return file;
}

/** Run `fn`, expect an E_MANIFEST error, and return its problems. */
export async function manifestProblems(fn: () => Promise<unknown>): Promise<{ message: string; problems: { kind: string; message: string; row?: number; line?: number; path?: string }[] }> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof PhenofaceError && err.code === 'E_MANIFEST') {
      return { message: err.message, problems: err.details as { kind: string; message: string; row?: number; line?: number }[] };
    }
    throw err;
  }
  throw new Error('expected an E_MANIFEST error, but loading succeeded');
}
