/**
 * `npm run bench:serve [DIR/model]`: load on `phenoface serve`. A real server process on
 * 127.0.0.1 with a real model bundle; 50 concurrent clients post photos (1 or 2 of face-api's
 * 1920-px demo photos a request, with heatmaps, as the web UI asks) for 60 s. A 503 (queue full)
 * is deliberate: the client waits the Retry-After it was given (bounded by the deadline) and tries
 * again. Reports failures other than 503s, p50/p95 latency of completed screenings (beside the
 * unloaded latency of one client measured first, the peer), throughput and the server's peak RSS.
 * Targets: no failed request other than 503s; peak RSS <= 1.5 GiB.
 * Model: the argument, else PHENOFACE_BENCH_MODEL or PHENOFACE_E2E_MODEL (`phenoface demo` makes one).
 * Env: BENCH_SERVE_CLIENTS (50), BENCH_SERVE_SECONDS (60). Loopback only.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { machineLine, quantile, REPO } from './common.ts';

const modelDir = process.argv[2] ?? process.env.PHENOFACE_BENCH_MODEL ?? process.env.PHENOFACE_E2E_MODEL;
if (!modelDir || !existsSync(path.join(modelDir, 'model.json'))) {
  console.log(`skipped: no model bundle${modelDir ? ` at ${modelDir}` : ''}. Usage: npm run bench:serve -- DIR/model (or set PHENOFACE_BENCH_MODEL); \`phenoface demo\` makes one.`);
  process.exit(0);
}
const CLIENTS = Number(process.env.BENCH_SERVE_CLIENTS ?? 50);
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 60);
const RSS_BOUND_MIB = 1536;

const require = createRequire(import.meta.url);
const demoDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const photos = [1, 2, 3, 4, 5, 6].map((i) => ({ name: `sample${i}.jpg`, bytes: readFileSync(path.join(demoDir, `sample${i}.jpg`)) }));

// The server: the real command in its own process, so its RSS is its own.
const server = spawn(process.execPath, [path.join(REPO, 'bin/phenoface.mjs'), 'serve', '--model', modelDir, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
let out = '';
let serverErr = '';
server.stdout.on('data', (d) => { out += d; });
server.stderr.on('data', (d) => { serverErr += d; });
const serverExit = new Promise<number | null>((resolve) => server.on('exit', resolve));
const url = await new Promise<string>((resolve, reject) => {
  const timer = setInterval(() => {
    const m = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
    if (m) { clearInterval(timer); resolve(m[1]); }
  }, 50);
  void serverExit.then((code) => { clearInterval(timer); reject(new Error(`server exited (${code}) before listening:\n${serverErr}`)); });
});

/** Peak resident set of the server process (Linux VmHWM), in MiB; NaN elsewhere. */
function peakRssMiB(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface Outcome { status: number; ms: number; retryAfterSec?: number; error?: string }

let seed = 12345;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

async function post(): Promise<Outcome> {
  const form = new FormData();
  const n = random() < 0.5 ? 1 : 2;
  for (let i = 0; i < n; i++) {
    const p = photos[Math.floor(random() * photos.length)];
    form.append('photos', new Blob([new Uint8Array(p.bytes)], { type: 'image/jpeg' }), p.name);
  }
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}api/screen?explain=true`, { method: 'POST', body: form });
    const body = await res.text();
    const ms = performance.now() - t0;
    if (res.status === 200) {
      const json = JSON.parse(body);
      if (json.contract !== 1 || !Array.isArray(json.photos)) return { status: 0, ms, error: 'malformed 200 body' };
    }
    const retry = Number(res.headers.get('retry-after'));
    return { status: res.status, ms, retryAfterSec: Number.isFinite(retry) ? retry : undefined, error: res.status === 200 || res.status === 503 ? undefined : body.slice(0, 200) };
  } catch (err) {
    return { status: 0, ms: performance.now() - t0, error: (err as Error).message };
  }
}

console.log(`Serve load (${await machineLine()})`);
console.log(`model ${modelDir}; ${CLIENTS} clients for ${SECONDS} s; 1-2 photos of 1920 px a request, with heatmaps`);

// The peer: one client alone, sequentially (warm-up first).
await post();
const unloaded: number[] = [];
for (let i = 0; i < 5; i++) {
  const o = await post();
  if (o.status === 200) unloaded.push(o.ms);
}

const deadline = performance.now() + SECONDS * 1000;
const outcomes: Outcome[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function client(): Promise<void> {
  while (performance.now() < deadline) {
    const o = await post();
    outcomes.push(o);
    if (o.status === 503) await sleep(Math.min((o.retryAfterSec ?? 1) * 1000, Math.max(0, deadline - performance.now())));
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: CLIENTS }, () => client()));
const wallSec = (performance.now() - t0) / 1000;

const rss = peakRssMiB(server.pid!);
server.kill('SIGTERM');
const exitCode = await serverExit;

const ok = outcomes.filter((o) => o.status === 200);
const busy = outcomes.filter((o) => o.status === 503);
const failed = outcomes.filter((o) => o.status !== 200 && o.status !== 503);
const lat = ok.map((o) => o.ms);
const byError = new Map<string, number>();
for (const f of failed) byError.set(`${f.status} ${f.error}`, (byError.get(`${f.status} ${f.error}`) ?? 0) + 1);

console.log(`unloaded (1 client): p50 ${quantile(unloaded, 0.5).toFixed(0)} ms over ${unloaded.length} requests`);
console.log(`requests ${outcomes.length}: ${ok.length} screened (${(ok.length / wallSec).toFixed(2)}/s), ${busy.length} refused busy (503, deliberate), ${failed.length} failed`);
for (const [e, n] of byError) console.log(`  failure x${n}: ${e}`);
console.log(`latency of screened requests under load: p50 ${quantile(lat, 0.5).toFixed(0)} ms, p95 ${quantile(lat, 0.95).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms; 503 answers p50 ${quantile(busy.map((o) => o.ms), 0.5).toFixed(0)} ms`);
console.log(`server exit code ${exitCode}; peak RSS ${rss.toFixed(0)} MiB (bound ${RSS_BOUND_MIB})`);
const pass = failed.length === 0 && ok.length > 0 && !(rss > RSS_BOUND_MIB);
console.log(`serve: ${failed.length} failures (${busy.length} deliberate 503s), p50 ${quantile(lat, 0.5).toFixed(0)} ms, p95 ${quantile(lat, 0.95).toFixed(0)} ms, peak RSS ${rss.toFixed(0)} MiB <= ${RSS_BOUND_MIB}: ${pass ? 'PASS' : 'FAIL'}`);
process.exitCode = pass ? 0 : 1;
