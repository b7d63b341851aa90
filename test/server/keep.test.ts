/**
 * `--keep DIR` when the disk is full or the folder is not writable. A full disk cannot be made on
 * demand, so `writeFile` is made to fail with ENOSPC; write permission cannot be taken from root,
 * so as root the server is built in a child process as user `nobody`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { FakeScreenService } from './fake-service.ts';
import { facePhoto, multipartBody } from './fixtures.ts';

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, default: actual, writeFile: vi.fn(actual.writeFile) };
});

const REPO = path.resolve(import.meta.dirname, '../..');
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
/** As root, the check runs as `nobody`, who must be able to read the repository. */
const nobodyCanRun = !asRoot || spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(path.join(REPO, 'src/server/app.ts'))}, 4); require('fs').accessSync(${JSON.stringify(path.join(REPO, 'test/server/fake-service.ts'))}, 4); require('fs').accessSync(${JSON.stringify(path.join(REPO, 'node_modules/tsx/package.json'))}, 4)`], { uid: NOBODY, gid: NOBODY }).status === 0;

const dirs: string[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  vi.mocked(writeFile).mockClear();
});
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'phenoface-keep-'));
  dirs.push(d);
  return d;
}

describe('--keep on a full disk', () => {
  it('answers 507 E_CONFIG, withholds the result and leaves no partial copy', async () => {
    const keepDir = tmp();
    const lines: string[] = [];
    const app = await buildServer({ service: new FakeScreenService(), keepDir, webRoot: '/nonexistent', log: (l) => lines.push(l) });
    apps.push(app);
    vi.mocked(writeFile).mockRejectedValueOnce(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
    const { payload, headers } = multipartBody([{ filename: 'patient-z.jpg', bytes: await facePhoto() }]);
    const res = await app.inject({ method: 'POST', url: '/api/screen', payload, headers });
    expect(res.statusCode).toBe(507);
    const body = res.json();
    expect(body.error.code).toBe('E_CONFIG');
    expect(body.error.message).toContain('ENOSPC: no space left on device');
    expect(body.error.message).toContain('result is withheld');
    expect(body.subject).toBeUndefined();
    expect(readdirSync(keepDir)).toEqual([]);
    expect(lines.join('\n')).toMatch(/E_CONFIG Error ENOSPC/);
    expect(lines.join('\n')).not.toContain('patient-z');
  });
});

describe('--keep on a folder without write permission', () => {
  it.skipIf(!nobodyCanRun)('is refused when the server is built: E_CONFIG', async () => {
    const root = tmp();
    const locked = path.join(root, 'locked');
    mkdirSync(locked);
    chmodSync(root, 0o755); // mkdtemp makes it private to its owner
    chmodSync(locked, 0o555);
    const script = path.join(root, 'build.mts');
    writeFileSync(script, `import { buildServer } from ${JSON.stringify(path.join(REPO, 'src/server/app.ts'))};
      import { FakeScreenService } from ${JSON.stringify(path.join(REPO, 'test/server/fake-service.ts'))};
      try { const app = await buildServer({ service: new FakeScreenService(), keepDir: ${JSON.stringify(locked)}, webRoot: '/nonexistent' }); await app.close(); console.log('ok'); }
      catch (e) { console.log(e.code + ' ' + e.message); }`);
    chmodSync(script, 0o644);
    // Root writes anywhere: the build runs as `nobody` then.
    const build = () => spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, encoding: 'utf8', env: { ...process.env, HOME: root }, ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
    const run = build();
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n').pop()).toBe(`E_CONFIG The --keep folder "${locked}" is not writable (EACCES: permission denied). Expected an existing folder this user can write to.`);
    // The same folder made writable passes (so the refusal above was the permission).
    chmodSync(locked, 0o777);
    expect(build().stdout.trim().split('\n').pop()).toBe('ok');
  }, 60_000);
});
