/**
 * The screening service in a worker thread (what `serve` runs): results and errors cross the
 * thread boundary intact, a failed load rejects with its code, a dead worker fails its pending
 * screening and is replaced, and CPU-bound screening does not stall the HTTP thread (compared
 * with the same service on the HTTP thread, in the same test).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import type { ScreenService } from '../../src/server/types.ts';
import { WorkerScreenService } from '../../src/server/thread-service.ts';
import { FakeScreenService } from './fake-service.ts';
import { facePhoto, multipartBody } from './fixtures.ts';

const FAKE_MODULE = new URL('./fake-service.ts', import.meta.url).href;
const closers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => { for (const c of closers.reverse()) await c.close(); });

async function workerService(opts: Record<string, unknown> = {}, warnings: string[] = []): Promise<WorkerScreenService> {
  const s = await WorkerScreenService.start({ module: FAKE_MODULE, exportName: 'createFakeService', args: [opts] }, (m) => warnings.push(m));
  closers.push(s);
  return s;
}

describe('WorkerScreenService', () => {
  it('loads in a worker, forwards warnings, and screens photos sent across the thread boundary', async () => {
    const warnings: string[] = [];
    const service = await workerService({}, warnings);
    expect(warnings).toEqual(['fake service loaded']);
    expect(service.info().id).toBe('fake-model-1');
    const photo = await facePhoto(300, 400);
    const [inWorker, here] = await Promise.all([
      service.screen([{ name: 'a.jpg', bytes: photo }], { explain: true }),
      new FakeScreenService().screen([{ name: 'a.jpg', bytes: photo }], { explain: true }),
    ]);
    expect(inWorker).toEqual(here);
    expect(inWorker.photos[0].heatmap).toMatch(/^data:image\/png;base64,/);
  });

  it('rebuilds errors with their codes, and rejects a failed load with its code', async () => {
    const service = await workerService();
    await expect(service.screen([{ name: 'throw-E_TOO_SMALL.jpg', bytes: await facePhoto() }])).rejects.toMatchObject({ name: 'PhenofaceError', code: 'E_TOO_SMALL' });
    await expect(WorkerScreenService.start({ module: FAKE_MODULE, exportName: 'createFakeService', args: [{ failInit: 'E_BUNDLE' }] })).rejects.toMatchObject({ code: 'E_BUNDLE', message: 'Planted E_BUNDLE at load' });
    await expect(WorkerScreenService.start({ module: FAKE_MODULE, exportName: 'nope', args: [] })).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringContaining('does not export a function nope') });
  });

  it('fails the screening of a worker that dies, warns, and starts a new worker for the next one', async () => {
    const warnings: string[] = [];
    const service = await workerService({}, warnings);
    await expect(service.screen([{ name: 'crash.jpg', bytes: await facePhoto() }])).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringContaining('worker stopped') });
    expect(warnings.some((w) => w.includes('the next screening starts a new one'))).toBe(true);
    const result = await service.screen([{ name: 'ok.jpg', bytes: await facePhoto() }]);
    expect(result.subject.photos).toBe(1);
  });

  it('keeps the HTTP thread responsive while a screening computes (the same service on the HTTP thread stalls it)', async () => {
    const blockMs = 1500;
    const photo = await facePhoto(200, 250);
    async function worstHealthLatencyDuringScreening(service: ScreenService): Promise<number> {
      const app: FastifyInstance = await buildServer({ service, webRoot: '/nonexistent' });
      closers.push(app);
      await app.inject({ method: 'GET', url: '/api/health' });
      const { payload, headers } = multipartBody([{ filename: 'a.jpg', bytes: photo }]);
      let done = false;
      const screening = app.inject({ method: 'POST', url: '/api/screen', payload, headers }).finally(() => { done = true; });
      // A health check every 20 ms while the screening runs: the longest wait beyond the 20 ms
      // (timer plus answer) is how long the HTTP thread stalled.
      let worst = 0;
      while (!done) {
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, 20));
        await app.inject({ method: 'GET', url: '/api/health' });
        worst = Math.max(worst, performance.now() - t0 - 20);
      }
      expect((await screening).statusCode).toBe(200);
      return worst;
    }
    const inWorker = await worstHealthLatencyDuringScreening(await workerService({ blockMs }));
    const inThread = await worstHealthLatencyDuringScreening(new FakeScreenService({ blockMs }));
    expect(inWorker).toBeLessThan(600);
    expect(inThread).toBeGreaterThan(1000);
  });

  it('closes the worker', async () => {
    const service = await WorkerScreenService.start({ module: FAKE_MODULE, exportName: 'createFakeService', args: [{}] });
    await service.close();
    await expect(service.screen([{ name: 'a.jpg', bytes: await facePhoto() }])).rejects.toMatchObject({ message: expect.stringContaining('closed') });
  });
});
