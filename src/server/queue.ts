/**
 * A bounded queue of screenings: at most `concurrency` run at once and at most `queueSize` wait;
 * a request beyond that is refused at once (HTTP 503 with Retry-After) instead of piling up in
 * memory. A request is admitted once its upload has been read: a slow upload holds no slot, so
 * it cannot keep others from being screened (uploads still arriving are bounded by
 * `UploadsInFlight` and the byte budget in upload.ts).
 */

/** A request admitted to the queue. Call `leave()` exactly once when the request ends. */
export interface Admission {
  /** Waits for a free slot, runs `fn`, frees the slot. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Gives up the admission (after `run`, or without running). Idempotent. */
  leave(): void;
}

/** The queue; state lives on the instance (one per server). */
export class ScreeningQueue {
  private admitted = 0;
  private running = 0;
  private readonly waiters: Array<() => void> = [];
  /** Exponentially weighted mean of run durations (ms), for Retry-After. */
  private meanRunMs = 0;

  constructor(readonly concurrency: number, readonly queueSize: number) {
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) throw new RangeError(`Invalid concurrency: ${concurrency}. Should be an integer >= 1.`);
    if (!(Number.isInteger(queueSize) && queueSize >= 0)) throw new RangeError(`Invalid queueSize: ${queueSize}. Should be an integer >= 0.`);
  }

  /** Requests currently running and admitted but not running. */
  get state(): { running: number; waiting: number; capacity: number } {
    return { running: this.running, waiting: this.admitted - this.running, capacity: this.concurrency + this.queueSize };
  }

  /** Seconds a refused client should wait: the time for the current backlog to drain, 1..60. */
  retryAfterSec(): number {
    const backlogRuns = this.admitted / this.concurrency;
    const estimate = Math.ceil((backlogRuns * (this.meanRunMs || 1000)) / 1000);
    return Math.min(60, Math.max(1, estimate));
  }

  /** Admits a request, or returns `undefined` when running + waiting is at capacity. */
  tryAdmit(): Admission | undefined {
    if (this.admitted >= this.concurrency + this.queueSize) return undefined;
    this.admitted++;
    let left = false;
    return {
      run: async <T>(fn: () => Promise<T>): Promise<T> => {
        if (left) throw new Error('Admission already left the queue');
        await this.acquire();
        const t0 = performance.now();
        try {
          return await fn();
        } finally {
          const ms = performance.now() - t0;
          this.meanRunMs = this.meanRunMs === 0 ? ms : 0.8 * this.meanRunMs + 0.2 * ms;
          this.release();
        }
      },
      leave: () => {
        if (left) return;
        left = true;
        this.admitted--;
      },
    };
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(() => { this.running++; resolve(); }));
  }

  private release(): void {
    this.running--;
    this.waiters.shift()?.();
  }
}
