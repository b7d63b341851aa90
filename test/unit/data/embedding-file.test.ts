/**
 * The embeddings file reader: every kind of bad record is listed with its line in one E_INPUT
 * error, manifest rows without a record with their manifest row and line, and valid records come
 * out as unit vectors of any dimension, matched to the manifest by path exactly as written.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { loadDatasetEmbeddings, readEmbeddingFile, type EmbeddingProblem } from '../../../src/data/embedding-file.ts';
import { loadDataset } from '../../../src/data/manifest.ts';
import { PhenofaceError } from '../../../src/errors.ts';
import { DEFAULTS } from '../../../src/config.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-embfile-'));
let n = 0;
function file(lines: string[]): string {
  const f = path.join(dir, `e${n++}.jsonl`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}
/** A file of one record and `n` error records with messages of `size` characters, built where nothing keeps them. */
function errorRecords(n: number, size: number): string {
  const message = 'm'.repeat(size);
  return file([rec('a.jpg', [1, 2]), ...Array.from({ length: n }, (_, i) => JSON.stringify({ path: `e${i}.jpg`, error: { code: 'E_NO_FACE', message } }))]);
}
const rec = (p: string, embedding: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ path: p, embedding, ...extra });

async function problems(run: Promise<unknown>): Promise<{ error: PhenofaceError; details: EmbeddingProblem[] }> {
  const error = await run.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(PhenofaceError);
  expect((error as PhenofaceError).code).toBe('E_INPUT');
  return { error: error as PhenofaceError, details: (error as PhenofaceError).details as EmbeddingProblem[] };
}

