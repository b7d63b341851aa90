/**
 * Synth's input: control photos with subject ids and no labels, from either
 * - a manifest CSV with columns `path`, `subject` and optionally `view` (plus `age`, `sex`,
 *   `ancestry`, `source`, carried over; a `label` column is ignored: every input photo is a control), or
 * - a folder `ROOT/<subject>/.../<photo>`: the first folder level names the subject, and a deeper
 *   folder named `frontal`, `oblique` or `profile` gives the view (so CFP's
 *   `Images/<id>/{frontal,profile}/` is read as it is). A second-level folder that is not a view
 *   and holds photos is refused: it is what the study's labelled layout
 *   `ROOT/<label>/<subject>/<photo>` looks like, in which every label folder would be one person.
 *
 * `loadDataset` (src/data) does not fit: it requires labels and refuses the whole data set for one
 * missing file, whereas synth treats each bad row as a per-file error record and goes on. Path
 * safety is shared with it (`lexicalPathProblem`, `resolveInside`).
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { VIEWS } from '../../config.ts';
import { isWalkedPhoto, readManifestTable } from '../../data/manifest.ts';
import { lexicalPathProblem, listInside, resolveInside, UnlistedFolderError, type FolderEntry, type RefusedLink } from '../../data/paths.ts';
import { PhenofaceError, type ErrorCode } from '../../errors.ts';
import type { View } from '../../types.ts';

/** Optional manifest columns synth copies to its output manifest. */
export const PASSTHROUGH_COLUMNS = ['age', 'sex', 'ancestry', 'source'] as const;

/** One input photo. */
export interface SynthRow {
  /** The path as written in the manifest (or relative to the folder's ROOT). */
  path: string;
  /** Absolute path to open. */
  absPath: string;
  subject: string;
  view?: View;
  /** Pass-through columns, non-empty cells only. */
  meta?: Record<string, string>;
  /** The manifest row (from 1, below the header) it was read from; absent for a folder's photos. */
  row?: number;
}

/** A row that cannot be used, as a contract error record. */
export interface RowError {
  path: string;
  subject?: string;
  error: { code: ErrorCode; message: string };
}

/** Synth's input after reading. */
export interface SynthInput {
  /** The manifest file or ROOT folder, absolute, as given. */
  source: string;
  /** Whether `source` is a manifest or a folder that is walked for photos. */
  layout: 'manifest' | 'folder';
  /** Real path of the manifest's folder or of ROOT. */
  root: string;
  rows: SynthRow[];
  errors: RowError[];
}

function asView(value: string | undefined): View | undefined | 'invalid' {
  if (value === undefined || value === '') return undefined;
  return (VIEWS as readonly string[]).includes(value) ? (value as View) : 'invalid';
}

/**
 * Reads a manifest CSV or a `ROOT/<subject>/...` folder. Throws E_NOT_FOUND when `source` does not
 * exist and E_MANIFEST when the CSV itself is unusable (not CSV, no `path` or `subject` column, no
 * rows) or the folder is laid out as `ROOT/<label>/<subject>/<photo>`; a bad row becomes an entry
 * of `errors`.
 */
export async function readSynthInput(source: string): Promise<SynthInput> {
  const st = await stat(source).catch((err) => {
    throw new PhenofaceError('E_NOT_FOUND', `Input "${source}" does not exist; expected a manifest CSV (path,subject[,view]) or a folder ROOT/<subject>/<photo>.`, { cause: err });
  });
  const read = st.isDirectory() ? await readFolder(source) : await readManifest(source);
  read.rows = withoutRepeats(read.rows, read.errors);
  if (read.rows.length === 0 && read.errors.length === 0) {
    throw new PhenofaceError('E_MANIFEST', st.isDirectory() ? `No photos found under "${source}"; expected ROOT/<subject>/<photo>.` : `Manifest "${source}" has no data rows below its header.`);
  }
  return { source: path.resolve(source), layout: st.isDirectory() ? 'folder' : 'manifest', ...read };
}

/**
 * The rows with each file once: a later row that reaches the file of an earlier one (its path
 * written again or spelt otherwise, or a symbolic link to it; `absPath` is the real path) becomes
 * an E_MANIFEST record. Planted twice, one photo would be two photos of a person, or two people, one
 * of them perhaps planted and the other not, in a data set whose study takes them for independent.
 */
function withoutRepeats(rows: SynthRow[], errors: RowError[]): SynthRow[] {
  const first = new Map<string, SynthRow>();
  const kept: SynthRow[] = [];
  for (const r of rows) {
    const earlier = first.get(r.absPath);
    if (earlier === undefined) {
      first.set(r.absPath, r);
      kept.push(r);
      continue;
    }
    const at = (x: SynthRow) => (x.row !== undefined ? `row ${x.row}'s "${x.path}"` : `"${x.path}"`);
    errors.push({
      path: r.path,
      subject: r.subject,
      error: { code: 'E_MANIFEST', message: `${r.row !== undefined ? `row ${r.row}: ` : ''}"${r.path}" is the same photo as ${at(earlier)} (subject "${earlier.subject}"); it is planted once, as the first. Should list each photo once.` },
    });
  }
  return kept;
}

/** Synth's manifest columns: a photo and its person; no label (every input photo is a control). */
const SYNTH_COLUMNS = { required: ['path', 'subject'], expected: 'path, subject and optionally view' };

