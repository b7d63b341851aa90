/**
 * Data in: a manifest CSV or a `ROOT/<label>/<subject>/<image>` folder (the CLI contract's
 * "Manifest" section) becomes a validated {@link Dataset}. Everything is checked up front and
 * every problem is found in one run, each with its row and line (the first listed, all counted),
 * so a hospital team fixes its spreadsheet in one pass instead of one error per run. Time and
 * memory grow linearly with the rows, however malformed they are.
 */
import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { accessSync, constants, lstatSync, type Stats } from 'node:fs';
import { open, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { VIEWS } from '../config.ts';
import { notARegularFile, PhenofaceError } from '../errors.ts';
import { nameMap, type View } from '../types.ts';
import { hashFile } from './cache.ts';
import { DEFAULTS } from '../config.ts';
import { readCsvRecords, stripFormulaGuard, type CsvRecord } from './csv.ts';
import { currentIdentity, FileStatPool, modeGrantsRead, PLAIN_FILE } from './file-stat.ts';
import { checkReadableFile, isPlainDataPath, lexicalPathProblem, listInside, normalizeDataPath, resolveInside, UnlistedFolderError, type FolderEntry, type PathProblemKind, type RefusedLink } from './paths.ts';
import { utf16ByteOrder } from './text-encoding.ts';

/** Kinds of manifest problem; tests and tools match on these. */
export type ManifestProblemKind =
  | 'not-csv'
  | 'empty'
  | 'missing-column'
  | 'duplicate-column'
  | 'parse-error'
  | 'field-count'
  | 'empty-cell'
  | 'unknown-label'
  | 'classes'
  | 'subject-two-labels'
  | 'label-spelling'
  | 'subject-spelling'
  | 'duplicate-path'
  | 'invalid-view'
  | 'layout'
  | PathProblemKind;

/** One problem. `row` is the 1-based data row (the header is not a row), `line` the file line. */
export interface ManifestProblem {
  kind: ManifestProblemKind;
  message: string;
  row?: number;
  line?: number;
  path?: string;
}

/** One photo of the data set. */
export interface DatasetItem {
  /** The path as written in the manifest (or `label/subject/file` for a folder), relative to `root`. */
  path: string;
  /** The real absolute path, checked to lie inside `root`. */
  absPath: string;
  subject: string;
  label: string;
  /** 1 for the positive class. */
  y: 0 | 1;
  /** The view given in the manifest; absent means "estimate it from the face". */
  view?: View;
  /**
   * Optional columns (`age`, `sex`, `ancestry`, `source`) and any extra columns, non-empty cells
   * only. Keyed by the manifest's column names, so without a prototype ({@link nameMap}): a column
   * "__proto__" is kept and a missing "constructor" is undefined.
   */
  meta: Record<string, string>;
  /** The manifest's data row and file line (absent for a folder layout), for messages about the row. */
  row?: number;
  line?: number;
}

/** Subjects and photos in one group. */
export interface Counts {
  subjects: number;
  photos: number;
}

/** Counts per class and per manifest view (`unspecified` when the view column is empty). */
export interface DatasetSummary {
  total: Counts;
  byClass: Record<string, Counts & { byView: Partial<Record<View | 'unspecified', Counts>> }>;
  byView: Partial<Record<View | 'unspecified', Counts>>;
}

/** A validated data set. */
export interface Dataset {
  /** Real path of the data set's folder (the manifest's folder or `root` option, or the layout's ROOT). */
  root: string;
  /** Absolute path of the manifest CSV; absent for a folder layout. */
  manifestPath?: string;
  positive: string;
  negative: string;
  /**
   * With three or more labels (and `manyClasses`): every label, sorted, and what the study does with
   * them. `ranking` (no `--positive`): rank the classes; `positive` is then the reference class whose
   * probability the binary outputs carry. `one-vs-rest` (`--positive` given): `positive` against
   * every other class, pooled as `negative`. Items keep their own labels either way.
   */
  classes?: string[];
  mode?: 'ranking' | 'one-vs-rest';
  items: DatasetItem[];
  summary: DatasetSummary;
}

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** The positive class (`--positive`); default `vcfs`. */
  positive?: string;
  /** The two classes; default `vcfs`, `control`, or `positive` plus the one other label found. */
  labels?: string[];
  /**
   * For a manifest: the folder its paths are relative to and must stay inside; default the
   * manifest's own folder (the CLI contract). Lets a manifest written elsewhere describe a
   * read-only data set. Ignored for a folder layout, whose ROOT is the folder itself.
   */
  root?: string;
  /** Report a data set lacking either class as a problem (a study needs both; `embed` does not). */
  requireBothClasses?: boolean;
  /**
   * Accept three or more labels (a study): without `positive` the data set is a ranking, with it
   * one-vs-rest (see {@link Dataset.classes}). Otherwise more than two labels is a problem.
   */
  manyClasses?: boolean;
  /**
   * Check that each row's file exists and is readable (default true). False when the features come
   * from elsewhere (`study --embeddings`): the paths are then only names (any text, absolute as
   * `embed` may have written them; no duplicates), and no photo needs to exist.
   */
  requireFiles?: boolean;
}

/** Image file extensions a folder layout picks up (the formats sharp decodes). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);

/**
 * The ending of the heat-map overlays `screen --explain` writes (`NN-<photo>.heatmap.png` and
 * `NN-<photo>.heatmap-aligned.png`). They are pictures of the person's face, so a folder walk that
 * took them for photos would count a screening's own output as more photos of the person.
 */
export const HEATMAP_SUFFIXES = ['.heatmap.png', '.heatmap-aligned.png'] as const;

/**
 * Whether a folder walk takes the file named `name` as a photo: an image extension
 * ({@link IMAGE_EXTENSIONS}), and not a heat-map overlay ({@link HEATMAP_SUFFIXES}). A file named
 * explicitly is always tried.
 */
export function isWalkedPhoto(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.has(path.extname(lower)) && !HEATMAP_SUFFIXES.some((s) => lower.endsWith(s));
}

const REQUIRED = ['path', 'subject', 'label'] as const;

/** The columns a manifest must have, and how a missing-column message says what is expected. */
export interface ManifestColumns {
  required: readonly string[];
  /** E.g. `path, subject, label (and optionally view, ...)`. */
  expected: string;
}

/** A data set manifest's columns (the CLI contract's "Manifest" section). */
const DATASET_COLUMNS: ManifestColumns = { required: REQUIRED, expected: 'path, subject, label (and optionally view, age, sex, ancestry, source)' };

