/** The control reference file beside a model bundle: round trip, and refusals with E_MODEL. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadReference, REFERENCE_FILE, referenceCardNote, saveReference } from '../../../src/explain/reference.ts';

describe('explain reference file', () => {
  const data = Float32Array.from({ length: 2 * 3 * 3 }, (_, i) => Math.sin(i) * 3.5);
  const ref = { backbone: 'mobilefacenet', layer: 'L', dims: [2, 3, 3] as [number, number, number], faces: 7, data };

  it('round-trips exactly, and is absent (undefined) when the bundle has none', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ref-'));
    expect(await loadReference(dir, 'mobilefacenet', 'L')).toBeUndefined();
    await saveReference(dir, ref);
    const back = await loadReference(dir, 'mobilefacenet', 'L');
    expect(back).toMatchObject({ backbone: 'mobilefacenet', layer: 'L', dims: [2, 3, 3], faces: 7 });
    expect(Array.from(back!.data)).toEqual(Array.from(data));
  });

  it('says for the model card what the file holds and that it is shared only as the photos could be', () => {
    expect(referenceCardNote(ref)).toBe('`explain-reference.json` holds the mean 2x3x3 feature map (backbone layer `L`) of 7 control faces from the study, the reference of contrastive HiResCAM in `screen --explain` and the web app. It is an average of the training photos\' deep features: share it only where the training photos could be shared, or delete it (screening then explains with plain HiResCAM).');
    expect(referenceCardNote({ ...ref, faces: 1 })).toContain('of 1 control face from');
  });

  it('refuses another backbone, a wrong size and a broken file with E_MODEL; ignores one made on another layer', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ref-'));
    await saveReference(dir, ref);
    await expect(loadReference(dir, 'dlib-resnet', 'L')).rejects.toMatchObject({ code: 'E_MODEL' });
    expect(await loadReference(dir, 'mobilefacenet', 'other')).toBeUndefined();
    const file = path.join(dir, REFERENCE_FILE);
    const j = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...j, dims: [2, 3, 4] }));
    await expect(loadReference(dir, 'mobilefacenet', 'L')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringMatching(/bytes/) });
    writeFileSync(file, '{not json');
    await expect(loadReference(dir, 'mobilefacenet', 'L')).rejects.toMatchObject({ code: 'E_MODEL' });
  });

  it.skipIf(process.platform === 'win32')('refuses a pipe in the file\'s place with E_MODEL instead of waiting on it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'reference-'));
    execFileSync('mkfifo', [path.join(dir, REFERENCE_FILE)]);
    await expect(loadReference(dir, 'mobilefacenet', 'L')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining('not a regular file') });
  });

  it('refuses a file that is not a JSON object with E_MODEL (not a crash), without quoting what the file holds', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ref-'));
    for (const [text, why] of [['null', 'it holds null, not a JSON object'], ['"L"', 'it holds a string'], ['secret:x:0:0', 'it is not valid JSON']]) {
      writeFileSync(path.join(dir, REFERENCE_FILE), text);
      const err = await loadReference(dir, 'mobilefacenet', 'L').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_MODEL', message: expect.stringContaining(why) });
      expect((err as Error).message).not.toContain('secret');
    }
  });

  it('belongs to one model: refused beside a bundle with another id; a file without an id (earlier versions) still loads', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ref-'));
    await saveReference(dir, { ...ref, bundleId: 'aaaa' });
    expect((await loadReference(dir, 'mobilefacenet', 'L', 'aaaa'))!.bundleId).toBe('aaaa');
    await expect(loadReference(dir, 'mobilefacenet', 'L', 'bbbb')).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringMatching(/made with model aaaa, not this one \(bbbb\)/) });
    await saveReference(dir, ref);
    expect(await loadReference(dir, 'mobilefacenet', 'L', 'bbbb')).toMatchObject({ faces: 7 });
  });
});