describe('readEmbeddingFile', () => {
  it('reads any dimension, L2-normalises, and records the origin', async () => {
    const f = file([rec('a.jpg', [3, 4, 0, 0, 0], { backbone: 'their-net' }), '', rec('b.jpg', [0, 0, 0, 0, 2], { backbone: 'their-net', face: { view: 'oblique' } })]);
    const { records, origin } = await readEmbeddingFile(f);
    expect(Array.from(records.get('a.jpg')!.embedding!)).toEqual([0.6, 0.8, 0, 0, 0].map(Math.fround));
    expect(records.get('b.jpg')).toMatchObject({ line: 3, view: 'oblique' });
    expect(origin).toMatchObject({ file: path.basename(f), backbone: 'their-net', dimension: 5, records: 2, normalised: true });
    expect(origin.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads a first record after a byte-order mark', async () => {
    const { records } = await readEmbeddingFile(file(['\uFEFF' + rec('a.jpg', [3, 4]), rec('b.jpg', [1, 0])]));
    expect([...records.keys()]).toEqual(['a.jpg', 'b.jpg']);
  });

  it("reads a record's quality flags, known names only, each once; none when it gives none", async () => {
    const f = file([
      rec('a.jpg', [1, 2], { quality: ['small', 'blurry', 'small', 'made-up', 'BLURRY', 7, ['turned'], { flag: 'cut-off' }] }),
      rec('b.jpg', [1, 2], { quality: [] }),
      rec('c.jpg', [1, 2]),
      rec('d.jpg', [1, 2], { quality: 'blurry' }),
    ]);
    const { records } = await readEmbeddingFile(f);
    expect(records.get('a.jpg')!.quality).toEqual(['small', 'blurry']);
    expect(records.get('b.jpg')!.quality).toEqual([]);
    expect(records.get('c.jpg')!.quality).toBeUndefined();
    expect(records.get('d.jpg')!.quality).toBeUndefined();
  });

  it('keeps an error record as a photo without an embedding', async () => {
    const f = file([rec('a.jpg', [1, 2]), JSON.stringify({ path: 'b.jpg', error: { code: 'E_NO_FACE', message: 'no face' } })]);
    const { records } = await readEmbeddingFile(f);
    expect(records.get('b.jpg')).toMatchObject({ error: { code: 'E_NO_FACE' } });
    expect(records.get('b.jpg')!.embedding).toBeUndefined();
  });

  it('takes another tool\'s error code in the contract\'s form, refuses any other, and cuts a long message', async () => {
    const long = 'x'.repeat(20_000);
    const ok = file([rec('a.jpg', [1, 2]), JSON.stringify({ path: 'b.jpg', error: { code: 'E_BLURRY_2', message: long } })]);
    const b = (await readEmbeddingFile(ok)).records.get('b.jpg')!;
    expect(b.error!.code).toBe('E_BLURRY_2');
    expect(b.error!.message).toBe(`${'x'.repeat(500)}... (20000 characters)`);
    for (const code of ['<script>alert(1)</script>', 'E_' + 'A'.repeat(41), 'no face', 'e_no_face']) {
      const bad = file([rec('a.jpg', [1, 2]), JSON.stringify({ path: 'b.jpg', error: { code, message: 'm' } })]);
      await expect(readEmbeddingFile(bad), code).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/line 2: the error record's "code" is .*; expected a code such as "E_NO_FACE"/) });
    }
  });

  it('prints an error record\'s message without its control characters', async () => {
    const f = file([rec('a.jpg', [1, 2]), JSON.stringify({ path: 'b.jpg', error: { code: 'E_NO_FACE', message: '\u001b[2Jall clear\nnext\u202e' } })]);
    expect((await readEmbeddingFile(f)).records.get('b.jpg')!.error!.message).toBe(' [2Jall clear next ');
  });

  it('holds only the part of an error record\'s message it keeps', async () => {
    // 20 records of 5 MB messages: a slice of each would keep the whole message alive (V8 slices share their parent).
    const size = 5 * 1024 * 1024;
    const many = errorRecords(20, size);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = getHeapStatistics().used_heap_size;
    const kept = await readEmbeddingFile(many);
    gc();
    expect(getHeapStatistics().used_heap_size - before).toBeLessThan(30 * 1024 * 1024);
    expect(kept.records.get('e0.jpg')!.error!.message).toBe(`${'m'.repeat(500)}... (${size} characters)`);
  });

  it('refuses a network name too long to be one, or holding control or format characters, in either field', async () => {
    const long = 'n'.repeat(101);
    const second = (backbone: string) => ({ secondEmbedding: { backbone, embedding: [1, 2] } });
    const { error, details } = await problems(readEmbeddingFile(file([
      rec('a.jpg', [1, 2], { backbone: 'net', ...second('réseau-ü') }),
      rec('b.jpg', [1, 2], { backbone: long }),
      rec('c.jpg', [1, 2], { backbone: 'net\u001b[2J' }),
      rec('d.jpg', [1, 2], second(long)),
      rec('e.jpg', [1, 2], second('dlib\u202eresnet')),
    ])));
    expect(details.map((d) => [d.line, d.kind])).toEqual([[2, 'backbone'], [3, 'backbone'], [4, 'second-embedding'], [5, 'second-embedding']]);
    expect(error.message).toMatch(/line 2: "backbone" "n{60}\.\.\." has 101 characters; expected a network's name of at most 100/);
    expect(error.message).toContain('line 3: "backbone" "net\\u001b[2J" holds a control or format character');
    expect(error.message).toContain('line 5: "secondEmbedding.backbone" "dlib\\u{202e}resnet" holds a control or format character');
    expect(error.message).not.toContain('\u001b');
    expect(error.message).not.toContain('\u202e');
  });

  it('lists every bad record with its line and kind, in one error', async () => {
    const f = file([
      rec('ok1.jpg', [1, 2, 3], { backbone: 'net' }), // 1
      '{"path": "broken.jpg", "embedding": [1, 2', // 2: bad JSON
      '[1, 2, 3]', // 3: not an object
      rec('', [1, 2, 3]), // 4: no path
      JSON.stringify({ path: 'noemb.jpg' }), // 5: no embedding
      rec('str.jpg', [1, 'x', 3]), // 6: non-numeric
      '{"path": "inf.jpg", "embedding": [1, 1e999, 3]}', // 7: non-finite
      rec('zero.jpg', [0, 0, 0]), // 8: zero vector
      rec('short.jpg', [1, 2]), // 9: wrong length
      rec('ok1.jpg', [1, 2, 3]), // 10: duplicate of line 1
      rec('other.jpg', [1, 2, 3], { backbone: 'other-net' }), // 11: another backbone
      rec('view.jpg', [1, 2, 3], { view: 'sideways' }), // 12: invalid view
      rec('ok2.jpg', [4, 5, 6], { backbone: 'net' }), // 13
    ]);
    const { error, details } = await problems(readEmbeddingFile(f));
    expect(details.map((d) => [d.line, d.kind])).toEqual([
      [2, 'json'], [3, 'not-object'], [4, 'no-path'], [5, 'no-embedding'], [6, 'non-numeric'], [7, 'non-finite'], [8, 'zero-vector'],
      [12, 'invalid-view'], [9, 'dimension'], [10, 'duplicate'], [11, 'backbone'],
    ]);
    expect(error.message).toMatch(/have 11 problems; nothing was run/);
    expect(error.message).toMatch(/line 9: the embedding has 2 values; expected 3, the dimension of most records \(first at line 1\)/);
    expect(error.message).toMatch(/line 10: path "ok1.jpg" has a record already, at line 1/);
    expect(error.message).toMatch(/line 6: embedding value 1 is "x"; expected a number/);
    expect(error.message).toMatch(/line 11: backbone "other-net"; the other records are of "net"/);
  });

  it('bounds the message and counts the rest', async () => {
    const f = file(Array.from({ length: 50 }, (_, i) => `not json ${i}`));
    const { error, details } = await problems(readEmbeddingFile(f));
    expect(details).toHaveLength(50);
    expect(error.message).toMatch(/50 problems/);
    expect(error.message).toMatch(/\.\.\. and 30 more/);
  });

  it('names a malformed value by its kind and an excerpt, never whole: a message stays short whatever the record holds', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const long = 'p'.repeat(1_000_000);
    const f = file([
      rec('a.jpg', [1, 2, 3]), // 1
      rec('nested.jpg', [Array(200_000).fill(0.1), 2, 3]), // 2
      `{"path": "deep.jpg", "embedding": [${deep}, 2, 3]}`, // 3: deeper than JSON.stringify can recurse
      rec('text.jpg', ['x'.repeat(1_000_000), 2, 3]), // 4
      rec(long, [1, 2, 3]), // 5
      rec(long, [1, 2, 3]), // 6: duplicate of a megabyte path
      rec('obj.jpg', { 0: 1 }), // 7
    ]);
    const { error, details } = await problems(readEmbeddingFile(f));
    expect(details.map((d) => [d.line, d.kind])).toEqual([[2, 'non-numeric'], [3, 'non-numeric'], [4, 'non-numeric'], [7, 'no-embedding'], [6, 'duplicate']]);
    expect(error.message.length).toBeLessThan(2000);
    expect(error.message).toMatch(/line 2: embedding value 0 is an array of 200000 values; expected a number/);
    expect(error.message).toMatch(/line 3: embedding value 0 is an array of 1 value; expected a number/);
    expect(error.message).toMatch(/line 4: embedding value 0 is "x{60}\.\.\."; expected a number/);
    expect(error.message).toMatch(/line 6: path "p{60}\.\.\." has a record already, at line 5/);
    expect(error.message).toMatch(/line 7: "embedding" is an object; expected a non-empty array/);
  });

  it('refuses a record wider than data.maxEmbeddingDim, and a line too long to be a record without holding it', async () => {
    const wide = rec('wide.jpg', Array(DEFAULTS.data.maxEmbeddingDim + 1).fill(0.5));
    const f = file([rec('a.jpg', [1, 2]), wide, `{"path": "huge.jpg", "embedding": [${'0.1,'.repeat(5_000_000)}0.1]}`, rec('b.jpg', [2, 1])]);
    const { error, details } = await problems(readEmbeddingFile(f));
    expect(details.map((d) => [d.line, d.kind])).toEqual([[2, 'dimension'], [3, 'too-long']]);
    expect(error.message).toMatch(new RegExp(`line 2: the embedding has ${DEFAULTS.data.maxEmbeddingDim + 1} values; expected at most ${DEFAULTS.data.maxEmbeddingDim} \\(data\\.maxEmbeddingDim\\)`));
    expect(error.message).toMatch(/line 3: 200000\d\d bytes; expected a record of at most 16777216 bytes/);
  });

  it('names a line that is not UTF-8 instead of reading another path into it, and refuses UTF-16', async () => {
    const f = path.join(dir, `e${n++}.jsonl`);
    writeFileSync(f, Buffer.concat([Buffer.from(rec('a.jpg', [1, 2]) + '\n'), Buffer.from('{"path": "caf'), Buffer.from([0xe9]), Buffer.from('.jpg", "embedding": [2, 1]}\n')]));
    const { details } = await problems(readEmbeddingFile(f));
    expect(details).toMatchObject([{ line: 2, kind: 'encoding', message: expect.stringMatching(/line 2: not UTF-8 text/) }]);
    const utf16 = path.join(dir, `e${n++}.jsonl`);
    writeFileSync(utf16, Buffer.from('\uFEFF' + rec('a.jpg', [1, 2]) + '\n', 'utf16le'));
    await expect(readEmbeddingFile(utf16)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/is UTF-16 text/) });
  });

  it('refuses UTF-16 written without a byte-order mark, in either byte order, as UTF-16', async () => {
    const le = Buffer.from(rec('a.jpg', [1, 2]) + '\n', 'utf16le');
    for (const bytes of [le, Buffer.from(le).swap16()]) {
      const f = path.join(dir, `e${n++}.jsonl`);
      writeFileSync(f, bytes);
      await expect(readEmbeddingFile(f)).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/is UTF-16 text\. Expected the UTF-8 JSON lines/) });
    }
  });

  it('reads lines ended by LF, CRLF or CR alike, and refuses a backbone or view of the wrong type', async () => {
    const f = path.join(dir, `e${n++}.jsonl`);
    writeFileSync(f, [rec('a.jpg', [1, 2]), rec('b.jpg', [2, 1]), rec('c.jpg', [1, 1])].join('\r\n') + '\r' + rec('d.jpg', [3, 1]) + '\n\n' + rec('e.jpg', [1, 3]));
    const { records } = await readEmbeddingFile(f);
    expect([...records.values()].map((r) => [r.path, r.line])).toEqual([['a.jpg', 1], ['b.jpg', 2], ['c.jpg', 3], ['d.jpg', 4], ['e.jpg', 6]]);
    const { details } = await problems(readEmbeddingFile(file([rec('a.jpg', [1, 2], { backbone: 5 }), rec('b.jpg', [1, 2], { view: ['frontal'] }), rec('c.jpg', [1, 2], { backbone: null, face: 'none' })])));
    expect(details.map((d) => [d.line, d.kind, d.message])).toEqual([
      [1, 'backbone', 'line 1: "backbone" is 5; expected the network\'s name'],
      [2, 'invalid-view', 'line 2: view is an array of 1 value; expected one of: frontal, oblique, profile'],
    ]);
  });

  it.skipIf(process.platform === 'win32')('refuses a named pipe, a device or a folder without reading it, which would never end', async () => {
    const fifo = path.join(dir, `e${n++}.jsonl`);
    execFileSync('mkfifo', [fifo]);
    for (const [f, what] of [[fifo, 'not a regular file'], ['/dev/zero', 'not a regular file'], [dir, 'a folder']]) {
      await expect(readEmbeddingFile(f), f).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining(`is ${what}`) });
    }
  });

  it('refuses an empty file and names a missing one', async () => {
    const { details } = await problems(readEmbeddingFile(file([''])));
    expect(details[0].kind).toBe('empty');
    await expect(readEmbeddingFile(path.join(dir, 'absent.jsonl'))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  });
});