async function readManifest(file: string): Promise<Omit<SynthInput, 'source' | 'layout'>> {
  const root = await realpath(path.dirname(path.resolve(file)));
  const records = await readManifestTable(file, SYNTH_COLUMNS);
  const rows: SynthRow[] = [];
  const errors: RowError[] = [];
  for (const { row, cells: r } of records) {
    const where = `row ${row}`;
    const rel = r.path ?? '';
    const subject = r.subject ?? '';
    const fail = (code: ErrorCode, message: string) => errors.push({ path: rel, ...(subject && { subject }), error: { code, message: `${where}: ${message}` } });
    if (rel === '' || subject === '') { fail('E_MANIFEST', `empty ${rel === '' ? 'path' : 'subject'}; every row needs both.`); continue; }
    const view = asView(r.view);
    if (view === 'invalid') { fail('E_MANIFEST', `invalid view "${r.view}". Should be one of: ${VIEWS.join(', ')}.`); continue; }
    const lexical = lexicalPathProblem(rel);
    if (lexical) { fail('E_MANIFEST', `path "${rel}" ${lexical}.`); continue; }
    const resolved = await resolveInside(root, rel);
    if (!resolved.ok) { fail(resolved.kind === 'missing-file' ? 'E_NOT_FOUND' : 'E_MANIFEST', `path "${rel}" ${resolved.reason}.`); continue; }
    const meta: Record<string, string> = {};
    for (const c of PASSTHROUGH_COLUMNS) if (r[c]) meta[c] = r[c];
    rows.push({ path: rel, absPath: resolved.absPath, subject, row, ...(view && { view }), ...(Object.keys(meta).length > 0 && { meta }) });
  }
  return { root, rows, errors };
}

async function readFolder(dir: string): Promise<Omit<SynthInput, 'source' | 'layout'>> {
  const root = await realpath(dir);
  const rows: SynthRow[] = [];
  const errors: RowError[] = [];
  // Symbolic links are followed while they stay inside the folder (as a study's folder layout
  // follows them: nothing outside is opened or stat'ed), so linked photos are not taken for none; a
  // link named like a photo that leaves the folder or leads nowhere is that photo's error.
  const visited = new Set<string>();
  const entries = async (relDir: string, dir: string): Promise<FolderEntry[]> => {
    visited.add(dir);
    let listed: (FolderEntry | RefusedLink)[];
    try {
      listed = await listInside(root, relDir, dir);
    } catch (err) {
      if (!(err instanceof UnlistedFolderError)) throw err;
      const shown = relDir === '' ? '.' : relDir;
      errors.push({ path: shown, error: { code: 'E_INPUT', message: `"${shown}" ${err.reason}: its photos cannot be listed.` } });
      return [];
    }
    const found: FolderEntry[] = [];
    for (const e of listed) {
      if (e.kind !== 'refused') found.push(e);
      else if (isWalkedPhoto(e.name)) errors.push({ path: e.rel, error: { code: e.problem === 'missing-file' ? 'E_NOT_FOUND' : 'E_MANIFEST', message: `"${e.rel}" ${e.reason}.` } });
    }
    return found;
  };
  const walk = async (subject: string, relDir: string, dir: string, view: View | undefined) => {
    if (visited.has(dir)) return;
    for (const e of await entries(relDir, dir)) {
      if (e.kind === 'dir') {
        const v = asView(e.name);
        await walk(subject, e.rel, e.absPath, v === undefined || v === 'invalid' ? view : v);
      } else if (e.kind === 'file' && isWalkedPhoto(e.name)) {
        rows.push({ path: e.rel, absPath: e.absPath, subject, ...(view && { view }) });
      }
    }
  };
  for (const e of await entries('', root)) {
    if (e.kind === 'dir') await walk(e.name, e.rel, e.absPath, undefined);
    else if (e.kind === 'file' && isWalkedPhoto(e.name)) {
      errors.push({ path: e.name, error: { code: 'E_MANIFEST', message: `"${e.name}" is not inside a subject folder; expected ROOT/<subject>/<photo>.` } });
    }
  }
  refuseLabelledLayout(dir, rows);
  return { root, rows, errors };
}

/**
 * Refuses a folder whose first-level folders hold photos in second-level folders that are not
 * views: the study's layout `ROOT/<label>/<subject>/<photo>`. Read as synth's
 * `ROOT/<subject>/...`, every label folder would be one person, so the planting would be dealt per
 * label and a subject-grouped study of the output would mean nothing. View names are matched
 * without case here so that a `Frontal` folder is not taken for a person.
 * @throws PhenofaceError `E_MANIFEST` naming the folders found and what synth reads instead.
 */
function refuseLabelledLayout(source: string, rows: readonly SynthRow[]): void {
  const nested = new Map<string, Set<string>>();
  for (const r of rows) {
    const [first, second, ...rest] = r.path.split('/');
    if (rest.length === 0 || (VIEWS as readonly string[]).includes(second.toLowerCase())) continue;
    nested.set(first, (nested.get(first) ?? new Set()).add(second));
  }
  if (nested.size === 0) return;
  const entries = [...nested];
  const shown = entries.slice(0, 3).map(([first, seconds]) => `"${first}" (${seconds.size} such folder${seconds.size === 1 ? '' : 's'}, e.g. "${first}/${[...seconds][0]}")`);
  const more = entries.length > 3 ? ` and ${entries.length - 3} more` : '';
  const example = entries.find(([first]) => first.toLowerCase() === 'control')?.[0] ?? entries[0][0];
  throw new PhenofaceError('E_MANIFEST', [
    `Folder "${source}" holds photos in folders two levels down that are not views (${VIEWS.join(', ')}): in ${shown.join(', ')}${more}.`,
    'That looks like the labelled layout ROOT/<label>/<subject>/<photo>, in which synth would take each first-level folder for one person.',
    `Synth reads control photos as ROOT/<subject>/<photo> or ROOT/<subject>/<view>/<photo>: pass one label's folder (e.g. "${path.join(source, example)}"), or a manifest CSV (path,subject[,view]).`,
  ].join(' '));
}
