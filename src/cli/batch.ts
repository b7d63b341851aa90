/**
 * Runs one async job per input with bounded concurrency and hands results back in input order,
 * so output files are deterministic while decoding (libvips threads) overlaps inference
 * (onnxruntime threads). A failing input becomes an error record; the batch goes on.
 */
import { toErrorRecord, type ErrorCode } from '../errors.ts';
import type { CliIO } from './io.ts';

/** A per-input outcome. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

/** Progress on stderr for batches longer than a few items: count, rate and ETA. */
export class Progress {
  private done = 0;
  private readonly start = Date.now();
  private lastPrint = 0;
  constructor(private readonly io: CliIO, private readonly label: string, private readonly total: number, private readonly enabled = total > 20) {}

  tick(): void {
    this.done++;
    if (!this.enabled) return;
    const now = Date.now();
    const finished = this.done === this.total;
    if (!finished && now - this.lastPrint < (this.io.isTTY ? 200 : 10_000)) return;
    this.lastPrint = now;
    const secs = (now - this.start) / 1000;
    const rate = this.done / Math.max(secs, 1e-3);
    const eta = (this.total - this.done) / Math.max(rate, 1e-9);
    const line = `${this.label}: ${this.done}/${this.total} (${rate.toFixed(1)}/s, ETA ${formatSeconds(eta)})`;
    this.io.err(this.io.isTTY ? `\r${line}${finished ? '\n' : ''}` : `${line}\n`);
  }
}

/** `1h02m`, `3m05s`, `12s`. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  if (t >= 3600) return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
  if (t >= 60) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${t}s`;
}

/**
 * Maps `items` through `job` with at most `concurrency` in flight, calling `emit` in input order
 * as soon as each prefix is complete (memory stays bounded by the window, not the batch).
 */
export async function runOrdered<I, T>(items: readonly I[], concurrency: number, job: (item: I) => Promise<T>, emit: (item: I, outcome: Outcome<T>) => void): Promise<{ failed: number }> {
  const pending = new Map<number, Outcome<T>>();
  let next = 0;
  let emitted = 0;
  let failed = 0;
  const flush = () => {
    while (pending.has(emitted)) {
      const o = pending.get(emitted)!;
      pending.delete(emitted);
      if (!o.ok) failed++;
      emit(items[emitted], o);
      emitted++;
    }
  };
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      let outcome: Outcome<T>;
      try {
        outcome = { ok: true, value: await job(items[i]) };
      } catch (err) {
        outcome = { ok: false, error: toErrorRecord(err) };
      }
      pending.set(i, outcome);
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return { failed };
}
