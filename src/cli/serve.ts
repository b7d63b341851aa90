/**
 * `phenoface serve --model DIR/model [--host 127.0.0.1] [--port 8080] [--token T] [--keep DIR]`:
 * the local web application (CLI contract "serve"). Listens on loopback by default; any other
 * address requires an access token (`--token`, or the PHENOFACE_TOKEN environment variable) and is
 * refused without one (E_CONFIG, exit code 2). Runs until SIGINT/SIGTERM; stopping does not wait
 * for uploads still arriving (the server refuses them and closes every connection after a short grace).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PhenofaceError } from '../errors.ts';
import { checkBinding, isLoopbackHost } from '../server/access.ts';
import { buildServer, DEFAULT_WEB_ROOT } from '../server/app.ts';
import { prepareKeepDir } from '../server/keep.ts';
import { checkOutput } from '../data/output.ts';
import { DEFAULTS } from '../config.ts';
import type { ScreenService } from '../server/types.ts';
import { WorkerScreenService } from '../server/thread-service.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { EXIT, type Command } from './io.ts';

/** `phenoface serve`'s options. */
export const SERVE = defineCommand({
  name: 'serve',
  description: [
    'Starts the local web application: open the printed address in a browser, upload photos of one',
    'patient, and read the screening result with its explanation.',
  ].join('\n'),
  args: {
    model: { type: 'string', placeholder: 'DIR/model', required: true, description: 'the model/ folder written by `phenoface study` (or `phenoface demo`)' },
    host: { type: 'string', placeholder: 'ADDRESS', default: DEFAULTS.server.host, description: 'address to listen on (the default: this machine only);\nany other address needs an access token' },
    port: { type: 'integer', placeholder: 'PORT', min: 0, max: 65535, default: DEFAULTS.server.port, description: 'TCP port (0 picks a free one)' },
    token: {
      type: 'string',
      placeholder: 'T',
      defaultText: 'the PHENOFACE_TOKEN environment variable',
      description: [
        `access token (at least ${DEFAULTS.server.minTokenLength} characters) every API request must send`,
        'as "Authorization: Bearer <token>". Make one with `openssl rand -hex 16`.',
        'With a token, Host and Origin headers are not checked, so the server also',
        'works behind an HTTPS reverse proxy',
      ].join('\n'),
    },
    prevalence: { type: 'number', placeholder: 'P', min: 1e-9, max: 0.999, default: DEFAULTS.evaluate.prevalence, description: "the pre-test chance every result's chance assumes (e.g. a referral clinic's share of\naffected patients); the page lets the clinician change it for a result" },
    keep: { type: 'string', placeholder: 'DIR', defaultText: 'off, photos stay in memory and are never written to disk or logs', description: "write each screening's photos and result to a new folder in DIR" },
  },
  notes: [
    `Limits: ${DEFAULTS.server.maxFiles} photos a request, ${DEFAULTS.server.maxFileBytes / 1024 / 1024} MB and ${DEFAULTS.server.maxPixels / 1e6} megapixels a photo; ${DEFAULTS.server.concurrency} screenings`,
    `at a time with ${DEFAULTS.server.queueSize} waiting, then "busy" (HTTP 503). An upload must arrive within`,
    `${DEFAULTS.server.uploadMsPerMB / 1000} s per MB (at least ${DEFAULTS.server.uploadMinMs / 1000} s), and one address may send ${DEFAULTS.server.maxUploadsPerClient} at once.`,
  ].join('\n'),
  examples: ['phenoface serve --model results/model', 'PHENOFACE_TOKEN=$(openssl rand -hex 16) phenoface serve --model results/model --host 0.0.0.0'],
});

const USAGE = usageLine(SERVE);

/** What the command needs from outside, injected so tests run it with a fake service. */
export interface ServeDeps {
  /** Loads the screening service for a model folder (the real one: `Screener.load`); `warn` prints to stderr. */
  loadService(modelDir: string, warn: (message: string) => void): Promise<ScreenService>;
  /** Environment (for PHENOFACE_TOKEN); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Stops the server when aborted; by default SIGINT/SIGTERM do, and under `npx` npm's end. */
  signal?: AbortSignal;
  /** Called with the base URL once listening. */
  onListening?(url: string): void;
  /** Folder of the built UI (default web/dist). */
  webRoot?: string;
}

/**
 * The real service as `serve` runs it: the model bundle's `Screener` (src/server/bundle-service.ts) in a
 * worker thread, so screening never stalls the HTTP thread (src/server/thread-service.ts).
 */
export function loadRealService(modelDir: string, warn: (message: string) => void): Promise<ScreenService> {
  return WorkerScreenService.start({ module: new URL('../server/bundle-service.ts', import.meta.url).href, exportName: 'loadScreenService', args: [modelDir] }, warn);
}

