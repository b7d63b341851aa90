/**
 * API tests of `phenoface serve` with Fastify's inject and a fake screening service: results,
 * every refusal (400/401/403/413/415/422/503) with the contract's error shape, the security
 * headers, and the `--keep` audit folder.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildServer, CONTENT_SECURITY_POLICY, type ServerOptions } from '../../src/server/app.ts';
import { DEFAULTS } from '../../src/config.ts';
import { FakeScreenService } from './fake-service.ts';
import { blankPhoto, facePhoto, multipartBody } from './fixtures.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => { await Promise.all(apps.splice(0).map((a) => a.close())); });

async function server(opts: Partial<ServerOptions> = {}) {
  const service = (opts.service as FakeScreenService | undefined) ?? new FakeScreenService();
  const app = await buildServer({ webRoot: '/nonexistent-web-root', ...opts, service });
  apps.push(app);
  return { app, service };
}

function post(app: FastifyInstance, parts: Parameters<typeof multipartBody>[0], headers: Record<string, string> = {}, url = '/api/screen') {
  const { payload, headers: h } = multipartBody(parts);
  return app.inject({ method: 'POST', url, payload, headers: { ...h, ...headers } });
}

/** The contract's error shape, with the code and status expected. */
function expectError(res: { statusCode: number; json(): any }, status: number, code: string) {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  const body = res.json();
  expect(body.contract).toBe(1);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(10);
  return body;
}

