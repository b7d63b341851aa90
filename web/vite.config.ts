/**
 * Build of the web UI (`npm run build:web` -> web/dist, served by `phenoface serve`). Everything is
 * bundled into same-origin files: no CDN, no inline script or style, so the server's strict
 * Content-Security-Policy holds.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Modern browsers need no modulepreload polyfill; never inline assets as data: URLs.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  // `npm run dev:web`: the UI with hot reload against a server started with `phenoface serve`.
  server: { host: '127.0.0.1', proxy: { '/api': 'http://127.0.0.1:8080' } },
});
