/**
 * Worker threads that run these TypeScript sources. A worker does not inherit the parent's module
 * hooks, so its entry registers tsx itself before importing the module, as `bin/phenoface.mjs`
 * does for the main thread. Used by the study's fold pool and the server's screening worker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** An ES-module worker entry: register tsx (found through its package.json exports), then import `entry`. */
function tsxEntrySource(entry: URL): string {
  const require = createRequire(import.meta.url);
  const tsxPackage = require.resolve('tsx/package.json');
  const api = new URL(require('tsx/package.json').exports['./esm/api'].import.default, pathToFileURL(tsxPackage)).href;
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
}

/**
 * Starts a worker thread running the TypeScript module `entry` (e.g.
 * `new URL('./worker.ts', import.meta.url)`).
 */
export function startTsWorker(entry: URL): Worker {
  return new Worker(tsxEntrySource(entry), { eval: true });
}
