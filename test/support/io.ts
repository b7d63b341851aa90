/** An in-memory CliIO for running commands in tests without a subprocess. */
import type { CliIO } from '../../src/cli/io.ts';

export interface MemoryIO extends CliIO {
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines. */
  lines(): Record<string, any>[];
}

export function memoryIO(cwd = process.cwd()): MemoryIO {
  const io: MemoryIO = {
    stdout: '',
    stderr: '',
    isTTY: false,
    cwd,
    out(t) { io.stdout += t; },
    err(t) { io.stderr += t; },
    lines() { return io.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)); },
  };
  return io;
}
