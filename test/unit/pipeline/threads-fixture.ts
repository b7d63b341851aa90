/** A factory for the worker-thread protocol's tests (`threads.test.ts`): each method probes one part of the protocol. */
import { PhenofaceError, type ErrorCode } from '../../../src/errors.ts';
import type { Notify } from '../../../src/pipeline/threads.ts';

/** What the fixture is started with. */
export interface FixtureInit {
  /** Makes the factory fail with this code, as a bad model would. */
  failInit?: ErrorCode;
  /** Bytes given at start (moved when listed in the entry's transfer). */
  bytes?: Uint8Array;
}

/** The fixture's factory: sends one event while it starts, then answers the methods below. */
export function threadsFixture(init: FixtureInit, notify: Notify<string>) {
  if (init.failInit) throw new PhenofaceError(init.failInit, `Planted ${init.failInit} at start`);
  notify('started');
  let closed = false;
  return {
    /** The sum of the bytes given, and whether the worker sees them as a Buffer. */
    sum(bytes: Uint8Array): { sum: number; buffer: boolean } {
      return { sum: bytes.reduce((a, b) => a + b, 0), buffer: Buffer.isBuffer(bytes) };
    },
    /** Length of the bytes the worker was started with. */
    initBytes(): number {
      return init.bytes?.length ?? -1;
    },
    /** Sends `n` events, then answers `n`. */
    count(n: number): number {
      for (let i = 0; i < n; i++) notify(`event ${i}`);
      return n;
    },
    /** Throws a PhenofaceError with `code`, or a plain Error when none is given. */
    fail(code?: ErrorCode): never {
      if (code) throw new PhenofaceError(code, `Planted ${code}`);
      throw new TypeError('plain failure');
    },
    /** Answers after `ms`. */
    async slow(ms: number): Promise<string> {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return closed ? 'answered after close' : 'answered before close';
    },
    /** Ends the thread as a fatal error would. */
    crash(): never {
      process.exit(3);
    },
    async close(): Promise<void> {
      closed = true;
      notify('closing');
    },
  };
}
