/**
 * The web application's HTTP server (CLI contract "HTTP API of serve"): a JSON API
 * (`GET /api/health`, `GET /api/model`, `POST /api/screen`) and the built UI from `web/dist`.
 *
 * Access: the API's routes live in one encapsulated scope whose own hook checks the token (and,
 * on loopback without a token, the Origin), so a handler of the API runs only after that check,
 * whatever spelling of its path the router accepted. Other paths that look like the API once
 * normalised need the token too, even to learn that they do not exist.
 *
 * Privacy and abuse: photos are read into memory and handed to the injected {@link ScreenService};
 * nothing is written to disk unless `keepDir` is set, and the access log names neither files nor
 * results. Every response carries a strict Content-Security-Policy (the page can reach nothing but
 * its own origin). Uploads are bounded per file, per request, in pixels, in total bytes held, in
 * time (a deadline that grows with the size) and in number per client address; a screening joins
 * the bounded queue only once its upload has arrived (503 with Retry-After when full). A refusal
 * sent before the body has arrived closes the connection, so an unread body cannot hold it open.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import type { ScreenPhoto, ScreenResult } from '../workflows/screen/result.ts';
import { API_PREFIX, bearerMatches, checkBinding, hostName, isApiPath, isLoopbackHost, normalisedPath, sameOrigin } from './access.ts';
import { DEFAULTS, type ServerConfig } from '../config.ts';
import { ApiError, errorBody, isServerFault, parserErrorResponse, serverFaultMessage, toApiError } from './errors.ts';
import { checkKeepDir, keepScreening } from './keep.ts';
import { ScreeningQueue } from './queue.ts';
import { ByteBudget, isReadPhoto, readPhotos, UploadsInFlight, type ReadPhoto, type ReceivedPhoto, type RefusedPhoto, type Upload } from './upload.ts';
import type { HealthResponse, ScreenService } from './types.ts';

/** Where `npm run build:web` writes the UI. */
export const DEFAULT_WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/** Options of {@link buildServer}. */
export interface ServerOptions {
  /** The screening service (the real `Screener`, or a fake in tests). */
  service: ScreenService;
  /** Overrides of {@link DEFAULTS.server}. A non-loopback `host` requires `token` (E_CONFIG otherwise). */
  config?: Partial<ServerConfig>;
  /** When set, every `/api` request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** When set, each screening's photos and result are written to a new folder in it (audit). */
  keepDir?: string;
  /** Folder of the built UI (default `web/dist`). */
  webRoot?: string;
  /** Receives one access-log line per request (method, route, status, ms; never names or results). */
  log?: (line: string) => void;
  /** The prevalence every result's chance is computed at (`serve --prevalence`; default the configuration's). */
  prevalence?: number;
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

/**
 * Builds the server (not yet listening). Close it with `app.close()`; the service is not closed.
 * Root hooks and handlers come before the API scope, which inherits them.
 */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const state = await serverState(opts);
  const app = await createApp(state.cfg);
  addSecurityAndAccessChecks(app, state);
  addConnectionClose(app);
  addAccessLog(app, opts.log);
  addErrorHandlers(app, state);
  await app.register(async (api) => apiRoutes(api, state), { prefix: API_PREFIX });
  await addWebUi(app, opts.webRoot ?? DEFAULT_WEB_ROOT);
  addShutdown(app, state);
  return app;
}

/** The configuration, checked (binding and token, the --keep folder), and the server's shared state. */
async function serverState(opts: ServerOptions): Promise<ServerState> {
  const cfg: ServerConfig = { ...DEFAULTS.server, ...opts.config };
  checkBinding(cfg.host, opts.token, cfg.minTokenLength);
  if (opts.keepDir !== undefined) await checkKeepDir(opts.keepDir);
  return {
    cfg,
    opts,
    queue: new ScreeningQueue(cfg.concurrency, cfg.queueSize),
    uploads: new UploadsInFlight(cfg),
    budget: new ByteBudget(cfg.maxBufferedBytes),
  };
}

