/**
 * The CLI's view of the outside world, injected so tests can run commands without a subprocess
 * (the citty habit): argv in, stdout/stderr out, an exit code back.
 */
export interface CliIO {
  /** Writes to standard output (JSON lines, summaries). */
  out(text: string): void;
  /** Writes to standard error (progress, warnings). */
  err(text: string): void;
  /** True when stderr is a terminal (progress bars redraw in place only then). */
  isTTY: boolean;
  /** Working directory that relative paths are resolved against. */
  cwd: string;
  /**
   * Aborts when standard output's reader has closed it (`phenoface detect ... | head`): what is
   * still to print has no reader, so a batch starts no further input. Absent: output never closes.
   */
  outputClosed?: AbortSignal;
}

/**
 * The real process's IO. A closed stdout (`phenoface detect ... | head`) ends the run quietly, as
 * Unix tools do, instead of crashing with EPIPE: further output is dropped, `outputClosed` aborts,
 * and the command winds down (exit 0, see `main`). The process is not ended on the spot: a worker
 * thread stopped while onnxruntime runs in it aborts the whole process ("terminate called after
 * throwing an instance of 'Napi::Error'", exit 134), so the photos in progress are let finish.
 */
export function processIO(): CliIO {
  const closed = new AbortController();
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed.abort();
    else throw err;
  });
  // A closed stderr only loses progress and diagnostics: the records on stdout (often a file) go on.
  let errClosed = false;
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') errClosed = true;
    else throw err;
  });
  return {
    outputClosed: closed.signal,
    out: (t) => void (closed.signal.aborted || process.stdout.write(t)),
    err: (t) => void (errClosed || process.stderr.write(t)),
    isTTY: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
  };
}

/** Exit codes of the contract: 0 all succeeded, 3 some inputs failed, 2 bad usage, 1 otherwise. */
export const EXIT = { ok: 0, failure: 1, usage: 2, partial: 3 } as const;

/** A command: parses its own argv (after the command name) and returns an exit code. */
export type Command = (argv: string[], io: CliIO) => Promise<number>;
