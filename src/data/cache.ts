/**
 * The embedding cache: one embedded SQLite database (better-sqlite3) of per-photo pipeline
 * results, keyed by the photo's content hash, the backbone and the pipeline version. A re-run of
 * a study finds every photo here and costs nothing; an interrupted run keeps every result already
 * put (each put is its own committed transaction, in WAL mode) and resumes from there.
 *
 * Keying by content rather than by path means a renamed or moved photo is still a hit, and an
 * edited photo is a miss. The pipeline version must change whenever detection, alignment or
 * embedding code changes its output; the backbone id whenever the weights do.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { notARegularFile, PhenofaceError, type ErrorCode } from '../errors.ts';
import type { Face, Point } from '../types.ts';
import { makeFoldersSync } from './output.ts';

/** What identifies one cached result. */
export interface CacheKey {
  /** sha256 of the photo file's bytes, lower-case hex (see {@link hashFile}). */
  sha256: string;
  /** Backbone id, e.g. `mobilefacenet`; include a weights checksum if the id can hide a change. */
  backbone: string;
  /** Version string of the detect/align/embed pipeline that produced the result. */
  pipelineVersion: string;
}

/** A photo's `{code, message}` failure record (the contract's per-file error shape). */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
}

/**
 * A vector computed beside the embedding, with the version of the code that computed it: a
 * photo's region-pooled maps (`regionFeaturesVersion`) or its second network's embedding
 * (`secondEmbeddingVersion`).
 */
export interface CachedVector {
  version: string;
  data: Float32Array;
}

/**
 * A cached result: the chosen face, its embedding, (when the pipeline placed them) its 68 dense
 * landmarks in image pixels and (when they were asked for) its region-pooled maps and its second
 * network's embedding; or why the photo has none.
 */
export type CacheValue = { face: Face; embedding: Float32Array; landmarks68?: Point[]; regionMaps?: CachedVector; secondEmbedding?: CachedVector } | { error: ErrorRecord };

/** A cached result as read back, with the time it was put. */
export type CacheEntry = CacheValue & { createdAt: Date };

/** Counts for reports and `--verbose` output. */
export interface CacheStats {
  entries: number;
  embeddings: number;
  errors: number;
  /** Entries per backbone and pipeline version. */
  byVersion: { backbone: string; pipelineVersion: string; entries: number }[];
}

/**
 * Schema version of the database file. Version 1 (no `landmarks68` column) is upgraded in place
 * by adding the column; its rows keep their pipeline versions, which predate dense landmarks, so
 * they are never read as results with landmarks. A file of any other version is refused. The
 * region-map and second-embedding columns are added to any file that lacks them (see
 * `addVectorColumns`): readers that do not know them ignore them, and each vector carries its own
 * version.
 */
