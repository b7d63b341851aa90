/**
 * Precomputed embeddings in: the JSON lines that `phenoface embed` writes (`path`, `embedding`,
 * optional `backbone`, `face`, `view`, `quality` (the face's quality flags), `secondEmbedding` (the
 * second network's vector, one network and one dimension across the file, as the first's), or `path`
 * with an `error` for a photo without a usable face), read in place of the photos. This is how sites
 * pool a study without sharing pixels: each runs `embed` on its own photos and sends the vectors,
 * which are not faces.
 *
 * The whole file is checked before anything runs, and every problem is listed with its line (the
 * first few in the message, the first 1,000 in the error's `details`), as a manifest's are. Any
 * dimension up to `data.maxEmbeddingDim` is accepted, provided all records share it; the expected
 * one is the most common, so one odd line is named rather than every other. Vectors are
 * L2-normalised on reading, as the pipeline's are (ArcFace: Deng et al. 2019; embeddings compare
 * as unit vectors): the classifiers, the leakage check and a bundle then see the same scale
 * whichever tool wrote them.
 *
 * The file is read as bytes, not through `readline`: a line longer than {@link MAX_LINE_BYTES} is
 * counted and skipped, never held (parsed whole, a 100 MB line costs 800 MB), and each line is decoded as
 * strict UTF-8, so a byte that is not UTF-8 is named with its line instead of turning a path into
 * another one. Messages show a bad value's kind and a bounded excerpt, never the value whole.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS, VIEWS } from '../config.ts';
import { notARegularFile, PhenofaceError, type ErrorCode } from '../errors.ts';
import { unitVector } from '../math/vector.ts';
import { QUALITY_FLAGS, type QualityFlag } from '../pose/index.ts';
import type { Face, Landmarks5, View } from '../types.ts';
import type { ErrorRecord } from './cache.ts';
import type { PhotoResult } from './embed-dataset.ts';
import type { Dataset } from './manifest.ts';
import { utf16ByteOrder } from './text-encoding.ts';

/** Kinds of embedding-file problem; tests and tools match on these. */
export type EmbeddingProblemKind =
  | 'json'
  | 'not-object'
  | 'no-path'
  | 'no-embedding'
  | 'non-numeric'
  | 'non-finite'
  | 'zero-vector'
  | 'dimension'
  | 'duplicate'
  | 'backbone'
  | 'invalid-view'
  | 'error-record'
  | 'second-embedding'
  | 'empty'
  | 'missing'
  | 'encoding'
  | 'too-long';

/**
 * One problem. `line` is the embedding file's line (1-based); a manifest row without a record
 * (`missing`) has the manifest's `row` and `manifestLine` instead.
 */
export interface EmbeddingProblem {
  kind: EmbeddingProblemKind;
  message: string;
  line?: number;
  row?: number;
  manifestLine?: number;
  path?: string;
}

/** One valid record: a photo's unit embedding, or why the photo has none. */
export interface EmbeddingRecord {
  path: string;
  line: number;
  /** L2-normalised; absent for an error record. */
  embedding?: Float32Array;
  backbone?: string;
  view?: View;
  error?: ErrorRecord;
  /**
   * The second network's unit embedding of the same face (`secondEmbedding` of `embed`'s record,
   * `features.secondBackbone`), which the embedding block reads beside the backbone's.
   */
  secondEmbedding?: Float32Array;
  /** The second network's name, as the record gives it. */
  secondBackbone?: string;
  /**
   * The chosen face as `embed` wrote it (box, score, five points, and `turned`, the orientation
   * check's finding), when the record's `face` has that form; other tools' records may have none.
   */
  face?: Face;
  /**
   * The face's quality flags as `embed` wrote them (`quality`), the known ones only; absent when
   * the record gives none, as other tools' records may not.
   */
  quality?: QualityFlag[];
  /** How many faces `embed` found in the photo (`faces`), when the record gives a whole number of at least 1. */
  faces?: number;
}

