/**
 * The web application's HTTP server (issue 6; CLI contract "HTTP API of serve"): a JSON API
 * (`GET /api/health`, `GET /api/model`, `POST /api/screen`) and the built UI from `web/dist`.
 *
 * Privacy and abuse, as the issue asks: photos are read into memory and handed to the injected
 * {@link ScreenService}; nothing is written to disk unless `keepDir` is set, and the access log
 * names neither files nor results. Every response carries a strict Content-Security-Policy (the
 * page can reach nothing but its own origin). Uploads are bounded per file, per request, in
 * pixels and in total bytes held, and screenings pass through a bounded queue (503 with
 * Retry-After when full).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { ScreenResult } from '../screen-types.ts';
import { bearerMatches, checkBinding, hostName, isLoopbackHost, sameOrigin } from './access.ts';
import { SERVER_DEFAULTS, type ServerConfig } from '../config.ts';
import { ApiError, errorBody, toApiError } from './errors.ts';
import { ScreeningQueue } from './queue.ts';
import { ByteBudget, readPhotos, type ReadPhoto } from './upload.ts';
import type { HealthResponse, ScreenService } from './types.ts';

/** Where `npm run build:web` writes the UI. */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Options of {@link buildServer}. */
export interface ServerOptions {
  /** The screening service (the real `Screener`, or a fake in tests). */
  service: ScreenService;
  /** Overrides of {@link SERVER_DEFAULTS}. A non-loopback `host` requires `token` (E_CONFIG otherwise). */
  config?: Partial<ServerConfig>;
  /** When set, every `/api` request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** When set, each screening's photos and result are written to a new folder in it (audit). */
  keepDir?: string;
  /** Folder of the built UI (default `web/dist`). */
  webRoot?: string;
  /** Receives one access-log line per request (method, route, status, ms; never names or results). */
  log?: (line: string) => void;
}

