import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingCache, hashFile, type CacheKey } from '../../../src/data/cache.ts';
import { hasCode } from '../../../src/errors.ts';
import type { Face } from '../../../src/types.ts';
import { tempDir } from './fixtures.ts';

const face: Face = {
  box: { x: 10, y: 12, width: 50, height: 60 },
  score: 0.998,
  landmarks5: [[20, 30], [40, 30], [30, 42], [22, 55], [38, 55]],
  pose: { yaw: 3.5, pitch: -2, roll: 1 },
  view: 'frontal',
};
const key = (sha: string, backbone = 'mobilefacenet', pipelineVersion = 'p1'): CacheKey => ({ sha256: sha.padEnd(64, '0'), backbone, pipelineVersion });

let tmp: { dir: string; cleanup: () => void };
let file: string;
beforeEach(() => {
  tmp = tempDir();
  file = path.join(tmp.dir, 'sub', 'cache.sqlite');
});
afterEach(() => tmp.cleanup());

describe('EmbeddingCache', () => {
  it('round-trips an embedding and its face bit for bit, and an error record', () => {
    const cache = EmbeddingCache.open(file);
    // A view into a larger buffer at an odd offset: only its own 3 floats must be stored.
    const big = new Float32Array([9, 0.1, -2.5e-8, 3.4028e38, 9]);
    cache.put(key('a'), { face, embedding: big.subarray(1, 4) });
    cache.put(key('b'), { error: { code: 'E_NO_FACE', message: 'No face found in "b.png".' } });
    const a = cache.get(key('a'))!;
    expect('embedding' in a && Array.from(a.embedding)).toEqual(Array.from(big.subarray(1, 4)));
    expect('face' in a && a.face).toEqual(face);
    expect(a.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(a.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(cache.get(key('b'))).toMatchObject({ error: { code: 'E_NO_FACE', message: 'No face found in "b.png".' } });
    cache.close();
  });

  it('keys on content hash, backbone and pipeline version together', () => {
    const cache = EmbeddingCache.open(file);
    cache.put(key('a'), { face, embedding: new Float32Array([1, 2]) });
    expect(cache.has(key('a'))).toBe(true);
    expect(cache.has(key('a', 'arcface-r100'))).toBe(false);
    expect(cache.has(key('a', 'mobilefacenet', 'p2'))).toBe(false);
    expect(cache.has(key('c'))).toBe(false);
    expect(cache.get(key('a', 'mobilefacenet', 'p2'))).toBeUndefined();
    cache.put(key('a'), { face, embedding: new Float32Array([3, 4]) }); // replace
    const got = cache.get(key('a'))!;
    expect('embedding' in got && Array.from(got.embedding)).toEqual([3, 4]);
    cache.put(key('a', 'arcface-r100'), { error: { code: 'E_NO_FACE', message: 'x' } });
    expect(cache.stats()).toEqual({
      entries: 2,
      embeddings: 1,
      errors: 1,
      byVersion: [
        { backbone: 'arcface-r100', pipelineVersion: 'p1', entries: 1 },
        { backbone: 'mobilefacenet', pipelineVersion: 'p1', entries: 1 },
      ],
    });
    cache.close();
  });

  it('drops a backbone\'s results of other pipeline versions, leaving other backbones\' and overwriting what it deletes', () => {
    const cache = EmbeddingCache.open(file);
    // A marker that would survive in a free page if deleted rows were not overwritten.
    const marker = new Float32Array(64).fill(123456.75);
    cache.put(key('a', 'mobilefacenet', 'old'), { face, embedding: marker });
    cache.put(key('b', 'mobilefacenet', 'old'), { error: { code: 'E_NO_FACE', message: 'x' } });
    cache.put(key('a', 'mobilefacenet', 'new'), { face, embedding: new Float32Array([1]) });
    cache.put(key('a', 'dlib-resnet', 'old'), { face, embedding: new Float32Array([2]) });
    expect(cache.dropOtherVersions('mobilefacenet', 'new')).toBe(2);
    expect(cache.has(key('a', 'mobilefacenet', 'old'))).toBe(false);
    expect(cache.has(key('b', 'mobilefacenet', 'old'))).toBe(false);
    expect(cache.has(key('a', 'mobilefacenet', 'new'))).toBe(true);
    expect(cache.has(key('a', 'dlib-resnet', 'old'))).toBe(true);
    expect(cache.dropOtherVersions('mobilefacenet', 'new')).toBe(0);
    cache.close();
    const bytes = Buffer.concat([readFileSync(file), ...(existsSync(file + '-wal') ? [readFileSync(file + '-wal')] : [])]);
    expect(bytes.includes(Buffer.from(marker.buffer))).toBe(false);
  });

  it('keeps what was put across close and reopen, in WAL mode', () => {
    const cache = EmbeddingCache.open(file);
    cache.put(key('a'), { face, embedding: new Float32Array([0.5]) });
    expect(existsSync(file + '-wal')).toBe(true);
    cache.close();
    const again = EmbeddingCache.open(file);
    expect(again.has(key('a'))).toBe(true);
    again.close();
  });

  it('round-trips the dense landmarks put with a result; a result put without them has none', () => {
    const cache = EmbeddingCache.open(file);
    const landmarks68 = Array.from({ length: 68 }, (_, i): [number, number] => [10.125 + i, 20.5 - i / 3]);
    cache.put(key('a'), { face, embedding: new Float32Array([1, 0]), landmarks68 });
    cache.put(key('b'), { face, embedding: new Float32Array([0, 1]) });
    expect(cache.get(key('a'))).toMatchObject({ landmarks68 });
    expect('landmarks68' in cache.get(key('b'))!).toBe(false);
    cache.close();
  });

  it('round-trips the region maps and the second network\'s embedding with their versions; a file made before those columns gains them', () => {
    const cache = EmbeddingCache.open(file);
    const regionMaps = { version: 'regions-v', data: new Float32Array([0.125, -2, 3.5]) };
    const secondEmbedding = { version: 'second-v', data: new Float32Array([0.6, 0.8]) };
    cache.put(key('a'), { face, embedding: new Float32Array([1, 0]), regionMaps, secondEmbedding });
    cache.put(key('b'), { face, embedding: new Float32Array([0, 1]) });
    expect(cache.get(key('a'))).toMatchObject({ regionMaps, secondEmbedding });
    expect(['regionMaps', 'secondEmbedding'].filter((f) => f in cache.get(key('b'))!)).toEqual([]);
    cache.close();
    // The same file as a schema-2 file of before the vector columns: they are added, and its rows read without them.
    const Database = createRequire(import.meta.url)('better-sqlite3');
    const db = new Database(file);
    for (const c of ['region_maps', 'region_version', 'second_embedding', 'second_version']) db.exec(`ALTER TABLE results DROP COLUMN ${c}`);
    db.close();
    const again = EmbeddingCache.open(file);
    expect('secondEmbedding' in again.get(key('a'))!).toBe(false);
    again.put(key('c'), { face, embedding: new Float32Array([1]), secondEmbedding });
    expect(again.get(key('c'))).toMatchObject({ secondEmbedding });
    again.close();
  });

  it('upgrades a schema-1 file in place: its rows stay readable (without landmarks) and new rows keep theirs', () => {
    const Database = createRequire(import.meta.url)('better-sqlite3');
    const old = new Database((mkdirSync(path.dirname(file), { recursive: true }), file));
    old.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE results (sha256 TEXT NOT NULL, backbone TEXT NOT NULL, pipeline_version TEXT NOT NULL, embedding BLOB, face TEXT, error TEXT,
        created_at INTEGER NOT NULL, PRIMARY KEY (sha256, backbone, pipeline_version)) WITHOUT ROWID;
      CREATE TABLE file_hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, sha256 TEXT NOT NULL) WITHOUT ROWID;
      INSERT INTO meta VALUES ('schema', '1');`);
    const k = key('old');
    old.prepare('INSERT INTO results VALUES (?, ?, ?, ?, ?, NULL, ?)').run(k.sha256, k.backbone, k.pipelineVersion, Buffer.from(new Float32Array([0.5, 0.25]).buffer), JSON.stringify(face), 1);
    old.close();
    const cache = EmbeddingCache.open(file);
    const hit = cache.get(k)!;
    expect('embedding' in hit && Array.from(hit.embedding)).toEqual([0.5, 0.25]);
    expect('landmarks68' in hit).toBe(false);
    cache.put(key('new'), { face, embedding: new Float32Array([1]), landmarks68: [[1, 2]] });
    cache.close();
    const again = EmbeddingCache.open(file);
    expect(again.get(key('new'))).toMatchObject({ landmarks68: [[1, 2]] });
    again.close();
  });

  it.skipIf(process.platform === 'win32')('refuses a cache it cannot write when opening it, not at its first write', () => {
    EmbeddingCache.open(file).close();
    // Root writes through a file's mode: an immutable file is read-only to it too.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('chattr', ['+i', file]);
    else chmodSync(file, 0o444);
    try {
      expect(() => EmbeddingCache.open(file)).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringMatching(/cache\.sqlite" cannot be written \(attempt to write a readonly database\).*Make it and its folder writable, or give another --cache file/) }));
    } finally {
      if (asRoot) execFileSync('chattr', ['-i', file]);
      else chmodSync(file, 0o644);
    }
  });

  it.skipIf(process.platform === 'win32')('refuses a device, pipe or folder in the cache\'s place before SQLite writes a journal beside it', () => {
    const toNull = path.join(tmp.dir, 'null.sqlite');
    symlinkSync('/dev/null', toNull);
    const fifo = path.join(tmp.dir, 'fifo.sqlite');
    execFileSync('mkfifo', [fifo]);
    const journalBefore = existsSync('/dev/null-journal');
    for (const [f, what] of [[toNull, 'not a regular file'], [fifo, 'not a regular file'], [tmp.dir, 'a folder']]) {
      expect(() => EmbeddingCache.open(f), f).toThrow(expect.objectContaining({ code: 'E_INPUT', message: expect.stringContaining(`Cache file "${f}" is ${what}`) }));
    }
    if (!journalBefore) expect(existsSync('/dev/null-journal')).toBe(false);
  });

  it('reads a damaged row as a miss (the photo is embedded again and the row replaced), never as a crash or a bad vector', () => {
    const cache = EmbeddingCache.open(file);
    const damage: [string, string, unknown][] = [
      ['face', 'face', '{not json'],
      ['null-face', 'face', 'null'],
      ['odd-blob', 'embedding', Buffer.alloc(7)],
      ['nan', 'embedding', Buffer.from(new Float32Array([0.5, NaN]).buffer)],
      ['empty', 'embedding', Buffer.alloc(0)],
      ['no-embedding', 'embedding', null],
      ['landmarks', 'landmarks68', '[[1, 2'],
      ['regions', 'region_maps', Buffer.alloc(5)],
    ];
    for (const [name] of damage) cache.put(key(name), { face, embedding: new Float32Array([0.5, 0.25]), landmarks68: [[1, 2]], regionMaps: { version: 'r1', data: new Float32Array([1, 2]) } });
    cache.put(key('error'), { error: { code: 'E_NO_FACE', message: 'No face.' } });
    cache.close();
    const Database = createRequire(import.meta.url)('better-sqlite3');
    const db = new Database(file);
    for (const [name, column, value] of damage) db.prepare(`UPDATE results SET ${column} = ? WHERE sha256 = ?`).run(value, key(name).sha256);
    db.prepare("UPDATE results SET error = '{oops' WHERE sha256 = ?").run(key('error').sha256);
    db.close();
    const reopened = EmbeddingCache.open(file);
    for (const [name] of damage) expect(reopened.get(key(name)), name).toBeUndefined();
    expect(reopened.get(key('error'))).toBeUndefined();
    // Put again (as a study does after embedding the photo), the row reads back whole.
    reopened.put(key('face'), { face, embedding: new Float32Array([0.5, 0.25]) });
    expect(reopened.get(key('face'))).toMatchObject({ face, embedding: new Float32Array([0.5, 0.25]) });
    reopened.close();
  });

  it("refuses another application's SQLite database and leaves it as it was (no tables added, journal not switched to WAL)", () => {
    const Database = createRequire(import.meta.url)('better-sqlite3');
    const other = new Database((mkdirSync(path.dirname(file), { recursive: true }), file));
    other.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('x');");
    other.close();
    let err: unknown;
    try {
      EmbeddingCache.open(file);
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'E_INPUT')).toBe(true);
    expect((err as Error).message).toContain('an SQLite database of something else (it holds the table "users")');
    const after = new Database(file, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()).toEqual([{ name: 'users' }]);
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
  });

  it('refuses a file that is not a cache, and an empty key field', () => {
    writeFileSync(path.join(tmp.dir, 'junk.sqlite'), 'this is not a database, just text that is long enough to look like a header'.repeat(20));
    expect(() => EmbeddingCache.open(path.join(tmp.dir, 'junk.sqlite'))).toThrow(/Cannot open cache file .*junk\.sqlite" as an SQLite database/);
    const cache = EmbeddingCache.open(file);
    try {
      cache.put({ sha256: '', backbone: 'b', pipelineVersion: 'p' }, { error: { code: 'E_NO_FACE', message: '' } });
      expect.unreachable();
    } catch (err) {
      expect(hasCode(err, 'E_INPUT')).toBe(true);
      expect((err as Error).message).toBe('Invalid cache key sha256: "". Should be a non-empty string.');
    }
    cache.close();
  });
});

describe('EmbeddingCache.contentHash', () => {
  it('remembers a file hash by path, size and mtime, and re-hashes when either changes', async () => {
    const cache = EmbeddingCache.open(file);
    const photo = path.join(tmp.dir, 'photo.bin');
    const mtime = new Date(1_700_000_000_000); // whole seconds: utimes keeps them exactly
    writeFileSync(photo, 'AAAA');
    utimesSync(photo, mtime, mtime);
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(await cache.contentHash(photo)).toBe(sha('AAAA'));
    // Same size, same mtime, other bytes: the remembered hash is returned without reading the file.
    writeFileSync(photo, 'BBBB');
    utimesSync(photo, mtime, mtime);
    expect(await cache.contentHash(photo)).toBe(sha('AAAA'));
    // A new mtime: hashed again.
    utimesSync(photo, mtime, new Date(mtime.getTime() + 5000));
    expect(await cache.contentHash(photo)).toBe(sha('BBBB'));
    // A new size: hashed again.
    writeFileSync(photo, 'CCCCC');
    utimesSync(photo, mtime, new Date(mtime.getTime() + 5000));
    expect(await cache.contentHash(photo)).toBe(sha('CCCCC'));
    cache.close();
    const reopened = EmbeddingCache.open(file);
    expect(await reopened.contentHash(photo)).toBe(sha('CCCCC'));
    reopened.close();
  });
});

describe('hashFile', () => {
  it('is the sha256 of the bytes, streamed (5 MB file)', async () => {
    const bytes = Buffer.alloc(5 * 1024 * 1024 + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 255;
    const f = path.join(tmp.dir, 'big.bin');
    writeFileSync(f, bytes);
    expect(await hashFile(f)).toBe(createHash('sha256').update(readFileSync(f)).digest('hex'));
    expect(await hashFile(f)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a missing file', async () => {
    await expect(hashFile(path.join(tmp.dir, 'none'))).rejects.toThrow(/ENOENT/);
  });
});
