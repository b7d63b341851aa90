import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datasetHash, loadDataset } from '../../../src/data/manifest.ts';
import { hasCode } from '../../../src/errors.ts';
import { manifestProblems, tempDir, writeImage, writeImages, writeManifest } from './fixtures.ts';

const HEADER = 'path,subject,label';
let tmp: { dir: string; cleanup: () => void };
let root: string;

beforeEach(async () => {
  tmp = tempDir();
  root = path.join(tmp.dir, 'data');
  await writeImages(root, ['img/a.png', 'img/b.png', 'img/c.png', 'img/d.png']);
});
afterEach(() => tmp.cleanup());

describe('loadDataset from a manifest: accepted input', () => {
  it('loads rows with classes, y, optional columns and extra columns kept as meta', async () => {
    const file = writeManifest(root, [
      'path,subject,label,view,age,sex,ancestry,source,site_note',
      'img/a.png,s1,vcfs,frontal,7,F,European,clinic A,first visit',
      'img/b.png,s1,vcfs,Oblique,7,F,European,clinic A,',
      'img/c.png,s2,control,,12,M,,,',
    ]);
    const ds = await loadDataset(file, {});
    expect(ds.root).toBe(root);
    expect(ds.manifestPath).toBe(file);
    expect(ds.positive).toBe('vcfs');
    expect(ds.negative).toBe('control');
    expect(ds.items.map((i) => [i.path, i.subject, i.label, i.y, i.view])).toEqual([
      ['img/a.png', 's1', 'vcfs', 1, 'frontal'],
      ['img/b.png', 's1', 'vcfs', 1, 'oblique'],
      ['img/c.png', 's2', 'control', 0, undefined],
    ]);
    expect(ds.items[0].absPath).toBe(path.join(root, 'img/a.png'));
    expect(ds.items[0].meta).toEqual({ age: '7', sex: 'F', ancestry: 'European', source: 'clinic A', site_note: 'first visit' });
    expect(ds.items[2].meta).toEqual({ age: '12', sex: 'M' });
    expect(ds.summary.total).toEqual({ subjects: 2, photos: 3 });
    expect(ds.summary.byClass.vcfs).toEqual({ subjects: 1, photos: 2, byView: { frontal: { subjects: 1, photos: 1 }, oblique: { subjects: 1, photos: 1 } } });
    expect(ds.summary.byClass.control.byView).toEqual({ unspecified: { subjects: 1, photos: 1 } });
  });

  it('keeps extra columns named like built-in properties in meta, and finds no column that is not there', async () => {
    // --validate-by reads a column from meta: "__proto__" must be found, a missing "constructor" not.
    const file = writeManifest(root, ['path,subject,label,__proto__,constructor', 'img/a.png,s1,vcfs,north,x', 'img/c.png,s2,control,,']);
    const ds = await loadDataset(file, {});
    expect(Object.keys(ds.items[0].meta)).toEqual(['__proto__', 'constructor']);
    expect(ds.items[0].meta['__proto__']).toBe('north');
    for (const item of ds.items) for (const name of ['toString', 'hasOwnProperty', 'valueOf']) expect(item.meta[name]).toBeUndefined();
    expect(ds.items[1].meta['constructor']).toBeUndefined();
  });

  it('accepts a UTF-8 BOM and CRLF line endings', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,control'], { eol: '\r\n', bom: true });
    const ds = await loadDataset(file, {});
    expect(ds.items.map((i) => [i.path, i.subject, i.label])).toEqual([
      ['img/a.png', 's1', 'vcfs'],
      ['img/b.png', 's2', 'control'],
    ]);
  });

  it('accepts quoted fields holding commas, quotes and a line break, and counts lines right after them', async () => {
    await writeImage(path.join(root, 'img/with, comma.png'));
    const file = writeManifest(root, [HEADER, '"img/with, comma.png","Smith, J.",vcfs', 'img/a.png,"note ""quoted""",control', 'img/b.png,"multi', 'line",control', 'img/missing.png,s9,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    // Only the missing file is wrong; it is data row 4 on line 6 (row 3 spans lines 4-5).
    expect(problems.map((p) => [p.kind, p.row, p.line])).toEqual([['missing-file', 4, 6]]);
    const ok = writeManifest(root, [HEADER, '"img/with, comma.png","Smith, J.",vcfs', 'img/a.png,"note ""quoted""",control'], { name: 'ok.csv' });
    const ds = await loadDataset(ok, {});
    expect(ds.items.map((i) => [i.path, i.subject])).toEqual([
      ['img/with, comma.png', 'Smith, J.'],
      ['img/a.png', 'note "quoted"'],
    ]);
  });

  it("removes the formula guard (a ' before =, +, -, @) that Phenoface's CSV writer and other careful writers add", async () => {
    await writeImages(root, ['-scan.png', '=x.png']);
    const file = writeManifest(root, [HEADER, `'-scan.png,"'=HYPERLINK(""x"")",vcfs`, `'=x.png,''+1,control`, `img/a.png,'plain,control`]);
    const ds = await loadDataset(file, {});
    expect(ds.items.map((i) => [i.path, i.subject])).toEqual([
      ['-scan.png', '=HYPERLINK("x")'],
      ['=x.png', "'+1"],
      ['img/a.png', "'plain"],
    ]);
    expect(ds.items[0].absPath).toBe(path.join(root, '-scan.png'));
  });

  it('accepts semicolon-separated files (European Excel) and case/space variants of header names', async () => {
    const file = writeManifest(root, [' Path ;SUBJECT;Label', 'img/a.png;s1;vcfs', 'img/b.png;s2;control']);
    const ds = await loadDataset(file, {});
    expect(ds.items.map((i) => i.subject)).toEqual(['s1', 's2']);
  });

  it('decodes a Windows-1252 manifest (old Excel) without complaint', async () => {
    const file = path.join(root, 'latin.csv');
    writeFileSync(file, Buffer.from(`${HEADER}\nimg/a.png,M\xfcller,vcfs\n`, 'latin1'));
    const ds = await loadDataset(file, {});
    expect(ds.items[0].subject).toBe('Müller');
  });

  it('decodes a UTF-16 tab-separated manifest (Excel "Unicode text")', async () => {
    const file = path.join(root, 'unicode.txt');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('path\tsubject\tlabel\r\nimg/a.png\tZoë\tvcfs\r\n', 'utf16le')]));
    const ds = await loadDataset(file, {});
    expect(ds.items.map((i) => [i.path, i.subject])).toEqual([['img/a.png', 'Zoë']]);
  });

  it('decodes a UTF-16 manifest saved without a byte-order mark, in either byte order, instead of calling it binary', async () => {
    const text = 'path,subject,label\nimg/a.png,Zoë,vcfs\n';
    const be = Buffer.from(text, 'utf16le').swap16();
    for (const [name, bytes] of [['le.csv', Buffer.from(text, 'utf16le')], ['be.csv', be]] as const) {
      const file = path.join(root, name);
      writeFileSync(file, bytes);
      const ds = await loadDataset(file, {});
      expect(ds.items.map((i) => [i.path, i.subject])).toEqual([['img/a.png', 'Zoë']]);
    }
  });

  it('skips blank lines, trims cells and allows trailing optional columns to be left out', async () => {
    const file = writeManifest(root, ['path,subject,label,view,age', '', ' img/a.png , s1 , vcfs ', '   ', 'img/b.png,s2,control,profile']);
    const ds = await loadDataset(file, {});
    expect(ds.items.map((i) => [i.path, i.subject, i.view])).toEqual([
      ['img/a.png', 's1', undefined],
      ['img/b.png', 's2', 'profile'],
    ]);
  });

  it('follows a symbolic link that stays inside the data set folder', async () => {
    symlinkSync('a.png', path.join(root, 'img/alias.png'));
    mkdirSync(path.join(root, 'linked'));
    symlinkSync('../img', path.join(root, 'linked/dir'));
    const file = writeManifest(root, [HEADER, 'img/alias.png,s1,vcfs', 'linked/dir/b.png,s2,control']);
    const ds = await loadDataset(file, {});
    expect(ds.items.map((i) => i.absPath)).toEqual([path.join(root, 'img/a.png'), path.join(root, 'img/b.png')]);
  });

  it('uses --positive to choose the positive class', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,control']);
    const ds = await loadDataset(file, { positive: 'control' });
    expect([ds.positive, ds.negative]).toEqual(['control', 'vcfs']);
    expect(ds.items.map((i) => i.y)).toEqual([0, 1]);
  });

  it('takes a positive class outside the defaults with the one other label found in the data', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,22q', 'img/b.png,s2,typical']);
    const ds = await loadDataset(file, { positive: '22q' });
    expect([ds.positive, ds.negative]).toEqual(['22q', 'typical']);
    expect(ds.items.map((i) => i.y)).toEqual([1, 0]);
  });

  it('takes explicit labels, and refuses contradictory options with E_INPUT', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,case', 'img/b.png,s2,ctrl']);
    const ds = await loadDataset(file, { labels: ['case', 'ctrl'], positive: 'case' });
    expect(ds.items.map((i) => i.y)).toEqual([1, 0]);
    await expect(loadDataset(file, { labels: ['case', 'ctrl'] })).rejects.toThrow(/positive class null: expected one of the labels: case, ctrl/);
    await expect(loadDataset(file, { labels: ['case'], positive: 'case' })).rejects.toThrow(/exactly two different class names/);
    await expect(loadDataset(file, { labels: ['case', 'ctrl'], positive: 'vcfs' })).rejects.toSatisfy((e) => hasCode(e, 'E_INPUT'));
  });

  it('takes paths relative to a given root folder, and still refuses escapes from it', async () => {
    const elsewhere = path.join(tmp.dir, 'manifests');
    const file = writeManifest(elsewhere, [HEADER, 'img/a.png,s1,vcfs', '../data/img/b.png,s2,control'], { name: 'm.csv' });
    const { problems } = await manifestProblems(() => loadDataset(file, { root }));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([['path-escape', 2]]);
    const ok = writeManifest(elsewhere, [HEADER, 'img/a.png,s1,vcfs'], { name: 'ok.csv' });
    const ds = await loadDataset(ok, { root });
    expect([ds.root, ds.manifestPath, ds.items[0].absPath]).toEqual([root, ok, path.join(root, 'img/a.png')]);
    await expect(loadDataset(ok, { root: path.join(tmp.dir, 'nowhere') })).rejects.toThrow(/Data set folder ".*nowhere" is not an existing folder/);
  });

  it('throws E_NOT_FOUND for a data set that does not exist', async () => {
    await expect(loadDataset(path.join(tmp.dir, 'nope.csv'), {})).rejects.toSatisfy((e) => hasCode(e, 'E_NOT_FOUND'));
  });
});

