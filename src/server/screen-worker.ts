/**
 * Body of the screening worker thread (see worker-service.ts): loads a ScreenService from the
 * module and export named in the init message, then answers screen requests. Errors travel back
 * as `{code, message}` records and are rebuilt as PhenofaceErrors in the server's thread.
 */
import { parentPort } from 'node:worker_threads';
import { PhenofaceError } from '../errors.ts';
import type { ScreenService } from './types.ts';
import type { FromWorker, ToWorker } from './worker-service.ts';

if (!parentPort) throw new Error('screen-worker.ts must run in a worker thread');
const port = parentPort;
const send = (m: FromWorker) => port.postMessage(m);
const record = (err: unknown) => ({
  code: err instanceof PhenofaceError ? err.code : 'E_INTERNAL',
  message: err instanceof Error ? err.message : String(err),
  name: err instanceof Error ? err.name : 'Error',
});

let service: ScreenService | undefined;

port.on('message', async (m: ToWorker) => {
  if (m.type === 'init') {
    try {
      const mod = (await import(m.module)) as Record<string, unknown>;
      const factory = mod[m.exportName];
      if (typeof factory !== 'function') throw new Error(`${m.module} does not export a function ${m.exportName}`);
      service = await (factory as (...a: unknown[]) => Promise<ScreenService>)(...m.args, (message: string) => send({ type: 'warn', message }));
      send({ type: 'ready', info: service.info() });
    } catch (err) {
      send({ type: 'init-error', error: record(err) });
    }
  } else if (m.type === 'screen') {
    try {
      const photos = m.photos.map((p) => ({ name: p.name, bytes: Buffer.from(p.bytes.buffer, p.bytes.byteOffset, p.bytes.byteLength) }));
      send({ type: 'result', id: m.id, result: await service!.screen(photos, m.opts) });
    } catch (err) {
      send({ type: 'error', id: m.id, error: record(err) });
    }
  } else if (m.type === 'close') {
    try { await service?.close(); } finally { send({ type: 'closed' }); }
  }
});
