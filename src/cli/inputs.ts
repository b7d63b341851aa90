/**
 * Turns the command line's images-or-folders into a list of photos. Folders are walked recursively
 * (sorted, hidden entries skipped) and only photos are taken from them (`isWalkedPhoto`: an image
 * extension, and not a heat map `screen --explain` wrote);
 * files named explicitly are always tried, so a bad file becomes a per-file error record, never a
 * silent skip.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { HEATMAP_SUFFIXES, IMAGE_EXTENSIONS, isWalkedPhoto, loadDataset, readManifestTable } from '../data/manifest.ts';
import { lexicalPathProblem, listInside, resolveInside, UnlistedFolderError, type FolderEntry, type RefusedLink } from '../data/paths.ts';
import { notARegularFile, PhenofaceError } from '../errors.ts';


/** One photo to process: `path` as the user wrote it (the contract's `path`), `abs` to open. */
export interface InputItem {
  path: string;
  abs: string;
  /** Why this input is refused before any read (e.g. a manifest path escaping its folder). */
  refused?: PhenofaceError;
}

/** A folder being walked: its real path, where the walk started (real), and the folders already walked. */
interface WalkAt {
  rootReal: string;
  relDir: string;
  visited: Set<string>;
}

/**
 * Walks `dirAbs` (real) for photos. Symbolic links are followed while they stay inside the folder
 * given, as a data-set folder's are (`resolveInside`: nothing outside is opened or stat'ed), so a
 * folder of linked photos is not taken for one without photos; a link named like a photo that
 * leaves the folder or leads nowhere becomes a refused record rather than a silent skip (a link to
 * a folder outside is skipped, as what it leads to is not looked at). A folder reached twice (a
 * link back up the tree) is walked once.
 */
async function walk(dirAbs: string, dirShown: string, out: InputItem[], at: WalkAt): Promise<void> {
  at.visited.add(dirAbs);
  let entries: (FolderEntry | RefusedLink)[];
  try {
    entries = await listInside(at.rootReal, at.relDir, dirAbs);
  } catch (err) {
    // A folder that cannot be listed is a record of its own: the photos beside it still go on.
    if (!(err instanceof UnlistedFolderError)) throw err;
    out.push({ path: dirShown, abs: dirAbs, refused: new PhenofaceError('E_INPUT', `Folder "${dirShown}" ${err.reason}: its photos cannot be listed.`, { cause: err }) });
    return;
  }
  for (const e of entries) {
    const shown = path.join(dirShown, e.name);
    if (e.kind === 'refused') {
      if (isWalkedPhoto(e.name)) out.push({ path: shown, abs: path.join(dirAbs, e.name), refused: new PhenofaceError(e.problem === 'missing-file' ? 'E_NOT_FOUND' : 'E_INPUT', `"${shown}" ${e.reason}.`) });
    } else if (e.kind === 'dir') {
      if (!at.visited.has(e.absPath)) await walk(e.absPath, shown, out, { ...at, relDir: e.rel });
    } else if (e.kind === 'file' && isWalkedPhoto(e.name)) {
      out.push({ path: shown, abs: e.absPath });
    }
  }
}

/**
 * Expands images and folders. A path that does not exist is kept (it fails later as E_NOT_FOUND);
 * a folder without a photo in it (or a folder named like a photo) is refused as E_NOT_FOUND, so it
 * gets its record rather than vanishing from the batch.
 */
export async function expandInputs(args: string[], cwd: string): Promise<InputItem[]> {
  const out: InputItem[] = [];
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    const st = await stat(abs).catch(() => undefined);
    if (!st?.isDirectory()) {
      out.push({ path: arg, abs });
      continue;
    }
    const before = out.length;
    const rootReal = await realpath(abs);
    await walk(rootReal, arg, out, { rootReal, relDir: '', visited: new Set() });
    if (out.length === before) out.push({ path: arg, abs, refused: new PhenofaceError('E_NOT_FOUND', `Folder "${arg}" holds no photo: expected files ending in ${[...IMAGE_EXTENSIONS].join(', ')} (hidden files, heat maps, ${HEATMAP_SUFFIXES.join(' and ')}, and symbolic links to folders outside it are skipped).`) });
  }
  return out;
}

/**
 * The arguments that name folders, which {@link expandInputs} walks for photos: an output inside
 * one would be taken as a photo next time.
 */
export async function folderInputs(args: string[], cwd: string): Promise<{ abs: string; shown: string }[]> {
  const out: { abs: string; shown: string }[] = [];
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    if ((await stat(abs).catch(() => undefined))?.isDirectory()) out.push({ abs, shown: arg });
  }
  return out;
}

/**
 * The photos of a manifest CSV (its `path` column, relative to the manifest's folder), or of a
 * folder laid out as ROOT/<label>/<subject>/<image>. Paths that
 * are absolute, contain `..` or reach outside the folder through a symlink are refused (an
 * `E_MANIFEST` record for that row; the file is never read), as the data layer refuses them.
 * @throws PhenofaceError `E_MANIFEST` for a manifest with no data row (nothing to run on).
 */
export async function manifestInputs(manifest: string, cwd: string): Promise<InputItem[]> {
  const abs = path.resolve(cwd, manifest);
  const st = await stat(abs).catch(() => undefined);
  // A folder laid out as ROOT/<label>/<subject>/<image> stands for a manifest (the contract); its
  // photos' paths are ROOT-relative, as a study of it writes them.
  if (st?.isDirectory()) return (await loadDataset(abs, { manyClasses: true })).items.map((item) => ({ path: item.path, abs: item.absPath }));
  if (!st) throw new PhenofaceError('E_NOT_FOUND', `Manifest "${manifest}" does not exist; expected a CSV file with a "path" column, or a folder laid out as ROOT/<label>/<subject>/<image>.`);
  const kind = notARegularFile(st);
  if (kind) throw new PhenofaceError('E_INPUT', `Manifest "${manifest}" is ${kind}; expected a CSV file with a "path" column, or a folder laid out as ROOT/<label>/<subject>/<image>.`);
  const rows = await readManifestTable(abs, { required: ['path'], expected: 'a "path" column (relative to the manifest)' });
  // A manifest of no photo would otherwise be a run over nothing that exits 0 as if all were done.
  if (rows.length === 0) throw new PhenofaceError('E_MANIFEST', `Manifest "${manifest}" has no data rows below its header; expected one row per photo.`);
  const root = await realpath(path.dirname(abs));
  // A path listed twice would give two records of one photo, which a study from them refuses.
  const firstRow = new Map<string, number>();
  for (const { row, cells } of rows) if (!firstRow.has(cells.path ?? '')) firstRow.set(cells.path ?? '', row);
  return Promise.all(rows.map(async ({ row, cells }): Promise<InputItem> => {
    const p = cells.path ?? '';
    const problem = lexicalPathProblem(p);
    const refuse = (why: string) => ({ path: p, abs: '', refused: new PhenofaceError('E_MANIFEST', `Manifest row ${row}: path "${p}" ${why}.`) });
    if (problem) return refuse(problem);
    if (firstRow.get(p) !== row) return refuse(`is listed again (first at row ${firstRow.get(p)}); each photo once`);
    const resolved = await resolveInside(root, p);
    if (!resolved.ok && resolved.kind === 'path-escape') return refuse(resolved.reason);
    return { path: p, abs: resolved.ok ? resolved.absPath : path.resolve(root, p) };
  }));
}
