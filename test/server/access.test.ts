/**
 * The token and Origin checks hold for every spelling of an API path, sent over a bare socket so
 * that nothing between the test and the server tidies the path first: percent-encoding (once or
 * more), case, dot segments, doubled or trailing slashes, `;` parameters, backslashes, queries and
 * absolute-form targets. Whatever the router makes of a spelling, a request without the token gets
 * 401 (and one from a foreign origin 403); with the token it gets the route or a 404, and the
 * screening service is never reached without passing the checks.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { FakeScreenService } from './fake-service.ts';
import { facePhoto, multipartBody } from './fixtures.ts';
import { rawRequest, type RawResponse } from './raw-http.ts';

const TOKEN = 'a-long-enough-secret-token';

/** Ways to write `/api/<route>`; `{r}` is the route name, `{R}` it in upper case, `{r1}` it with its first letter percent-encoded. */
const SPELLINGS = [
  '/api/{r}',
  '/%61pi/{r}',
  '/ap%69/{r}',
  '/%61%70%69/{r}',
  '/api/{r1}',
  '/%2561pi/{r}',
  '/%25252561pi/{r}',
  '/API/{r}',
  '/Api/{R}',
  '/%41PI/{r}',
  '/./api/{r}',
  '/api/./{r}',
  '//api//{r}',
  '/api//{r}',
  '///api/{r}',
  '/api/{r}/',
  '/api/{r}//',
  '/api/%2e%2e/api/{r}',
  '/api/%2E%2E/api/{r}',
  '/api/%252e%252e/api/{r}',
  '/x/../api/{r}',
  '/x/%2e%2e/api/{r}',
  '/api/x/../{r}',
  '/api/{r};x',
  '/api;x/{r}',
  '/api/{r};jsessionid=1',
  '/api/{r}?x=1',
  '/api/{r}?',
  '/api%2F{r}',
  '/api%2f{r}',
  '/%2Fapi/{r}',
  '/api\\{r}',
  '/\\api/{r}',
  '/api/{r}%20',
  '/api/{r}%09',
  'http://127.0.0.1/api/{r}',
  'http://127.0.0.1/%61pi/{r}',
  'HTTP://evil.example/api/{r}',
];

const spell = (pattern: string, route: string) =>
  pattern.replaceAll('{r1}', `%${route.charCodeAt(0).toString(16)}${route.slice(1)}`).replaceAll('{R}', route.toUpperCase()).replaceAll('{r}', route);

interface Listening { app: FastifyInstance; port: number; service: FakeScreenService }

async function listen(opts: { token?: string; webRoot: string }): Promise<Listening> {
  const service = new FakeScreenService();
  const app = await buildServer({ service, token: opts.token, config: opts.token ? { host: '0.0.0.0' } : {}, webRoot: opts.webRoot });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, service, port: (app.server.address() as AddressInfo).port };
}

/** GET health and model, HEAD health, POST a real photo to screen: each under every spelling. */
async function everyRequest(port: number, headers: Record<string, string>, photo: Buffer): Promise<Array<{ what: string; res: RawResponse }>> {
  const form = multipartBody([{ filename: 'a.jpg', bytes: photo }]);
  const out: Array<{ what: string; res: RawResponse }> = [];
  for (const pattern of SPELLINGS) {
    for (const [method, route] of [['GET', 'health'], ['GET', 'model'], ['HEAD', 'health'], ['POST', 'screen']] as const) {
      const target = spell(pattern, route);
      const res = method === 'POST'
        ? await rawRequest(port, method, target, { ...form.headers, ...headers }, form.payload)
        : await rawRequest(port, method, target, headers);
      out.push({ what: `${method} ${target}`, res });
    }
  }
  return out;
}

