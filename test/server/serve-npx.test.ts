/**
 * `npx phenoface serve` stops when npx does. npm exec runs `sh -c <command>`, the shell runs node,
 * and a signal that reaches npm alone is not passed on. Here a stand-in for npm exec (a node process
 * with npm's `npm_command=exec` in the environment) starts the real serve command, with the fake
 * screening service, through `sh -c`; the stand-in is then killed and the server must go too.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts serve-fake-main.ts as npm exec would: launcher -> `sh -c` -> node. `keepShell` makes the
 * shell wait for node (a shell that hands its process over to node leaves node's parent npm).
 */
async function serveUnderNpmExec(npmCommand: string | undefined, keepShell: boolean) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-npx-'));
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const node = [process.execPath, '--import', pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href, path.join(REPO, 'test/server/serve-fake-main.ts'), '--model', root, '--port', '0'].map(quote).join(' ');
  const command = keepShell ? `${node}; exit $?` : node;
  const launcher = `const c = require('child_process').spawn('sh', ['-c', ${JSON.stringify(command)}], { stdio: 'inherit' }); process.stderr.write('shell ' + c.pid + '\\n'); setInterval(() => {}, 1e9);`;
  const env: NodeJS.ProcessEnv = { ...process.env, PHENOFACE_TOKEN: '', PHENOFACE_WEB_ROOT: path.join(root, 'no-web') };
  delete env.npm_command;
  if (npmCommand !== undefined) env.npm_command = npmCommand;
  const npm = spawn(process.execPath, ['-e', launcher], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  npm.stdout.on('data', (d) => { stdout += d; });
  npm.stderr.on('data', (d) => { stderr += d; });
  await expect.poll(() => /at (http:\S+)/.test(stdout) && /^pid \d+$/m.test(stderr), { timeout: 60_000, interval: 100 }).toBe(true);
  const server = Number(/^pid (\d+)$/m.exec(stderr)![1]);
  const shell = Number(/^shell (\d+)$/m.exec(stderr)![1]);
  cleanups.push(() => {
    for (const pid of [server, shell, npm.pid!]) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  return { npm, server, url: /at (http:\S+)/.exec(stdout)![1] };
}

describe('phenoface serve under npx', () => {
  it.each([
    ['a shell that waits for node', true],
    ['a shell that hands its process to node', false],
  ])('stops when npm exec is killed (%s)', async (_, keepShell) => {
    const { npm, server, url } = await serveUnderNpmExec('exec', keepShell);
    expect((await fetch(`${url}api/health`)).status).toBe(200);
    npm.kill('SIGKILL'); // nothing is passed on: as npm exec with a signal it does not forward
    await expect.poll(() => isAlive(server), { timeout: 15_000, interval: 100 }).toBe(false);
    await expect(fetch(`${url}api/health`)).rejects.toThrow();
  }, 90_000);

  it('keeps serving when its launcher goes away outside npx (nohup-style use is left alone)', async () => {
    const { npm, server, url } = await serveUnderNpmExec(undefined, true);
    npm.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(isAlive(server)).toBe(true);
    expect((await fetch(`${url}api/health`)).status).toBe(200);
  }, 90_000);
});
