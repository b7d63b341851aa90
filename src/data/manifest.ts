/**
 * Data in: a manifest CSV or a `ROOT/<label>/<subject>/<image>` folder (the CLI contract's
 * "Manifest" section) becomes a validated {@link Dataset}. Everything is checked up front and
 * every problem is reported at once with its row and line, so a hospital team fixes its
 * spreadsheet in one pass instead of one error per run.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { VIEWS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import type { View } from '../types.ts';
import { hashFile } from './cache.ts';
import { DEFAULTS } from '../config.ts';
import { checkReadableFile, lexicalPathProblem, normalizeDataPath, resolveInside, type PathProblemKind } from './paths.ts';

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
  /** Optional columns (`age`, `sex`, `ancestry`, `source`) and any extra columns, non-empty cells only. */
  meta: Record<string, string>;
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
}

/** Image file extensions a folder layout picks up (the formats sharp decodes). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);

const REQUIRED = ['path', 'subject', 'label'] as const;

/** A row before validation, from either source. */
interface RawRow {
  row?: number;
  line?: number;
  cells: Record<string, string>;
}

function where(r: { row?: number; line?: number; path?: string }): string {
  if (r.row !== undefined) return `row ${r.row} (line ${r.line})`;
  return r.path !== undefined ? `"${r.path}"` : 'data set';
}

function problem(kind: ManifestProblemKind, at: { row?: number; line?: number; path?: string }, text: string): ManifestProblem {
  return { kind, message: `${where(at)}: ${text}`, row: at.row, line: at.line, path: at.path };
}

/**
 * Load and validate a data set from a manifest CSV or a `ROOT/<label>/<subject>/<image>` folder.
 * Throws one `PhenofaceError('E_MANIFEST')` whose `details` lists every {@link ManifestProblem};
 * `E_NOT_FOUND` when `source` does not exist; `E_INPUT` for contradictory options.
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
  const { rows, problems } = isFolder ? await readFolder(root) : await readManifest(source);
  // Without a readable header the rows cannot be interpreted: report the header problems alone.
  const unreadable = problems.some((p) => p.kind === 'not-csv' || p.kind === 'missing-column' || p.kind === 'duplicate-column');
  const valid = unreadable ? { items: [], positive: '', negative: '' } : await validateRows(root, rows, opts, problems);
  if (opts.requireBothClasses && valid.items.length > 0) {
    for (const label of [valid.positive, valid.negative]) {
      if (!valid.items.some((i) => i.label === label)) problems.push({ kind: 'classes', message: `no usable photos of class "${label}"; a study needs photos of both "${valid.positive}" and "${valid.negative}"` });
    }
  }
  if (problems.length === 0 && valid.items.length === 0) problems.push({ kind: 'empty', message: isFolder ? 'no images found under ROOT/<label>/<subject>/' : 'no data rows below the header' });
  if (problems.length > 0) throw manifestError(isFolder ? root : path.resolve(source), problems);
  return {
    root,
    ...(isFolder ? {} : { manifestPath: path.resolve(source) }),
    positive: valid.positive,
    negative: valid.negative,
    items: valid.items,
    summary: summarize(valid.items),
  };
}

function manifestError(source: string, problems: ManifestProblem[]): PhenofaceError {
  const order = (p: ManifestProblem) => p.row ?? (p.path === undefined ? -1 : 0);
  const sorted = [...problems].sort((a, b) => order(a) - order(b));
  const max = DEFAULTS.data.maxListedProblems;
  const lines = sorted.slice(0, max).map((p) => `  - ${p.message}`);
  if (sorted.length > max) lines.push(`  ... and ${sorted.length - max} more`);
  const n = sorted.length;
  return new PhenofaceError('E_MANIFEST', `Data set "${source}" has ${n} problem${n === 1 ? '' : 's'}:\n${lines.join('\n')}`, { details: sorted });
}

/** Decode manifest bytes: UTF-8 (BOM optional), UTF-16 with BOM, else Windows-1252 (old Excel). */
function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/** The delimiter of the header line: `,` unless `;` or tab occur more often (European Excel). */
function sniffDelimiter(text: string): string {
  const header = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const count = (d: string) => header.split(d).length - 1;
  return [';', '\t'].reduce((best, d) => (count(d) > count(best) ? d : best), ',');
}

