/**
 * Slow uploads, over real sockets that send their bodies a few bytes at a time: they hold no
 * screening slot (others are screened meanwhile), each is cut at a deadline that follows its size,
 * one address may only have a few arriving, a refusal sent before the body has arrived closes the
 * connection, and closing the server does not wait for them.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type ServerOptions } from '../../src/server/app.ts';
import { FakeScreenService } from './fake-service.ts';
import { facePhoto, multipartBody } from './fixtures.ts';
import { rawRequest, requestHead, trickle, type RawResponse, type Trickle } from './raw-http.ts';

const TOKEN = 'a-long-enough-secret-token';

let photo: Buffer;
beforeAll(async () => { photo = await facePhoto(200, 250); });

const open: Trickle[] = [];
const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const t of open.splice(0)) t.stop();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function listen(opts: Partial<ServerOptions> = {}): Promise<{ app: FastifyInstance; port: number; service: FakeScreenService }> {
  const service = new FakeScreenService();
  const app = await buildServer({ webRoot: '/nonexistent-web-root', ...opts, service });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, service, port: (app.server.address() as AddressInfo).port };
}

/** A screening request whose body is sent `bytesPerTick` bytes every 50 ms (a 10 kB photo takes half a minute). */
function slowUpload(port: number, headers: Record<string, string | number> = {}, bytesPerTick = 16): Trickle {
  const form = multipartBody([{ filename: 'slow.jpg', bytes: photo }]);
  const t = trickle(port, requestHead('POST', '/api/screen', { ...form.headers, 'Content-Length': form.payload.length, ...headers }), form.payload, bytesPerTick);
  open.push(t);
  return t;
}

/** The same body sent at once, through fetch. */
function screen(port: number, headers: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  form.append('photos', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'fast.jpg');
  return fetch(`http://127.0.0.1:${port}/api/screen`, { method: 'POST', body: form, headers });
}

/** `promise`, or 'timeout' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);
}

/** Resolves once every upload has started sending its body (so the server is reading them). */
async function bodiesStarted(trickles: Trickle[]): Promise<void> {
  await expect.poll(() => trickles.every((t) => t.sent() > 64), { timeout: 5_000, interval: 20 }).toBe(true);
}

function errorCode(res: RawResponse): string {
  return JSON.parse(res.body).error.code;
}

describe('an upload the form parser cannot read to its end', () => {
  it('is refused as malformed form data once its deadline passes, not as too slow, since its body arrived whole', async () => {
    const { port, service } = await listen({ config: { uploadMinMs: 300, uploadMsPerMB: 0 } });
    // Over the parser's buffer and without a Content-Disposition: @fastify/busboy stalls on it.
    const body = Buffer.concat([Buffer.from('--B\r\nContent-Type: image/jpeg\r\n\r\n'), Buffer.alloc(20_000), Buffer.from('\r\n--B--\r\n')]);
    const res = await rawRequest(port, 'POST', '/api/screen', { 'Content-Type': 'multipart/form-data; boundary=B', 'Content-Length': body.length }, body);
    expect(res.status, res.body).toBe(400);
    expect(errorCode(res)).toBe('E_INPUT');
    expect(JSON.parse(res.body).error.message).toContain('arrived whole but could not be read to its end');
    expect(service.calls).toBe(0);
  });
});