/** Where a study's features came from: written into metrics.json and the model bundle. */
export interface EmbeddingOrigin {
  /** The file's name (not its folder, which says nothing about the data and may name a person). */
  file: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** The records' backbone name, or null when no record names one. */
  backbone: string | null;
  dimension: number;
  /** Records in the file (with embedding or error). */
  records: number;
  /** Whether the vectors were rescaled to unit length on reading (always: see the module note). */
  normalised: true;
  /**
   * The second network's vectors the records carry (`secondEmbedding`): its name, their dimension,
   * and how many of the records with an embedding carry one. Absent when none does.
   */
  second?: { backbone: string; dimension: number; records: number };
}

/** A checked embedding file: its records by path, and its origin. */
export interface EmbeddingFile {
  records: Map<string, EmbeddingRecord>;
  origin: EmbeddingOrigin;
}

/** An error record's code: the contract's form (`E_NO_FACE`), which the log and report print. */
const ERROR_CODE = /^E_[A-Z0-9_]{1,40}$/;
/** Characters of an error record's message kept (a longer one is cut, its length said). */
const MAX_ERROR_MESSAGE = 500;

/**
 * Control and format characters (a line break, a terminal escape, a right-to-left override): in a
 * name or message from the file they would rewrite the terminal line, log or report that prints it.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}]/gu;

/**
 * Longest network name taken. An installed network's name has under 20 characters; a longer one is
 * no network's, and it is printed whole wherever the name is shown (log, messages, report, bundle).
 */
const MAX_NETWORK_NAME = 100;

/** Why `name` (a record's `backbone` or `secondEmbedding.backbone`) cannot name a network, or undefined. */
function networkNameProblem(name: string): string | undefined {
  if (name.length > MAX_NETWORK_NAME) return `has ${name.length} characters; expected a network's name of at most ${MAX_NETWORK_NAME}`;
  if (name.search(UNPRINTABLE) >= 0) return 'holds a control or format character; expected a network\'s name of printable characters';
  return undefined;
}

/**
 * An error record's message as the log and report print it: at most {@link MAX_ERROR_MESSAGE}
 * characters (its length said), control characters made spaces. Built as a new string: a slice of
 * the parsed message would keep the whole of it alive (V8 slices share their parent), so a file of
 * records with megabyte messages would be held whole in memory.
 */
