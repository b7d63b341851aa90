#!/usr/bin/env node
// Entry point of the `phenoface` command: registers tsx so the TypeScript sources run as they are
// (no build step to forget), then hands argv to the CLI's single error boundary.
import { accessSync, constants, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// onnxruntime's telemetry database would be written under HOME; its native library reads this
// variable from the process environment, which worker threads inherit (see runtime/session.ts).
process.env.ORT_DISABLE_TELEMETRY = '1';

// tsx keeps compiled sources in a folder of the temp dir; where that cannot be written (a
// read-only TMPDIR, a folder of another user's), run without that cache rather than fail with a
// stack trace before any command starts. Read when tsx loads, so set before it is imported.
try {
  const cache = path.join(os.tmpdir(), `tsx-${os.userInfo().uid}`);
  mkdirSync(cache, { recursive: true });
  accessSync(cache, constants.W_OK);
} catch {
  process.env.TSX_DISABLE_CACHE = '1';
}

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