/** One data row of a manifest: its 1-based row (the header is not a row), its file line, and its cells by column. */
export interface ManifestRow {
  row: number;
  line: number;
  /** By lower-case column name: trimmed, a spreadsheet's formula guard removed ({@link stripFormulaGuard}). */
  cells: Record<string, string>;
}

/**
 * Problems kept in the error's `details`: enough to fix a spreadsheet in one pass, and few enough
 * that a manifest of a million wrong rows does not build a million records (the rest are counted).
 */
const MAX_KEPT_PROBLEMS = 1000;
/** Rows named per label in a subject-with-two-labels problem; the rest are counted. */
const MAX_NAMED_ROWS = 5;
/** Labels or columns named in one problem's message; the rest are counted. */
const MAX_NAMED_VALUES = 20;

/** `items` joined with ", ", the first `max` of them, and how many more there are. */
function namedList(items: string[], max: number, noun: string): string {
  const more = items.length - max;
  return items.slice(0, max).join(', ') + (more > 0 ? ` and ${more} more ${noun}` : '');
}
/** Rows validated between turns of the event loop (most of the per-row work is synchronous). */
const ROWS_PER_TURN = 1024;
/** Photo files sent to a file-check thread at once ({@link FileStatPool}): few messages, and work for every thread early on. */
const FILES_PER_BATCH = 8192;

/** A row before validation, from either source. */
interface RawRow {
  row?: number;
  line?: number;
  cells: Record<string, string>;
  /** Set once the row is found to name a readable file reached without a symbolic link. */
  unlinkedFile?: boolean;
  /** The subject as a number (0, 1, ... in order of first appearance), for rows with a subject and a label. */
  subjectId?: number;
  /** The row's view cell, once checked. */
  view?: View;
  /** Set once a cell of the row is found unusable (its problem reported). */
  badCells?: boolean;
  /** The real path of the row's file, once it is found usable. */
  absPath?: string;
}

/** Where a problem is: a manifest's row and line, a folder layout's path, or the data set. */
type Location = { row?: number; line?: number; path?: string };

function describeLocation(r: Location): string {
  if (r.row !== undefined) return `row ${r.row} (line ${r.line})`;
  return r.path !== undefined ? `"${r.path}"` : 'data set';
}

/** The location of a row: its row and line, or for a folder row its path. */
function where(r: RawRow): Location {
  return r.row !== undefined ? r : { path: r.cells.path };
}

function problem(kind: ManifestProblemKind, at: Location, text: string): ManifestProblem {
  return { kind, message: `${describeLocation(at)}: ${text}`, row: at.row, line: at.line, path: at.path };
}

/**
 * The problems found, in the order they are reported: data-set level first, then a folder
 * layout's paths, then manifest rows by row. Each group keeps its first {@link MAX_KEPT_PROBLEMS};
 * the rest are only counted.
 */
class ProblemList {
  /** How many problems were found, kept or not. */
  total = 0;
  private readonly kinds = new Set<ManifestProblemKind>();
  private readonly general: ManifestProblem[] = [];
  private readonly byPath: ManifestProblem[] = [];
  private readonly byRow: ManifestProblem[] = [];

  add(p: ManifestProblem): void {
    this.total++;
    this.kinds.add(p.kind);
    if (p.row !== undefined) this.addByRow(p, p.row);
    else {
      const list = p.path === undefined ? this.general : this.byPath;
      if (list.length < MAX_KEPT_PROBLEMS) list.push(p);
    }
  }

  /** Insert in row order after the problems of the same row; beyond the cap, drop the last. */
  private addByRow(p: ManifestProblem, row: number): void {
    const list = this.byRow;
    if (list.length === MAX_KEPT_PROBLEMS && row >= list[list.length - 1].row!) return;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].row! <= row) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, p);
    if (list.length > MAX_KEPT_PROBLEMS) list.pop();
  }

  /** True when a problem of any of these kinds was found. */
  has(...kinds: ManifestProblemKind[]): boolean {
    return kinds.some((k) => this.kinds.has(k));
  }

  /** The kept problems in report order, at most {@link MAX_KEPT_PROBLEMS}. */
  kept(): ManifestProblem[] {
    return [...this.general, ...this.byPath, ...this.byRow].slice(0, MAX_KEPT_PROBLEMS);
  }
}

/**
 * Load and validate a data set from a manifest CSV or a `ROOT/<label>/<subject>/<image>` folder.
 * Throws one `PhenofaceError('E_MANIFEST')` whose message counts the problems and lists the first
 * `DEFAULTS.data.maxListedProblems`, and whose `details` holds the first 1,000
 * {@link ManifestProblem}s in report order; `E_NOT_FOUND` when `source` does not exist; `E_INPUT`
 * for contradictory options. Time and memory grow linearly with the rows.
 */
export async function loadDataset(source: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  let sourceStats;
  try {
    sourceStats = await stat(source);
  } catch (err) {
    throw new PhenofaceError('E_NOT_FOUND', `Data set "${source}" does not exist; expected a manifest CSV or a folder laid out as ROOT/<label>/<subject>/<image>.`, { cause: err });
  }
  const isFolder = sourceStats.isDirectory();
  const rootGiven = isFolder ? source : (opts.root ?? path.dirname(path.resolve(source)));
  let root: string;
  try {
    root = await realpath(rootGiven);
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    throw new PhenofaceError('E_NOT_FOUND', `Data set folder "${rootGiven}" is not an existing folder; expected the folder that the manifest's paths are relative to.`, { cause: err });
  }
  const problems = new ProblemList();
  const rows = isFolder ? await readFolder(root, problems) : await readManifest(source, problems, DATASET_COLUMNS);
  // Without a readable header the rows cannot be interpreted: report the header problems alone.
  const unreadable = problems.has('not-csv', 'missing-column', 'duplicate-column');
  const valid: Awaited<ReturnType<typeof validateRows>> = unreadable ? { items: [], subjectIds: [], subjectCount: 0, positive: '', negative: '' } : await validateRows(root, rows, opts, problems);
  if (opts.requireBothClasses && valid.items.length > 0) {
    for (const [label, y] of [[valid.positive, 1], [valid.negative, 0]] as const) {
      if (!valid.items.some((i) => i.y === y)) problems.add({ kind: 'classes', message: `no usable photos of class "${label}"; a study needs photos of both "${valid.positive}" and "${valid.negative}"` });
    }
  }
  if (problems.total === 0 && valid.items.length === 0) problems.add({ kind: 'empty', message: isFolder ? 'no images found under ROOT/<label>/<subject>/' : 'no data rows below the header' });
  if (problems.total > 0) throw manifestError(isFolder ? root : path.resolve(source), problems);
  return {
    root,
    ...(isFolder ? {} : { manifestPath: path.resolve(source) }),
    positive: valid.positive,
    negative: valid.negative,
    ...(valid.many ? { classes: valid.many.classes, mode: valid.many.mode } : {}),
    items: valid.items,
    summary: summarize(valid.items, valid.subjectIds, valid.subjectCount),
  };
}

