/**
 * Body of one {@link PipelinePool} worker thread: a {@link Pipeline} of its own (one onnxruntime
 * thread per operator), answering embed and detect requests. Errors travel back as `{code, message}` records
 * and are rebuilt as PhenofaceErrors in the calling thread.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorRecord as record } from './errors.ts';
import { Pipeline } from './pipeline.ts';
import type { FromPoolWorker, ToPoolWorker } from './pipeline-pool.ts';

if (!parentPort) throw new Error('pipeline-worker.ts must run in a worker thread');
const port = parentPort;
const send = (m: FromPoolWorker) => port.postMessage(m);

let pipeline: Pipeline | undefined;

port.on('message', async (m: ToPoolWorker) => {
  if (m.type === 'init') {
    try {
      pipeline = await Pipeline.create(m.options);
      send({ type: 'ready' });
    } catch (err) {
      send({ type: 'init-error', error: record(err) });
    }
  } else if (m.type === 'embed' || m.type === 'detect') {
    try {
      const source = typeof m.source === 'string' ? m.source : Buffer.from(m.source.buffer, m.source.byteOffset, m.source.byteLength);
      send({ type: 'result', id: m.id, result: m.type === 'embed' ? await pipeline!.embedFile(source) : await pipeline!.detectFile(source) });
    } catch (err) {
      send({ type: 'error', id: m.id, error: record(err) });
    }
  } else if (m.type === 'close') {
    try { await pipeline?.close(); } finally { send({ type: 'closed' }); }
  }
});