function errorMessage(message: string): string {
  const kept = message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}... (${message.length} characters)` : message;
  return Array.from(kept, (c) => (c.search(UNPRINTABLE) >= 0 ? ' ' : c)).join('');
}

/** Problems kept in an error's `details` (the rest are counted), as for a manifest. */
const MAX_KEPT_PROBLEMS = 1000;

/** A record as parsed, before the checks that need the whole file (dimension, backbone). */
interface Parsed {
  record: EmbeddingRecord;
  raw?: unknown[];
  /** The second network's vector as read (`secondEmbedding.embedding`). */
  rawSecond?: unknown[];
}

/** Collects problems; keeps the first {@link MAX_KEPT_PROBLEMS}, counts all. */
class Problems {
  total = 0;
  readonly kept: EmbeddingProblem[] = [];
  /** Paths whose record has a problem: a manifest row naming one is not also "without a record". */
  readonly paths = new Set<string>();
  add(p: EmbeddingProblem): void {
    this.total++;
    if (this.kept.length < MAX_KEPT_PROBLEMS) this.kept.push(p);
    if (p.path !== undefined) this.paths.add(p.path);
  }
}

/** `n value` or `n values`. */
const values = (n: number) => `${n} value${n === 1 ? '' : 's'}`;

const at = (line: number) => `line ${line}`;

/**
 * A value as a message shows it: a number, boolean or null as itself, a string quoted and cut to
 * 60 characters with its control and format characters escaped, an array or object by its kind and
 * size. Never the value whole: a record may hold megabytes, or arrays nested deeper than
 * `JSON.stringify` can recurse.
 */
function shown(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length} value${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  // JSON escapes control characters, not format ones (a right-to-left override): those are escaped here.
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value).replace(/\p{Cf}/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  return String(value);
}

/** The first thing wrong with an `embedding` array's values (`what` names the array), or undefined. */
function valueProblem(values: unknown[], line: number, what = 'embedding'): EmbeddingProblem | undefined {
  const bad = values.findIndex((v) => typeof v !== 'number');
  if (bad >= 0) return { kind: 'non-numeric', line, message: `${at(line)}: ${what} value ${bad} is ${shown(values[bad])}; expected a number` };
  const inf = values.findIndex((v) => !Number.isFinite(v));
  if (inf >= 0) return { kind: 'non-finite', line, message: `${at(line)}: ${what} value ${inf} is not finite (${String(values[inf])}); expected a finite number` };
  if (values.every((v) => v === 0)) return { kind: 'zero-vector', line, message: `${at(line)}: the ${what} is all zeros; it has no direction to compare` };
  return undefined;
}

/**
 * The record's `secondEmbedding` (`{"backbone", "embedding"}`, the second network's vector that
 * `embed` writes beside the backbone's) as read, or a problem. Absent or null: none.
 */
function parseSecond(value: unknown, line: number): { backbone: string; raw: unknown[] } | EmbeddingProblem | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = (message: string): EmbeddingProblem => ({ kind: 'second-embedding', line, message: `${at(line)}: ${message}` });
  if (typeof value !== 'object' || Array.isArray(value)) return problem(`"secondEmbedding" is ${shown(value)}; expected {"backbone", "embedding"}, as "phenoface embed" writes it`);
  const { backbone, embedding } = value as { backbone?: unknown; embedding?: unknown };
  if (typeof backbone !== 'string' || backbone === '') return problem(`"secondEmbedding.backbone" is ${shown(backbone)}; expected the second network's name`);
  const nameProblem = networkNameProblem(backbone);
  if (nameProblem) return problem(`"secondEmbedding.backbone" ${shown(backbone)} ${nameProblem}`);
  if (!Array.isArray(embedding) || embedding.length === 0) return problem(`"secondEmbedding.embedding" is ${shown(embedding)}; expected a non-empty array of numbers`);
  if (embedding.length > DEFAULTS.data.maxEmbeddingDim) return problem(`the second embedding has ${embedding.length} values; expected at most ${DEFAULTS.data.maxEmbeddingDim} (data.maxEmbeddingDim)`);
  return valueProblem(embedding, line, 'second embedding') ?? { backbone, raw: embedding };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A record's `face` as the pipeline's {@link Face} (box, score, five points, and `turned` when it is
 * one of the check's turns), or undefined when it lacks that form: the face is optional, so a face
 * of another form is not a problem, only not read.
 */
function faceOf(value: unknown): Face | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { box, score, landmarks5, turned } = value as { box?: { x?: unknown; y?: unknown; width?: unknown; height?: unknown }; score?: unknown; landmarks5?: unknown; turned?: unknown };
  if (typeof box !== 'object' || box === null || ![box.x, box.y, box.width, box.height].every(finite) || !finite(score)) return undefined;
  if (!Array.isArray(landmarks5) || landmarks5.length !== 5 || !landmarks5.every((p) => Array.isArray(p) && p.length === 2 && p.every(finite))) return undefined;
  const face: Face = { box: { x: box.x as number, y: box.y as number, width: box.width as number, height: box.height as number }, score, landmarks5: landmarks5 as Landmarks5 };
  return turned === 90 || turned === 180 || turned === 270 ? { ...face, turned } : face;
}

/**
 * A record's `quality` as the known flags it names ({@link QUALITY_FLAGS}, each once, in that
 * order), or undefined when it is not an array. Like the face it is optional: anything else in it
 * is not a problem, only not read, and no text of it is kept, since warnings are worded from the
 * flag alone and the file may come from another site's tool.
 */
function qualityOf(value: unknown): QualityFlag[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return QUALITY_FLAGS.filter((f) => value.includes(f));
}