describe('slow uploads', () => {
  it('hold no screening slot: with 10 uploads trickling, a normal screening still gets 200', async () => {
    const { port, service } = await listen({ config: { concurrency: 1, queueSize: 1, maxUploadsPerClient: 20, uploadMinMs: 60_000 } });
    const slow = Array.from({ length: 10 }, () => slowUpload(port));
    await bodiesStarted(slow);
    const res = await screen(port);
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()).photos[0].path).toBe('fast.jpg');
    expect(service.calls).toBe(1);
    const health = await (await fetch(`http://127.0.0.1:${port}/api/health`)).json();
    expect(health.queue).toEqual({ running: 0, waiting: 0, capacity: 2 });
  }, 30_000);

  it('are cut at their deadline with 408, whether the size is declared or the body is chunked', async () => {
    const { port, service } = await listen({ config: { uploadMinMs: 800, uploadMsPerMB: 100 } });
    const form = multipartBody([{ filename: 'slow.jpg', bytes: photo }]);
    const chunked = Buffer.concat([Buffer.from(`${form.payload.length.toString(16)}\r\n`), form.payload, Buffer.from('\r\n0\r\n\r\n')]);
    const declared = slowUpload(port);
    const t0 = performance.now();
    const viaChunks = trickle(port, requestHead('POST', '/api/screen', { ...form.headers, 'Transfer-Encoding': 'chunked' }), chunked);
    open.push(viaChunks);
    for (const t of [declared, viaChunks]) {
      const res = await within(t.response, 5_000);
      expect(res).not.toBe('timeout');
      const { status, headers } = res as RawResponse;
      expect(status).toBe(408);
      expect(errorCode(res as RawResponse)).toBe('E_INPUT');
      expect(JSON.parse((res as RawResponse).body).error.message).toMatch(/too slow.*Expected the whole request within 0\.8 s/);
      expect(headers.connection).toBe('close');
    }
    expect(performance.now() - t0).toBeGreaterThan(700);
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(service.calls).toBe(0);
    // An upload at a normal pace is within its deadline.
    expect((await screen(port)).status).toBe(200);
  }, 30_000);

  it('cannot buy time by declaring a huge Content-Length: the deadline is capped by the largest request the limits allow', async () => {
    // Largest request: 1 photo of 1 MB plus the form's overhead, about 2 MB: 1 s at 500 ms/MB.
    const { port } = await listen({ config: { maxFiles: 1, maxFileBytes: 1024 * 1024, uploadMinMs: 200, uploadMsPerMB: 500 } });
    const t0 = performance.now();
    const res = await within(slowUpload(port, { 'Content-Length': 10 * 1024 ** 3 }).response, 6_000);
    expect(res).not.toBe('timeout');
    expect((res as RawResponse).status).toBe(408);
    expect(performance.now() - t0).toBeLessThan(3_000);
  }, 30_000);

  it('are bounded per client address: the next gets 503 E_BUSY with the time until a slot frees, and its connection is closed', async () => {
    const { port } = await listen({ config: { maxUploadsPerClient: 2, uploadMinMs: 5_000 } });
    const slow = [slowUpload(port), slowUpload(port)];
    await bodiesStarted(slow);
    const form = multipartBody([{ filename: 'a.jpg', bytes: photo }]);
    const refused = await rawRequest(port, 'POST', '/api/screen', { ...form.headers, Connection: 'keep-alive' }, form.payload, 5_000);
    expect(refused.status).toBe(503);
    expect(errorCode(refused)).toBe('E_BUSY');
    expect(JSON.parse(refused.body).error.message).toContain('2 uploads arriving');
    // The first slow upload reaches its 5 s deadline within 5 s: that is when a slot frees at the latest.
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(4);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(5);
    expect(refused.headers.connection).toBe('close');
    // Requests without a body are not uploads.
    expect((await fetch(`http://127.0.0.1:${port}/api/health`)).status).toBe(200);
    for (const t of slow) t.stop();
    await expect.poll(async () => (await screen(port)).status, { timeout: 5_000, interval: 50 }).toBe(200);
  }, 30_000);

  it('do not keep a refused request\'s connection open: a 401 before the body has arrived closes it', async () => {
    const { port } = await listen({ token: TOKEN, config: { host: '0.0.0.0' } });
    const t = slowUpload(port, { Connection: 'keep-alive' });
    const res = await within(t.response, 2_000);
    expect(res).not.toBe('timeout');
    expect((res as RawResponse).status).toBe(401);
    expect((res as RawResponse).headers.connection).toBe('close');
    expect(t.sent()).toBeLessThan(photo.length);
  }, 30_000);

  it('of another type than form data are refused (415) before their body is read', async () => {
    const { port } = await listen();
    const json = Buffer.from(JSON.stringify({ photos: 'x'.repeat(4000) }));
    for (const type of ['application/json', 'text/plain', 'application/octet-stream']) {
      const t = trickle(port, requestHead('POST', '/api/screen', { 'Content-Type': type, 'Content-Length': json.length, Connection: 'keep-alive' }), json);
      open.push(t);
      const res = await within(t.response, 2_000);
      expect(res, type).not.toBe('timeout');
      expect((res as RawResponse).status, type).toBe(415);
      expect(errorCode(res as RawResponse), type).toBe('E_UNSUPPORTED');
    }
  }, 30_000);

  it('do not keep the server from closing: close() finishes within 2 s with 10 uploads and a half-sent request open', async () => {
    const { app, port } = await listen({ config: { maxUploadsPerClient: 20, uploadMinMs: 60_000 } });
    const slow = Array.from({ length: 10 }, () => slowUpload(port));
    const halfHead = trickle(port, '', Buffer.from(requestHead('POST', '/api/screen', { 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': 100_000 })), 4);
    open.push(halfHead);
    await bodiesStarted(slow);
    const t0 = performance.now();
    expect(await within(app.close(), 4_000)).not.toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(2_000);
    for (const t of slow) {
      const res = await within(t.response, 1_000);
      expect(res).not.toBe('timeout');
      // Told the server is stopping, or cut off.
      expect([0, 503]).toContain((res as RawResponse).status);
    }
    expect(await within(halfHead.response, 1_000)).not.toBe('timeout');
  }, 30_000);
});
