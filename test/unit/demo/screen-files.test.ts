/**
 * Where the demo writes a held-out person's screening: a file named after the person, inside the
 * output's `screen/` folder whatever the person's id is (a `--photos` manifest's `subject` is free text).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { screeningFileBases } from '../../../src/workflows/demo/demo.ts';

describe('screeningFileBases', () => {
  it('keeps a plain id as it is', () => {
    expect(screeningFileBases(['Dion_Glover', 'p-2.b'])).toEqual(['Dion_Glover', 'p-2.b']);
  });

  it('gives ids that are paths, hidden names or no name a plain name inside the folder', () => {
    const ids = ['../../../../tmp/pwn', 'site1/p01', '..', '.hidden', '', 'a\nb', 'C:\\Users\\x'];
    const bases = screeningFileBases(ids);
    for (const b of bases) {
      expect(b).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/);
      expect(path.join('/out/screen', `${b}.json`).startsWith('/out/screen/')).toBe(true);
      expect(path.join('/out/screen', `${b}-heatmaps`).startsWith('/out/screen/')).toBe(true);
    }
  });

  it('keeps two people apart whose ids read alike once made plain, and keeps names short', () => {
    const bases = screeningFileBases(['ä', 'ö', '_']);
    expect(new Set(bases).size).toBe(3);
    const [long] = screeningFileBases(['x'.repeat(1000)]);
    expect(long.length).toBeLessThanOrEqual(100);
  });
});