/** Fastify with strict routing, no body parsers but multipart, and multipart's limits. */
async function createApp(cfg: ServerConfig): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024, // non-multipart bodies: the API takes none
    requestTimeout: cfg.requestTimeoutMs,
    trustProxy: false,
    // A path matches a route only as spelled, once percent-decoded: no case folding, no merged or
    // trailing slashes (nor `;` parameters: Fastify's default). Other spellings of an API path fall
    // to the not-found handler, which checks access as the API does.
    routerOptions: { caseSensitive: true, ignoreTrailingSlash: false, ignoreDuplicateSlashes: false },
    // A URL the router cannot percent-decode (`/%zz`) is answered before any hook runs, in
    // Fastify's own error shape unless handled here: in the contract's, with the security headers.
    frameworkErrors: (err, _request, reply) => {
      const e = toApiError(err);
      // Typed for the route's schema, which no route has yet: the plain reply is what it is.
      void (reply as unknown as FastifyReply).code(e.status).headers({ ...SECURITY_HEADERS, ...e.headers }).send(errorBody(e));
    },
    clientErrorHandler: (err, socket) => {
      // A reset connection has no one to answer.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(parserErrorResponse(err));
      socket.destroy(err);
    },
  });
  // Multipart is the only body the API reads, and it is read by the handler under an upload's
  // deadline. Without the JSON and text parsers, any other body is refused (415) before it is read,
  // instead of being awaited for as long as its sender likes.
  app.removeAllContentTypeParsers();
  // Size overruns are detected by `readPhotos` (truncated stream) so they get our message.
  await app.register(multipart, { limits: { fileSize: cfg.maxFileBytes, files: cfg.maxFiles }, throwFileSizeLimit: false });
  return app;
}

/** What the parts of one server share. */
interface ServerState {
  cfg: ServerConfig;
  opts: ServerOptions;
  queue: ScreeningQueue;
  uploads: UploadsInFlight;
  budget: ByteBudget;
}

/**
 * True when a request is for the API: its matched route is under `/api`, or its path is, once
 * normalised; so `/API/x`, `/x/../api/x` and `/%2561pi/x` count though no route matches them.
 */
function looksLikeApi(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return (route !== undefined && isApiPath(route)) || isApiPath(normalisedPath(request.url));
}

/**
 * The check every API request passes: the token when the server has one; without one (loopback
 * only), the Origin of anything but GET/HEAD, since a page of another site is then the threat.
 * With a token the token decides, and a reverse proxy may rewrite Host and Origin freely.
 */
function checkApiAccess(request: FastifyRequest, reply: FastifyReply, token: string | undefined): void {
  reply.header('cache-control', 'no-store');
  if (token !== undefined) {
    if (!bearerMatches(request.headers.authorization, token)) {
      const given = request.headers.authorization === undefined ? 'No Authorization header' : 'The access token is wrong';
      throw new ApiError(401, 'E_UNAUTHORIZED', `${given}. Expected "Authorization: Bearer <token>" with the token the server was started with.`, { 'www-authenticate': 'Bearer' });
    }
  } else if (request.method !== 'GET' && request.method !== 'HEAD' && !sameOrigin(request.headers.origin, request.headers.host)) {
    throw new ApiError(403, 'E_FORBIDDEN', `Cross-origin request from "${request.headers.origin}" refused. Expected requests from this server's own page.`);
  }
}

/** Security headers and the Host check on every request; the API check on anything that looks like the API. */
function addSecurityAndAccessChecks(app: FastifyInstance, { cfg, opts }: ServerState): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    // Without a token, refuse foreign Host names: a DNS-rebinding page would send its own.
    if (opts.token === undefined && !isLoopbackHost(hostName(request.headers.host))) {
      throw new ApiError(403, 'E_FORBIDDEN', `Host "${request.headers.host ?? ''}" is not accepted by a server on ${cfg.host}. Expected localhost or 127.0.0.1.`);
    }
    if (looksLikeApi(request)) checkApiAccess(request, reply, opts.token);
  });
}

/**
 * An answer sent before the body has arrived (a refusal, a cut-off upload) closes the connection:
 * otherwise Node reads and drops the rest of the body, for as long as the client cares to trickle it.
 */
function addConnectionClose(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    if (request.raw.complete === false) reply.header('connection', 'close');
  });
}

/** One line per request to `log`: method, route, status and time; never file names or results. */
function addAccessLog(app: FastifyInstance, log: ((line: string) => void) | undefined): void {
  if (!log) return;
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '-';
    log(`${new Date().toISOString()} ${request.method} ${route} ${reply.statusCode} ${Math.round(reply.elapsedTime)} ms`);
  });
}

/** Every error as the contract's error body; unknown paths as 404s, with the API's access check for API-like ones. */
function addErrorHandlers(app: FastifyInstance, { opts }: ServerState): void {
  app.setErrorHandler(async (err, request, reply) => {
    const e = toApiError(err);
    if (e.status >= 500 && e.code !== 'E_BUSY') opts.log?.(serverFaultLine(request, e, err));
    return reply.code(e.status).headers(e.headers).send(errorBody(e));
  });

  app.setNotFoundHandler(async (request, reply) => {
    if (looksLikeApi(request)) {
      // Checked here too, not only in the hook: whether a path exists is for token holders to learn.
      checkApiAccess(request, reply, opts.token);
      return reply.code(404).send(errorBody(new ApiError(404, 'E_NOT_FOUND', `No API route ${request.method} ${request.url.split('?')[0]}. Expected GET /api/health, GET /api/model or POST /api/screen.`)));
    }
    return reply.code(404).type('text/plain; charset=utf-8').send('Not found.');
  });
}