function manifestError(source: string, problems: ProblemList): PhenofaceError {
  const kept = problems.kept();
  const n = problems.total;
  const lines = kept.slice(0, DEFAULTS.data.maxListedProblems).map((p) => `  - ${p.message}`);
  if (n > lines.length) lines.push(`  ... and ${n - lines.length} more`);
  return new PhenofaceError('E_MANIFEST', `Data set "${source}" has ${n} problem${n === 1 ? '' : 's'}:\n${lines.join('\n')}`, { details: kept });
}

/** Decode manifest bytes: UTF-8 (BOM optional), UTF-16 with or without BOM, else Windows-1252 (old Excel). */
function decodeText(bytes: Uint8Array): string | undefined {
  const utf16 = utf16ByteOrder(bytes[0], bytes[1]);
  if (utf16) return new TextDecoder(utf16).decode(bytes);
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** The delimiter of the header line: `,` unless `;` or tab occur more often (European Excel). */
function sniffDelimiter(text: string): string {
  let header = '';
  for (let start = 0; start < text.length; ) {
    const lineEnd = text.indexOf('\n', start);
    const end = lineEnd === -1 ? text.length : lineEnd;
    const line = text.slice(start, end);
    if (line.trim() !== '') {
      header = line;
      break;
    }
    start = end + 1;
  }
  const count = (d: string) => header.split(d).length - 1;
  return [';', '\t'].reduce((best, d) => (count(d) > count(best) ? d : best), ',');
}

const NOT_CSV: ManifestProblem = { kind: 'not-csv', message: 'the file is binary (it holds NUL bytes), not a CSV text file' };

/**
 * The most bytes a manifest may have: V8's longest string. The whole file is decoded as one text,
 * and decoding a longer one does not throw: Node aborts the process (a native stack trace, no
 * error record, nothing cleaned up).
 */
const MAX_MANIFEST_BYTES = bufferConstants.MAX_STRING_LENGTH;

/**
 * The rows of a manifest CSV read as {@link loadDataset} reads them (UTF-8, UTF-16 or Windows-1252
 * text; comma, semicolon or tab; RFC 4180 quoting; formula guards removed), for commands that need
 * a manifest's rows but not a data set (`embed --manifest`, `synth`): one reader for every
 * manifest. Throws `E_MANIFEST` listing the problems when the file is not such a table (binary, no
 * header, a column missing or twice) or a record is malformed; `E_INPUT` when it cannot be read.
 */
export async function readManifestTable(file: string, columns: ManifestColumns): Promise<ManifestRow[]> {
  const problems = new ProblemList();
  const rows = await readManifest(file, problems, columns);
  if (problems.total > 0) throw manifestError(path.resolve(file), problems);
  return rows as ManifestRow[];
}

async function readManifest(file: string, problems: ProblemList, columns: ManifestColumns): Promise<RawRow[]> {
  let bytes: Uint8Array;
  try {
    // A pipe or device would never end (or never open): only a regular file is read.
    const st = await stat(file);
    const kind = notARegularFile(st);
    if (kind) throw new PhenofaceError('E_INPUT', `Manifest "${file}" is ${kind}. Expected a CSV file.`);
    if (st.size > MAX_MANIFEST_BYTES) {
      throw new PhenofaceError('E_INPUT', `Manifest "${file}" is ${st.size} bytes, more than Phenoface reads as one text (${MAX_MANIFEST_BYTES} bytes). Expected a manifest CSV of at most that size.`);
    }
    // Look at the first 64 KiB before reading it all: a photo or video given as manifest is refused cheaply.
    const handle = await open(file, 'r');
    try {
      const head = new Uint8Array(65536);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      if (!utf16ByteOrder(head[0], head[1]) && head.subarray(0, bytesRead).includes(0)) {
        problems.add({ ...NOT_CSV });
        return [];
      }
    } finally {
      await handle.close();
    }
    bytes = await readFile(file);
  } catch (err) {
    if (err instanceof PhenofaceError) throw err;
    throw new PhenofaceError('E_INPUT', `Cannot read manifest "${file}": ${(err as Error).message}.`, { cause: err });
  }
  const decoded = decodeText(bytes);
  if (decoded === undefined) {
    problems.add({ ...NOT_CSV });
    return [];
  }
  // One line ending for the reader: CRLF, LF and CR files alike.
  const text = decoded.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let names: string[] | undefined;
  const rows: RawRow[] = [];
  let row = 0;
  for (const entry of readCsvRecords(text, sniffDelimiter(text))) {
    if ('fields' in entry && isBlank(entry.fields, 0)) continue;
    if (names === undefined) {
      names = readHeader(entry, problems, columns);
      if (names === undefined) return [];
      continue;
    }
    row++;
    if ('error' in entry) {
      problems.add(problem('parse-error', { row, line: entry.line }, entry.error));
      continue;
    }
    const cells = nameMap<string>();
    for (let k = 0; k < names.length && k < entry.fields.length; k++) {
      // A leading ' before a formula character is a spreadsheet's guard (Phenoface's CSV writer
      // adds it), not part of the value.
      if (names[k] !== '') cells[names[k]] = stripFormulaGuard(entry.fields[k]).trim();
    }
    // Fewer fields are fine (trailing optional columns left out; a missing required cell is
    // reported as empty); more non-empty fields than columns mean a shifted row, e.g. an unquoted comma.
    const r: RawRow = { row, line: entry.line, cells };
    if (!isBlank(entry.fields, names.length)) {
      problems.add(problem('field-count', where(r), `has ${entry.fields.length} fields; the header has ${names.length} (a comma inside a value needs "quotes")`));
    }
    rows.push(r);
  }
  if (names === undefined) problems.add({ kind: 'empty', message: 'the file holds no header row' });
  return rows;
}

/** True when the fields from `from` on are all empty or white space. */
function isBlank(fields: string[], from: number): boolean {
  for (let k = from; k < fields.length; k++) if (fields[k].trim() !== '') return false;
  return true;
}

/** The header's column names (trimmed, lower case), or undefined once the reason it is unusable is reported. */
function readHeader(header: CsvRecord, problems: ProblemList, columns: ManifestColumns): string[] | undefined {
  if ('error' in header) {
    problems.add({ kind: 'parse-error', line: header.line, message: `header (line ${header.line}): ${header.error}` });
    return undefined;
  }
  const names = header.fields.map((c) => c.trim().toLowerCase());
  const seen = new Set<string>();
  let usable = true;
  for (const name of names) {
    if (name !== '' && seen.has(name)) {
      problems.add({ kind: 'duplicate-column', line: header.line, message: `header (line ${header.line}): column "${name}" appears twice` });
      usable = false;
    }
    seen.add(name);
  }
  const missing = columns.required.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    problems.add({
      kind: 'missing-column',
      line: header.line,
      message: `header (line ${header.line}): missing required column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}; found ${namedList(names.map((n) => `"${n}"`), MAX_NAMED_VALUES, 'columns')}; expected ${columns.expected}`,
    });
    usable = false;
  }
  return usable ? names : undefined;
}