/** A parsed CSV record with the line it starts on, or a record csv-parse could not read. */
type CsvEntry = { record: string[]; line: number } | { error: string; line: number };

/**
 * Parse LF-only CSV text into records, going on after malformed ones. csv-parse's own recovery
 * stays inside a broken quote to the end of the file, so after the first error the text is parsed
 * again from the line after the broken record's first line.
 */
function parseRecords(text: string): CsvEntry[] {
  const lines = text.split('\n');
  const delimiter = sniffDelimiter(text);
  const entries: CsvEntry[] = [];
  let offset = 0; // lines before the chunk being parsed
  while (offset < lines.length) {
    let failure: { message: string } | undefined;
    let lastEnd = offset; // last line of the last good record, in file lines
    const records = parse(lines.slice(offset).join('\n'), {
      delimiter,
      record_delimiter: '\n',
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        failure ??= { message: err ? err.message.replace(/ at line \d+/, '') : 'unreadable record' };
        return undefined;
      },
      on_record: (rec) => (failure ? null : rec),
    }) as unknown as { record: string[]; info: { lines: number } }[];
    for (const { record, info } of records) {
      const end = offset + info.lines;
      entries.push({ record, line: end - (record.join('').split('\n').length - 1) });
      lastEnd = end;
    }
    if (!failure) break;
    // The broken record starts on the first non-blank line after the last good one.
    let start = lastEnd + 1;
    while (start <= lines.length && lines[start - 1].trim() === '') start++;
    entries.push({ error: failure.message, line: start });
    offset = start;
  }
  return entries;
}

async function readManifest(file: string): Promise<{ rows: RawRow[]; problems: ManifestProblem[] }> {
  const problems: ManifestProblem[] = [];
  let bytes: Uint8Array;
  try {
    // Look at the first 64 KiB before reading it all: a photo or video given as manifest is refused cheaply.
    const handle = await open(file, 'r');
    try {
      const head = new Uint8Array(65536);
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      const isUtf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
      if (!isUtf16 && head.subarray(0, bytesRead).includes(0)) {
        return { rows: [], problems: [{ kind: 'not-csv', message: 'the file is binary (it holds NUL bytes), not a CSV text file' }] };
      }
    } finally {
      await handle.close();
    }
    bytes = await readFile(file);
  } catch (err) {
    throw new PhenofaceError('E_INPUT', `Cannot read manifest "${file}": ${(err as Error).message}.`, { cause: err });
  }
  const decoded = decodeText(bytes);
  if (decoded === undefined) return { rows: [], problems: [{ kind: 'not-csv', message: 'the file is binary (it holds NUL bytes), not a CSV text file' }] };
  // One line ending for the parser: CRLF, LF and CR files alike (csv-parse miscounts lines on CRLF).
  const text = decoded.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const entries = parseRecords(text).filter((e) => 'error' in e || e.record.some((c) => c.trim() !== ''));
  if (entries.length === 0) return { rows: [], problems: [{ kind: 'empty', message: 'the file holds no header row' }] };
  const [header, ...data] = entries;
  if ('error' in header) return { rows: [], problems: [{ kind: 'parse-error', line: header.line, message: `header (line ${header.line}): ${header.error}` }] };

  const names = header.record.map((c) => c.trim().toLowerCase());
  const seen = new Set<string>();
  for (const name of names) {
    if (name !== '' && seen.has(name)) problems.push({ kind: 'duplicate-column', line: header.line, message: `header (line ${header.line}): column "${name}" appears twice` });
    seen.add(name);
  }
  const missing = REQUIRED.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    problems.push({
      kind: 'missing-column',
      line: header.line,
      message: `header (line ${header.line}): missing required column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}; found ${names.map((n) => `"${n}"`).join(', ')}; expected path, subject, label (and optionally view, age, sex, ancestry, source)`,
    });
  }
  const rows: RawRow[] = [];
  data.forEach((entry, i) => {
    const at = { row: i + 1, line: entry.line };
    if ('error' in entry) {
      problems.push(problem('parse-error', at, entry.error));
      return;
    }
    const cells: Record<string, string> = {};
    names.forEach((name, k) => {
      if (name !== '' && entry.record[k] !== undefined) cells[name] = entry.record[k].trim();
    });
    // Fewer fields are fine (trailing optional columns left out; a missing required cell is
    // reported as empty); more non-empty fields than columns mean a shifted row, e.g. an unquoted comma.
    if (entry.record.slice(names.length).some((c) => c.trim() !== '')) {
      problems.push(problem('field-count', at, `has ${entry.record.length} fields; the header has ${names.length} (a comma inside a value needs "quotes")`));
    }
    rows.push({ ...at, cells });
  });
  return { rows, problems };
}