/** The log line of a server fault: the error's class and system code only, since messages may name patients' files. */
function serverFaultLine(request: FastifyRequest, e: ApiError, err: unknown): string {
  const origin = err instanceof ApiError && err.cause !== undefined ? err.cause : err;
  return `error: ${request.method} ${request.routeOptions.url ?? '-'}: ${e.code} ${(origin as Error)?.name ?? 'Error'} ${(origin as { code?: string })?.code ?? ''}`.trimEnd();
}

/**
 * The API, in its own scope: the hook below runs for every route of the scope, however the path
 * was spelled, so no handler here can run without the access check.
 */
async function apiRoutes(api: FastifyInstance, state: ServerState): Promise<void> {
  api.addHook('onRequest', async (request, reply) => checkApiAccess(request, reply, state.opts.token));
  api.get('/health', async (): Promise<HealthResponse> => health(state));
  api.get('/model', async () => ({ contract: 1, ...state.opts.service.info() }));
  api.post('/screen', async (request: FastifyRequest<{ Querystring: { explain?: string } }>, reply: FastifyReply) => reply.send(await screenRequest(request, state)));
}

/** `GET /api/health`: the model's identity, the upload limits and the queue. */
function health({ cfg, opts, queue }: ServerState): HealthResponse {
  const info = opts.service.info();
  return {
    contract: 1,
    status: 'ok',
    model: { id: info.id, backbone: info.backbone, ...(info.features ? { features: info.features } : {}), ...(info.reads ? { reads: info.reads } : {}), positive: info.positive, negative: info.negative },
    limits: { maxFiles: cfg.maxFiles, maxFileBytes: cfg.maxFileBytes, maxPixels: cfg.maxPixels },
    keepsPhotos: opts.keepDir !== undefined,
    queue: queue.state,
  };
}

/**
 * `POST /api/screen`: receive the photos, screen those that passed their checks in the queue (a
 * refused file, such as a document beside the photos, gets its error in its place of the result),
 * keep them when asked; 422 when no photo was usable, or the one file's own refusal when it was the
 * only one. The bytes held are given back to the budget however it ends.
 */
async function screenRequest(request: FastifyRequest<{ Querystring: { explain?: string } }>, state: ServerState): Promise<ScreenResult> {
  let held = 0;
  try {
    const received = await receivePhotos(request, state, (n) => { held += n; });
    const photos = received.filter(isReadPhoto);
    const refused = received.filter((p): p is RefusedPhoto => !isReadPhoto(p));
    if (photos.length === 0) throw refused.length === 1 ? refused[0].error : noUsablePhoto(refusedRecords(received));
    const explain = !['0', 'false', 'no'].includes(String(request.query.explain ?? '').toLowerCase());
    const result = withServerFaultsWorded(withRefusedPhotos(await screenInQueue(state, photos, explain), received), received, state.opts.log);
    if (state.opts.keepDir) await keepScreening(state.opts.keepDir, photos, result);
    if (!result.photos.some((p) => p.error === undefined)) throw noUsablePhoto(result.photos);
    return result;
  } finally {
    state.budget.give(held);
  }
}

/** The result's photo records of refused files, as the screening reports a photo it could not use. */
function refusedRecords(received: readonly ReceivedPhoto[]): ScreenPhoto[] {
  return received.map((p) => (isReadPhoto(p) ? { path: p.name } : { path: p.name, error: { code: p.error.code, message: p.error.message } }));
}

/** The screening's result with the refused files put back in their places (the screened photos keep their order). */
function withRefusedPhotos(result: ScreenResult, received: readonly ReceivedPhoto[]): ScreenResult {
  if (received.every(isReadPhoto)) return result;
  const screened = result.photos[Symbol.iterator]();
  const refused = refusedRecords(received);
  return { ...result, photos: received.map((p, i) => (isReadPhoto(p) ? screened.next().value! : refused[i])) };
}

/**
 * The result with each photo's server fault (a model file found wrong on that photo, say) worded
 * for the client, as a whole request's is ({@link toApiError}); the log gets its code and message,
 * with the uploads' names taken out, as no log line names a photo.
 */
