/**
 * Runs one async job per input with bounded concurrency and hands results back in input order,
 * so output files are deterministic while decoding (libvips threads) overlaps inference
 * (onnxruntime threads). A failing input becomes an error record; the batch goes on.
 */
import { toErrorRecord, type ErrorCode } from '../errors.ts';

/** A per-input outcome. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; message: string } };

/**
 * Maps `items` through `job` with at most `concurrency` in flight, calling `emit` in input order
 * as soon as each prefix is complete (memory stays bounded by the window, not the batch). Once
 * `stop` aborts no further item starts; those in flight finish (a job may be native work that
 * cannot be cut), and `failed` counts only items that ran.
 */
export async function runOrdered<I, T>(items: readonly I[], concurrency: number, job: (item: I) => Promise<T>, emit: (item: I, outcome: Outcome<T>) => void, stop?: AbortSignal): Promise<{ failed: number }> {
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
    while (next < items.length && !stop?.aborted) {
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
