/** Worker thread of the race test: decodes the files it is sent, all at once, and returns their outcomes. */
import { parentPort } from 'node:worker_threads';
import { decodeOutcome } from './decode-outcome.ts';

if (!parentPort) throw new Error('decode-worker.ts must run in a worker thread');
const port = parentPort;
port.on('message', async (files: string[]) => {
  port.postMessage(await Promise.all(files.map(decodeOutcome)));
});