/** The record of one non-empty line, or undefined after reporting why it cannot be used. */
function parseLine(text: string, line: number, problems: Problems): Parsed | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    problems.add({ kind: 'json', line, message: `${at(line)}: not valid JSON (${(err as Error).message}); expected one JSON object per line` });
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.add({ kind: 'not-object', line, message: `${at(line)}: a JSON ${Array.isArray(json) ? 'array' : typeof json}; expected an object with "path" and "embedding"` });
    return undefined;
  }
  const o = json as Record<string, unknown>;
  if (typeof o.path !== 'string' || o.path === '') {
    problems.add({ kind: 'no-path', line, message: `${at(line)}: "path" is ${shown(o.path)}; expected the photo's path as in the manifest` });
    return undefined;
  }
  const record: EmbeddingRecord = { path: o.path, line };
  const bad = (p: Omit<EmbeddingProblem, 'path'>) => (problems.add({ ...p, path: o.path as string }), undefined);
  // Unnamed (absent, null or empty) is allowed; a name of another type is a damaged record, not an unnamed one.
  if (typeof o.backbone === 'string' && o.backbone !== '') {
    const nameProblem = networkNameProblem(o.backbone);
    if (nameProblem) return bad({ kind: 'backbone', line, message: `${at(line)}: "backbone" ${shown(o.backbone)} ${nameProblem}` });
    record.backbone = o.backbone;
  } else if (o.backbone !== undefined && o.backbone !== null && o.backbone !== '') return bad({ kind: 'backbone', line, message: `${at(line)}: "backbone" is ${shown(o.backbone)}; expected the network's name` });
  const face = o.face as { view?: unknown } | null | undefined;
  const view = o.view ?? (typeof face === 'object' && face !== null ? face.view : undefined) ?? undefined;
  const chosen = faceOf(face);
  if (chosen) record.face = chosen;
  const quality = qualityOf(o.quality);
  if (quality) record.quality = quality;
  if (Number.isSafeInteger(o.faces) && (o.faces as number) >= 1) record.faces = o.faces as number;
  if (view !== undefined) {
    const given = typeof view === 'string' ? shown(view) : 'is ' + shown(view);
    if (!(VIEWS as readonly unknown[]).includes(view)) return bad({ kind: 'invalid-view', line, message: `${at(line)}: view ${given}; expected one of: ${VIEWS.join(', ')}` });
    record.view = view as View;
  }
  const error = o.error as { code?: unknown; message?: unknown } | undefined;
  if (o.embedding !== undefined && o.error !== undefined && o.error !== null) {
    return bad({ kind: 'error-record', line, message: `${at(line)}: the record has both an "embedding" and an "error"; expected one of them (a photo with a vector, or why it has none)` });
  }
  if (o.embedding === undefined && error && typeof error.code === 'string') {
    // Another tool's codes pass through (the contract's shape, E_ and capitals), cut messages too:
    // both are printed in the log and the report.
    if (!ERROR_CODE.test(error.code)) return bad({ kind: 'error-record', line, message: `${at(line)}: the error record's "code" is ${shown(error.code)}; expected a code such as "E_NO_FACE" (E_ and up to 40 capitals, digits or underscores)` });
    record.error = { code: error.code as ErrorCode, message: typeof error.message === 'string' ? errorMessage(error.message) : '' };
    return { record };
  }
  if (!Array.isArray(o.embedding) || o.embedding.length === 0) {
    return bad({ kind: 'no-embedding', line, message: `${at(line)}: "embedding" is ${o.embedding === undefined ? 'missing' : shown(o.embedding)}; expected a non-empty array of numbers (or an "error" record)` });
  }
  const maxDim = DEFAULTS.data.maxEmbeddingDim;
  if (o.embedding.length > maxDim) {
    return bad({ kind: 'dimension', line, message: `${at(line)}: the embedding has ${o.embedding.length} values; expected at most ${maxDim} (data.maxEmbeddingDim), as a face-recognition embedding has` });
  }
  const problem = valueProblem(o.embedding, line);
  if (problem) return bad(problem);
  const second = parseSecond(o.secondEmbedding, line);
  if (second && 'kind' in second) return bad(second);
  if (second) record.secondBackbone = second.backbone;
  return { record, raw: o.embedding, ...(second ? { rawSecond: second.raw } : {}) };
}