/** A PNG that claims width x height in its header and holds almost no pixel data (a decompression bomb's header). */
function pngHeaderOnly(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

describe('GET /api/health and /api/model', () => {
  it('reports status, model and queue, with no-store and the CSP', async () => {
    const { app } = await server();
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ contract: 1, status: 'ok', model: { id: 'fake-model-1', backbone: 'mobilefacenet', features: ['embedding', 'regions'], reads: "mobilefacenet's and dlib-resnet's face-recognition embeddings and mobilefacenet's mid-level maps pooled in facial regions", positive: 'vcfs', negative: 'control' }, limits: { maxFiles: 10, maxFileBytes: 20 * 1024 * 1024, maxPixels: 50_000_000 }, keepsPhotos: false, queue: { running: 0, waiting: 0, capacity: 10 } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("img-src 'self' data: blob:");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('serves the model card', async () => {
    const { app } = await server();
    const res = await app.inject({ method: 'GET', url: '/api/model' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ contract: 1, id: 'fake-model-1', thresholds: { subject: 0.5 } });
    expect(body.metrics.byView.frontal.photo.sensitivity.value).toBe(0.9);
    expect(body.limitations).toContain('A screening aid, not a diagnosis.');
  });

  it('answers unknown API routes with a JSON 404', async () => {
    const { app } = await server();
    expectError(await app.inject({ method: 'GET', url: '/api/nope' }), 404, 'E_NOT_FOUND');
  });

  it('serves the built UI: index.html revalidated, hashed assets cached for good, dotfiles refused, all with the CSP', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'phenoface-web-'));
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Phenoface</title>');
    writeFileSync(path.join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(root, '.secret'), 'x');
    try {
      const { app } = await server({ webRoot: root });
      const index = await app.inject({ method: 'GET', url: '/' });
      expect(index.statusCode).toBe(200);
      expect(index.body).toContain('<title>Phenoface</title>');
      expect(index.headers['cache-control']).toBe('no-cache');
      expect(index.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      const asset = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect((await app.inject({ method: 'GET', url: '/.secret' })).statusCode).not.toBe(200);
      expect((await app.inject({ method: 'GET', url: '/../package.json' })).statusCode).not.toBe(200);
      // A path that climbs out of the UI's folder: refused with the code its status means.
      expectError(await app.inject({ method: 'GET', url: '/assets/..%2f..%2fpackage.json' }), 403, 'E_FORBIDDEN');
      expectError(await app.inject({ method: 'GET', url: '/api/unknown' }), 404, 'E_NOT_FOUND');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('answers a URL that cannot be percent-decoded with the contract\'s 400, with the CSP, on the API and off it', async () => {
    const { app } = await server({ token: 'a'.repeat(32) });
    for (const url of ['/%', '/%zz', '/assets/%c0%ae%c0%ae/x.js', '/api/%zz']) {
      const res = await app.inject({ method: 'GET', url });
      const body = expectError(res, 400, 'E_INPUT');
      expect(body.error.message).toContain('The URL is malformed');
      expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    }
  });

  it('says the UI is not built when web/dist is missing, with the CSP', async () => {
    const { app } = await server();
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  });
});

describe('POST /api/screen', () => {
  it("computes every result's chance at the server's prevalence (serve --prevalence), else at the default", async () => {
    const { app } = await server({ prevalence: 0.3 });
    const body = (await post(app, [{ filename: 'patient-front.jpg', bytes: await facePhoto(480, 600) }])).json();
    expect(body.subject.prevalence).toBe(0.3);
    const { app: plain } = await server();
    expect((await post(plain, [{ filename: 'patient-front.jpg', bytes: await facePhoto(480, 600) }])).json().subject.prevalence).toBe(DEFAULTS.evaluate.prevalence);
  });

  it('screens a good photo: probability, face box, landmarks, view, regions with HPO terms, heatmap', async () => {
    const { app, service } = await server();
    const res = await post(app, [{ filename: 'patient-front.jpg', bytes: await facePhoto(480, 600) }]);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.contract).toBe(1);
    expect(body.subject.photos).toBe(1);
    expect(body.subject.probability).toBeGreaterThan(0);
    expect(body.subject.label).toMatch(/^(vcfs|control)$/);
    const [photo] = body.photos;
    expect(photo.path).toBe('patient-front.jpg');
    expect(photo.width).toBe(480);
    expect(photo.box.width).toBeCloseTo(240);
    expect(photo.landmarks5).toHaveLength(5);
    expect(photo.view).toBe('frontal');
    expect(photo.heatmap).toMatch(/^data:image\/png;base64,/);
    expect(photo.regions.find((r: any) => r.name === 'perinasal').hpo).toContain('HP:0000414 bulbous nose');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(service.calls).toBe(1);
  });

  it('skips heatmaps with ?explain=false', async () => {
    const { app } = await server();
    const res = await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }], {}, '/api/screen?explain=false');
    expect(res.statusCode).toBe(200);
    expect(res.json().photos[0].heatmap).toBeUndefined();
  });

  it('fuses several photos with an interval and keeps a per-photo error for a photo without a face', async () => {
    const { app } = await server();
    const res = await post(app, [
      { filename: 'front.jpg', bytes: await facePhoto(480, 600) },
      { filename: 'side-profile.png', bytes: await facePhoto(400, 500, 'png', '#caa080'), type: 'image/png' },
      { filename: 'blank.jpg', bytes: await blankPhoto() },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.subject.photos).toBe(2);
    expect(body.subject.interval).toHaveLength(2);
    expect(body.photos.map((p: any) => p.error?.code ?? p.view)).toEqual(['frontal', 'profile', 'E_NO_FACE']);
  });

  it('refuses a photo without a face: 422 E_NO_FACE with the per-photo record', async () => {
    const { app } = await server();
    const body = expectError(await post(app, [{ filename: 'wall.jpg', bytes: await blankPhoto() }]), 422, 'E_NO_FACE');
    expect(body.photos[0]).toMatchObject({ path: 'wall.jpg', error: { code: 'E_NO_FACE' } });
  });

  it('refuses a corrupt photo: JPEG signature, garbage header -> 422 E_DECODE', async () => {
    const { app, service } = await server();
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 0x5a)]);
    const body = expectError(await post(app, [{ filename: 'broken.jpg', bytes: garbage }]), 422, 'E_DECODE');
    // In its own words only: the decoder's text is shared by the whole process and may be another photo's.
    expect(body.error.message).toBe('Photo "broken.jpg" looks like JPEG but its header cannot be read: it is truncated or corrupt. Expected a complete, uncorrupted photo.');
    expect(service.calls).toBe(0);
  });

  it('refuses a truncated photo: 422 E_DECODE from the screening', async () => {
    const { app } = await server();
    const full = await facePhoto(480, 600);
    expectError(await post(app, [{ filename: 'cut.jpg', bytes: full.subarray(0, Math.floor(full.length / 2)) }]), 422, 'E_DECODE');
  });

  it('judges the type by content: text named .jpg -> 415; a PNG named .txt sent as text/plain -> screened', async () => {
    const { app } = await server();
    const body = expectError(await post(app, [{ filename: 'notes.jpg', bytes: Buffer.from('%PDF-1.7 not a photo at all'), type: 'image/jpeg' }]), 415, 'E_UNSUPPORTED');
    expect(body.error.message).toContain('notes.jpg');
    const ok = await post(app, [{ filename: 'photo.txt', bytes: await facePhoto(300, 400, 'png'), type: 'text/plain' }]);
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('screens the photos beside a file that is not one, and reports that file in its place', async () => {
    const { app, service } = await server();
    const res = await post(app, [
      { filename: 'letter.pdf', bytes: Buffer.from('%PDF-1.7 a referral letter'), type: 'application/pdf' },
      { filename: 'front.jpg', bytes: await facePhoto() },
      { filename: 'huge.png', bytes: pngHeaderOnly(20_000, 20_000), type: 'image/png' },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.photos.map((p: { path: string }) => p.path)).toEqual(['letter.pdf', 'front.jpg', 'huge.png']);
    expect(body.photos[0].error.code).toBe('E_UNSUPPORTED');
    expect(body.photos[0].error.message).toContain('letter.pdf');
    expect(body.photos[1].error).toBeUndefined();
    expect(typeof body.photos[1].probability).toBe('number');
    expect(body.photos[2].error.code).toBe('E_TOO_LARGE');
    expect(body.subject.photos).toBe(1);
    expect(service.calls).toBe(1);
    // Only files that are not photos: 422 with each one's error; the service is not called.
    const none = expectError(await post(app, [{ filename: 'a.txt', bytes: Buffer.from('plain text') }, { filename: 'b.txt', bytes: Buffer.from('more text') }]), 422, 'E_UNSUPPORTED');
    expect(none.photos.map((p: { error: { code: string } }) => p.error.code)).toEqual(['E_UNSUPPORTED', 'E_UNSUPPORTED']);
    expect(service.calls).toBe(1);
  });

  it('refuses SVG (not a photograph) with 415', async () => {
    const { app } = await server();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100"/></svg>');
    expectError(await post(app, [{ filename: 'x.svg', bytes: svg, type: 'image/svg+xml' }]), 415, 'E_UNSUPPORTED');
  });

  it('refuses a photo over the default 20 MB with 413 naming the limit', async () => {
    const { app, service } = await server();
    const big = Buffer.alloc(DEFAULTS.server.maxFileBytes + 1, 0x41);
    big.set([0xff, 0xd8, 0xff, 0xe0]);
    const body = expectError(await post(app, [{ filename: 'huge.jpg', bytes: big }]), 413, 'E_TOO_LARGE');
    expect(body.error.message).toContain('20 MB');
    expect(service.calls).toBe(0);
  });

  it('accepts a photo of exactly the byte limit and refuses one byte more (configured limit)', async () => {
    const photo = await facePhoto(480, 600);
    const { app } = await server({ config: { maxFileBytes: photo.length } });
    expect((await post(app, [{ filename: 'a.jpg', bytes: photo }])).statusCode).toBe(200);
    const { app: app2 } = await server({ config: { maxFileBytes: photo.length - 1 } });
    expectError(await post(app2, [{ filename: 'a.jpg', bytes: photo }]), 413, 'E_TOO_LARGE');
  });

  it('refuses more than 50 megapixels from the header alone: 413', async () => {
    const { app, service } = await server();
    const body = expectError(await post(app, [{ filename: 'bomb.png', bytes: pngHeaderOnly(8000, 7000), type: 'image/png' }]), 413, 'E_TOO_LARGE');
    expect(body.error.message).toContain('8000x7000');
    expect(service.calls).toBe(0);
  });

  it('refuses more than 10 photos in one request: 413', async () => {
    const { app, service } = await server();
    const photo = await facePhoto(120, 150);
    const parts = Array.from({ length: 11 }, (_, i) => ({ filename: `p${i}.jpg`, bytes: photo }));
    expectError(await post(app, parts), 413, 'E_TOO_LARGE');
    expect(service.calls).toBe(0);
    expect((await post(app, parts.slice(0, 10))).statusCode).toBe(200);
  });

  it('refuses a request with no photo, a wrong field name, or a non-multipart body', async () => {
    const { app } = await server();
    const empty = multipartBody([]);
    expectError(await app.inject({ method: 'POST', url: '/api/screen', payload: empty.payload, headers: empty.headers }), 400, 'E_INPUT');
    expectError(await post(app, [{ field: 'file', filename: 'a.jpg', bytes: await facePhoto() }]), 400, 'E_INPUT');
    expectError(await app.inject({ method: 'POST', url: '/api/screen', payload: { photos: 'x' } }), 415, 'E_UNSUPPORTED');
    expectError(await app.inject({ method: 'POST', url: '/api/screen', payload: await facePhoto(), headers: { 'content-type': 'image/jpeg' } }), 415, 'E_UNSUPPORTED');
  });

  it('refuses malformed form data with 400 E_INPUT saying what was expected, never 500', async () => {
    const { app, service } = await server();
    const photo = await facePhoto(200, 250);
    const good = multipartBody([{ filename: 'a.jpg', bytes: photo }]);
    const type = good.headers['content-type'];
    const boundary = type.split('boundary=')[1];
    const part = (headers: string, body: string | Buffer) => Buffer.concat([Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')]);
    const end = Buffer.from(`--${boundary}--\r\n`);
    const cases: Array<[string, string, Buffer | string, RegExp]> = [
      ['no boundary in the Content-Type', 'multipart/form-data', good.payload, /names no boundary/],
      ['an empty boundary', 'multipart/form-data; boundary=', good.payload, /names no boundary/],
      ['a boundary longer than RFC 2046 allows', `multipart/form-data; boundary=${'b'.repeat(71)}`, good.payload, /longer than 70/],
      ['a boundary the body does not use', 'multipart/form-data; boundary=not-the-one', good.payload, /malformed/],
      ['a body cut in the middle of the photo', type, good.payload.subarray(0, good.payload.length - 400), /malformed \(/],
      ['a body cut in the middle of a part header', type, good.payload.subarray(0, 60), /malformed \(/],
      ['a body without its closing boundary', type, good.payload.subarray(0, good.payload.length - end.length), /malformed \(/],
      ['a body that is not form data at all', type, 'garbage, not multipart', /malformed \(/],
      ['the photo sent as a text field', type, Buffer.concat([part('Content-Disposition: form-data; name="photos"', 'a.jpg'), end]), /holds text, not a file/],
      ['too many parts', type, Buffer.concat([...Array.from({ length: 30 }, (_, i) => part(`Content-Disposition: form-data; name="f${i}"`, 'x')), end]), /Too many form parts/],
      ['a field named after a prototype property', type, Buffer.concat([part('Content-Disposition: form-data; name="__proto__"; filename="a.jpg"', photo), end]), /prototype/],
    ];
    for (const [what, contentType, payload, message] of cases) {
      const body = expectError(await app.inject({ method: 'POST', url: '/api/screen', headers: { 'content-type': contentType }, payload }), 400, 'E_INPUT');
      expect(body.error.message, what).toMatch(message);
      expect(body.error.message, what).toContain('Expected');
    }
    // A multipart type other than form data is an unsupported media type, as any non-form body is.
    expectError(await app.inject({ method: 'POST', url: '/api/screen', headers: { 'content-type': `multipart/mixed; boundary=${boundary}` }, payload: good.payload }), 415, 'E_UNSUPPORTED');
    expect(service.calls).toBe(0);
    expect((await post(app, [{ filename: 'a.jpg', bytes: photo }])).statusCode).toBe(200);
  });
});

describe('--keep audit folder', () => {
  const tmpDirs: string[] = [];
  afterEach(() => { for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
  const tmp = () => { const d = mkdtempSync(path.join(os.tmpdir(), 'phenoface-keep-')); tmpDirs.push(d); return d; };

  it('refuses to start with a keep folder that is missing or is a file: E_CONFIG naming it', async () => {
    const root = tmp();
    const missing = path.join(root, 'missing');
    await expect(buildServer({ service: new FakeScreenService(), keepDir: missing })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining(`"${missing}" cannot be used (ENOENT: it does not exist)`) });
    const file = path.join(root, 'file');
    writeFileSync(file, 'x');
    await expect(buildServer({ service: new FakeScreenService(), keepDir: file })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('is a file, not a folder') });
    await expect(buildServer({ service: new FakeScreenService(), keepDir: path.join(file, 'sub') })).rejects.toMatchObject({ code: 'E_CONFIG', message: expect.stringContaining('ENOTDIR') });
  });

  it('keeps each screening, and answers a coded error, not a bare 500, when the folder has gone', async () => {
    const keepDir = path.join(tmp(), 'kept');
    mkdirSync(keepDir);
    const lines: string[] = [];
    const { app } = await server({ keepDir, log: (l) => lines.push(l) });
    expect((await post(app, [{ filename: 'notes.txt', bytes: Buffer.from('not a photo') }, { filename: 'patient-x.jpg', bytes: await facePhoto() }])).statusCode).toBe(200);
    expect(readdirSync(keepDir)).toHaveLength(1);
    // The photo kept under its place in the request (the result's), the refused file not at all.
    expect(readdirSync(path.join(keepDir, readdirSync(keepDir)[0])).sort()).toEqual(['photo-2.jpg', 'result.json']);
    rmSync(keepDir, { recursive: true });
    const body = expectError(await post(app, [{ filename: 'patient-y.jpg', bytes: await facePhoto() }]), 500, 'E_CONFIG');
    expect(body.error.message).toContain('--keep folder (ENOENT: it does not exist)');
    expect(body.error.message).not.toContain(keepDir);
    expect(body.error.message).not.toContain('patient-y');
    // Not re-created: a keep folder that vanished (an unmounted disk) is a fault to report.
    expect(existsSync(keepDir)).toBe(false);
    expect(lines.join('\n')).toMatch(/error: POST \/api\/screen: E_CONFIG Error ENOENT/);
    expect(lines.join('\n')).not.toContain('patient-');
  });
});

describe('access', () => {
  const token = 'a-long-enough-secret-token';

  it('with a token, every /api request needs "Authorization: Bearer <token>": 401 otherwise', async () => {
    const { app, service } = await server({ token });
    const missing = expectError(await app.inject({ method: 'GET', url: '/api/health' }), 401, 'E_UNAUTHORIZED');
    expect(missing.error.message).toContain('No Authorization header');
    const noAuth = await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }]);
    expectError(noAuth, 401, 'E_UNAUTHORIZED');
    expect(noAuth.headers['www-authenticate']).toBe('Bearer');
    expectError(await app.inject({ method: 'GET', url: '/api/model', headers: { authorization: `Bearer ${token}x` } }), 401, 'E_UNAUTHORIZED');
    expectError(await app.inject({ method: 'GET', url: '/api/model', headers: { authorization: token } }), 401, 'E_UNAUTHORIZED');
    expect(service.calls).toBe(0);
    expect((await app.inject({ method: 'GET', url: '/api/health', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    const ok = await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }], { authorization: `bearer ${token}` });
    expect(ok.statusCode).toBe(200);
  });

  it('on loopback, refuses foreign Host headers (DNS rebinding) and cross-origin posts', async () => {
    const { app } = await server();
    expectError(await app.inject({ method: 'GET', url: '/api/health', headers: { host: 'evil.example:8080' } }), 403, 'E_FORBIDDEN');
    expect((await app.inject({ method: 'GET', url: '/api/health', headers: { host: '127.0.0.1:8080' } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/health', headers: { host: '[::1]:8080' } })).statusCode).toBe(200);
    const photo = await facePhoto();
    expectError(await post(app, [{ filename: 'a.jpg', bytes: photo }], { origin: 'http://evil.example', host: 'localhost:8080' }), 403, 'E_FORBIDDEN');
    expect((await post(app, [{ filename: 'a.jpg', bytes: photo }], { origin: 'http://localhost:8080', host: 'localhost:8080' })).statusCode).toBe(200);
  });

  it('with a token, the token decides: any Host and Origin (a LAN name, a reverse proxy) are accepted', async () => {
    const { app } = await server({ token, config: { host: '0.0.0.0' } });
    const res = await app.inject({ method: 'GET', url: '/api/health', headers: { host: 'screening-pc.hospital.local:8080', authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const proxied = await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }], { host: '127.0.0.1:8080', origin: 'https://phenoface.hospital.example', authorization: `Bearer ${token}` });
    expect(proxied.statusCode).toBe(200);
    expectError(await app.inject({ method: 'GET', url: '/api/health', headers: { host: 'screening-pc.hospital.local:8080' } }), 401, 'E_UNAUTHORIZED');
  });

  it('refuses to build a server on a non-loopback address without a token', async () => {
    await expect(buildServer({ service: new FakeScreenService(), config: { host: '0.0.0.0' } })).rejects.toMatchObject({ code: 'E_CONFIG' });
  });
});

describe('queue', () => {
  it('runs `concurrency` screenings, queues `queueSize`, refuses the next with 503 and Retry-After', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => { open = r; });
    const service = new FakeScreenService({ gate: () => gate });
    const { app } = await server({ service, config: { concurrency: 1, queueSize: 1 } });
    const photo = await facePhoto(200, 250);
    const first = post(app, [{ filename: 'a.jpg', bytes: photo }]);
    const second = post(app, [{ filename: 'b.jpg', bytes: photo }]);
    await expect.poll(() => service.calls).toBe(1);
    const health = (await app.inject({ method: 'GET', url: '/api/health' })).json();
    expect(health.queue).toEqual({ running: 1, waiting: 1, capacity: 2 });
    const third = await post(app, [{ filename: 'c.jpg', bytes: photo }]);
    expectError(third, 503, 'E_BUSY');
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    open();
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
    expect(service.calls).toBe(2);
    expect((await post(app, [{ filename: 'd.jpg', bytes: photo }])).statusCode).toBe(200);
  });

  it('refuses uploads beyond the in-memory byte budget with 503, and frees the budget afterwards', async () => {
    const photo = await facePhoto(480, 600);
    const { app } = await server({ config: { maxBufferedBytes: photo.length * 2 } });
    const res = await post(app, [1, 2, 3].map((i) => ({ filename: `${i}.jpg`, bytes: photo })));
    expectError(res, 503, 'E_BUSY');
    expect(res.headers['retry-after']).toBeDefined();
    expect((await post(app, [1, 2].map((i) => ({ filename: `${i}.jpg`, bytes: photo })))).statusCode).toBe(200);
    expect((await post(app, [1, 2].map((i) => ({ filename: `${i}.jpg`, bytes: photo })))).statusCode).toBe(200);
  });

  it('frees the queue after failed requests', async () => {
    const { app } = await server({ config: { concurrency: 1, queueSize: 0 } });
    for (let i = 0; i < 3; i++) expectError(await post(app, [{ filename: 'x.jpg', bytes: Buffer.from('nope') }]), 415, 'E_UNSUPPORTED');
    expect((await app.inject({ method: 'GET', url: '/api/health' })).json().queue).toEqual({ running: 0, waiting: 0, capacity: 1 });
    expect((await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }])).statusCode).toBe(200);
  });
});

describe('errors thrown by the service', () => {
  it('maps a PhenofaceError to its status and hides internal errors', async () => {
    const { PhenofaceError } = await import('../../src/errors.ts');
    const service = new FakeScreenService();
    service.screen = async () => { throw new PhenofaceError('E_TOO_SMALL', 'Image "a.jpg" is 10x10 pixels.'); };
    const { app } = await server({ service });
    expectError(await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }]), 422, 'E_TOO_SMALL');
    const lines: string[] = [];
    const broken = new FakeScreenService();
    broken.screen = async () => { throw new TypeError('secret internals of patient-name.jpg'); };
    const { app: app2 } = await server({ service: broken, log: (l) => lines.push(l) });
    const body = expectError(await post(app2, [{ filename: 'patient-name.jpg', bytes: await facePhoto() }]), 500, 'E_INTERNAL');
    expect(body.error.message).not.toContain('secret');
    expect(lines.join('\n')).toContain('TypeError');
    expect(lines.join('\n')).not.toContain('patient-name');
  });

  it('words a server fault for the client, whole or on one photo, and logs it without photo names', async () => {
    const { PhenofaceError } = await import('../../src/errors.ts');
    const thrower = new FakeScreenService();
    thrower.screen = async () => { throw new PhenofaceError('E_MODEL', 'Model file /srv/phenoface/model/model.json is damaged.'); };
    const { app } = await server({ service: thrower });
    const whole = expectError(await post(app, [{ filename: 'a.jpg', bytes: await facePhoto() }]), 500, 'E_MODEL');
    expect(whole.error.message).toMatch(/^The server could not complete this screening \(E_MODEL\): the fault lies with the server's own model files, not with the photos/);
    expect(whole.error.message).not.toContain('/srv');

    const lines: string[] = [];
    const { app: app2 } = await server({ log: (l) => lines.push(l) });
    const res = await post(app2, [{ filename: 'fault-E_MODEL-patient-x.jpg', bytes: await facePhoto() }, { filename: 'b.jpg', bytes: await facePhoto() }]);
    expect(res.statusCode).toBe(200);
    const [faulty, fine] = res.json().photos;
    expect(faulty.error.code).toBe('E_MODEL');
    expect(faulty.error.message).not.toContain('/srv');
    expect(fine.probability).toBeTypeOf('number');
    const logged = lines.filter((l) => l.startsWith('error:')).join('\n');
    expect(logged).toContain("error: POST /api/screen: a photo's screening failed: E_MODEL Explanation reference /srv/phenoface/model/explain-reference.json holds 3 values, checked on \"<photo>\"");
    expect(logged).not.toContain('patient-x');

    const alone = expectError(await post(app2, [{ filename: 'fault-E_INTERNAL.jpg', bytes: await facePhoto() }]), 422, 'E_INTERNAL');
    expect(alone.error.message).toMatch(/the fault lies with the server's own software, not with the photos/);
  });
});