describe('loadDatasetEmbeddings', () => {
  const manifest = path.join(dir, 'manifest.csv');
  writeFileSync(manifest, ['path,subject,label,source', 'a/1.jpg,s1,vcfs,x', './b/2.jpg,s2,control,x', 'c/3.jpg,s3,control,y', 'd/4.jpg,s4,vcfs,y'].join('\n') + '\n');

  it('needs no photo on disk, matches paths exactly as written, and lists rows without a record', async () => {
    const dataset = await loadDataset(manifest, { requireFiles: false });
    const f = file([rec('a/1.jpg', [1, 0]), rec('b/2.jpg', [0, 1]), rec('c/3.jpg', [1, 1]), rec('unused.jpg', [1, 1])]);
    const { error, details } = await problems(loadDatasetEmbeddings(f, dataset));
    expect(details.map((d) => [d.kind, d.row, d.manifestLine])).toEqual([['missing', 2, 3], ['missing', 4, 5]]);
    expect(error.message).toMatch(/manifest row 2 \(line 3\): path "\.\/b\/2\.jpg" has no record/);
  });

  it('names a row\'s bad record once (not also as a row without a record), and refuses a record with both a vector and an error', async () => {
    const dataset = await loadDataset(manifest, { requireFiles: false });
    const f = file([
      rec('a/1.jpg', [1, 0]),
      JSON.stringify({ path: './b/2.jpg', embedding: [1, 'x'] }),
      JSON.stringify({ path: 'c/3.jpg', embedding: [1, 1], error: { code: 'E_NO_FACE', message: 'none' } }),
      rec('d/4.jpg', [1]),
    ]);
    const { error, details } = await problems(loadDatasetEmbeddings(f, dataset));
    expect(details.map((d) => [d.kind, d.line])).toEqual([['non-numeric', 2], ['error-record', 3], ['dimension', 4]]);
    expect(error.message).toMatch(/line 3: the record has both an "embedding" and an "error"; expected one of them/);
    expect(error.message).toMatch(/line 4: the embedding has 1 value; expected 2/);
    expect(error.message).not.toMatch(/has no record/);
  });

  it('gives each row its unit vector, the record view, and a hash per record', async () => {
    const dataset = await loadDataset(manifest, { requireFiles: false });
    const f = file([rec('a/1.jpg', [2, 0]), rec('./b/2.jpg', [0, 3], { view: 'profile' }), rec('c/3.jpg', [1, 1]), JSON.stringify({ path: 'd/4.jpg', error: { code: 'E_NO_FACE', message: 'none' } }), rec('extra.jpg', [1, 0])]);
    const { photos, unused, contentHashes } = await loadDatasetEmbeddings(f, dataset);
    expect(photos.map((p) => p.embedding && Array.from(p.embedding))).toEqual([[1, 0], [0, 1], [Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2)], undefined]);
    expect(photos[1].view).toBe('profile');
    expect(photos[3].error?.code).toBe('E_NO_FACE');
    expect(unused).toBe(1);
    expect(new Set(contentHashes.values()).size).toBe(4);
  });

  it('takes any path text as a name, absolute or with "..", since nothing is read', async () => {
    const names = path.join(dir, 'names.csv');
    writeFileSync(names, ['path,subject,label', '/site/a.jpg,s1,vcfs', '../b.jpg,s2,control'].join('\n') + '\n');
    const dataset = await loadDataset(names, { requireFiles: false });
    const { photos } = await loadDatasetEmbeddings(file([rec('/site/a.jpg', [1, 0]), rec('../b.jpg', [0, 1])]), dataset);
    expect(photos.map((p) => p.item.path)).toEqual(['/site/a.jpg', '../b.jpg']);
  });

  it('still demands the files without requireFiles: false', async () => {
    await expect(loadDataset(manifest)).rejects.toMatchObject({ code: 'E_MANIFEST' });
  });
});
