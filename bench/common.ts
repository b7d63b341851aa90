/**
 * Shared helpers of the benchmarks: where the shared data sets are, and a clear exit when they
 * are absent (benchmarks, like tests, never assume `../shared` exists).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The shared data folder: `$PHENOFACE_SHARED`, else `../shared` beside the repository. */
export function sharedDir(): string {
  return process.env.PHENOFACE_SHARED ?? path.resolve(REPO, '..', 'shared');
}

/** Returns `sharedDir()/rel`, or prints why the benchmark cannot run and exits 0. */
export function requireShared(rel: string): string {
  const p = path.join(sharedDir(), rel);
  if (!existsSync(p)) {
    console.log(`skipped: ${p} is absent (set PHENOFACE_SHARED to the shared data folder)`);
    process.exit(0);
  }
  return p;
}

/** Median of numbers (NaN for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The q-quantile (0..1) by linear interpolation. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Machine line for result tables: cores, CPU model, Node version, date. */
export async function machineLine(): Promise<string> {
  const os = await import('node:os');
  return `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** An integer setting from the environment (`name`), at least `min`; `fallback` when unset or empty. */
export function envInt(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`Invalid ${name}: "${raw}". Should be an integer >= ${min}.`);
  return n;
}