/**
 * The Content-Security-Policy of every response: scripts, styles and connections only from the
 * page's own origin; images also from `data:` (heatmaps) and `blob:` (the user's own photos).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Security headers sent with every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
});

const isApi = (url: string) => url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');

/** Builds the server (not yet listening). Close it with `app.close()`; the service is not closed. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const cfg: ServerConfig = { ...SERVER_DEFAULTS, ...opts.config };
  const queue = new ScreeningQueue(cfg.concurrency, cfg.queueSize);
  const budget = new ByteBudget(cfg.maxBufferedBytes, () => queue.retryAfterSec());
  checkBinding(cfg.host, opts.token, cfg.minTokenLength);
  // Without a token (loopback only), a browser page from another site is the threat: refuse
  // foreign Host names (DNS rebinding) and cross-origin posts. With a token, the token decides, and
  // a reverse proxy may rewrite Host and Origin freely.
  const browserChecks = opts.token === undefined;
  const webRoot = opts.webRoot ?? DEFAULT_WEB_ROOT;

  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024, // non-multipart bodies: the API takes none
    requestTimeout: cfg.requestTimeoutMs,
    trustProxy: false,
  });
  // Size overruns are detected by `readPhotos` (truncated stream) so they get our message.
  await app.register(multipart, { limits: { fileSize: cfg.maxFileBytes, files: cfg.maxFiles }, throwFileSizeLimit: false });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (browserChecks && !isLoopbackHost(hostName(request.headers.host))) {
      throw new ApiError(403, 'E_FORBIDDEN', `Host "${request.headers.host ?? ''}" is not accepted by a server on ${cfg.host}. Expected localhost or 127.0.0.1.`);
    }
    if (!isApi(request.url)) return;
    reply.header('cache-control', 'no-store');
    if (opts.token !== undefined && !bearerMatches(request.headers.authorization, opts.token)) {
      const given = request.headers.authorization === undefined ? 'No Authorization header' : 'The access token is wrong';
      throw new ApiError(401, 'E_UNAUTHORIZED', `${given}. Expected "Authorization: Bearer <token>" with the token the server was started with.`, { 'www-authenticate': 'Bearer' });
    }
    if (browserChecks && request.method !== 'GET' && request.method !== 'HEAD' && !sameOrigin(request.headers.origin, request.headers.host)) {
      throw new ApiError(403, 'E_FORBIDDEN', `Cross-origin request from "${request.headers.origin}" refused. Expected requests from this server's own page.`);
    }
  });

  if (opts.log) {
    const log = opts.log;
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? '-';
      log(`${new Date().toISOString()} ${request.method} ${route} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`);
    });
  }

  app.setErrorHandler(async (err, request, reply) => {
    const e = toApiError(err);
    if (e.status >= 500 && e.code === 'E_INTERNAL') {
      // The code and class only: messages may name patients' files.
      opts.log?.(`error: ${request.method} ${request.routeOptions.url ?? '-'}: ${(err as Error)?.name ?? 'Error'} ${(err as { code?: string })?.code ?? ''}`.trimEnd());
    }
    return reply.code(e.status).headers(e.headers).send(errorBody(e));
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (isApi(request.url)) {
      return reply.code(404).send(errorBody(new ApiError(404, 'E_NOT_FOUND', `No API route ${request.method} ${request.url.split('?')[0]}. Expected GET /api/health, GET /api/model or POST /api/screen.`)));
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('Not found.');
  });

  app.get('/api/health', async (): Promise<HealthResponse> => {
    const info = opts.service.info();
    return {
      contract: 1,
      status: 'ok',
      model: { id: info.id, backbone: info.backbone, positive: info.positive, negative: info.negative },
      limits: { maxFiles: cfg.maxFiles, maxFileBytes: cfg.maxFileBytes, maxPixels: cfg.maxPixels },
      keepsPhotos: opts.keepDir !== undefined,
      queue: queue.state,
    };
  });

  app.get('/api/model', async () => ({ contract: 1, ...opts.service.info() }));

  app.post('/api/screen', async (request: FastifyRequest<{ Querystring: { explain?: string } }>, reply: FastifyReply) => {
    const admission = queue.tryAdmit();
    if (!admission) {
      const state = queue.state;
      throw new ApiError(503, 'E_BUSY', `The server is busy (${state.running} screenings running, ${state.waiting} waiting). Try again shortly.`, { 'retry-after': String(queue.retryAfterSec()) });
    }
    let held = 0;
    try {
      const photos = await readPhotos(request, cfg, budget, (n) => { held += n; });
      const explain = !['0', 'false', 'no'].includes(String(request.query.explain ?? '').toLowerCase());
      const result = await admission.run(() => opts.service.screen(photos.map(({ name, bytes }) => ({ name, bytes })), { explain }));
      if (opts.keepDir) await keep(opts.keepDir, photos, result);
      if (!result.photos.some((p) => p.error === undefined)) throw noUsablePhoto(result);
      return reply.send(result);
    } finally {
      budget.give(held);
      admission.leave();
    }
  });

  if (existsSync(path.join(webRoot, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: webRoot,
      prefix: '/',
      index: 'index.html',
      dotfiles: 'deny',
      cacheControl: false, // set below: hashed assets forever, index.html revalidated
      setHeaders: (res, file) => {
        // Vite names built assets by content hash: they never change; index.html must be re-read.
        const hashed = file.includes(`${path.sep}assets${path.sep}`);
        res.setHeader('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else {
    app.get('/', async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8')
      .send(`The web UI is not built (no ${path.join(webRoot, 'index.html')}). Run \`npm run build:web\`, then restart. The API under /api works.`));
  }
  return app;
}

/** 422 for a screening in which no photo was usable, with the per-photo errors. */
function noUsablePhoto(result: ScreenResult): ApiError {
  const errors = result.photos.map((p) => p.error!);
  const codes = new Set(errors.map((e) => e.code));
  const code = codes.size === 1 ? errors[0].code : 'E_NO_USABLE_PHOTO';
  const message = result.photos.length === 1
    ? errors[0].message
    : `None of the ${result.photos.length} photos could be screened: ${result.photos.map((p) => `${p.path}: ${p.error!.message}`).join(' ')}`;
  return new ApiError(422, code as ApiError['code'], message, {}, { photos: result.photos });
}

/** `--keep DIR`: the photos (named by position, never by the client's name) and the result. */
async function keep(dir: string, photos: ReadPhoto[], result: ScreenResult): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const folder = path.join(dir, `${stamp}-${randomBytes(3).toString('hex')}`);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  await Promise.all(photos.map((p, i) => writeFile(path.join(folder, `photo-${i + 1}.${p.sniffed.ext}`), p.bytes, { mode: 0o600 })));
  await writeFile(path.join(folder, 'result.json'), JSON.stringify(result, null, 2) + '\n', { mode: 0o600 });
}