async function readFolder(root: string): Promise<{ rows: RawRow[]; problems: ManifestProblem[] }> {
  const rows: RawRow[] = [];
  const problems: ManifestProblem[] = [];
  const layout = 'expected ROOT/<label>/<subject>/<image>';

  /** Visible entries of a folder as [name, kind], following in-root symlinks; escapes become problems. */
  async function entries(rel: string): Promise<[string, 'dir' | 'file' | 'other'][]> {
    let dir = root;
    if (rel !== '') {
      const resolved = await resolveInside(root, rel);
      if (!resolved.ok) return []; // already reported when its own entry was listed
      dir = resolved.absPath;
    }
    const list = await readdir(dir, { withFileTypes: true });
    const out: [string, 'dir' | 'file' | 'other'][] = [];
    for (const e of list.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const entryRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isSymbolicLink()) {
        const r = await resolveInside(root, entryRel);
        if (!r.ok) {
          problems.push(problem(r.kind, { path: entryRel }, r.reason));
          continue;
        }
        out.push([e.name, r.stats.isDirectory() ? 'dir' : r.stats.isFile() ? 'file' : 'other']);
      } else out.push([e.name, e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other']);
    }
    return out;
  }
  const isImage = (name: string) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

  for (const [label, kind] of await entries('')) {
    if (kind !== 'dir') {
      if (isImage(label)) problems.push(problem('layout', { path: label }, `image directly in ROOT; ${layout}`));
      continue;
    }
    for (const [subject, kind2] of await entries(label)) {
      const rel2 = `${label}/${subject}`;
      if (kind2 !== 'dir') {
        if (isImage(subject)) problems.push(problem('layout', { path: rel2 }, `image outside a subject folder; ${layout}`));
        continue;
      }
      for (const [file, kind3] of await entries(rel2)) {
        const rel3 = `${rel2}/${file}`;
        if (kind3 === 'dir') problems.push(problem('layout', { path: rel3 }, `folder nested inside a subject folder; ${layout}`));
        else if (isImage(file)) rows.push({ cells: { path: rel3, subject, label } });
      }
    }
  }
  return { rows, problems };
}

/** Pick the two classes and the positive one (see {@link LoadDatasetOptions}). */
function resolveClasses(opts: LoadDatasetOptions, labelsSeen: Map<string, number[]>, problems: ManifestProblem[]): { positive: string; negative: string } {
  const [defaultPositive, defaultNegative] = DEFAULTS.data.classes;
  if (opts.positive !== undefined && opts.positive.trim() === '') throw new PhenofaceError('E_INPUT', 'Invalid --positive "": expected a class name.');
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
  if (others.length > 1) {
    const list = others.map((l) => `"${l}" (${labelsSeen.get(l)!.length} rows, first row ${labelsSeen.get(l)![0]})`).join(', ');
    problems.push({ kind: 'classes', message: `expected exactly two classes, the positive "${positive}" and one other; found ${others.length} others: ${list}` });
  }
  return { positive, negative: others[0] ?? defaultNegative };
}

async function validateRows(root: string, rows: RawRow[], opts: LoadDatasetOptions, problems: ManifestProblem[]) {
  const labelsSeen = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const label = r.cells.label ?? '';
    if (label !== '') labelsSeen.set(label, [...(labelsSeen.get(label) ?? []), r.row ?? i + 1]);
  });
  const { positive, negative } = resolveClasses(opts, labelsSeen, problems);
  const classesOk = !problems.some((p) => p.kind === 'classes');

  const items: DatasetItem[] = [];
  const byPath = new Map<string, RawRow & { written: string }>();
  const byRealPath = new Map<string, RawRow & { written: string }>();
  const subjectLabels = new Map<string, Map<string, RawRow[]>>();
  const ref = (r: RawRow & { written: string }) => (r.row !== undefined ? `row ${r.row} (line ${r.line})` : `"${r.written}"`);

  for (const r of rows) {
    const at = { row: r.row, line: r.line, path: r.row === undefined ? r.cells.path : undefined };
    let ok = true;
    for (const col of REQUIRED) {
      if ((r.cells[col] ?? '') === '') {
        problems.push(problem('empty-cell', at, `empty "${col}" cell; every row needs a path, a subject and a label`));
        ok = false;
      }
    }
    const { path: written = '', subject = '', label = '' } = r.cells;
    if (label !== '' && classesOk && label !== positive && label !== negative) {
      problems.push(problem('unknown-label', at, `unknown label "${label}"; expected one of: ${positive}, ${negative}`));
      ok = false;
    }
    let view: View | undefined;
    const viewCell = (r.cells.view ?? '').toLowerCase();
    if (viewCell !== '') {
      if ((VIEWS as readonly string[]).includes(viewCell)) view = viewCell as View;
      else {
        problems.push(problem('invalid-view', at, `invalid view "${r.cells.view}"; expected one of: ${VIEWS.join(', ')} (or empty to estimate it)`));
        ok = false;
      }
    }
    if (subject !== '' && label !== '') {
      const labels = subjectLabels.get(subject) ?? new Map<string, RawRow[]>();
      labels.set(label, [...(labels.get(label) ?? []), r]);
      subjectLabels.set(subject, labels);
    }
    if (written === '') continue;
    // A folder row's location is its path already; a manifest row's message names the path.
    const named = r.row !== undefined ? `path "${written}" ` : '';

    const lexical = lexicalPathProblem(written);
    if (lexical !== undefined) {
      problems.push(problem('path-escape', at, `${named}${lexical}`));
      continue;
    }
    const key = normalizeDataPath(written);
    const first = byPath.get(key);
    if (first !== undefined) {
      problems.push(problem('duplicate-path', at, `${named}is listed again; first at ${ref(first)}`));
      continue;
    }
    byPath.set(key, { ...r, written });
    const resolved = await resolveInside(root, key);
    const fileProblem = resolved.ok ? await checkReadableFile(resolved) : resolved;
    if (fileProblem !== undefined) {
      problems.push(problem(fileProblem.kind, at, `${named}${fileProblem.reason}`));
      continue;
    }
    const absPath = (resolved as { absPath: string }).absPath;
    const sameFile = byRealPath.get(absPath);
    if (sameFile !== undefined) {
      problems.push(problem('duplicate-path', at, `${named}is the same file as "${sameFile.written}" at ${ref(sameFile)} (through a symbolic link)`));
      continue;
    }
    byRealPath.set(absPath, { ...r, written });
    if (!ok) continue;
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.cells)) if (!['path', 'subject', 'label', 'view'].includes(k) && v !== '') meta[k] = v;
    items.push({ path: written, absPath, subject, label, y: label === positive ? 1 : 0, ...(view ? { view } : {}), meta });
  }

  for (const [subject, labels] of subjectLabels) {
    if (labels.size < 2) continue;
    const list = [...labels].map(([l, rs]) => `"${l}" in ${rs.map((x) => ref({ ...x, written: x.cells.path })).join(', ')}`).join('; ');
    problems.push({ kind: 'subject-two-labels', message: `subject "${subject}" has ${labels.size} labels (${list}); all photos of one person share one label` });
  }
  return { items, positive, negative };
}

function summarize(items: DatasetItem[]): DatasetSummary {
  const count = (xs: DatasetItem[]): Counts => ({ subjects: new Set(xs.map((x) => x.subject)).size, photos: xs.length });
  const byView = (xs: DatasetItem[]) => {
    const out: Partial<Record<View | 'unspecified', Counts>> = {};
    for (const v of [...VIEWS, 'unspecified'] as const) {
      const sel = xs.filter((x) => (x.view ?? 'unspecified') === v);
      if (sel.length > 0) out[v] = count(sel);
    }
    return out;
  };
  const byClass: DatasetSummary['byClass'] = {};
  for (const label of [...new Set(items.map((x) => x.label))].sort()) {
    const sel = items.filter((x) => x.label === label);
    byClass[label] = { ...count(sel), byView: byView(sel) };
  }
  return { total: count(items), byClass, byView: byView(items) };
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