function withServerFaultsWorded(result: ScreenResult, received: readonly ReceivedPhoto[], log: ((line: string) => void) | undefined): ScreenResult {
  if (!result.photos.some((p) => p.error && isServerFault(p.error.code))) return result;
  const names = received.map((p) => p.name).filter((n) => n.length > 0).sort((a, b) => b.length - a.length);
  const unnamed = (message: string) => names.reduce((m, n) => m.split(n).join('<photo>'), message);
  return {
    ...result,
    photos: result.photos.map((p) => {
      if (!p.error || !isServerFault(p.error.code)) return p;
      log?.(`error: POST /api/screen: a photo's screening failed: ${p.error.code} ${unnamed(p.error.message)}`);
      return { ...p, error: { code: p.error.code, message: serverFaultMessage(p.error.code) } };
    }),
  };
}

/** The client's address (IPv4-mapped IPv6 written as IPv4, so one client has one key). */
function clientAddress(request: FastifyRequest): string {
  return request.ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/** The Content-Length the client declared, when it declared one. */
function declaredLength(request: FastifyRequest): number | undefined {
  const n = Number(request.headers['content-length']);
  return request.headers['content-length'] !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Reads the request's photos as one upload of its client: refused (503) when that address has as
 * many arriving as allowed, cut (408) at its deadline. Every byte kept is taken from the budget
 * and reported through `onHeld`, so the caller gives it back.
 */
async function receivePhotos(request: FastifyRequest, { cfg, uploads, queue, budget }: ServerState, onHeld: (bytes: number) => void): Promise<ReceivedPhoto[]> {
  const upload = uploads.begin(clientAddress(request), declaredLength(request));
  // Once cut, the rest of the body is read and dropped while the answer goes out; the connection
  // closes after it (see the onSend hook).
  upload.signal.addEventListener('abort', () => { request.raw.unpipe(); request.raw.resume(); }, { once: true });
  try {
    return await readPhotos(request, cfg, (n) => {
      budget.take(n, () => secondsUntilBytesFree(queue, uploads, upload));
      onHeld(n);
      upload.received(n);
    }, upload.signal);
  } finally {
    upload.end();
  }
}

/**
 * When held upload bytes are next given back: the first other upload still arriving reaches its
 * deadline, or the queue's backlog has run, whichever is sooner. With neither, the request alone
 * fills the budget; the queue's shortest estimate is all there is to say.
 */
function secondsUntilBytesFree(queue: ScreeningQueue, uploads: UploadsInFlight, self: Upload): number {
  const { running, waiting } = queue.state;
  const queued = running + waiting > 0 ? queue.retryAfterSec() : Infinity;
  const arriving = uploads.secondsToFirstDeadline(undefined, self) ?? Infinity;
  const soonest = Math.min(queued, arriving);
  return Number.isFinite(soonest) ? soonest : queue.retryAfterSec();
}

/** Screens photos already received, through the bounded queue (503 with Retry-After when it is full). */
async function screenInQueue({ queue, opts }: ServerState, photos: ReadPhoto[], explain: boolean): Promise<ScreenResult> {
  const admission = queue.tryAdmit();
  if (!admission) {
    const { running, waiting } = queue.state;
    throw new ApiError(503, 'E_BUSY', `The server is busy (${running} screenings running, ${waiting} waiting). Try again shortly.`, { 'retry-after': String(queue.retryAfterSec()) });
  }
  try {
    return await admission.run(() => opts.service.screen(photos.map(({ name, bytes }) => ({ name, bytes })), { explain, ...(opts.prevalence !== undefined ? { prevalence: opts.prevalence } : {}) }));
  } finally {
    admission.leave();
  }
}

/** The built UI, or a 503 page saying how to build it. */
async function addWebUi(app: FastifyInstance, webRoot: string): Promise<void> {
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
}

/**
 * On close: uploads still arriving are refused at once (no screening has begun on them), answers
 * being written get `shutdownGraceMs`, then every connection is closed, so a client that holds
 * one open cannot keep the server from stopping.
 */
function addShutdown(app: FastifyInstance, { cfg, uploads }: ServerState): void {
  app.addHook('preClose', async () => {
    uploads.abortAll(new ApiError(503, 'E_BUSY', 'The server is shutting down. Expected the upload again once it is back.'));
    if (!app.server.listening) return;
    const timer = setTimeout(() => app.server.closeAllConnections(), cfg.shutdownGraceMs);
    timer.unref();
    app.server.once('close', () => clearTimeout(timer));
  });
}

/** 422 for a screening in which no photo was usable, with the per-photo errors. */
function noUsablePhoto(photos: ScreenPhoto[]): ApiError {
  const errors = photos.map((p) => p.error!);
  const codes = new Set(errors.map((e) => e.code));
  const code = codes.size === 1 ? errors[0].code : 'E_NO_USABLE_PHOTO';
  const message = photos.length === 1
    ? errors[0].message
    : `None of the ${photos.length} photos could be screened: ${photos.map((p) => `${p.path}: ${p.error!.message}`).join(' ')}`;
  return new ApiError(422, code as ApiError['code'], message, {}, { photos });
}