describe('loadDataset from a manifest: every problem, with its row', () => {
  it('missing required columns', async () => {
    const file = writeManifest(root, ['file,subject,diagnosis', 'img/a.png,s1,vcfs']);
    const { problems, message } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'missing-column', line: 1 });
    expect(message).toMatch(/missing required columns "path", "label"; found "file", "subject", "diagnosis"/);
  });

  it('a column named twice', async () => {
    const file = writeManifest(root, ['path,subject,label,subject', 'img/a.png,s1,vcfs,s1']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => p.kind)).toEqual(['duplicate-column']);
    expect(problems[0].message).toMatch(/column "subject" appears twice/);
  });

  it('empty required cells, each reported with its row and column', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', ',s2,control', 'img/b.png,,control', 'img/c.png,s3,', 'img/d.png,s4']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row, p.line])).toEqual([
      ['empty-cell', 2, 3],
      ['empty-cell', 3, 4],
      ['empty-cell', 4, 5],
      ['empty-cell', 5, 6],
    ]);
    expect(problems.map((p) => p.message.match(/empty "(\w+)"/)![1])).toEqual(['path', 'subject', 'label', 'label']);
  });

  it('unknown labels', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,VCFS', 'img/c.png,s3,contorl']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['unknown-label', 2],
      ['unknown-label', 3],
    ]);
    expect(problems[0].message).toBe('row 2 (line 3): unknown label "VCFS"; expected one of: vcfs, control');
  });

  it('more than two classes when the positive class is not a default one', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,22q', 'img/b.png,s2,typical', 'img/c.png,s3,other', 'img/d.png,s4,typical']);
    const { problems } = await manifestProblems(() => loadDataset(file, { positive: '22q' }));
    expect(problems.map((p) => p.kind)).toEqual(['classes']);
    expect(problems[0].message).toMatch(/exactly two classes.*found 2 others: "typical" \(2 rows, first row 2\), "other" \(1 rows, first row 3\)/);
  });

  it('a positive class that no row has, said so rather than counted as a third class', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,control']);
    for (const manyClasses of [false, true]) {
      const { problems } = await manifestProblems(() => loadDataset(file, { positive: 'noonan', manyClasses }));
      expect(problems).toEqual([{ kind: 'classes', message: 'the positive class "noonan" is not among the labels: "vcfs", "control"' }]);
    }
  });

  it('a data set with one class only, when both are required', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,control', 'img/b.png,s2,control']);
    expect((await loadDataset(file, {})).items).toHaveLength(2);
    const { problems } = await manifestProblems(() => loadDataset(file, { requireBothClasses: true }));
    expect(problems).toEqual([{ kind: 'classes', message: 'no usable photos of class "vcfs"; a study needs photos of both "vcfs" and "control"' }]);
  });

  it('a subject with two labels', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,control', 'img/c.png,s1,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => p.kind)).toEqual(['subject-two-labels']);
    expect(problems[0].message).toBe('subject "s1" has 2 labels ("vcfs" in row 1 (line 2); "control" in row 3 (line 4)); all photos of one person share one label');
  });

  it('labels that differ only in letter case or Unicode form, which would silently be separate classes of a many-class study', async () => {
    const composed = 'contr\u00f4le';
    const decomposed = 'contro\u0302le';
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,Vcfs', `img/c.png,s3,${composed}`, `img/d.png,s4,${decomposed}`]);
    const { problems } = await manifestProblems(() => loadDataset(file, { manyClasses: true }));
    expect(problems.map((p) => p.kind)).toEqual(['label-spelling', 'label-spelling']);
    expect(problems[0].message).toBe('labels "vcfs" (1 rows, first row 1), "Vcfs" (1 rows, first row 2) differ only in letter case or Unicode form, so they would be 2 classes; write each class one way');
    expect(problems[1].message).toContain('(written contr\\u{f4}le, 1 rows, first row 3)');
    expect(problems[1].message).toContain('(written contro\\u{302}le, 1 rows, first row 4)');
  });

  it('subject ids that differ only in Unicode form, which would split one person across the folds', async () => {
    // "K" written as the Kelvin sign composes to the ASCII letter.
    const file = writeManifest(root, [HEADER, 'img/a.png,jos\u00e9,vcfs', 'img/b.png,jose\u0301,vcfs', 'img/c.png,K1,control', 'img/d.png,\u212a1,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => p.kind)).toEqual(['subject-spelling', 'subject-spelling']);
    expect(problems[0].message).toBe('subject ids "jos\u00e9" (written jos\\u{e9}, first in row 1 (line 2)), "jose\u0301" (written jose\\u{301}, first in row 2 (line 3)) differ only in Unicode form, so one person would be 2, perhaps on both sides of a cross-validation split; write each id one way');
    expect(problems[1].message).toContain('"K1" (first in row 3 (line 4)), "\u212a1" (written \\u{212a}1, first in row 4 (line 5))');
  });

  it('keeps subject ids that differ in letter case apart (some id schemes tell people apart by case)', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,p1,vcfs', 'img/b.png,P1,vcfs', 'img/c.png,c1,control']);
    const ds = await loadDataset(file, {});
    expect(ds.summary.total).toEqual({ subjects: 3, photos: 3 });
  });

  it('duplicate paths after normalisation (./, //, backslashes)', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', './img/a.png,s2,vcfs', 'img//a.png,s3,vcfs', 'img\\a.png,s4,vcfs', 'img/b.png,s5,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['duplicate-path', 2],
      ['duplicate-path', 3],
      ['duplicate-path', 4],
    ]);
    expect(problems[0].message).toBe('row 2 (line 3): path "./img/a.png" is listed again; first at row 1 (line 2)');
  });

  it('two paths naming one file through a symbolic link', async () => {
    symlinkSync('a.png', path.join(root, 'img/alias.png'));
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/alias.png,s2,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([['duplicate-path', 2]]);
    expect(problems[0].message).toMatch(/is the same file as "img\/a.png" at row 1/);
  });

  it('one file named twice through symbolic links to it or to its folder, in either order', async () => {
    symlinkSync('a.png', path.join(root, 'img/alias.png'));
    symlinkSync('img', path.join(root, 'pics'));
    const file = writeManifest(root, [HEADER, 'img/alias.png,s1,vcfs', 'img/a.png,s2,control', 'pics/a.png,s3,control', 'pics/b.png,s4,vcfs', 'img/b.png,s5,vcfs', 'img/c.png,s6,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row, p.message.replace(/^.*is the same file as /, '')])).toEqual([
      ['duplicate-path', 2, '"img/alias.png" at row 1 (line 2) (through a symbolic link)'],
      ['duplicate-path', 3, '"img/alias.png" at row 1 (line 2) (through a symbolic link)'],
      ['duplicate-path', 5, '"pics/b.png" at row 4 (line 5) (through a symbolic link)'],
    ]);
  });

  it('a missing file', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/nope.png,s2,control', 'nodir/x.png,s3,control', 'img/a.png/x.png,s4,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['missing-file', 2],
      ['missing-file', 3],
      ['missing-file', 4],
    ]);
    expect(problems[0].message).toBe('row 2 (line 3): path "img/nope.png" does not exist');
  });

  it('a folder or an empty file where a photo should be', async () => {
    writeFileSync(path.join(root, 'img/empty.png'), '');
    const file = writeManifest(root, [HEADER, 'img,s1,vcfs', 'img/empty.png,s2,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['unreadable-file', 1],
      ['unreadable-file', 2],
    ]);
    expect(problems[0].message).toMatch(/is a folder, not a file/);
    expect(problems[1].message).toMatch(/is empty \(0 bytes\)/);
  });

  it('invalid view values', async () => {
    const file = writeManifest(root, ['path,subject,label,view', 'img/a.png,s1,vcfs,frontal', 'img/b.png,s2,control,side', 'img/c.png,s3,control,3/4']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toEqual([
      ['invalid-view', 2],
      ['invalid-view', 3],
    ]);
    expect(problems[0].message).toBe('row 2 (line 3): invalid view "side"; expected one of: frontal, oblique, profile (or empty to estimate it)');
  });

  it('a row with more fields than the header (an unquoted comma)', async () => {
    await writeImage(path.join(root, 'img/x,y.png'));
    const file = writeManifest(root, [HEADER, 'img/x,y.png,s1,vcfs', 'img/a.png,s2,control']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row])).toContainEqual(['field-count', 1]);
    expect(problems.find((p) => p.kind === 'field-count')!.message).toMatch(/has 4 fields; the header has 3/);
  });

  it('a binary file given as manifest', async () => {
    const { problems } = await manifestProblems(() => loadDataset(path.join(root, 'img/a.png'), {}));
    expect(problems.map((p) => p.kind)).toEqual(['not-csv']);
  });

  it.skipIf(process.platform === 'win32')('a named pipe or a device given as manifest: refused without reading, which would never end', async () => {
    const fifo = path.join(root, 'rows.csv');
    execFileSync('mkfifo', [fifo]);
    for (const file of [fifo, '/dev/zero']) {
      await expect(loadDataset(file, {}), file).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/is not a regular file \(a device, pipe or socket\)\. Expected a CSV file/) });
    }
  });

  it('text that is not a CSV manifest', async () => {
    const file = path.join(root, 'notes.txt');
    writeFileSync(file, 'These are my photos.\nPlease analyse them.\n');
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => p.kind)).toEqual(['missing-column']);
  });

  it('broken quoting, reported with its row and line, and the rows after it still checked', async () => {
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,"s2"x,control', 'img/nope.png,s3,control', 'img/c.png,"s4,control', 'img/d.png,s5,VCFS']);
    const { problems } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row, p.line])).toEqual([
      ['parse-error', 2, 3],
      ['missing-file', 3, 4],
      ['parse-error', 4, 5],
      ['unknown-label', 5, 6],
    ]);
    expect(problems[0].message).toMatch(/^row 2 \(line 3\): Invalid Closing Quote: got "x" instead of delimiter/);
    expect(problems[2].message).toMatch(/^row 4 \(line 5\): Quote Not Closed/);
  });

  it('an empty file and a header without rows', async () => {
    const empty = writeManifest(root, [''], { name: 'empty.csv' });
    expect((await manifestProblems(() => loadDataset(empty, {}))).problems.map((p) => p.kind)).toEqual(['empty']);
    const headerOnly = writeManifest(root, [HEADER]);
    const { problems } = await manifestProblems(() => loadDataset(headerOnly, {}));
    expect(problems).toEqual([{ kind: 'empty', message: 'no data rows below the header' }]);
  });

  it('reports every problem at once, and caps the message listing at 20 with a count', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => `img/missing${i}.png,m${i},control`);
    const file = writeManifest(root, [HEADER, 'img/a.png,s1,VCFS', ...rows, '/etc/passwd,s2,vcfs']);
    const { problems, message } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems).toHaveLength(27);
    expect(problems[0]).toMatchObject({ kind: 'unknown-label', row: 1, line: 2 });
    expect(problems[26]).toMatchObject({ kind: 'path-escape', row: 27, line: 28 });
    expect(message).toMatch(/has 27 problems:/);
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(20);
    expect(message).toMatch(/\.\.\. and 7 more$/);
  });
});