async function readFolder(root: string, problems: ProblemList): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  const layout = 'expected ROOT/<label>/<subject>/<image>';

  /** Visible entries of a folder as [name, kind], following in-root symlinks; escapes become problems. */
  async function entries(rel: string): Promise<[string, 'dir' | 'file' | 'other'][]> {
    let dir = root;
    if (rel !== '') {
      const resolved = await resolveInside(root, rel);
      if (!resolved.ok) return []; // already reported when its own entry was listed
      dir = resolved.absPath;
    }
    let listed: (FolderEntry | RefusedLink)[];
    try {
      listed = await listInside(root, rel, dir);
    } catch (err) {
      if (!(err instanceof UnlistedFolderError)) throw err;
      problems.add(problem('unreadable-file', { path: rel === '' ? '.' : rel }, `a folder that ${err.reason}: its photos cannot be listed`));
      return [];
    }
    const out: [string, 'dir' | 'file' | 'other'][] = [];
    for (const e of listed) {
      if (e.kind === 'refused') problems.add(problem(e.problem, { path: e.rel }, e.reason));
      else out.push([e.name, e.kind]);
    }
    return out;
  }

  for (const [label, kind] of await entries('')) {
    if (kind !== 'dir') {
      if (isWalkedPhoto(label)) problems.add(problem('layout', { path: label }, `image directly in ROOT; ${layout}`));
      continue;
    }
    for (const [subject, kind2] of await entries(label)) {
      const rel2 = `${label}/${subject}`;
      if (kind2 !== 'dir') {
        if (isWalkedPhoto(subject)) problems.add(problem('layout', { path: rel2 }, `image outside a subject folder; ${layout}`));
        continue;
      }
      for (const [file, kind3] of await entries(rel2)) {
        const rel3 = `${rel2}/${file}`;
        if (kind3 === 'dir') problems.add(problem('layout', { path: rel3 }, `folder nested inside a subject folder; ${layout}`));
        else if (isWalkedPhoto(file)) rows.push({ cells: { path: rel3, subject, label } });
      }
    }
  }
  return rows;
}

/** How many rows carry a label, and the first of them. */
interface LabelSeen {
  rows: number;
  first: number;
}

/** The classes of a data set with three or more labels (see {@link Dataset.classes}). */
interface ManyClasses {
  classes: string[];
  mode: 'ranking' | 'one-vs-rest';
}

/**
 * Three or more labels with `manyClasses`: a ranking (reference class: the default positive when
 * present, else the first label) or, with `positive`, one-vs-rest. The pooled negative is named
 * `not-<positive>`.
 */
function resolveManyClasses(opts: LoadDatasetOptions, labelsSeen: Map<string, LabelSeen>, problems: ProblemList): { positive: string; negative: string; many: ManyClasses } {
  const classes = [...labelsSeen.keys()].sort();
  const positive = opts.positive ?? (classes.includes(DEFAULTS.data.classes[0]) ? DEFAULTS.data.classes[0] : classes[0]);
  if (!classes.includes(positive)) problems.add({ kind: 'classes', message: absentPositive(positive, classes) });
  return { positive, negative: `not-${positive}`, many: { classes, mode: opts.positive === undefined ? 'ranking' : 'one-vs-rest' } };
}

/** The problem of a positive class that no row has. */
const absentPositive = (positive: string, labels: string[]) => `the positive class "${positive}" is not among the labels: ${namedList(labels.map((l) => `"${l}"`), MAX_NAMED_VALUES, 'labels')}`;

/** Pick the two classes and the positive one (see {@link LoadDatasetOptions}). */
function resolveClasses(opts: LoadDatasetOptions, labelsSeen: Map<string, LabelSeen>, problems: ProblemList): { positive: string; negative: string; many?: ManyClasses } {
  const [defaultPositive, defaultNegative] = DEFAULTS.data.classes;
  if (opts.positive !== undefined && opts.positive.trim() === '') throw new PhenofaceError('E_INPUT', 'Invalid --positive "": expected a class name.');
  if (opts.manyClasses && opts.labels === undefined && labelsSeen.size >= 3) return resolveManyClasses(opts, labelsSeen, problems);
  if (opts.labels !== undefined) {
    const labels = opts.labels.map((l) => l.trim());
    if (labels.length !== 2 || labels[0] === labels[1] || labels.includes('')) {
      throw new PhenofaceError('E_INPUT', `Invalid labels ${JSON.stringify(opts.labels)}: expected exactly two different class names.`);
    }
    const positive = opts.positive ?? (labels.includes(defaultPositive) ? defaultPositive : undefined);
    if (positive === undefined || !labels.includes(positive)) {
      throw new PhenofaceError('E_INPUT', `Invalid positive class ${JSON.stringify(positive ?? null)}: expected one of the labels: ${labels.join(', ')}.`);
    }
    return { positive, negative: labels.find((l) => l !== positive)! };
  }
  const positive = opts.positive ?? defaultPositive;
  if (positive === defaultPositive || positive === defaultNegative) {
    return { positive, negative: positive === defaultPositive ? defaultNegative : defaultPositive };
  }
  // A positive class outside the defaults: the other class is whatever single other label the data holds.
  const others = [...labelsSeen.keys()].filter((l) => l !== positive);
  if (others.length > 1 && !labelsSeen.has(positive)) {
    problems.add({ kind: 'classes', message: absentPositive(positive, others) });
  } else if (others.length > 1) {
    const list = namedList(others.map((l) => `"${l}" (${labelsSeen.get(l)!.rows} rows, first row ${labelsSeen.get(l)!.first})`), MAX_NAMED_VALUES, 'labels');
    problems.add({ kind: 'classes', message: `expected exactly two classes, the positive "${positive}" and one other; found ${others.length} others: ${list}` });
  }
  return { positive, negative: others[0] ?? defaultNegative };
}