/** The most common value's count leader (ties: the first seen), or undefined for none. */
function mostCommon<T>(values: T[]): T | undefined {
  const counts = new Map<T, number>();
  let best: T | undefined;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (best === undefined || c > counts.get(best)!) best = v;
  }
  return best;
}

/**
 * The checks across records: one dimension (the most common), one backbone name, one record per
 * path. Returns the records that pass, by path.
 */
function checkAcross(parsed: Parsed[], problems: Problems): { records: Map<string, EmbeddingRecord>; dimension: number; backbone: string | null; second?: EmbeddingOrigin['second'] } {
  const dimension = mostCommon(parsed.filter((p) => p.raw).map((p) => p.raw!.length)) ?? 0;
  const backbone = mostCommon(parsed.filter((p) => p.record.backbone).map((p) => p.record.backbone!)) ?? null;
  const firstOfDim = parsed.find((p) => p.raw?.length === dimension)?.record.line;
  const firstOfBackbone = parsed.find((p) => p.record.backbone === backbone)?.record.line;
  // The second network's vectors, when records carry them: one network, one dimension, as the first's.
  const withSecond = parsed.filter((p) => p.rawSecond);
  const secondName = mostCommon(withSecond.map((p) => p.record.secondBackbone!));
  const secondDim = mostCommon(withSecond.filter((p) => p.record.secondBackbone === secondName).map((p) => p.rawSecond!.length)) ?? 0;
  const firstOfSecond = withSecond.find((p) => p.record.secondBackbone === secondName && p.rawSecond!.length === secondDim)?.record.line;
  const records = new Map<string, EmbeddingRecord>();
  for (const { record, raw, rawSecond } of parsed) {
    const { line, path: p } = record;
    const first = records.get(p);
    if (first) {
      problems.add({ kind: 'duplicate', line, path: p, message: `${at(line)}: path ${shown(p)} has a record already, at line ${first.line}; expected one record per photo` });
      continue;
    }
    records.set(p, record);
    if (raw && raw.length !== dimension) {
      problems.add({ kind: 'dimension', line, path: p, message: `${at(line)}: the embedding has ${values(raw.length)}; expected ${dimension}, the dimension of most records (first at line ${firstOfDim})` });
    } else if (record.backbone !== undefined && record.backbone !== backbone) {
      problems.add({ kind: 'backbone', line, path: p, message: `${at(line)}: backbone ${shown(record.backbone)}; the other records are of ${shown(backbone)} (first at line ${firstOfBackbone}), and embeddings of two networks cannot be compared` });
    } else if (rawSecond && (record.secondBackbone !== secondName || rawSecond.length !== secondDim)) {
      problems.add({ kind: 'second-embedding', line, path: p, message: `${at(line)}: the second embedding is ${shown(record.secondBackbone)}'s, of ${values(rawSecond.length)}; the other records' are ${shown(secondName)}'s, of ${secondDim} (first at line ${firstOfSecond})` });
    } else if (raw) {
      record.embedding = unitVector(raw as number[]);
      if (rawSecond) record.secondEmbedding = unitVector(rawSecond as number[]);
    }
  }
  const second = secondName !== undefined ? { backbone: secondName, dimension: secondDim, records: [...records.values()].filter((r) => r.secondEmbedding).length } : undefined;
  return { records, dimension, backbone, ...(second ? { second } : {}) };
}

/**
 * Longest line read, in bytes. A record of {@link DEFAULTS.data.maxEmbeddingDim} values with a face
 * and its dense landmarks takes well under 1 MB; a longer line is no record of `embed`, and is
 * counted and skipped rather than held and parsed.
 */
const MAX_LINE_BYTES = 16 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Reads the file line by line (it may be larger than one string can hold; lines end in LF, CRLF or
 * CR), hashing its bytes. Each line within {@link MAX_LINE_BYTES} is decoded as strict UTF-8 and
 * passed on; a longer one, or one that is not UTF-8, is a problem of its line.
 */
