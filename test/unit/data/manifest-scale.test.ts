/**
 * Manifests of hundreds of thousands of rows: a malformed record anywhere costs one problem at its
 * line, and the problems kept and listed stay bounded however many rows are wrong. Time is not
 * measured here: bench/manifest.ts times 1,000,000 and 1,370,000 rows, and csv.test.ts counts the
 * characters the reader reads, which a busy machine cannot disturb.
 */
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/data/manifest.ts';
import { manifestProblems, tempDir, writeManifest } from './fixtures.ts';

const ROWS = 200_000;
const HEADER = 'path,subject,label';
let tmp: { dir: string; cleanup: () => void };
let root: string;

/** Row `i` (0-based): its own file, two photos per subject, subjects alternating between the classes. */
const rowOf = (i: number) => `img/${i % 100}/${i}.png,s${i >> 1},${(i >> 1) % 2 ? 'vcfs' : 'control'}`;

beforeAll(() => {
  tmp = tempDir();
  root = path.join(tmp.dir, 'data');
  // Hard links to a few one-byte files: every row names a file of its own at little disk cost
  // (ext4 allows 65,000 links to one file).
  for (let d = 0; d < 100; d++) mkdirSync(path.join(root, 'img', String(d)), { recursive: true });
  for (let i = 0; i < ROWS; i++) {
    const source = path.join(root, `source-${Math.floor(i / 50_000)}.bin`);
    if (i % 50_000 === 0) writeFileSync(source, 'x');
    linkSync(source, path.join(root, 'img', String(i % 100), `${i}.png`));
  }
}, 120_000);
afterAll(() => tmp.cleanup());


describe('loadDataset on large manifests', () => {
  it('reads stray quotes in the middle of 200,000 rows as one problem each, at its line, and checks the rows after them', async () => {
    const lines = [HEADER, ...Array.from({ length: ROWS }, (_, i) => rowOf(i))];
    // Data row r is on file line r + 1 (the header is line 1).
    lines[50_000] = lines[50_000].replace(',s', ',"s'); // a quote opened and never closed by its row
    lines[100_000] = lines[100_000].replace(',s', ',s"'); // a quote inside an unquoted value
    lines[150_000] = lines[150_000].replace(/,s(\d+),/, ',"s$1"x,'); // text after a closing quote
    lines[199_999] = lines[199_999].replace(/(vcfs|control)$/, ''); // an empty label
    const file = writeManifest(root, lines, { name: 'stray.csv' });
    const { problems, message } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems.map((p) => [p.kind, p.row, p.line])).toEqual([
      ['parse-error', 50_000, 50_001],
      ['parse-error', 100_000, 100_001],
      ['parse-error', 150_000, 150_001],
      ['empty-cell', 199_999, 200_000],
    ]);
    expect(message).toMatch(/has 4 problems:/);
    for (const line of [50_001, 100_001, 150_001]) expect(message.split(`(line ${line})`)).toHaveLength(2);
  }, 60_000);

  it('keeps the problems bounded when every row is wrong: 1,000 in details, 20 in the message, with the count', async () => {
    // Every row names the same file (a duplicate path), and one subject has rows under both labels.
    const rows = Array.from({ length: 100_000 }, (_, i) => `img/0/0.png,same,${i % 2 ? 'vcfs' : 'control'}`);
    const file = writeManifest(root, [HEADER, ...rows], { name: 'all-bad.csv' });
    const { problems, message } = await manifestProblems(() => loadDataset(file, {}));
    expect(problems).toHaveLength(1000);
    // The subject's problem comes first (it has no row), then the rows in order.
    expect(problems[0].kind).toBe('subject-two-labels');
    expect(problems.slice(1).map((p) => p.row)).toEqual(Array.from({ length: 999 }, (_, i) => i + 2));
    expect(message).toMatch(/has 100000 problems:/);
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(20);
    expect(message).toMatch(/\n {2}\.\.\. and 99980 more$/);
    // The subject's 100,000 rows are summarised, not listed.
    expect(problems[0].message).toMatch(/^subject "same" has 2 labels \("control" in row 1 \(line 2\), row 3 \(line 4\), .* and 49995 more rows; "vcfs" in row 2 \(line 3\), .* and 49995 more rows\)/);
    expect(message.length).toBeLessThan(5000);
  }, 60_000);

  it('names at most 20 labels or columns in one message, counts the rest, and quotes at most 40 characters of a broken value', async () => {
    const labels = Array.from({ length: 101 }, (_, i) => `${rowOf(i).split(',')[0]},s${i},${i === 0 ? '22q' : `other${i}`}`);
    const many = writeManifest(root, [HEADER, ...labels], { name: 'many-labels.csv' });
    const classes = (await manifestProblems(() => loadDataset(many, { positive: '22q' }))).problems.find((p) => p.kind === 'classes')!;
    expect(classes.message).toMatch(/found 100 others: "other1" \(1 rows, first row 2\), .*"other20" \(1 rows, first row 21\) and 80 more labels$/);

    const wide = writeManifest(root, [Array.from({ length: 500 }, (_, i) => `c${i}`).join(','), 'x'], { name: 'wide.csv' });
    const { message } = await manifestProblems(() => loadDataset(wide, {}));
    expect(message).toMatch(/found "c0", .*"c19" and 480 more columns; expected path/);

    const long = writeManifest(root, [HEADER, `img/0/0.png,${'s'.repeat(100_000)}"x,vcfs`], { name: 'long.csv' });
    const broken = (await manifestProblems(() => loadDataset(long, {}))).problems[0];
    expect(broken.message).toMatch(/^row 1 \(line 2\): Invalid Opening Quote: .*value so far "s{40}\.\.\."/);
    expect(broken.message.length).toBeLessThan(300);
  });
});