/** The `meta` of every item without optional cells: one shared object instead of a million empty ones (a {@link nameMap}, as every `meta`). */
const NO_META: Readonly<Record<string, string>> = Object.freeze(nameMap<string>());

/** Columns that become fields of a {@link DatasetItem}; the others go to its `meta`. */
const ITEM_FIELDS: ReadonlySet<string> = new Set(['path', 'subject', 'label', 'view']);

/** A problem with a row's path: a manifest row's message names the path; a folder row's location is its path already. */
function pathProblem(r: RawRow, text: string): string {
  return r.row !== undefined ? `path "${r.cells.path}" ${text}` : text;
}

/** Where a row is, for messages: `row 3 (line 4)` for a manifest, the quoted path for a folder. */
const rowRef = (r: RawRow) => (r.row !== undefined ? `row ${r.row} (line ${r.line})` : `"${r.cells.path}"`);

async function validateRows(root: string, rows: RawRow[], opts: LoadDatasetOptions, problems: ProblemList) {
  const { labelsSeen, mixedSubjects, subjectCount, subjectIds, firstRowOf } = indexLabelsAndSubjects(rows);
  const { positive, negative, many } = resolveClasses(opts, labelsSeen, problems);
  // With two classes a label spelt otherwise is already an unknown one; with many, every label is a class.
  for (const p of lookalikeNames(many ? labelsSeen : new Map(), subjectIds, firstRowOf)) problems.add(p);
  // Every label is a class of a many-class data set, so no label is unknown.
  const classes = problems.has('classes') || many ? undefined : { positive, negative };
  const files = new RowFiles(root, rows.length, opts.requireFiles ?? true);
  try {
    // The rows in order; each file's own check runs on a file-check thread meanwhile.
    for (let i = 0; i < rows.length; i++) {
      if (i % ROWS_PER_TURN === ROWS_PER_TURN - 1) await nextTurn();
      const r = rows[i];
      checkCells(r, classes, problems);
      const queued = files.queue(r, problems);
      if (queued instanceof Promise) await queued;
    }
    await files.settle(problems);
  } finally {
    await files.close();
  }
  const items: DatasetItem[] = [];
  const itemSubjectIds: number[] = [];
  for (const r of rows) {
    if (r.absPath === undefined || r.badCells) continue;
    const { path: written, subject, label } = r.cells;
    let meta: Record<string, string> | undefined;
    for (const k in r.cells) if (r.cells[k] !== '' && !ITEM_FIELDS.has(k)) (meta ??= nameMap())[k] = r.cells[k];
    const y = label === positive ? 1 : 0;
    const item: DatasetItem = { path: written, absPath: r.absPath, subject, label: many ? label : y ? positive : negative, y, meta: meta ?? NO_META };
    if (r.view) item.view = r.view;
    if (r.row !== undefined) Object.assign(item, { row: r.row, line: r.line });
    items.push(item);
    itemSubjectIds.push(r.subjectId!);
  }
  for (const p of subjectsWithTwoLabels(rows, mixedSubjects)) problems.add(p);
  return { items, subjectIds: itemSubjectIds, subjectCount, positive, negative, ...(many ? { many } : {}) };
}

/**
 * One pass over the rows: the labels seen (count, first row), each row's subject number (with the
 * subject ids by number's first row), and the subjects under two labels.
 */
function indexLabelsAndSubjects(rows: RawRow[]): { labelsSeen: Map<string, LabelSeen>; mixedSubjects: Set<string>; subjectCount: number; subjectIds: Map<string, number>; firstRowOf: RawRow[] } {
  const labelsSeen = new Map<string, LabelSeen>();
  const subjectIds = new Map<string, number>();
  const firstLabelOf: string[] = []; // by subject id
  const firstRowOf: RawRow[] = []; // by subject id
  const mixedSubjects = new Set<string>();
  rows.forEach((r, i) => {
    const { subject = '', label = '' } = r.cells;
    if (label === '') return;
    const seen = labelsSeen.get(label);
    if (seen !== undefined) seen.rows++;
    else labelsSeen.set(label, { rows: 1, first: r.row ?? i + 1 });
    if (subject === '') return;
    let id = subjectIds.get(subject);
    if (id === undefined) {
      subjectIds.set(subject, (id = firstLabelOf.length));
      firstLabelOf.push(label);
      firstRowOf.push(r);
    } else if (firstLabelOf[id] !== label) mixedSubjects.add(subject);
    r.subjectId = id;
  });
  return { labelsSeen, mixedSubjects, subjectCount: firstLabelOf.length, subjectIds, firstRowOf };
}

/** A name with its characters outside printable ASCII as `\u{...}`, so that two spellings that look alike read apart. */
const codePoints = (s: string) => s.replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);

/**
 * Names that differ as written but not as read. Two labels equal but for letter case or Unicode
 * form (a composed "é" against "e" and a combining accent, which look the same) would be two
 * classes of a many-class data set; two subject ids equal but for Unicode form would be two people, who may then land on
 * both sides of a cross-validation split. Subject ids keep their case: in some id schemes case
 * tells people apart.
 */
