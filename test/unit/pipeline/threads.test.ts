/**
 * The worker-thread protocol every pool and the server's screening worker use: requests answered by
 * method name, errors rebuilt with their codes, events in order, a failed start, a worker that dies,
 * transfer lists, and an orderly close after the requests in progress.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerThread, type WorkerEntry } from '../../../src/pipeline/threads.ts';
import type { FixtureInit, threadsFixture } from './threads-fixture.ts';

const MODULE = new URL('./threads-fixture.ts', import.meta.url);
const threads: WorkerThread<object, string>[] = [];
afterAll(async () => { await Promise.all(threads.map((t) => t.close(0))); });

function spawn(init: FixtureInit = {}, extra: Partial<WorkerEntry<typeof threadsFixture>> = {}) {
  const events: string[] = [];
  const lost: string[] = [];
  const thread = WorkerThread.spawn<typeof threadsFixture>({ module: MODULE, exportName: 'threadsFixture', args: [init], ...extra }, {
    name: 'test worker',
    onEvent: (e) => events.push(e),
    onLost: (why) => lost.push(why),
  });
  threads.push(thread);
  return { thread, events, lost };
}

describe('WorkerThread', () => {
  it('answers calls by method name, with the events sent before each answer', async () => {
    const { thread, events } = spawn();
    const early = thread.call('count', [3]); // sent before the worker is ready: it waits there
    await thread.ready;
    expect(await early).toBe(3);
    expect(events).toEqual(['started', 'event 0', 'event 1', 'event 2']);
  });

  it('rebuilds errors as PhenofaceErrors with their codes; anything else is E_INTERNAL', async () => {
    const { thread } = spawn();
    await expect(thread.call('fail', ['E_DECODE'])).rejects.toMatchObject({ name: 'PhenofaceError', code: 'E_DECODE', message: 'Planted E_DECODE' });
    await expect(thread.call('fail', [])).rejects.toMatchObject({ name: 'PhenofaceError', code: 'E_INTERNAL', message: 'plain failure' });
    expect(await thread.call('count', [0])).toBe(0); // and goes on
  });

  it('rejects ready with the factory error, fails calls, and reports the worker lost', async () => {
    const { thread, lost } = spawn({ failInit: 'E_MODEL' });
    const call = thread.call('count', [1]);
    await expect(thread.ready).rejects.toMatchObject({ code: 'E_MODEL', message: 'Planted E_MODEL at start' });
    await expect(call).rejects.toMatchObject({ code: 'E_MODEL' });
    expect(lost).toEqual(['Planted E_MODEL at start']);
    expect(thread.running).toBe(false);
    const missing = WorkerThread.spawn({ module: MODULE, exportName: 'nope', args: [] }, { name: 'test worker' });
    await expect(missing.ready).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringContaining('does not export a function nope') });
  });

  it('fails pending calls with E_INTERNAL when the worker dies, and says so once', async () => {
    const { thread, lost } = spawn();
    await thread.ready;
    const slow = thread.call('slow', [5_000]);
    await expect(thread.call('crash', [])).rejects.toMatchObject({ code: 'E_INTERNAL', message: 'The test worker stopped (exit code 3).' });
    await expect(slow).rejects.toMatchObject({ code: 'E_INTERNAL' });
    await expect(thread.call('count', [1])).rejects.toMatchObject({ code: 'E_INTERNAL' });
    expect(lost).toEqual(['exit code 3']);
  });

  it('moves transferred bytes instead of copying them, at start and with a call', async () => {
    const atStart = new Uint8Array([1, 2, 3, 4]);
    const { thread } = spawn({ bytes: atStart }, { transfer: [atStart.buffer] });
    expect(atStart.byteLength).toBe(0);
    expect(await thread.call('initBytes', [])).toBe(4);
    const bytes = Uint8Array.from([5, 6, 7]);
    const copied = Uint8Array.from([5, 6, 7]);
    expect(await thread.call('sum', [bytes], [bytes.buffer])).toEqual({ sum: 18, buffer: false });
    expect(bytes.byteLength).toBe(0);
    expect(await thread.call('sum', [copied])).toEqual({ sum: 18, buffer: false });
    expect(copied.byteLength).toBe(3);
  });

  it('closes after the calls in progress are answered, without reporting the worker lost', async () => {
    const { thread, events, lost } = spawn();
    await thread.ready;
    const slow = thread.call('slow', [200]);
    await thread.close();
    expect(await slow).toBe('answered before close');
    expect(events).toContain('closing');
    expect(lost).toEqual([]);
    await expect(thread.call('count', [1])).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringContaining('test worker') });
  });
});
