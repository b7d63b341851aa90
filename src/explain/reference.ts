/**
 * The control reference of contrastive HiResCAM, kept beside a model bundle so that `screen` and
 * the web app can draw the map the study recommends: the mean map of the study's control faces on
 * the backbone's finer Grad-CAM layer (`DEFAULTS.explain.fineLayer`), written by `study` as
 * `model/explain-reference.json` (base64 little-endian float32, with its shape, layer and backbone).
 * The file names the bundle it was made with (the bundle's `id`), and is refused beside another one.
 * A bundle without it (older bundles, studies run without explanations) still screens and explains,
 * with plain HiResCAM instead of the contrastive map.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';
import { optionalBundleFile, readBundleObject } from './side-file.ts';

/** File name of the reference inside the bundle folder. */
export const REFERENCE_FILE = 'explain-reference.json';

/** The reference map and where it belongs. */
export interface ExplainReference {
  backbone: string;
  /** The backbone tensor the map was taken from. */
  layer: string;
  /** `[c, h, w]`. */
  dims: [number, number, number];
  /** Control faces averaged. */
  faces: number;
  /** The `id` of the model bundle it belongs to (files written by earlier versions have none). */
  bundleId?: string;
  data: Float32Array;
}

/** Writes `reference` into the bundle folder `dir` (the model card says what it holds: `referenceCardNote`). */
export async function saveReference(dir: string, reference: ExplainReference): Promise<string> {
  const file = path.join(dir, REFERENCE_FILE);
  const bytes = Buffer.from(reference.data.buffer, reference.data.byteOffset, reference.data.byteLength);
  const { data: _omit, ...meta } = reference;
  await writeFile(file, JSON.stringify({ contract: 1, ...meta, encoding: 'float32-le-base64', data: bytes.toString('base64') }) + '\n');
  return file;
}

/**
 * What the model card says of the reference beside the bundle: it is an average of the study's
 * control faces' deep features, which whoever receives the bundle should know before sharing it.
 */
export function referenceCardNote(reference: Pick<ExplainReference, 'dims' | 'layer' | 'faces'>): string {
  return `\`${REFERENCE_FILE}\` holds the mean ${reference.dims.join('x')} feature map (backbone layer \`${reference.layer}\`) of ${reference.faces} control face${reference.faces === 1 ? '' : 's'} from the study, the reference of contrastive HiResCAM in \`screen --explain\` and the web app. It is an average of the training photos' deep features: share it only where the training photos could be shared, or delete it (screening then explains with plain HiResCAM).`;
}

/**
 * Reads the bundle folder's reference; undefined when there is none, or when it was made on
 * another layer of the backbone (a file from an earlier version: screening then draws plain
 * HiResCAM, and says so in `cam`; re-running the study writes a current one). E_MODEL when the
 * file is malformed or belongs to another backbone or bundle (`bundleId`, when both name one).
 */
export async function loadReference(dir: string, backbone: string, layer: string, bundleId?: string): Promise<ExplainReference | undefined> {
  const file = path.join(dir, REFERENCE_FILE);
  const bad = (why: string) => referenceError(file, why);
  if (!(await optionalBundleFile(file, bad))) return undefined;
  const j: { backbone?: unknown; layer?: unknown; dims?: unknown; faces?: unknown; bundleId?: unknown; data?: unknown } = await readBundleObject(file, bad);
  if (j.backbone !== backbone) throw bad(`it is for backbone "${String(j.backbone)}", not "${backbone}"`);
  if (j.layer !== layer) return undefined;
  if (bundleId !== undefined && j.bundleId !== undefined && j.bundleId !== bundleId) throw bad(`it was made with model ${String(j.bundleId)}, not this one (${bundleId})`);
  const dims = j.dims;
  if (!Array.isArray(dims) || dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) throw bad('"dims" should be three positive integers');
  if (typeof j.data !== 'string') throw bad('"data" is missing');
  const bytes = Buffer.from(j.data, 'base64');
  const n = dims[0] * dims[1] * dims[2];
  if (bytes.length !== 4 * n) throw bad(`"data" holds ${bytes.length} bytes, expected ${4 * n}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(4 * i);
  if (!data.every(Number.isFinite)) throw bad('"data" holds non-finite values');
  return { backbone, layer, dims: dims as [number, number, number], faces: Number(j.faces) || 0, ...(typeof j.bundleId === 'string' ? { bundleId: j.bundleId } : {}), data };
}

/**
 * E_MODEL unless the reference `file` holds a map of the shape the backbone's layer gives (`map`,
 * `[c, h, w]`). Its own dims are only checked against its data when read: a file edited, or made
 * on another build of the network, would otherwise fail each photo's explanation as a programming
 * error, naming neither the file nor the remedy.
 */
export function checkReferenceShape(reference: Pick<ExplainReference, 'dims'>, map: { c: number; h: number; w: number }, file: string): void {
  const [c, h, w] = reference.dims;
  if (c === map.c && h === map.h && w === map.w) return;
  throw referenceError(file, `its map is ${c}x${h}x${w}, but the backbone's layer gives ${map.c}x${map.h}x${map.w}`);
}

/** E_MODEL for a reference file that cannot serve, saying why and what to do. */
function referenceError(file: string, why: string): PhenofaceError {
  return new PhenofaceError('E_MODEL', `Invalid explanation reference ${file}: ${why}. Expected the file \`phenoface study\` writes for this model; delete it to screen without the contrastive map.`);
}
