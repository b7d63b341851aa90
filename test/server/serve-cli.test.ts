/**
 * `phenoface serve` as a command: binding rules (a non-loopback address needs a token), usage
 * errors, start and stop with an injected fake service, and the privacy promise: without --keep,
 * no uploaded photo reaches the disk or the log (checked on a separate process, with strace when
 * available); with --keep, it does, in the named folder only.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { loadRealService, serveCommand } from '../../src/cli/serve.ts';
import { DEFAULTS } from '../../src/config.ts';
import { memoryIO } from '../support/io.ts';
import { FakeScreenService } from './fake-service.ts';
import { facePhoto, multipartBody } from './fixtures.ts';
import { toyBundle } from '../support/toy-bundle.ts';
import { requestHead, trickle } from './raw-http.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const tmpRoots: string[] = [];
function tmp(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-serve-'));
  tmpRoots.push(dir);
  return dir;
}
afterAll(() => { for (const d of tmpRoots) rmSync(d, { recursive: true, force: true }); });

describe('serve: usage and binding', () => {
  it('refuses a non-loopback host without a token: E_CONFIG, exit 2, before loading any model', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      const io = memoryIO();
      expect(await main(['serve', '--model', '/no/such/model', '--host', host], io)).toBe(2);
      expect(io.stderr).toContain('E_CONFIG');
      expect(io.stderr).toContain(`"${host}" without an access token`);
    }
  });

  it('refuses a short token, and needs --model', async () => {
    const io = memoryIO();
    expect(await main(['serve', '--model', 'm', '--token', 'short'], io)).toBe(2);
    expect(io.stderr).toMatch(/E_CONFIG.*5 characters long.*at least 16/);
    const io2 = memoryIO();
    expect(await main(['serve'], io2)).toBe(2);
    expect(io2.stderr).toMatch(/E_USAGE: Missing --model/);
    const io3 = memoryIO();
    expect(await main(['serve', '--model', 'm', '--port', '70000'], io3)).toBe(2);
    expect(io3.stderr).toMatch(/Invalid --port: "70000"/);
  });

  it('refuses a token no request can send (a space, a carriage return, a character outside ASCII) without naming it', async () => {
    const secret = 'env-token-0123456789abcdef';
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--token', `${secret} x`], {}, /holds a space or line break \(character 27\)/],
      [[], { PHENOFACE_TOKEN: `${secret}\r` }, /holds a space or line break \(character 27\)/],
      [['--token', `${secret}\u0007`], {}, /holds a control character/],
      [['--token', `${secret}é`], {}, /holds a character outside ASCII/],
    ];
    for (const [args, env, why] of cases) {
      const io = memoryIO();
      let loaded = false;
      const run = serveCommand({ loadService: async () => { loaded = true; return new FakeScreenService(); }, env, webRoot: '/nonexistent' });
      await expect(run(['--model', tmp(), '--host', '0.0.0.0', '--port', '0', ...args], io)).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringMatching(why) });
      expect(loaded).toBe(false);
    }
    const io = memoryIO();
    expect(await main(['serve', '--model', 'm', '--token', `${secret} x`], io)).toBe(2);
    expect(io.stderr).toMatch(/E_CONFIG: Access token holds a space.*no "Authorization: Bearer" header can carry/);
    expect(io.stderr).not.toContain(secret);
  });

  it("refuses to start with a bundle whose explanation file is damaged, naming it to the operator, rather than fail every screening with the file's path", async () => {
    const dir = await toyBundle();
    tmpRoots.push(dir);
    writeFileSync(path.join(dir, 'explain-reference.json'), '[1, 2]');
    const stop = new AbortController();
    const run = serveCommand({ loadService: loadRealService, webRoot: '/nonexistent', signal: stop.signal, onListening: () => stop.abort() });
    await expect(run(['--model', dir, '--port', '0'], memoryIO())).rejects.toMatchObject({ code: 'E_MODEL', message: expect.stringContaining(`${path.join(dir, 'explain-reference.json')}: it holds an array`) });
  }, 60_000);

  it('says a missing model folder is missing (exit 1)', async () => {
    const io = memoryIO();
    expect(await main(['serve', '--model', '/no/such/model'], io)).toBe(1);
    expect(io.stderr).toMatch(/E_NOT_FOUND: Model folder "\/no\/such\/model" does not exist/);
  });

  it('says a model path that is a file is a file, not that it is missing (exit 1)', async () => {
    const file = path.join(tmp(), 'model.json');
    writeFileSync(file, '{}');
    const io = memoryIO();
    expect(await main(['serve', '--model', file], io)).toBe(1);
    expect(io.stderr).toContain(`E_INPUT: --model "${file}" is a file, not a folder. Expected the model/ folder`);
  });

  it('starts on a free loopback port, answers, and stops closing the service', async () => {
    const service = new FakeScreenService();
    const stop = new AbortController();
    let url = '';
    const io = memoryIO();
    const done = serveCommand({ loadService: async () => service, signal: stop.signal, onListening: (u) => { url = u; }, webRoot: '/nonexistent' })(['--model', tmp(), '--port', '0'], io);
    await expect.poll(() => url, { timeout: 10_000 }).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(`${url}api/health`);
    expect(res.status).toBe(200);
    expect((await res.json()).model.id).toBe('fake-model-1');
    stop.abort();
    expect(await done).toBe(0);
    expect(service.closed).toBe(true);
    expect(io.stdout).toContain(`at ${url}`);
    expect(io.stderr).toContain('web UI is not built');
    expect(io.stderr).toMatch(/GET \/api\/health 200 \d+ ms/);
  });

  it('takes the token from PHENOFACE_TOKEN and then binds a LAN address, requiring it', async () => {
    const token = 'env-token-0123456789abcdef';
    const stop = new AbortController();
    let url = '';
    const io = memoryIO();
    const done = serveCommand({ loadService: async () => new FakeScreenService(), env: { PHENOFACE_TOKEN: token }, signal: stop.signal, onListening: (u) => { url = u; }, webRoot: '/nonexistent' })(['--model', tmp(), '--host', '0.0.0.0', '--port', '0'], io);
    await expect.poll(() => url, { timeout: 10_000 }).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/$/);
    const port = new URL(url).port;
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/api/health`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(io.stderr).toContain('not encrypted');
    stop.abort();
    expect(await done).toBe(0);
  });

  it('refuses a --keep path it cannot use: E_CONFIG naming it, before loading the model', async () => {
    const file = path.join(tmp(), 'file');
    writeFileSync(file, 'x');
    let loaded = false;
    const cases: Array<[string, string]> = [[file, 'Cannot create the --keep folder'], [path.join(file, 'sub'), 'ENOTDIR']];
    for (const [keep, message] of cases) {
      const run = serveCommand({ loadService: async () => { loaded = true; return new FakeScreenService(); }, signal: AbortSignal.abort(), webRoot: '/nonexistent' })(['--model', tmp(), '--port', '0', '--keep', keep], memoryIO());
      await expect(run).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining(message) });
      await expect(run).rejects.toMatchObject({ message: expect.stringContaining(`"${keep}"`) });
    }
    expect(loaded).toBe(false);
  });

  it('refuses a --keep folder in the model folder: patient photos never go into a bundle made to be shared', async () => {
    const model = tmp();
    const run = serveCommand({ loadService: async () => new FakeScreenService(), signal: AbortSignal.abort(), webRoot: '/nonexistent' })(['--model', model, '--port', '0', '--keep', path.join(model, 'kept')], memoryIO());
    await expect(run).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/--keep ".*kept" lies inside the input folder/) });
    expect(existsSync(path.join(model, 'kept'))).toBe(false);
  });

  it('stops within 2 s of the signal while uploads trickle in, refusing them', async () => {
    const stop = new AbortController();
    let url = '';
    const done = serveCommand({ loadService: async () => new FakeScreenService(), signal: stop.signal, onListening: (u) => { url = u; }, webRoot: '/nonexistent' })(['--model', tmp(), '--port', '0'], memoryIO());
    await expect.poll(() => url, { timeout: 10_000 }).not.toBe('');
    const port = Number(new URL(url).port);
    const form = multipartBody([{ filename: 'slow.jpg', bytes: await facePhoto(200, 250) }]);
    const slow = Array.from({ length: 10 }, () => trickle(port, requestHead('POST', '/api/screen', { ...form.headers, 'Content-Length': form.payload.length }), form.payload));
    try {
      // One address may have a few uploads arriving at once; the rest are refused at once.
      await expect.poll(() => slow.filter((t) => t.sent() > 64).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(DEFAULTS.server.maxUploadsPerClient);
      const t0 = performance.now();
      stop.abort();
      expect(await done).toBe(0);
      expect(performance.now() - t0).toBeLessThan(2_000);
    } finally {
      for (const t of slow) t.stop();
    }
  });

  it('reports a port in use as E_CONFIG', async () => {
    const stop = new AbortController();
    let url = '';
    const first = serveCommand({ loadService: async () => new FakeScreenService(), signal: stop.signal, onListening: (u) => { url = u; }, webRoot: '/nonexistent' })(['--model', tmp(), '--port', '0'], memoryIO());
    await expect.poll(() => url, { timeout: 10_000 }).not.toBe('');
    const service = new FakeScreenService();
    const second = serveCommand({ loadService: async () => service, signal: AbortSignal.abort(), webRoot: '/nonexistent' })(['--model', tmp(), '--port', new URL(url).port], memoryIO());
    await expect(second).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('already in use') });
    expect(service.closed).toBe(true);
    stop.abort();
    expect(await first).toBe(0);
  });
});

/** Every regular file below `dir`. */
function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

