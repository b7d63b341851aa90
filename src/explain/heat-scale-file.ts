/**
 * The study's shared heat-map colour scale as a file beside the model bundle,
 * `model/explain-scale.json` (see `heat-scale.ts`): written by `study`, read by screening.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';
import type { StudyHeatScale } from './heat-scale.ts';
import { optionalBundleFile, readBundleObject } from './side-file.ts';

/** File name of the scale inside the bundle folder. */
export const HEAT_SCALE_FILE = 'explain-scale.json';

/**
 * Writes the scale, with the study's checks of its map, into the bundle folder `dir` (the model card
 * says when the checks failed: `heatMapChecksNote`).
 */
export async function saveHeatScale(dir: string, scale: StudyHeatScale): Promise<string> {
  if (!(Number.isFinite(scale.top) && scale.top > 0)) throw new PhenofaceError('E_INPUT', `Invalid heat scale top: ${scale.top}. Expected a positive number (the study's positive-class photos had no heat).`);
  const file = path.join(dir, HEAT_SCALE_FILE);
  await writeFile(file, JSON.stringify({ contract: 1, ...scale }, null, 1) + '\n');
  return file;
}

/**
 * Reads the bundle folder's scale; undefined when there is none. E_MODEL when the file is
 * malformed or belongs to another backbone or bundle (`bundleId`, when both name one).
 */
export async function loadHeatScale(dir: string, backbone: string, bundleId?: string): Promise<StudyHeatScale | undefined> {
  const file = path.join(dir, HEAT_SCALE_FILE);
  const bad = (why: string) => new PhenofaceError('E_MODEL', `Invalid heat-map scale ${file}: ${why}. Expected the file \`phenoface study\` writes for this model; delete it to draw each photo on its own scale.`);
  if (!(await optionalBundleFile(file, bad))) return undefined;
  const j: Partial<Record<keyof StudyHeatScale, unknown>> = await readBundleObject(file, bad);
  if (j.backbone !== backbone) throw bad(`it is for backbone "${String(j.backbone)}", not "${backbone}"`);
  if (bundleId !== undefined && j.bundleId !== undefined && j.bundleId !== bundleId) throw bad(`it was made with model ${String(j.bundleId)}, not this one (${bundleId})`);
  const { cam, top, percentile, photos, controlScore, checks } = j;
  if (typeof cam !== 'string') throw bad('"cam" is missing');
  if (typeof top !== 'number' || !(Number.isFinite(top) && top > 0)) throw bad(`"top" is ${JSON.stringify(top)}, expected a positive number`);
  if (typeof percentile !== 'number' || !(percentile > 0 && percentile < 1)) throw bad(`"percentile" is ${JSON.stringify(percentile)}, expected a number in (0, 1)`);
  if (!Number.isInteger(photos) || (photos as number) < 1) throw bad(`"photos" is ${JSON.stringify(photos)}, expected a positive integer`);
  if (typeof controlScore !== 'number' || !Number.isFinite(controlScore)) throw bad(`"controlScore" is ${JSON.stringify(controlScore)}, expected a number`);
  if (checks !== undefined && !(Array.isArray(checks) && checks.every(isCheck))) throw bad('"checks" is not a list of {"name", "passed": true, false or null}');
  return { backbone, cam, top, percentile, photos: photos as number, controlScore, ...(typeof j.bundleId === 'string' ? { bundleId: j.bundleId } : {}), ...(checks ? { checks: checks as StudyHeatScale['checks'] } : {}) };
}

/** One entry of the scale's `checks`. */
function isCheck(c: unknown): boolean {
  const o = c as { name?: unknown; passed?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.name === 'string' && (typeof o.passed === 'boolean' || o.passed === null);
}