const SCHEMA_VERSION = '2';
const UPGRADABLE_SCHEMA = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
  sha256 TEXT NOT NULL,
  backbone TEXT NOT NULL,
  pipeline_version TEXT NOT NULL,
  embedding BLOB,
  face TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  landmarks68 TEXT,
  region_maps BLOB,
  region_version TEXT,
  second_embedding BLOB,
  second_version TEXT,
  PRIMARY KEY (sha256, backbone, pipeline_version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS file_hashes (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  sha256 TEXT NOT NULL
) WITHOUT ROWID;`;

/** The slice of better-sqlite3's API used here (the package ships no types). */
interface Statement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface SqliteDatabase {
  pragma(source: string, options?: { simple?: boolean }): unknown;
  exec(source: string): unknown;
  prepare(source: string): Statement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): unknown;
}
type SqliteConstructor = new (file: string, options?: { timeout?: number }) => SqliteDatabase;

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as SqliteConstructor;

interface Row {
  embedding: Buffer | null;
  face: string | null;
  error: string | null;
  created_at: number;
  landmarks68: string | null;
  region_maps: Buffer | null;
  region_version: string | null;
  second_embedding: Buffer | null;
  second_version: string | null;
}

/** The tables a cache holds: any other table is another application's. */
const CACHE_TABLES = new Set(['meta', 'results', 'file_hashes']);

/**
 * E_INPUT when `db` holds a table that a cache does not: the database of another application,
 * given as `--cache` by mistake. Opening it as a cache would add tables to it, switch its journal
 * to WAL and write photos' embeddings into it; it is left as it was.
 */
function refuseForeignDatabase(db: SqliteDatabase, file: string): void {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
  const foreign = tables.filter((t) => !CACHE_TABLES.has(t));
  if (foreign.length === 0) return;
  const shown = foreign.slice(0, 5).map((t) => JSON.stringify(t)).join(', ') + (foreign.length > 5 ? ', ...' : '');
  throw new PhenofaceError('E_INPUT', `Cache file "${file}" is an SQLite database of something else (it holds the table${foreign.length === 1 ? '' : 's'} ${shown}), not a Phenoface embedding cache; it was left as it was. Expected a Phenoface embedding cache or a new file: give another --cache file.`);
}

/** A float blob as a fresh, aligned Float32Array (SQLite's blob buffer need not be 4-byte aligned). */
const floatsOf = (blob: Buffer): Float32Array => new Float32Array(new Uint8Array(blob).slice().buffer);

/** A blob of whole, finite float32s (at least one) as a Float32Array, or undefined for anything else. */
function vectorOf(blob: unknown): Float32Array | undefined {
  if (!Buffer.isBuffer(blob) || blob.length === 0 || blob.length % 4 !== 0) return undefined;
  const v = floatsOf(blob);
  return v.every(Number.isFinite) ? v : undefined;
}

/** `text` parsed as JSON, or undefined when it is not text or not JSON. */
function parsedOf(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A row as the result `put` stored, or undefined when any of its parts is not what `put` writes. */
function entryOf(row: Row): CacheEntry | undefined {
  const createdAt = new Date(row.created_at);
  if (row.error !== null) {
    const error = parsedOf(row.error);
    return isRecord(error) && typeof error.code === 'string' && typeof error.message === 'string' ? { error: error as unknown as ErrorRecord, createdAt } : undefined;
  }
  const face = parsedOf(row.face);
  const embedding = vectorOf(row.embedding);
  if (!isRecord(face) || !isRecord(face.box) || !Array.isArray(face.landmarks5) || !embedding) return undefined;
  const landmarks68 = row.landmarks68 === null ? undefined : parsedOf(row.landmarks68);
  if (row.landmarks68 !== null && !Array.isArray(landmarks68)) return undefined;
  const vectors: Partial<Record<'regionMaps' | 'secondEmbedding', CachedVector>> = {};
  for (const [field, blob, version] of [['regionMaps', row.region_maps, row.region_version], ['secondEmbedding', row.second_embedding, row.second_version]] as const) {
    if (blob === null || version === null) continue;
    const data = vectorOf(blob);
    if (!data) return undefined;
    vectors[field] = { version, data };
  }
  return { face: face as unknown as Face, embedding, ...(Array.isArray(landmarks68) && { landmarks68: landmarks68 as Point[] }), ...vectors, createdAt };
}
const blobOf = (v: Float32Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * Adds the region-map and second-embedding columns to a results table made before they existed:
 * its rows read as results without them (computed again when asked for), and older readers
 * ignore them.
 */
function addVectorColumns(db: SqliteDatabase): void {
  const columns = new Set((db.prepare('PRAGMA table_info(results)').all() as { name: string }[]).map((c) => c.name));
  for (const [name, type] of [['region_maps', 'BLOB'], ['region_version', 'TEXT'], ['second_embedding', 'BLOB'], ['second_version', 'TEXT']]) {
    if (!columns.has(name)) db.exec(`ALTER TABLE results ADD COLUMN ${name} ${type}`);
  }
}

/**
 * A per-photo result cache in one SQLite file. Open with {@link EmbeddingCache.open}; every
 * method is synchronous (better-sqlite3), so puts land in the order photos finish.
 */
export class EmbeddingCache {
  readonly file: string;
  private readonly db: SqliteDatabase;
  private readonly getStmt: Statement;
  private readonly hasStmt: Statement;
  private readonly putTx: (key: CacheKey, value: CacheValue) => void;
  private readonly fileHashGet: Statement;
  private readonly fileHashPut: Statement;

  private constructor(file: string, db: SqliteDatabase) {
    this.file = file;
    this.db = db;
    this.getStmt = db.prepare(
      'SELECT embedding, face, error, created_at, landmarks68, region_maps, region_version, second_embedding, second_version FROM results WHERE sha256 = ? AND backbone = ? AND pipeline_version = ?',
    );
    this.hasStmt = db.prepare('SELECT 1 FROM results WHERE sha256 = ? AND backbone = ? AND pipeline_version = ?');
    const insert = db.prepare(
      'INSERT OR REPLACE INTO results (sha256, backbone, pipeline_version, embedding, face, error, created_at, landmarks68, region_maps, region_version, second_embedding, second_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.fileHashGet = db.prepare('SELECT size, mtime_ms, sha256 FROM file_hashes WHERE path = ?');
    this.fileHashPut = db.prepare('INSERT OR REPLACE INTO file_hashes (path, size, mtime_ms, sha256) VALUES (?, ?, ?, ?)');
    this.putTx = db.transaction((key: CacheKey, value: CacheValue) => {
      const ok = 'embedding' in value;
      const maps = ok ? value.regionMaps : undefined;
      const second = ok ? value.secondEmbedding : undefined;
      insert.run(
        key.sha256,
        key.backbone,
        key.pipelineVersion,
        ok ? blobOf(value.embedding) : null,
        ok ? JSON.stringify(value.face) : null,
        ok ? null : JSON.stringify(value.error),
        Date.now(),
        ok && value.landmarks68 ? JSON.stringify(value.landmarks68) : null,
        maps ? blobOf(maps.data) : null,
        maps ? maps.version : null,
        second ? blobOf(second.data) : null,
        second ? second.version : null,
      );
    });
  }

  /**
   * Open (creating if needed, with its folder) the cache file `file`. WAL journaling: a crash or
   * Ctrl-C loses nothing that `put` returned from. Throws `E_INPUT` when the file is not a
   * Phenoface cache of this schema version.
   */
  static open(file: string): EmbeddingCache {
    makeFoldersSync(path.dirname(path.resolve(file)));
    // SQLite would open a device (/dev/null) and write its journal beside it (/dev/null-journal),
    // and fail only then: only a regular file, or a path not yet taken, is a cache.
    const st = statSync(file, { throwIfNoEntry: false });
    const kind = st && notARegularFile(st);
    if (kind) throw new PhenofaceError('E_INPUT', `Cache file "${file}" is ${kind}. Expected a Phenoface embedding cache or a new file: give another --cache file.`);
    let db: SqliteDatabase | undefined;
    try {
      db = new Database(file, { timeout: 5000 });
      refuseForeignDatabase(db, file);
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives a process crash; only an OS crash may drop the last commits.
      db.pragma('synchronous = NORMAL');
      // Deleted or replaced results are overwritten with zeros, not left in free pages: they are
      // derived from patients' photos.
      db.pragma('secure_delete = ON');
      db.exec(SCHEMA);
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
      if (version === undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
      else if (version.value === UPGRADABLE_SCHEMA) upgradeSchema(db);
      else if (version.value !== SCHEMA_VERSION) {
        throw new PhenofaceError('E_INPUT', `Cache file "${file}" has schema version ${version.value}; expected ${SCHEMA_VERSION}. Delete it or give another --cache file.`);
      }
      addVectorColumns(db);
      writeProbe(db, file);
      return new EmbeddingCache(file, db);
    } catch (err) {
      db?.close();
      if (err instanceof PhenofaceError) throw err;
      if (isReadOnly(err)) throw readOnlyError(file, err);
      throw new PhenofaceError('E_INPUT', `Cannot open cache file "${file}" as an SQLite database: ${(err as Error).message}. Expected a Phenoface embedding cache or a new file.`, { cause: err });
    }
  }

  /**
   * The cached result for `key`, or undefined: also when its row is damaged (text that is not the
   * JSON `put` writes, a vector blob that is not whole finite float32s), so the photo is embedded
   * again and its row replaced. The cache is a file like any other: a damaged row must cost one
   * photo's embedding, not the study.
   */
  get(key: CacheKey): CacheEntry | undefined {
    const row = this.getStmt.get(key.sha256, key.backbone, key.pipelineVersion) as Row | undefined;
    return row === undefined ? undefined : entryOf(row);
  }

  /** True when a result for `key` is cached. */
  has(key: CacheKey): boolean {
    return this.hasStmt.get(key.sha256, key.backbone, key.pipelineVersion) !== undefined;
  }

  /** Store (or replace) the result for `key`, committed before this returns. */
  put(key: CacheKey, value: CacheValue): void {
    for (const field of ['sha256', 'backbone', 'pipelineVersion'] as const) {
      if (typeof key[field] !== 'string' || key[field] === '') {
        throw new PhenofaceError('E_INPUT', `Invalid cache key ${field}: ${JSON.stringify(key[field])}. Should be a non-empty string.`);
      }
    }
    this.putTx(key, value);
  }

  /**
   * The sha256 of a file's content, remembered by path, size and modification time so a re-run
   * stats each photo instead of reading it (thousands of multi-megabyte photos take tens of
   * seconds to hash). Like git's index, a change that keeps both size and mtime goes unnoticed.
   */
  async contentHash(file: string): Promise<string> {
    const abs = path.resolve(file);
    const { size, mtimeMs } = await stat(abs);
    const known = this.fileHashGet.get(abs) as { size: number; mtime_ms: number; sha256: string } | undefined;
    if (known !== undefined && known.size === size && known.mtime_ms === mtimeMs) return known.sha256;
    const sha256 = await hashFile(abs);
    this.fileHashPut.run(abs, size, mtimeMs, sha256);
    return sha256;
  }

  /**
   * Deletes `backbone`'s results cached under any pipeline version but `pipelineVersion` (an
   * earlier pipeline's or models', which this Phenoface would never read again), and returns how
   * many. Other backbones' results are left to a run on those backbones. Without it a cache would
   * keep every outdated result of every photo it ever held, data derived from patients' photos
   * that no one asked to keep.
   */
  dropOtherVersions(backbone: string, pipelineVersion: string): number {
    const { changes } = this.db.prepare('DELETE FROM results WHERE backbone = ? AND pipeline_version <> ?').run(backbone, pipelineVersion) as { changes: number };
    return changes;
  }

  /** Entry counts, overall and per backbone/pipeline version. */
  stats(): CacheStats {
    const totals = this.db
      .prepare('SELECT COUNT(*) AS entries, COUNT(embedding) AS embeddings, COUNT(error) AS errors FROM results')
      .get() as { entries: number; embeddings: number; errors: number };
    const byVersion = (
      this.db
        .prepare('SELECT backbone, pipeline_version, COUNT(*) AS entries FROM results GROUP BY backbone, pipeline_version ORDER BY backbone, pipeline_version')
        .all() as { backbone: string; pipeline_version: string; entries: number }[]
    ).map((r) => ({ backbone: r.backbone, pipelineVersion: r.pipeline_version, entries: r.entries }));
    return { ...totals, byVersion };
  }

  /** Close the database (checkpointing the WAL into the main file). */
  close(): void {
    this.db.close();
  }
}

/** SQLite's refusals to write: a read-only file, folder or file system. */
function isReadOnly(err: unknown): boolean {
  return /^SQLITE_READONLY/.test(String((err as { code?: unknown }).code));
}

function readOnlyError(file: string, cause: unknown): PhenofaceError {
  return new PhenofaceError('E_INPUT', `Cache file "${file}" cannot be written (${(cause as Error).message}): a study deletes the results of other pipeline versions from it and adds its own. Make it and its folder writable, or give another --cache file.`, { cause });
}

/**
 * E_INPUT when the cache cannot be written. SQLite opens a read-only file read-only without a
 * word, and the first write (deleting other versions' results, at the study's start) would
 * otherwise fail as an internal error.
 */
function writeProbe(db: SqliteDatabase, file: string): void {
  try {
    db.prepare("UPDATE meta SET value = value WHERE key = 'schema'").run();
  } catch (err) {
    if (isReadOnly(err)) throw readOnlyError(file, err);
    throw err;
  }
}

/** Schema 1 -> 2: adds the `landmarks68` column (NULL in the old rows), in one transaction. */
function upgradeSchema(db: SqliteDatabase): void {
  db.transaction(() => {
    db.exec('ALTER TABLE results ADD COLUMN landmarks68 TEXT');
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SCHEMA_VERSION);
  })();
}

/** Streaming sha256 of a file's bytes, lower-case hex; memory stays flat for any file size. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}
