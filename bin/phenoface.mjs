#!/usr/bin/env node
// Entry point of the `phenoface` command: registers tsx so the TypeScript sources run as they are
// (no build step to forget), then hands argv to the CLI's single error boundary.
import { register } from 'tsx/esm/api';

// onnxruntime's telemetry database would be written under HOME; its native library reads this
// variable from the process environment, which worker threads inherit (see runtime/session.ts).
process.env.ORT_DISABLE_TELEMETRY = '1';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