describe('loadDataset from a folder ROOT/<label>/<subject>/<image>', () => {
  it('loads images, ignoring hidden and non-image files and heat maps', async () => {
    const dir = path.join(tmp.dir, 'layout');
    // 01-1.heatmap(-aligned).png: heat maps `screen --explain` wrote beside the photos, no photos of the person.
    await writeImages(dir, ['vcfs/p1/1.png', 'vcfs/p1/2.PNG', 'vcfs/p2/1.png', 'control/c1/a.png', 'vcfs/p1/01-1.heatmap.png', 'vcfs/p1/01-1.heatmap-aligned.png']);
    writeFileSync(path.join(dir, 'vcfs/p1/notes.txt'), 'x');
    writeFileSync(path.join(dir, 'vcfs/p1/.DS_Store'), 'x');
    await writeImage(path.join(dir, 'control/.hidden/a.png'));
    await writeImage(path.join(dir, '.trash/s/a.png'));
    const ds = await loadDataset(dir, {});
    expect(ds.manifestPath).toBeUndefined();
    expect(ds.items.map((i) => [i.path, i.subject, i.label, i.y])).toEqual([
      ['control/c1/a.png', 'c1', 'control', 0],
      ['vcfs/p1/1.png', 'p1', 'vcfs', 1],
      ['vcfs/p1/2.PNG', 'p1', 'vcfs', 1],
      ['vcfs/p2/1.png', 'p2', 'vcfs', 1],
    ]);
    expect(ds.summary.byClass.vcfs).toMatchObject({ subjects: 2, photos: 3 });
  });

  it('reports unknown label folders, images at the wrong depth, and a subject under two labels', async () => {
    const dir = path.join(tmp.dir, 'layout');
    await writeImages(dir, ['vcfs/p1/1.png', 'control/p1/1.png', 'others/x/1.png', 'vcfs/loose.png', 'top.png', 'control/c1/visit/1.png', 'control/c1/2.png']);
    const { problems } = await manifestProblems(() => loadDataset(dir, {}));
    const byKind = (k: string) => problems.filter((p) => p.kind === k).map((p) => p.path ?? p.message);
    expect(byKind('layout').sort()).toEqual(['control/c1/visit', 'top.png', 'vcfs/loose.png']);
    expect(byKind('unknown-label')).toEqual(['others/x/1.png']);
    expect(byKind('subject-two-labels')).toEqual(['subject "p1" has 2 labels ("control" in "control/p1/1.png"; "vcfs" in "vcfs/p1/1.png"); all photos of one person share one label']);
  });

  it('refuses a symbolic link leading outside the folder', async () => {
    const dir = path.join(tmp.dir, 'layout');
    await writeImages(dir, ['vcfs/p1/1.png', 'control/c1/1.png']);
    await writeImage(path.join(tmp.dir, 'outside/secret.png'));
    symlinkSync(path.join(tmp.dir, 'outside/secret.png'), path.join(dir, 'vcfs/p1/2.png'));
    symlinkSync(path.join(tmp.dir, 'outside'), path.join(dir, 'control/c2'));
    const { problems } = await manifestProblems(() => loadDataset(dir, {}));
    expect(problems.map((p) => [p.kind, p.path])).toEqual([
      ['path-escape', 'control/c2'],
      ['path-escape', 'vcfs/p1/2.png'],
    ]);
  });

  it('reports a folder with no images', async () => {
    mkdirSync(path.join(tmp.dir, 'emptyset/vcfs/p1'), { recursive: true });
    const { problems } = await manifestProblems(() => loadDataset(path.join(tmp.dir, 'emptyset'), {}));
    expect(problems.map((p) => p.kind)).toEqual(['empty']);
  });
});