const haveStrace = spawnSync('strace', ['-V']).status === 0 && spawnSync('strace', ['-f', '-qq', '-e', 'trace=none', 'true']).status === 0;

/**
 * Runs serve-fake-main.ts in its own process (cwd, TMPDIR and HOME in a fresh folder), posts one
 * photo, stops the server. Returns what it printed and, under strace, the files it opened for writing
 * after it started listening.
 */
async function runServeProcess(root: string, photo: Buffer, filename: string, extra: string[] = []) {
  for (const d of ['cwd', 'tmp', 'home', 'model']) spawnSync('mkdir', ['-p', path.join(root, d)]);
  const node = [process.execPath, '--import', pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href, path.join(REPO, 'test/server/serve-fake-main.ts'), '--model', path.join(root, 'model'), '--port', '0', ...extra];
  const traceFile = path.join(root, 'strace.txt');
  const [cmd, ...args] = haveStrace ? ['strace', '-f', '-qq', '-s', '64', '-e', 'trace=openat,open,creat,rename,renameat,renameat2,link,linkat,write', '-o', traceFile, ...node] : node;
  const child = spawn(cmd, args, { cwd: path.join(root, 'cwd'), env: { ...process.env, TMPDIR: path.join(root, 'tmp'), HOME: path.join(root, 'home'), PHENOFACE_TOKEN: '', PHENOFACE_WEB_ROOT: path.join(root, 'no-web') }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await expect.poll(() => /at (http:\S+)/.test(stdout) && /^pid \d+$/m.test(stderr), { timeout: 60_000, interval: 100 }).toBe(true);
  const url = /at (http:\S+)/.exec(stdout)![1];
  const form = new FormData();
  form.append('photos', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), filename);
  const res = await fetch(`${url}api/screen`, { method: 'POST', body: form });
  const body = await res.json();
  // The server's own pid (under strace, `child` is strace, which would not pass the signal on).
  process.kill(Number(/^pid (\d+)$/m.exec(stderr)![1]), 'SIGTERM');
  const code = await exited;
  let writtenAfterListening: string[] = [];
  if (haveStrace) {
    const lines = readFileSync(traceFile, 'utf8').split('\n');
    const start = lines.findIndex((l) => l.includes('"Phenoface is serving'));
    writtenAfterListening = lines.slice(start + 1)
      .filter((l) => /(open|openat|creat)\(/.test(l) && (/O_WRONLY|O_RDWR|O_CREAT/.test(l) || /creat\(/.test(l)) || /(rename|link)\w*\(/.test(l))
      .map((l) => /"([^"]+)"/.exec(l)?.[1] ?? l)
      .filter((p) => !p.startsWith('/dev/') && !p.startsWith('/proc/'));
  }
  return { status: res.status, body, code, stdout, stderr, writtenAfterListening };
}

describe('serve: stopping (separate process)', () => {
  it.runIf(process.platform !== 'win32')('exits within 2 s of SIGTERM while uploads trickle in', async () => {
    const root = tmp();
    const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href, path.join(REPO, 'test/server/serve-fake-main.ts'), '--model', root, '--port', '0'], { env: { ...process.env, PHENOFACE_TOKEN: '', PHENOFACE_WEB_ROOT: path.join(root, 'no-web') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const slow: ReturnType<typeof trickle>[] = [];
    try {
      await expect.poll(() => /at (http:\S+)/.test(stdout), { timeout: 60_000, interval: 100 }).toBe(true);
      const port = Number(new URL(/at (http:\S+)/.exec(stdout)![1]).port);
      const form = multipartBody([{ filename: 'slow.jpg', bytes: await facePhoto(200, 250) }]);
      for (let i = 0; i < DEFAULTS.server.maxUploadsPerClient; i++) slow.push(trickle(port, requestHead('POST', '/api/screen', { ...form.headers, 'Content-Length': form.payload.length }), form.payload));
      await expect.poll(() => slow.every((t) => t.sent() > 64), { timeout: 5_000 }).toBe(true);
      const t0 = performance.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(performance.now() - t0).toBeLessThan(2_000);
    } finally {
      for (const t of slow) t.stop();
      child.kill('SIGKILL');
    }
  }, 90_000);
});

describe('serve: privacy (separate process)', () => {
  it.runIf(process.platform === 'linux')('without --keep writes no photo to disk and logs neither file names nor results', async () => {
    const root = tmp();
    const photo = await facePhoto(300 + Math.floor(Math.random() * 100), 400, 'jpeg', `#${Math.floor(0x800000 + Math.random() * 0x7fffff).toString(16)}`);
    const filename = `patient-${Math.random().toString(36).slice(2)}.jpg`;
    const run = await runServeProcess(root, photo, filename);
    expect(run.status, JSON.stringify(run.body)).toBe(200);
    expect(run.body.photos[0].path).toBe(filename);
    expect(run.code).toBe(0);
    const log = run.stdout + run.stderr;
    expect(log).toMatch(/POST \/api\/screen 200/);
    expect(log).not.toContain(filename);
    expect(log).not.toContain('probability');
    // No file anywhere in the process's cwd, TMPDIR or HOME holds the photo's bytes or name.
    const marker = photo.subarray(photo.length >> 1, (photo.length >> 1) + 64);
    for (const file of filesBelow(root).filter((f) => !f.endsWith('strace.txt'))) {
      const bytes = readFileSync(file);
      expect(bytes.includes(marker), file).toBe(false);
      expect(bytes.includes(Buffer.from(filename)), file).toBe(false);
    }
    if (haveStrace) expect(run.writtenAfterListening).toEqual([]);
    else console.warn('strace unavailable: checked the process\'s cwd, TMPDIR and HOME only');
  }, 120_000);

  it.runIf(process.platform === 'linux')('with --keep DIR writes the photo (named by position) and the result there, private to the user', async () => {
    const root = tmp();
    const keep = path.join(root, 'kept');
    const photo = await facePhoto(320, 400);
    const run = await runServeProcess(root, photo, 'Jane Doe.jpg', ['--keep', keep]);
    expect(run.status).toBe(200);
    expect(run.stderr).toContain(`Keeping every screened photo and result in ${keep}`);
    const files = filesBelow(keep).map((f) => path.relative(keep, f));
    expect(files).toHaveLength(2);
    const photoFile = files.find((f) => f.endsWith('photo-1.jpg'))!;
    expect(readFileSync(path.join(keep, photoFile)).equals(photo)).toBe(true);
    expect(statSync(path.join(keep, photoFile)).mode & 0o777).toBe(0o600);
    const result = JSON.parse(readFileSync(path.join(keep, path.dirname(photoFile), 'result.json'), 'utf8'));
    expect(result.photos[0].path).toBe('Jane Doe.jpg');
    if (haveStrace) expect(run.writtenAfterListening.every((p) => p.startsWith(keep))).toBe(true);
  }, 120_000);
});