async function readLines(file: string, problems: Problems, onLine: (text: string, line: number) => void): Promise<string> {
  const hash = createHash('sha256');
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let line = 0;
  let parts: Buffer[] = [];
  let size = 0;
  const append = (bytes: Buffer) => {
    size += bytes.length;
    if (size <= MAX_LINE_BYTES) parts.push(bytes);
    else parts = [];
  };
  const endLine = () => {
    line++;
    if (size > MAX_LINE_BYTES) {
      problems.add({ kind: 'too-long', line, message: `${at(line)}: ${size} bytes; expected a record of at most ${MAX_LINE_BYTES} bytes (a vector of ${DEFAULTS.data.maxEmbeddingDim} values takes well under 1 MB)` });
    } else {
      let text: string | undefined;
      try {
        text = utf8.decode(parts.length === 1 ? parts[0] : Buffer.concat(parts));
      } catch {
        problems.add({ kind: 'encoding', line, message: `${at(line)}: not UTF-8 text; expected the UTF-8 JSON lines that "phenoface embed" writes (save the file as UTF-8)` });
      }
      // A byte-order mark opens some editors' UTF-8 files; it is not part of the first record.
      const record = line === 1 && text !== undefined ? text.replace(/^\uFEFF/, '') : text;
      if (record !== undefined && record.trim() !== '') onLine(record, line);
    }
    parts = [];
    size = 0;
  };
  let afterCR = false;
  let first = true;
  try {
    // A pipe or device (a FIFO, /dev/zero) would never end: only a regular file is read.
    const st = await stat(file);
    const kind = notARegularFile(st);
    if (kind) throw new PhenofaceError('E_INPUT', `The embeddings file "${file}" is ${kind}. Expected the JSON lines that "phenoface embed --out FILE.jsonl" writes.`);
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      if (first && utf16ByteOrder(chunk[0], chunk[1])) {
        throw new PhenofaceError('E_INPUT', `The embeddings file "${file}" is UTF-16 text. Expected the UTF-8 JSON lines that "phenoface embed" writes: save it as UTF-8.`);
      }
      first = false;
      let start = 0;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i];
        // The LF of a CRLF split between two chunks ends no second line.
        if (afterCR) {
          afterCR = false;
          if (c === LF) {
            start = i + 1;
            continue;
          }
        }
        if (c !== LF && c !== CR) continue;
        append(chunk.subarray(start, i));
        endLine();
        start = i + 1;
        afterCR = c === CR;
      }
      if (start < chunk.length) append(chunk.subarray(start));
    }
  } catch (err) {
    if (err instanceof PhenofaceError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new PhenofaceError(code === 'ENOENT' ? 'E_NOT_FOUND' : 'E_INPUT', `Cannot read the embeddings file "${file}": ${(err as Error).message}. Expected the JSON lines written by "phenoface embed --out FILE.jsonl".`, { cause: err });
  }
  if (size > 0) endLine();
  return hash.digest('hex');
}

/** One E_INPUT error listing the first problems (all counted; the first 1,000 in `details`). */
function embeddingError(file: string, problems: Problems): PhenofaceError {
  const n = problems.total;
  const lines = problems.kept.slice(0, DEFAULTS.data.maxListedProblems).map((p) => `  - ${p.message}`);
  if (n > lines.length) lines.push(`  ... and ${n - lines.length} more`);
  return new PhenofaceError('E_INPUT', `Embeddings "${file}" have ${n} problem${n === 1 ? '' : 's'}; nothing was run:\n${lines.join('\n')}`, { details: problems.kept });
}

/** Parses and checks a file into `problems`; its records and origin. */
async function parseFile(file: string, problems: Problems): Promise<EmbeddingFile> {
  const parsed: Parsed[] = [];
  const sha256 = await readLines(file, problems, (text, line) => {
    const p = parseLine(text, line, problems);
    if (p) parsed.push(p);
  });
  if (parsed.length === 0 && problems.total === 0) problems.add({ kind: 'empty', message: 'no records; expected one JSON object per line' });
  const { records, dimension, backbone, second } = checkAcross(parsed, problems);
  return { records, origin: { file: path.basename(file), sha256, backbone, dimension, records: records.size, normalised: true, ...(second ? { second } : {}) } };
}

