/**
 * Three or more labels: a study ranks them (no `positive`) or runs one-vs-rest (`positive`
 * given, every other class pooled as the negative); other callers still want exactly two.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/data/manifest.ts';
import { manifestProblems, tempDir, writeImages, writeManifest } from './fixtures.ts';

let tmp: { dir: string; cleanup: () => void };
let root: string;
let file: string;

beforeEach(async () => {
  tmp = tempDir();
  root = path.join(tmp.dir, 'data');
  await writeImages(root, ['a.png', 'b.png', 'c.png', 'd.png']);
  file = writeManifest(root, ['path,subject,label', 'a.png,s1,vcfs', 'b.png,s2,noonan', 'c.png,s3,control', 'd.png,s4,noonan']);
});
afterEach(() => tmp.cleanup());

describe('loadDataset with three or more labels', () => {
  it('is a ranking without a positive class, with the default positive as the reference class', async () => {
    const ds = await loadDataset(file, { manyClasses: true });
    expect(ds.mode).toBe('ranking');
    expect(ds.classes).toEqual(['control', 'noonan', 'vcfs']);
    expect(ds.positive).toBe('vcfs');
    expect(ds.negative).toBe('not-vcfs');
    expect(ds.items.map((i) => [i.label, i.y])).toEqual([['vcfs', 1], ['noonan', 0], ['control', 0], ['noonan', 0]]);
    expect(Object.keys(ds.summary.byClass).sort()).toEqual(['control', 'noonan', 'vcfs']);
  });

  it('is one-vs-rest with a positive class: every other class is negative', async () => {
    const ds = await loadDataset(file, { manyClasses: true, positive: 'noonan' });
    expect(ds.mode).toBe('one-vs-rest');
    expect(ds.positive).toBe('noonan');
    expect(ds.negative).toBe('not-noonan');
    expect(ds.items.map((i) => i.y)).toEqual([0, 1, 0, 1]);
  });

  it('names a positive class that is not among the labels', async () => {
    const { problems } = await manifestProblems(() => loadDataset(file, { manyClasses: true, positive: 'angelman' }));
    expect(problems.map((p) => p.kind)).toContain('classes');
    expect(problems.find((p) => p.kind === 'classes')!.message).toMatch(/"angelman" is not among the labels: "control", "noonan", "vcfs"/);
  });

  it('still refuses a third label where only two classes are expected', async () => {
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => p.kind)).toContain('unknown-label');
  });
});