function urlOf(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

/** The parent of process `pid` and its command name, from Linux's /proc; undefined elsewhere or once it is gone. */
function processInfo(pid: number): { parent: number; name: string } | undefined {
  try {
    // "pid (name) state ppid ...": the name may hold spaces and parentheses, so split after its last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { parent: Number(stat.slice(close + 2).split(' ')[1]), name: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined;
  }
}

/** True while process `pid` exists (signal 0 checks without sending; EPERM means it exists). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Under `npx` / `npm exec` npm runs `sh -c <command>`, and the shell runs this process. A Ctrl-C or
 * a kill that reaches npm alone is not passed on, and would leave the server running with nobody to
 * stop it. So the server watches whoever launched it: its parent (the shell, or npm when the shell
 * handed over its process) and, when the parent is that shell, npm above it. When either is gone,
 * `onGone` runs. A process whose parent ends gets a new parent, so a changed parent id is the sign
 * where `/proc` tells it; elsewhere the parent's existence is.
 */
function watchLauncher(onGone: () => void): () => void {
  const parent = process.ppid;
  const shell = processInfo(parent);
  const npm = shell && /sh$/.test(shell.name) ? shell.parent : undefined;
  const timer = setInterval(() => {
    const parentGone = process.ppid !== parent || !isAlive(parent);
    const npmGone = npm !== undefined && processInfo(parent)?.parent !== npm;
    if (parentGone || npmGone) onGone();
  }, DEFAULTS.server.launcherPollMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Resolves when the signal aborts, or, when there is no signal, on SIGINT/SIGTERM and, when run by
 * `npm exec` (`npx`; npm sets `npm_command`), once npm is gone ({@link watchLauncher}).
 */
function untilStopped(signal: AbortSignal | undefined, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    if (signal) {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const unwatch = env.npm_command === 'exec' ? watchLauncher(() => stop()) : () => {};
    const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); unwatch(); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The command with its service loader injected. */
export function serveCommand(deps: ServeDeps = { loadService: loadRealService }): Command {
  return async (argv, io) => {
    const { values, positionals, help } = parseCommand(SERVE, argv);
    if (help) { io.out(helpText(SERVE)); return EXIT.ok; }
    if (positionals.length > 0) throw usageError(`Unexpected argument "${positionals[0]}".`, USAGE);
    if (values.model === undefined) throw usageError('Missing --model DIR/model.', USAGE);
    const { host, port } = values;
    if (host.trim() === '') throw usageError('Invalid --host "". Expected an address such as 127.0.0.1.', USAGE);
    const env = deps.env ?? process.env;
    const token = values.token ?? (env.PHENOFACE_TOKEN || undefined);
    checkBinding(host, token, DEFAULTS.server.minTokenLength);

    const modelDir = path.resolve(io.cwd, values.model);
    const modelStats = statSync(modelDir, { throwIfNoEntry: false });
    const expected = 'Expected the model/ folder written by `phenoface study` or `phenoface demo`.';
    if (!modelStats) throw new PhenofaceError('E_NOT_FOUND', `Model folder "${values.model}" does not exist. ${expected}`);
    if (!modelStats.isDirectory()) throw new PhenofaceError('E_INPUT', `--model "${values.model}" is a file, not a folder. ${expected}`);
    let keepDir: string | undefined;
    if (values.keep !== undefined) {
      keepDir = path.resolve(io.cwd, values.keep);
      // Patient photos never go into the model bundle, which is made to be shared.
      await checkOutput(keepDir, { option: '--keep', shown: values.keep, inputFolders: [{ abs: modelDir, shown: values.model }] });
      await prepareKeepDir(keepDir);
      io.err(`Keeping every screened photo and result in ${keepDir} (--keep). Delete them when no longer needed.\n`);
    }
    const webRoot = deps.webRoot ?? DEFAULT_WEB_ROOT;
    if (!existsSync(path.join(webRoot, 'index.html'))) io.err(`Warning: the web UI is not built (${webRoot}); run \`npm run build:web\`. The API works without it.\n`);

    const service = await deps.loadService(modelDir, (m) => io.err(`${m}\n`));
    let app;
    try {
      app = await buildServer({ service, config: { host, port }, token, keepDir, webRoot, prevalence: values.prevalence, log: (line) => io.err(`${line}\n`) });
      try {
        await app.listen({ host, port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw new PhenofaceError('E_CONFIG', `Port ${port} on ${host} is already in use. Expected a free port; choose another with --port.`, { cause: err });
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') throw new PhenofaceError('E_CONFIG', `Cannot listen on ${host}:${port} (${code}). Expected an address of this machine and a port you may use.`, { cause: err });
        throw err;
      }
    } catch (err) {
      await app?.close();
      await service.close();
      throw err;
    }
    const address = app.server.address();
    const url = urlOf(host, typeof address === 'object' && address ? address.port : port);
    const info = service.info();
    io.out(`Phenoface is serving model ${info.id} (${info.reads ? 'reads ' + info.reads : info.backbone}) at ${url}\n`);
    if (token !== undefined) io.out('Every API request needs the access token; the page asks for it once per browser tab.\n');
    if (!isLoopbackHost(host)) io.err('Warning: traffic is not encrypted (plain HTTP). Use this only on a trusted network, or behind an HTTPS reverse proxy (which needs --token too).\n');
    io.out('Press Ctrl+C to stop.\n');
    deps.onListening?.(url);

    await untilStopped(deps.signal, env);
    await app.close();
    await service.close();
    return EXIT.ok;
  };
}

/** `phenoface serve`. */
export const run: Command = serveCommand();