function lookalikeNames(labelsSeen: ReadonlyMap<string, LabelSeen>, subjectIds: ReadonlyMap<string, number>, firstRowOf: readonly RawRow[]): ManifestProblem[] {
  const labelGroups = groupByForm(labelsSeen.keys(), (l) => l.normalize('NFC').toLowerCase());
  // A printable ASCII id is its own composed form, but another may compose to one (the Kelvin sign
  // to "K"): only the others are folded, and their forms looked up among all ids.
  const subjectGroups = groupByForm([...subjectIds.keys()].filter((s) => !/^[\x20-\x7e]*$/.test(s)), (s) => s.normalize('NFC'), (form) => subjectIds.has(form));
  const spell = (names: string[], describe: (name: string) => string) => names.map((n) => `"${n}" (${codePoints(n) === n ? '' : `written ${codePoints(n)}, `}${describe(n)})`).join(', ');
  return [
    ...labelGroups.map((names) => ({
      kind: 'label-spelling' as const,
      message: `labels ${spell(names, (l) => `${labelsSeen.get(l)!.rows} rows, first row ${labelsSeen.get(l)!.first}`)} differ only in letter case or Unicode form, so they would be ${names.length} classes; write each class one way`,
    })),
    ...subjectGroups.map((names) => ({
      kind: 'subject-spelling' as const,
      message: `subject ids ${spell(names, (s) => `first in ${rowRef(firstRowOf[subjectIds.get(s)!])}`)} differ only in Unicode form, so one person would be ${names.length}, perhaps on both sides of a cross-validation split; write each id one way`,
    })),
  ];
}

