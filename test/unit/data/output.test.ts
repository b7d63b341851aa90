/**
 * The output layer every command writes through: outputs that are inputs are refused by any
 * spelling, files and result folders are replaced whole or not at all, a folder of someone else's
 * files is never touched, and file-system errors are coded errors naming the path.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheEntries, checkOutput, mapFsError, prepareOutputDir, prepareOutputFile, prepareOutputFolder, writeOutputFile, type OutputKind } from '../../../src/data/output.ts';
import { PhenofaceError } from '../../../src/errors.ts';
import { tempDir } from './fixtures.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => tmp.cleanup());

const at = (...p: string[]) => path.join(tmp.dir, ...p);
const put = (rel: string, text: string) => {
  mkdirSync(path.dirname(at(rel)), { recursive: true });
  writeFileSync(at(rel), text);
};
const read = (rel: string) => readFileSync(at(rel), 'utf8');
const fsError = (code: string, p = '/x') => Object.assign(new Error(`${code}: failed`), { code, syscall: 'open', path: p });
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

const KIND: OutputKind = { name: 'thing', marker: 'done.json', isMarker: (j) => (j as { generator?: string })?.generator === 'thing', owned: ['done.json', 'result.txt', 'parts'] };

describe('mapFsError', () => {
  it.each([
    ['EACCES', 'permission denied'],
    ['EPERM', 'the operation is not permitted'],
    ['EROFS', 'the file system is read-only'],
    ['ENOSPC', 'no space left on the device'],
    ['EISDIR', 'it is a folder'],
    ['EDQUOT', 'the disk quota is used up'],
  ])('%s is E_INPUT naming the path, the reason and what is expected', async (code, reason) => {
    const err = await mapFsError(fsError(code), at('out.jsonl'), 'out.jsonl');
    expect(err).toBeInstanceOf(PhenofaceError);
    expect(err).toMatchObject({ code: 'E_INPUT', message: `Cannot write "out.jsonl": ${reason}. Should be a path in an existing folder you can write to, with free space.` });
    expect((err as Error).cause).toMatchObject({ code });
  });

  it('ENOENT names the missing folder; ENOTDIR names the file in the way', async () => {
    put('file.txt', 'x');
    expect(await mapFsError(fsError('ENOENT'), at('no', 'such', 'out.jsonl'), 'o')).toMatchObject({ message: `Cannot write "o": the folder "${at('no', 'such')}" does not exist. Should be a path in an existing folder you can write to, with free space.` });
    expect(await mapFsError(fsError('ENOTDIR'), at('file.txt', 'sub', 'out.jsonl'), 'o')).toMatchObject({ message: expect.stringContaining(`"${at('file.txt')}" is a file, not a folder`) });
  });

  it('returns other errors unchanged', async () => {
    const plain = new Error('boom');
    const coded = new PhenofaceError('E_MODEL', 'no model');
    expect(await mapFsError(plain, 'x')).toBe(plain);
    expect(await mapFsError(coded, 'x')).toBe(coded);
  });
});

describe('checkOutput', () => {
  it('finds an input behind a symlink, a hard link, or another spelling of its path', async () => {
    put('data/face.jpg', 'photo');
    symlinkSync(at('data/face.jpg'), at('link.jsonl'));
    linkSync(at('data/face.jpg'), at('hard.jsonl'));
    symlinkSync(at('data'), at('data-link'));
    const guard = { option: '--out', inputs: [{ abs: at('data/face.jpg'), shown: 'data/face.jpg' }] };
    for (const out of ['link.jsonl', 'hard.jsonl', 'data-link/face.jpg', 'data/../data/face.jpg']) {
      await expect(checkOutput(at(out), { ...guard, shown: out })).rejects.toMatchObject({ code: 'E_USAGE', message: `--out "${out}" is the input "data/face.jpg": writing it would destroy the input. Should be a path this run does not read.` });
    }
    await expect(checkOutput(at('data/other.jsonl'), guard)).resolves.toBeUndefined();
  });

  it('refuses a replaced folder that holds an input (also through a symlink), and any output inside an input folder', async () => {
    put('data/face.jpg', 'photo');
    symlinkSync(at('data'), at('data-link'));
    const inputs = [at('data/face.jpg')];
    await expect(checkOutput(at('data-link'), { option: '--out', inputs }, true)).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('holds the input') });
    await expect(checkOutput(at('data-link'), { option: '--out', inputs }, false)).resolves.toBeUndefined();
    await expect(checkOutput(at('data-link/heat'), { option: '--explain', inputFolders: [at('data')] })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('lies inside the input folder') });
    await expect(checkOutput(at('data'), { option: '--explain', inputFolders: [at('data-link')] })).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('is the input folder') });
    await expect(checkOutput(at('database'), { option: '--out', inputFolders: [at('data')], inputs }, true)).resolves.toBeUndefined();
  });
});

describe('prepareOutputFile', () => {
  it('leaves the target as it was until commit, and as it was after abort', async () => {
    put('out.jsonl', 'old\n');
    const file = await prepareOutputFile(at('out.jsonl'), { option: '--out' });
    file.write('new 1\n');
    file.write(Buffer.from('new 2\n'));
    expect(read('out.jsonl')).toBe('old\n');
    await file.commit();
    expect(read('out.jsonl')).toBe('new 1\nnew 2\n');
    const dropped = await prepareOutputFile(at('out.jsonl'), { option: '--out' });
    dropped.write('never\n');
    await dropped.abort();
    expect(read('out.jsonl')).toBe('new 1\nnew 2\n');
    expect(readdirSync(tmp.dir)).toEqual(['out.jsonl']);
  });

  it('keeps a replaced file\'s permissions, writes through a symlinked target, and clears staging files of dead runs only', async () => {
    put('out.jsonl', 'old');
    chmodSync(at('out.jsonl'), 0o640);
    await writeOutputFile(at('out.jsonl'), 'new');
    expect(statSync(at('out.jsonl')).mode & 0o777).toBe(0o640);
    put('real/target.jsonl', 'old');
    symlinkSync(at('real/target.jsonl'), at('via-link.jsonl'));
    await writeOutputFile(at('via-link.jsonl'), 'through');
    expect(lstatSync(at('via-link.jsonl')).isSymbolicLink()).toBe(true);
    expect(read('real/target.jsonl')).toBe('through');
    put(`.out.jsonl.partial-${deadPid()}-0badf00d`, 'left by a killed run');
    put(`.out.jsonl.partial-${process.pid}-0badf00d`, 'a live run');
    await writeOutputFile(at('out.jsonl'), 'again');
    expect(readdirSync(tmp.dir).filter((n) => n.startsWith('.out.jsonl.')).sort()).toEqual([`.out.jsonl.partial-${process.pid}-0badf00d`]);
  });

  it('writes to a device directly, leaving the device in place', async () => {
    await writeOutputFile('/dev/null', 'discarded');
    expect(lstatSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(readdirSync('/dev').filter((n) => n.startsWith('.null.'))).toEqual([]);
  });

  it('refuses a folder, and a path in a missing folder, with E_INPUT', async () => {
    mkdirSync(at('sub'));
    await expect(prepareOutputFile(at('sub'), { option: '--out', shown: 'sub' })).rejects.toMatchObject({ code: 'E_INPUT', message: '--out "sub" is a folder. Should be a file path (e.g. out.jsonl).' });
    await expect(prepareOutputFile(at('none', 'out.jsonl'), { option: '--out', shown: 'none/out.jsonl' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^Cannot write "none\/out.jsonl": the folder ".*none" does not exist\./) });
  });
});

describe('prepareOutputFolder', () => {
  it('creates a folder to add files to, keeps what it holds, and refuses a file or a folder in an input folder', async () => {
    put('heat/old.png', 'kept');
    expect(await prepareOutputFolder(at('heat'), { option: '--explain' })).toBe(at('heat'));
    expect(await prepareOutputFolder(at('new', 'heat'), { option: '--explain' })).toBe(at('new', 'heat'));
    expect(read('heat/old.png')).toBe('kept');
    expect(readdirSync(at('new', 'heat'))).toEqual([]);
    await expect(prepareOutputFolder(at('heat', 'old.png'), { option: '--explain', shown: 'old.png' })).rejects.toMatchObject({ code: 'E_INPUT', message: '--explain "old.png" is a file. Should be a folder (new, or one to add files to).' });
    await expect(prepareOutputFolder(at('heat', 'sub'), { option: '--explain', inputFolders: [at('heat')] })).rejects.toMatchObject({ code: 'E_USAGE' });
    expect(existsSync(at('heat', 'sub'))).toBe(false);
  });
});

describe('prepareOutputDir', () => {
  it('builds beside the target and swaps it in: owned entries replaced, kept and system entries carried over', async () => {
    put('out/done.json', JSON.stringify({ generator: 'thing' }));
    put('out/result.txt', 'old');
    put('out/parts/a.txt', 'old part');
    put('out/cache.sqlite', 'cache');
    put('out/.DS_Store', 'finder');
    const staged = await prepareOutputDir(at('out'), KIND, { option: '--out' }, ['cache.sqlite', 'cache.sqlite-wal']);
    expect(path.dirname(staged.dir)).toBe(tmp.dir);
    writeFileSync(path.join(staged.dir, 'result.txt'), 'new');
    writeFileSync(path.join(staged.dir, 'done.json'), JSON.stringify({ generator: 'thing', run: 2 }));
    expect(read('out/result.txt')).toBe('old');
    expect(staged.finalPath(path.join(staged.dir, 'result.txt'))).toBe(at('out', 'result.txt'));
    expect(staged.relocate({ files: [path.join(staged.dir, 'x')], n: 1, other: '/elsewhere' })).toEqual({ files: [at('out', 'x')], n: 1, other: '/elsewhere' });
    await staged.commit();
    expect(readdirSync(at('out')).sort()).toEqual(['.DS_Store', 'cache.sqlite', 'done.json', 'result.txt']);
    expect(read('out/result.txt')).toBe('new');
    expect(read('out/cache.sqlite')).toBe('cache');
    expect(readdirSync(tmp.dir)).toEqual(['out']);
  });

  it('accepts a missing, an empty or a cache-only folder, and leaves the target as it was on failure', async () => {
    for (const name of ['missing', 'empty', 'cache-only']) {
      if (name !== 'missing') mkdirSync(at(name));
      if (name === 'cache-only') put('cache-only/cache.sqlite', 'c');
      // Without kept entries a missing target is not created before the commit.
      const staged = await prepareOutputDir(at(name), KIND, { option: '--out' }, name === 'missing' ? [] : ['cache.sqlite']);
      await expect(staged.run(async (dir) => {
        writeFileSync(path.join(dir, 'result.txt'), 'half');
        throw new Error('failed midway');
      })).rejects.toThrow('failed midway');
      if (name === 'missing') expect(existsSync(at(name))).toBe(false);
      else expect(readdirSync(at(name))).toEqual(name === 'cache-only' ? ['cache.sqlite'] : []);
    }
    expect(readdirSync(tmp.dir).sort()).toEqual(['cache-only', 'empty']);
  });

  it('a failed run removes the empty folders it made (the target made for a cache, missing parents), never one that was there', async () => {
    const fail = async (staged: { run(build: (dir: string) => Promise<void>): Promise<void> }, during = () => {}) =>
      expect(staged.run(async () => { during(); throw new Error('failed midway'); })).rejects.toThrow('failed midway');
    const made = await prepareOutputDir(at('new', 'deeper', 'out'), KIND, { option: '--out' }, ['cache.sqlite']);
    expect(existsSync(at('new', 'deeper', 'out'))).toBe(true);
    await fail(made);
    await fail(await prepareOutputDir(at('parent', 'out'), KIND, { option: '--out' }));
    expect(readdirSync(tmp.dir)).toEqual([]);
    // A cache written during the run keeps its folder (a re-run resumes from it), and that folder's parents.
    await fail(await prepareOutputDir(at('cached', 'out'), KIND, { option: '--out' }, ['cache.sqlite']), () => put('cached/out/cache.sqlite', 'c'));
    expect(readdirSync(at('cached', 'out'))).toEqual(['cache.sqlite']);
    mkdirSync(at('there'));
    await fail(await prepareOutputDir(at('there', 'out'), KIND, { option: '--out' }, ['cache.sqlite']));
    expect(readdirSync(at('there'))).toEqual([]);
    expect(readdirSync(tmp.dir).sort()).toEqual(['cached', 'there']);
  });

  it('refuses someone else\'s files, an unfinished output, and a file, touching nothing', async () => {
    put('mine/notes.txt', 'mine');
    await expect(prepareOutputDir(at('mine'), KIND, { option: '--out' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^Output folder ".*mine" is not empty and holds no earlier thing output \(done\.json\); it holds: "notes\.txt"\./) });
    put('half/result.txt', 'no marker');
    await expect(prepareOutputDir(at('half'), KIND, { option: '--out' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('holds no earlier thing output (done.json)') });
    put('fake/done.json', JSON.stringify({ generator: 'something else' }));
    await expect(prepareOutputDir(at('fake'), KIND, { option: '--out' })).rejects.toMatchObject({ code: 'E_INPUT' });
    put('annotated/done.json', JSON.stringify({ generator: 'thing' }));
    put('annotated/my-notes.txt', 'mine');
    await expect(prepareOutputDir(at('annotated'), KIND, { option: '--out' })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringContaining('also files thing did not write: "my-notes.txt"') });
    put('file.txt', 'x');
    await expect(prepareOutputDir(at('file.txt'), KIND, { option: '--out', shown: 'file.txt' })).rejects.toMatchObject({ code: 'E_INPUT', message: '--out "file.txt" is a file. Should be a folder (new, empty, or an earlier thing output).' });
    expect(readdirSync(tmp.dir).sort()).toEqual(['annotated', 'fake', 'file.txt', 'half', 'mine']);
    expect(read('mine/notes.txt')).toBe('mine');
  });

  it('carries over files that appeared during the run, and removes staging folders of dead runs only', async () => {
    mkdirSync(at(`.out.partial-${deadPid()}-0badf00d`));
    mkdirSync(at(`.out.partial-${process.pid}-0badf00d`));
    const staged = await prepareOutputDir(at('out'), KIND, { option: '--out' });
    await staged.run(async (dir) => {
      writeFileSync(path.join(dir, 'result.txt'), 'new');
      put('out/added-meanwhile.txt', 'mine');
    });
    expect(readdirSync(at('out')).sort()).toEqual(['added-meanwhile.txt', 'result.txt']);
    expect(readdirSync(tmp.dir).sort()).toEqual([`.out.partial-${process.pid}-0badf00d`, 'out']);
  });

  it('names a file-system error in the staging folder by the final path', async () => {
    const staged = await prepareOutputDir(at('out'), KIND, { option: '--out' });
    await expect(staged.run(async (dir) => { throw fsError('ENOSPC', path.join(dir, 'parts', 'a.bin')); })).rejects.toMatchObject({
      code: 'E_INPUT',
      message: `Cannot write "${at('out', 'parts', 'a.bin')}": no space left on the device. Should be a path in an existing folder you can write to, with free space.`,
    });
    // A failed write(2) names no path: it is put on the output folder. Other errors pass unchanged.
    const again = await prepareOutputDir(at('out'), KIND, { option: '--out', shown: 'out' });
    await expect(again.run(async () => { throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }); })).rejects.toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^Cannot write "out": no space left on the device\./) });
    const reading = fsError('EACCES', '/data/photo.jpg');
    await expect((await prepareOutputDir(at('out'), KIND, { option: '--out' })).run(async () => { throw reading; })).rejects.toBe(reading);
    expect(readdirSync(tmp.dir)).toEqual([]);
  });
});

describe('cacheEntries', () => {
  it('keeps a cache directly in the folder with its side files, or the top entry holding it; nothing for one outside', async () => {
    expect(await cacheEntries(at('out'), at('out', 'cache.sqlite'))).toEqual(['cache.sqlite', 'cache.sqlite-wal', 'cache.sqlite-shm', 'cache.sqlite-journal']);
    expect(await cacheEntries(at('out'), at('out', 'caches', 'c.sqlite'))).toEqual(['caches']);
    expect(await cacheEntries(at('out'), at('elsewhere', 'cache.sqlite'))).toEqual([]);
  });
});

/** As root, permission checks need a child process as `nobody` (root writes anywhere). */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const childCanRun = !asRoot || spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(repo, 'node_modules/tsx/package.json'))}, 4); require('fs').accessSync(${JSON.stringify(path.join(repo, 'src/data/output.ts'))}, 4)`], { uid: NOBODY, gid: NOBODY }).status === 0;

describe('permissions', () => {
  it.skipIf(!childCanRun)('an output in a folder the user cannot write is E_INPUT "permission denied", for files and folders alike', () => {
    mkdirSync(at('locked'));
    chmodSync(tmp.dir, 0o755);
    chmodSync(at('locked'), 0o555);
    const script = at('write.mts');
    writeFileSync(script, `
      import { prepareOutputDir, prepareOutputFile, prepareOutputFolder } from ${JSON.stringify(path.join(repo, 'src/data/output.ts'))};
      const kind = { name: 'thing', marker: 'done.json', isMarker: () => true, owned: [] };
      const out = [];
      for (const f of [() => prepareOutputFile(${JSON.stringify(at('locked', 'out.jsonl'))}, { option: '--out' }), () => prepareOutputDir(${JSON.stringify(at('locked', 'study'))}, kind, { option: '--out' }), () => prepareOutputFolder(${JSON.stringify(at('locked'))}, { option: '--explain' })]) {
        try { await f(); out.push('no error'); } catch (e) { out.push(e.code + ': ' + e.message); }
      }
      console.log(JSON.stringify(out));
    `);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8', env: { ...process.env, HOME: tmp.dir }, ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
    expect(run.status, run.stderr).toBe(0);
    const messages: string[] = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(messages).toHaveLength(3);
    for (const m of messages) expect(m).toMatch(/^E_INPUT: Cannot write ".*locked.*": permission denied\. Should be /);
    expect(readdirSync(at('locked'))).toEqual([]);
    expect(existsSync(at('locked', 'study'))).toBe(false);
  });
});
