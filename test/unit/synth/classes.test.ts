/**
 * Many-class planted sets: the class specification is parsed strictly, the affected subjects are
 * dealt to the classes evenly and independently of the other subjects, and each class's subjects
 * get its own regions at its own strengths (with the subject's usual jitter).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { synthCommand } from '../../../src/cli/synth.ts';
import type { CliIO } from '../../../src/cli/io.ts';
import { classWarp, dealClasses, parseClassSpec } from '../../../src/workflows/synth/classes.ts';
import { FULL_STRENGTH, subjectWarp } from '../../../src/workflows/synth/params.ts';
import { fakeDetect, firstFace, writeFaceJpeg } from './fixtures.ts';

describe('parseClassSpec', () => {
  it('reads name:region=strength[+...] classes joined by commas', () => {
    expect(parseClassSpec('a:perinasal=0.6, b:periorbital=0.5+perioral=0.4', 'control')).toEqual([
      { label: 'a', regions: { perinasal: 0.6 } },
      { label: 'b', regions: { periorbital: 0.5, perioral: 0.4 } },
    ]);
  });

  it.each([
    ['a', 'name:region=strength'],
    ['a:nose=0.5', 'regions among: periorbital, perinasal, perioral, facelength'],
    ['a:perinasal', 'each strength in (0, 1]'],
    ['a:perinasal=0', 'each strength in (0, 1]'],
    ['a:perinasal=1.5', 'each strength in (0, 1]'],
    ['a:perinasal=0x1', 'each strength in (0, 1]'],
    ['a:perinasal=0.5+perinasal=0.4', '"perinasal" appears twice'],
    ['control:perinasal=0.5', 'not "control", the untouched class'],
    ['a b:perinasal=0.5', 'named with letters'],
    ['a:perinasal=0.5,a:perioral=0.5', 'named once'],
    // A study reads labels that differ only in letter case as one class typed two ways, and refuses them.
    ['Control:perinasal=0.5', 'not "control", the untouched class'],
    ['A:perinasal=0.5,a:perioral=0.5', 'named once'],
    ['a:perinasal=0.5,b:perinasal=0.5', 'a combination of regions and strengths no other class has'],
    ['', 'at least one class'],
  ])('refuses %j with E_CONFIG', (spec, message) => {
    expect(() => parseClassSpec(spec, 'control')).toThrow(expect.objectContaining({ code: 'E_CONFIG', message: expect.stringContaining(message) }));
  });
});

describe('dealClasses and classWarp', () => {
  const classes = parseClassSpec('a:perinasal=0.6,b:periorbital=0.5+perioral=0.4,c:facelength=1', 'control');

  it('deals the affected subjects evenly, whatever order they come in', () => {
    const affected = new Set(Array.from({ length: 31 }, (_, i) => `s${i}`));
    const dealt = dealClasses(affected, classes, 7);
    const sizes = classes.map((c) => [...dealt.values()].filter((x) => x === c).length);
    expect(sizes.sort()).toEqual([10, 10, 11]);
    const reversed = dealClasses(new Set([...affected].reverse()), classes, 7);
    for (const [id, c] of dealt) expect(reversed.get(id)).toBe(c);
    expect([...dealClasses(affected, classes, 8)].some(([id, c]) => dealt.get(id) !== c)).toBe(true);
  });

  it('warps each region at its own strength, with the jitter subjectWarp draws', () => {
    const b = classes[1];
    const w = classWarp('s1', b, 3, 0.2);
    expect(Object.keys(w.params).sort()).toEqual(['perioral', 'periorbital']);
    expect(w.params.periorbital).toEqual(subjectWarp('s1', ['periorbital'], 0.5, 3, 0.2).params.periorbital);
    expect(w.params.perioral).toEqual(subjectWarp('s1', ['perioral'], 0.4, 3, 0.2).params.perioral);
    const noJitter = classWarp('s1', b, 3, 0);
    expect(noJitter.params.perioral!.mouthWidth).toBeCloseTo(FULL_STRENGTH.perioral.mouthWidth * 0.4, 12);
    expect(noJitter.strength).toBeCloseTo(0.45, 12);
  });
});

describe('phenoface synth --classes', () => {
  let dir: string;
  const fakeDetector = async () => ({ detectFile: fakeDetect, chooseFace: firstFace, close: async () => {} });
  const io = (): CliIO & { stdout: string; stderr: string } => {
    const x = { stdout: '', stderr: '', isTTY: false, cwd: dir, out: (t: string) => void (x.stdout += t), err: (t: string) => void (x.stderr += t) };
    return x;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'phenoface-synth-classes-'));
    const subjects = Array.from({ length: 8 }, (_, i) => `p${i}`);
    for (const s of subjects) await writeFaceJpeg(path.join(dir, 'photos', s, '1.jpg'));
    await writeFile(path.join(dir, 'manifest.csv'), 'path,subject\n' + subjects.map((s) => `photos/${s}/1.jpg,${s}`).join('\n') + '\n');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('plants each class its own regions and labels the photos by class', async () => {
    const out = io();
    const code = await synthCommand(fakeDetector)(['--manifest', 'manifest.csv', '--out', 'out', '--classes', 'a:perinasal=0.8,b:perioral=0.6+facelength=0.6', '--fraction', '0.5', '--seed', '2'], out);
    expect(code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/wrote 8 photos of 8 subjects \(2 a, 2 b, 4 control; classes a \(perinasal 0.8\); b \(perioral 0.6, facelength 0.6\)\)/);
    const truth = JSON.parse(await readFile(path.join(dir, 'out', 'truth.json'), 'utf8'));
    expect(truth.options.classes).toHaveLength(2);
    for (const s of Object.values(truth.subjects) as { label: string; regions: string[] }[]) {
      expect(s.regions).toEqual({ a: ['perinasal'], b: ['perioral', 'facelength'], control: [] }[s.label]);
    }
    const manifest = (await readFile(path.join(dir, 'out', 'manifest.csv'), 'utf8')).trim().split('\n');
    expect(new Set(manifest.slice(1).map((l) => l.split(',')[2]))).toEqual(new Set(['a', 'b', 'control']));
  });

  it('refuses --classes with --regions or --strength (exit 2)', async () => {
    const out = io();
    expect(await main(['synth', '--manifest', 'manifest.csv', '--out', 'o', '--classes', 'a:perinasal=0.8', '--strength', '1'], out)).toBe(2);
    expect(out.stderr).toContain('--classes replaces --regions and --strength');
    const none = io();
    expect(await main(['synth', '--manifest', 'manifest.csv', '--out', 'o'], none)).toBe(2);
    expect(none.stderr).toContain('Missing --regions (or --classes).');
  });
});