describe('datasetHash', () => {
  it('is independent of row order, and changes with content, label or subject', async () => {
    const a = await loadDataset(writeManifest(root, [HEADER, 'img/a.png,s1,vcfs', 'img/b.png,s2,control'], { name: 'a.csv' }), {});
    const b = await loadDataset(writeManifest(root, [HEADER, './img/b.png,s2,control', 'img/a.png,s1,vcfs'], { name: 'b.csv' }), {});
    const relabelled = await loadDataset(writeManifest(root, [HEADER, 'img/a.png,s1,control', 'img/b.png,s2,control'], { name: 'c.csv' }), {});
    const renamed = await loadDataset(writeManifest(root, [HEADER, 'img/a.png,s9,vcfs', 'img/b.png,s2,control'], { name: 'd.csv' }), {});
    const h = await datasetHash(a);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await datasetHash(b)).toBe(h);
    expect(await datasetHash(relabelled)).not.toBe(h);
    expect(await datasetHash(renamed)).not.toBe(h);
    await writeImage(path.join(root, 'img/a.png')); // new content, same path
    expect(await datasetHash(a)).not.toBe(h);
  });

  it('uses the content hashes it is given instead of reading files', async () => {
    const ds = await loadDataset(writeManifest(root, [HEADER, 'img/a.png,s1,vcfs']), {});
    const given = new Map([[ds.items[0].absPath, 'f'.repeat(64)]]);
    const fromGiven = await datasetHash(ds, given);
    expect(fromGiven).not.toBe(await datasetHash(ds));
    expect(await datasetHash(ds, given)).toBe(fromGiven);
  });
});
