/**
 * Browser end-to-end support: Debian's Chromium driven by playwright-core (installed with apt-get
 * when missing; tests skip with the reason when that fails), the UI built with Vite into a test
 * folder, and a server on 127.0.0.1 with an injected screening service.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerOptions } from '../../src/server/app.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');
/** Screenshots and other outputs (gitignored). */
export const OUT_DIR = path.join(REPO, 'test/.tmp/e2e');
export const CHROMIUM = process.env.PHENOFACE_CHROMIUM ?? '/usr/bin/chromium';
/** Offline, quiet, container-safe Chromium flags. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * The Chromium executable, installing Debian's `chromium` package when it is missing. Returns the
 * reason instead when it cannot be had (not Linux, no apt-get, not root, no network).
 */
export function ensureChromium(): { path?: string; reason?: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.platform !== 'linux' || spawnSync('apt-get', ['--version']).status !== 0) {
    return { reason: `Chromium is missing at ${CHROMIUM} and apt-get is unavailable; install Chromium or set PHENOFACE_CHROMIUM.` };
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let run = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, stdio: 'ignore', timeout: 300_000 });
  if (run.status !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 120_000 });
    run = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, stdio: 'ignore', timeout: 300_000 });
  }
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  return { reason: `Chromium is missing at ${CHROMIUM} and "apt-get install -y chromium" failed (exit ${run.status ?? run.signal}); run it as root, or set PHENOFACE_CHROMIUM.` };
}

/** Builds the UI with the project's Vite config into `outDir` (the sources under test, not a stale dist). */
export async function buildWeb(outDir: string): Promise<string> {
  const { build } = await import('vite');
  await build({ configFile: path.join(REPO, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

/** Starts a server on a free loopback port; returns it and its base URL. */
export async function startServer(opts: ServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildServer({ config: { host: '127.0.0.1', ...opts.config }, ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return { app, url: `http://127.0.0.1:${address.port}/` };
}

/** Where a screenshot goes (test/.tmp/e2e/NAME.png). */
export function shot(name: string): string {
  mkdirSync(OUT_DIR, { recursive: true });
  return path.join(OUT_DIR, `${name}.png`);
}