describe('access checks hold for every spelling of an API path', () => {
  let webRoot: string;
  let photo: Buffer;
  beforeAll(async () => {
    // A built UI, so the static files' catch-all route is in the router too.
    webRoot = mkdtempSync(path.join(os.tmpdir(), 'phenoface-web-'));
    writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Phenoface</title>');
    photo = await facePhoto(200, 250);
  });
  afterAll(() => rmSync(webRoot, { recursive: true, force: true }));

  it('with a token: 401 without it, for GET, HEAD and POST; the route or 404 with it', async () => {
    const { app, port, service } = await listen({ token: TOKEN, webRoot });
    try {
      for (const { what, res } of await everyRequest(port, {}, photo)) {
        expect(res.status, what).toBe(401);
        expect(res.headers['www-authenticate'], what).toBe('Bearer');
        if (!what.startsWith('HEAD')) expect(JSON.parse(res.body).error.code, what).toBe('E_UNAUTHORIZED');
      }
      for (const { what, res } of await everyRequest(port, { Authorization: `Bearer ${TOKEN}x` }, photo)) expect(res.status, what).toBe(401);
      expect(service.calls).toBe(0);

      const authorised = await everyRequest(port, { Authorization: `Bearer ${TOKEN}` }, photo);
      for (const { what, res } of authorised) expect([200, 404], what).toContain(res.status);
      expect(authorised.filter(({ res }) => res.status === 200).map(({ what }) => what)).toEqual(expect.arrayContaining(['GET /api/health', 'GET /api/model', 'HEAD /api/health', 'POST /api/screen']));
    } finally {
      await app.close();
    }
  }, 60_000);

  it('on loopback without a token: a cross-origin POST is refused (403) under every spelling', async () => {
    const { app, port, service } = await listen({ webRoot });
    try {
      const form = multipartBody([{ filename: 'a.jpg', bytes: photo }]);
      for (const pattern of SPELLINGS) {
        const target = spell(pattern, 'screen');
        const res = await rawRequest(port, 'POST', target, { ...form.headers, Origin: 'http://evil.example' }, form.payload);
        expect(res.status, target).toBe(403);
        expect(JSON.parse(res.body).error.code, target).toBe('E_FORBIDDEN');
      }
      expect(service.calls).toBe(0);
      const same = await rawRequest(port, 'POST', '/api/screen', { ...form.headers, Origin: `http://127.0.0.1:${port}`, Host: `127.0.0.1:${port}` }, form.payload);
      expect(same.status).toBe(200);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('answers an unknown API path with 401 before saying 404, so paths cannot be probed without the token', async () => {
    const { app, port } = await listen({ token: TOKEN, webRoot });
    try {
      for (const target of ['/api/nope', '/API/NOPE', '/%61pi/nope', '/api', '/api/', '/x/../api/nope']) {
        expect((await rawRequest(port, 'GET', target)).status, target).toBe(401);
        const res = await rawRequest(port, 'GET', target, { Authorization: `Bearer ${TOKEN}` });
        expect(res.status, target).toBe(404);
        expect(JSON.parse(res.body).error.code, target).toBe('E_NOT_FOUND');
      }
      // Pages of the UI are public: the token guards the API only.
      expect((await rawRequest(port, 'GET', '/')).status).toBe(200);
      expect((await rawRequest(port, 'GET', '/apix/health')).status).toBe(404);
    } finally {
      await app.close();
    }
  }, 30_000);

  it("answers what the HTTP parser refuses (a URL or header too long, a malformed request line) with the contract's error body", async () => {
    const { app, port, service } = await listen({ token: TOKEN, webRoot });
    try {
      const long = 'a'.repeat(100_000);
      const refusals: Array<[string, RawResponse, number, string]> = [
        ['long URL', await rawRequest(port, 'GET', `/api/health?${long}`, { Authorization: `Bearer ${TOKEN}` }), 431, 'E_TOO_LARGE'],
        ['long header', await rawRequest(port, 'GET', '/api/health', { Authorization: `Bearer ${TOKEN}`, 'X-Long': long }), 431, 'E_TOO_LARGE'],
        ['malformed request line', await rawRequest(port, 'GET /api/health', 'x y'), 400, 'E_INPUT'],
      ];
      for (const [what, res, status, code] of refusals) {
        expect(res.status, what).toBe(status);
        expect(res.headers['content-type'], what).toBe('application/json; charset=utf-8');
        expect(JSON.parse(res.body), what).toEqual({ contract: 1, error: { code, message: expect.stringMatching(/Expected/) } });
      }
      expect(service.calls).toBe(0);
    } finally {
      await app.close();
    }
  }, 30_000);
});