/** The groups of two or more names with one `form`; `known(form)` adds the form itself when it is a name not among `names`. */
function groupByForm(names: Iterable<string>, form: (name: string) => string, known: (form: string) => boolean = () => false): string[][] {
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const f = form(name);
    let group = groups.get(f);
    if (group === undefined) groups.set(f, (group = f !== name && known(f) ? [f] : []));
    if (!group.includes(name)) group.push(name);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

/**
 * A row's required cells, label and view; each problem reported, the row marked `badCells` when it
 * has one, and its view kept. `classes` is undefined when the classes themselves are in doubt.
 */
function checkCells(r: RawRow, classes: { positive: string; negative: string } | undefined, problems: ProblemList): void {
  const at = where(r);
  for (const col of REQUIRED) {
    if ((r.cells[col] ?? '') === '') {
      problems.add(problem('empty-cell', at, `empty "${col}" cell; every row needs a path, a subject and a label`));
      r.badCells = true;
    }
  }
  const label = r.cells.label ?? '';
  if (label !== '' && classes && label !== classes.positive && label !== classes.negative) {
    problems.add(problem('unknown-label', at, `unknown label "${label}"; expected one of: ${classes.positive}, ${classes.negative}`));
    r.badCells = true;
  }
  const viewCell = (r.cells.view ?? '').toLowerCase();
  if (viewCell === '') return;
  if ((VIEWS as readonly string[]).includes(viewCell)) r.view = viewCell as View;
  else {
    problems.add(problem('invalid-view', at, `invalid view "${r.cells.view}"; expected one of: ${VIEWS.join(', ')} (or empty to estimate it)`));
    r.badCells = true;
  }
}

/**
 * The rows' files: each path checked once, inside the data set's folder, readable, and not the same
 * file as an earlier row's. Two rows reach the same file only through a symbolic link: a file
 * reached without one has the path of its row, which `byPath` already tells apart. So only files
 * reached through links are kept by real path, and a linked file is also looked for among the
 * unlinked ones by its path.
 *
 * Two steps: {@link queue} takes the rows in order and checks what their text and folders tell
 * (sending each remaining file to a {@link FileStatPool} thread); {@link settle} then takes the
 * threads' verdicts in row order and finishes every file, so that which of two rows is "first"
 * does not depend on the threads.
 */
class RowFiles {
  private readonly byPath = new Map<string, RawRow>(); // normalised path -> the first row naming it
  private readonly linkedFiles = new Map<string, RawRow>(); // real path -> the first row reaching it through a link
  private readonly files: FileChecker;
  private readonly pool: FileStatPool;
  /** Rows waiting for their file's verdict, the file's path and whether a link led to its folder. */
  private readonly waiting: { rows: RawRow[]; keys: string[]; absPaths: string[]; linked: boolean[] } = { rows: [], keys: [], absPaths: [], linked: [] };
  private readonly verdicts: Promise<Uint8Array>[] = [];
  private sent = 0;

  constructor(private readonly root: string, rowCount: number, private readonly requireFiles: boolean) {
    this.files = new FileChecker(root);
    this.pool = new FileStatPool(rowCount);
  }

  /** Check what the row's path and folder tell, and queue its file; a problem is reported at once. */
  queue(r: RawRow, problems: ProblemList): void | Promise<void> {
    const written = r.cells.path ?? '';
    if (written === '') return;
    let key = written;
    if (!isPlainDataPath(written)) {
      // A path that is only a name (no file to read) cannot escape anything; `embed` may have written it absolute.
      const lexical = this.requireFiles ? lexicalPathProblem(written) : undefined;
      if (lexical !== undefined) {
        problems.add(problem('path-escape', where(r), pathProblem(r, lexical)));
        return;
      }
      const normalized = normalizeDataPath(written);
      if (normalized !== written) key = normalized; // one string kept, not two
    }
    const first = this.byPath.get(key);
    if (first !== undefined) {
      problems.add(problem('duplicate-path', where(r), pathProblem(r, `is listed again; first at ${rowRef(first)}`)));
      return;
    }
    this.byPath.set(key, r);
    if (!this.requireFiles) {
      r.absPath = path.resolve(this.root, key);
      return;
    }
    const located = this.files.locate(key);
    if (located instanceof Promise) return located.then((l) => this.wait(r, key, l, problems));
    this.wait(r, key, located, problems);
  }

  private wait(r: RawRow, key: string, located: string | Failure, problems: ProblemList): void {
    if (typeof located !== 'string') {
      problems.add(problem(located.kind, where(r), pathProblem(r, located.reason)));
      return;
    }
    const w = this.waiting;
    w.rows.push(r);
    w.keys.push(key);
    w.absPaths.push(located);
    w.linked.push(this.files.lastLinked);
    if (w.absPaths.length - this.sent >= FILES_PER_BATCH) this.send();
  }

  private send(): void {
    const end = this.waiting.absPaths.length;
    if (end > this.sent) this.verdicts.push(this.pool.verdicts(this.waiting.absPaths.slice(this.sent, end)));
    this.sent = end;
  }

  /** Finish every queued file in row order, reporting its problems and setting `absPath` on the usable rows. */
  async settle(problems: ProblemList): Promise<void> {
    this.send();
    const { rows, keys, absPaths, linked } = this.waiting;
    let i = 0;
    for (const batch of this.verdicts) {
      for (const verdict of await batch) {
        if (verdict === PLAIN_FILE) this.use(rows[i], absPaths[i], linked[i], problems);
        else {
          const file = await this.files.checkFully(keys[i], absPaths[i], linked[i]);
          if (file.ok) this.use(rows[i], file.absPath, file.linked, problems);
          else problems.add(problem(file.kind, where(rows[i]), pathProblem(rows[i], file.reason)));
        }
        i++;
      }
    }
  }

  /** Give the row its usable file at `absPath`, unless an earlier row reaches the same file (reported). */
  private use(r: RawRow, absPath: string, linked: boolean, problems: ProblemList): void {
    let sameFile = this.linkedFiles.size > 0 ? this.linkedFiles.get(absPath) : undefined;
    if (sameFile === undefined && linked) {
      const unlinked = this.byPath.get(normalizeDataPath(path.relative(this.root, absPath)));
      if (unlinked?.unlinkedFile) sameFile = unlinked;
    }
    if (sameFile !== undefined) {
      problems.add(problem('duplicate-path', where(r), pathProblem(r, `is the same file as "${sameFile.cells.path}" at ${rowRef(sameFile)} (through a symbolic link)`)));
      return;
    }
    if (linked) this.linkedFiles.set(absPath, r);
    else r.unlinkedFile = true;
    r.absPath = absPath;
  }

  /** Ends the file-check threads. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** The rows of one subject under one label: how many, and the first few, to name in a message. */
interface LabelRows {
  count: number;
  named: RawRow[];
}

/**
 * A problem for each subject of `mixed` (those whose rows carry more than one label), naming the
 * first {@link MAX_NAMED_ROWS} rows of each label and counting the rest.
 */
function subjectsWithTwoLabels(rows: RawRow[], mixed: ReadonlySet<string>): ManifestProblem[] {
  if (mixed.size === 0) return [];
  const bySubject = new Map<string, Map<string, LabelRows>>();
  for (const r of rows) {
    const { subject = '', label = '' } = r.cells;
    if (label === '' || !mixed.has(subject)) continue;
    const labels = bySubject.get(subject) ?? new Map<string, LabelRows>();
    const rs = labels.get(label) ?? { count: 0, named: [] };
    rs.count++;
    if (rs.named.length < MAX_NAMED_ROWS) rs.named.push(r);
    labels.set(label, rs);
    bySubject.set(subject, labels);
  }
  return [...bySubject].map(([subject, labels]) => {
    const perLabel = [...labels].map(([l, rs]) => {
      const more = rs.count - rs.named.length;
      return `"${l}" in ${rs.named.map(rowRef).join(', ')}${more > 0 ? ` and ${more} more ${rs.named[0].row !== undefined ? 'rows' : 'photos'}` : ''}`;
    });
    const shown = perLabel.slice(0, MAX_NAMED_VALUES).join('; ');
    const list = perLabel.length > MAX_NAMED_VALUES ? `${shown}; and ${perLabel.length - MAX_NAMED_VALUES} more labels` : shown;
    return { kind: 'subject-two-labels' as const, message: `subject "${subject}" has ${labels.size} labels (${list}); all photos of one person share one label` };
  });
}

/** `lstatSync` returns undefined for a missing entry instead of throwing (cheaper for rows of missing files). */
const NO_THROW_IF_MISSING = { throwIfNoEntry: false } as const;

/**
 * A path found to name a readable file inside the root, or why it does not. `linked` is false when
 * no symbolic link was followed on the way, so that `absPath` is the root joined with the path.
 */
type FileCheck = { ok: true; absPath: string; linked: boolean } | Failure;
/** Why a path cannot be used. */
type Failure = { ok: false; kind: PathProblemKind; reason: string };

/**
 * Checks manifest paths by the rules of `paths.ts` ({@link resolveInside}, {@link checkReadableFile})
 * at a cost a million rows can afford: system calls cost microseconds each, and the checks are most
 * of validation's time. Each folder on the way is resolved once and remembered ({@link locate}). A
 * plain file in a plain folder then costs one `lstat`, made on a file-check thread
 * ({@link FileStatPool}): its read permission comes from the mode bits when they grant reading to
 * this process's user (as owner, group member or other, the order the kernel checks them), and from
 * `access` only when they do not ({@link checkFully}), so root and access control lists that grant
 * more are still honoured. Access control lists or security modules (SELinux, AppArmor) that refuse
 * what the mode bits grant are therefore seen when the photo is opened, as that photo's error, not
 * here. Everything else (a symbolic link, a missing, empty or unreadable entry) goes to
 * `resolveInside` and `checkReadableFile`, so theirs stay the only rules and messages.
 */
class FileChecker {
  private readonly root: string;
  /** Folders by normalised relative path: the real path, or the problem of every path inside. */
  private readonly folders = new Map<string, FileCheck>();
  /** Full checks of files whose `lstat` failed, by error code: the outcome depends on the code alone. */
  private readonly failedLstat = new Map<string, FileCheck>();
  /** The folder of the previous path and its check: rows of one folder tend to come together. */
  private lastDir: string | undefined;
  private lastFolder: FileCheck | undefined;
  private readonly who = currentIdentity();
  private readonly rootPrefix: string;

  constructor(root: string) {
    this.root = root;
    this.rootPrefix = root.endsWith(path.sep) ? root : root + path.sep;
    this.folders.set('', { ok: true, absPath: root, linked: false });
  }

  /**
   * Where the file `key` would be (a path already normalised, {@link normalizeDataPath}, and free
   * of `..` and absolute parts): its absolute path, from its folder alone, or the problem of every
   * path in that folder. Whether a link led to the folder is {@link lastLinked} then. A path in the
   * folder of the previous one is answered at once, without a promise or a new object.
   */
  locate(key: string): string | Failure | Promise<string | Failure> {
    const slash = key.lastIndexOf('/');
    let folder = this.lastFolder;
    if (this.lastDir === undefined || slash !== this.lastDir.length || !key.startsWith(this.lastDir)) {
      const dir = slash === -1 ? '' : key.slice(0, slash);
      folder = this.folders.get(dir);
      if (folder === undefined) return this.folder(dir, key).then(() => this.locate(key));
      this.lastDir = dir;
      this.lastFolder = folder;
    }
    if (!folder!.ok) return folder as Failure;
    // Below a folder reached without links, the path is the root's joined with the key itself.
    return !folder!.linked && path.sep === '/' ? this.rootPrefix + key : `${folder!.absPath}${path.sep}${key.slice(slash + 1)}`;
  }

  /** Whether a symbolic link led to the folder of the path {@link locate} answered last. */
  get lastLinked(): boolean {
    return this.lastFolder?.ok === true && this.lastFolder.linked;
  }

  /** The file `key`, located at `absPath`, that a file-check thread did not find plainly fine. */
  checkFully(key: string, absPath: string, linked: boolean): Promise<FileCheck> {
    let stats: Stats | undefined;
    try {
      stats = lstatSync(absPath, NO_THROW_IF_MISSING);
    } catch (err) {
      return this.afterFailedLstat((err as NodeJS.ErrnoException).code ?? 'unknown', key);
    }
    if (stats === undefined) return this.afterFailedLstat('ENOENT', key);
    if (stats.isSymbolicLink()) return this.full(key);
    const found: FileCheck = { ok: true, absPath, linked };
    if (stats.isFile() && stats.size > 0 && (modeGrantsRead(stats, this.who) || this.accessGrantsRead(absPath))) return Promise.resolve(found);
    return checkReadableFile({ absPath, stats }).then((unusable) => (unusable === undefined ? found : { ok: false, ...unusable }));
  }

  private accessGrantsRead(absPath: string): boolean {
    try {
      accessSync(absPath, constants.R_OK);
      return true;
    } catch {
      return false; // checkReadableFile tells why
    }
  }

  private async afterFailedLstat(code: string, key: string): Promise<FileCheck> {
    let known = this.failedLstat.get(code);
    if (known === undefined) {
      known = await this.full(key);
      this.failedLstat.set(code, known);
    }
    return known;
  }

  /**
   * The folder `dir` (normalised, '' for the root), resolved once. A folder that cannot be
   * resolved, or is not a folder, fails every path inside it alike: the walk to any of them stops
   * at the same part with the same message. So the full check of the first path inside (`inside`)
   * stands for all of them.
   */
  private async folder(dir: string, inside: string): Promise<FileCheck> {
    const known = this.folders.get(dir);
    if (known !== undefined) return known;
    const slash = dir.lastIndexOf('/');
    const parent = await this.folder(slash === -1 ? '' : dir.slice(0, slash), inside);
    let result = parent;
    if (parent.ok) {
      const absPath = path.join(parent.absPath, dir.slice(slash + 1));
      let stats: Stats | undefined;
      try {
        stats = lstatSync(absPath, NO_THROW_IF_MISSING);
      } catch {
        stats = undefined; // resolveInside tells why
      }
      if (stats?.isDirectory()) result = { ok: true, absPath, linked: parent.linked };
      else {
        const resolved = await resolveInside(this.root, dir);
        if (!resolved.ok) result = resolved;
        else if (resolved.stats.isDirectory()) result = { ok: true, absPath: resolved.absPath, linked: true };
        else {
          const first = await this.full(inside);
          result = first.ok ? { ok: true, absPath: resolved.absPath, linked: true } : first;
        }
      }
    }
    this.folders.set(dir, result);
    return result;
  }

  /** The full check of `paths.ts`. */
  private async full(key: string): Promise<FileCheck> {
    const resolved = await resolveInside(this.root, key);
    if (!resolved.ok) return resolved;
    const unusable = await checkReadableFile(resolved);
    return unusable === undefined ? { ok: true, absPath: resolved.absPath, linked: true } : { ok: false, ...unusable };
  }
}

/** Photos and distinct subjects of one group, counted as items go by. */
class Tally {
  photos = 0;
  subjects = 0;
  private readonly seen: Uint8Array;
  constructor(subjectCount: number) {
    this.seen = new Uint8Array(subjectCount);
  }
  add(subjectId: number): void {
    this.photos++;
    if (this.seen[subjectId] === 0) {
      this.seen[subjectId] = 1;
      this.subjects++;
    }
  }
  counts(): Counts {
    return { subjects: this.subjects, photos: this.photos };
  }
}

type ViewKey = View | 'unspecified';

/**
 * Counts per class and view. `ids[i]` is the subject of `items[i]` as a number below
 * `subjectCount`, so that each group counts distinct subjects with a byte per subject.
 */
function summarize(items: DatasetItem[], ids: number[], subjectCount: number): DatasetSummary {
  const tally = <K>(groups: Map<K, Tally>, key: K): Tally => {
    let t = groups.get(key);
    if (t === undefined) groups.set(key, (t = new Tally(subjectCount)));
    return t;
  };
  const total = new Tally(subjectCount);
  const views = new Map<ViewKey, Tally>();
  const classes = new Map<string, Tally>();
  const classViews = new Map<string, Map<ViewKey, Tally>>();
  items.forEach((x, i) => {
    const view = x.view ?? 'unspecified';
    total.add(ids[i]);
    tally(views, view).add(ids[i]);
    tally(classes, x.label).add(ids[i]);
    let classView = classViews.get(x.label);
    if (classView === undefined) classViews.set(x.label, (classView = new Map()));
    tally(classView, view).add(ids[i]);
  });
  const byView = (groups: Map<ViewKey, Tally> | undefined) => {
    const out: Partial<Record<ViewKey, Counts>> = {};
    for (const v of [...VIEWS, 'unspecified'] as const) {
      const t = groups?.get(v);
      if (t !== undefined) out[v] = t.counts();
    }
    return out;
  };
  const byClass: DatasetSummary['byClass'] = nameMap();
  for (const label of [...classes.keys()].sort()) byClass[label] = { ...classes.get(label)!.counts(), byView: byView(classViews.get(label)) };
  return { total: total.counts(), byClass, byView: byView(views) };
}

/**
 * A sha256 identifying the data set's content for reproducibility: over the positive class and,
 * for each photo sorted by normalised path, its path, label, subject and file content hash.
 * `contentHashes` (absPath -> sha256, e.g. from `embedDataset`) spares re-reading files; any
 * photo missing from it is hashed by streaming its file.
 */
export async function datasetHash(dataset: Dataset, contentHashes: ReadonlyMap<string, string> = new Map()): Promise<string> {
  const rows = dataset.items.map((item) => ({ key: normalizeDataPath(item.path), item }));
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const hash = createHash('sha256');
  hash.update(`positive\t${dataset.positive}\n`);
  for (const { key, item } of rows) {
    const content = contentHashes.get(item.absPath) ?? (await hashFile(item.absPath));
    hash.update(`${key}\t${item.label}\t${item.subject}\t${content}\n`);
  }
  return hash.digest('hex');
}