/**
 * Reads and checks an embedding file on its own. One E_INPUT error lists every problem with its
 * line; E_NOT_FOUND when the file does not exist.
 */
export async function readEmbeddingFile(file: string): Promise<EmbeddingFile> {
  const problems = new Problems();
  const read = await parseFile(file, problems);
  if (problems.total > 0) throw embeddingError(file, problems);
  return read;
}

/** An embedding file read record by record: its usable records, and the problem of each line that is not one. */
export interface EmbeddingBatch extends EmbeddingFile {
  /** The problems of single lines, in line order; `records` holds only the usable ones (a vector or an error record). */
  problems: EmbeddingProblem[];
}

/**
 * Reads an embedding file as a batch of inputs (for `screen --embeddings`): a line that is not a
 * usable record is that line's problem, and the others are read, as a bad photo does not stop a
 * batch (contract: "A failure on one input never stops a batch"). The file itself is E_INPUT (with
 * every problem listed, as {@link readEmbeddingFile} says them) when it holds no record or more
 * problems than are kept: that is no one person's records. E_NOT_FOUND when it does not exist.
 */
export async function readEmbeddingBatch(file: string): Promise<EmbeddingBatch> {
  const problems = new Problems();
  const read = await parseFile(file, problems);
  if (problems.kept.length < problems.total || problems.kept.some((p) => p.kind === 'empty')) throw embeddingError(file, problems);
  const usable = new Map([...read.records].filter(([, r]) => r.embedding !== undefined || r.error !== undefined));
  return { ...read, records: usable, problems: [...problems.kept].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
}

/** The embeddings of a data set's photos, as the study's photo results, with their origin. */
export interface DatasetEmbeddings {
  photos: PhotoResult[];
  origin: EmbeddingOrigin;
  /** Records of the file that no manifest row names (a pooled file may hold more than one study). */
  unused: number;
  /** absPath -> sha256 of the photo's record (for `datasetHash`, in place of the file's content). */
  contentHashes: Map<string, string>;
}

/**
 * Matches a data set's rows to an embedding file's records by `path`, exactly as written. Problems
 * of the file and manifest rows without a record come in one E_INPUT error, each with its line.
 */
export async function loadDatasetEmbeddings(file: string, dataset: Dataset): Promise<DatasetEmbeddings> {
  const problems = new Problems();
  const { records, origin } = await parseFile(file, problems);
  for (const item of dataset.items) {
    if (records.has(item.path) || problems.paths.has(item.path)) continue;
    const where = item.row !== undefined ? `manifest row ${item.row} (line ${item.line})` : `photo "${item.path}"`;
    problems.add({ kind: 'missing', row: item.row, manifestLine: item.line, path: item.path, message: `${where}: path ${JSON.stringify(item.path)} has no record in ${origin.file}` });
  }
  if (problems.total > 0) throw embeddingError(file, problems);
  const contentHashes = new Map<string, string>();
  const photos = dataset.items.map((item): PhotoResult => {
    const r = records.get(item.path)!;
    const view = item.view ?? r.view;
    contentHashes.set(item.absPath, recordHash(r));
    return { item, cached: false, ...(r.face ? { face: r.face } : {}), ...(r.embedding ? { embedding: r.embedding } : {}), ...(r.secondEmbedding ? { secondEmbedding: r.secondEmbedding } : {}), ...(view ? { view } : {}), ...(r.error ? { error: r.error } : {}) };
  });
  return { photos, origin, unused: records.size - dataset.items.length, contentHashes };
}

/** sha256 of a record's vector (its float32 bytes) or error: what identifies the photo's data. */
function recordHash(r: EmbeddingRecord): string {
  const h = createHash('sha256');
  if (r.embedding) h.update(new Uint8Array(r.embedding.buffer, r.embedding.byteOffset, r.embedding.byteLength));
  else h.update(JSON.stringify(r.error));
  if (r.secondEmbedding) h.update(new Uint8Array(r.secondEmbedding.buffer, r.secondEmbedding.byteOffset, r.secondEmbedding.byteLength));
  return h.digest('hex');
}
