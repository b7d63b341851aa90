/**
 * `npm run bench:manifest`: validating large manifests. In a temp folder it makes 1,370,000 photo
 * files (hard links to a few one-byte files: every row names a file of its own at little disk
 * cost), a manifest of the first 1,000,000 and one of all 1,370,000 with a stray quote in the
 * middle, and validates each with `loadDataset` in a child process of its own, which reports its
 * time and peak RSS. Target: 1,000,000 rows in under 10 s on 2 cores, memory linear in the rows,
 * and the stray quote reported once, at its line.
 *
 * Peers in the same run: the CSV reading alone, Phenoface's reader against csv-parse on the same
 * 1,000,000-row text, with the per-record line numbers the manifest needs (its `info` option) and
 * without them; and the floor that the file checks set on one thread, one `lstat` per photo in a
 * bare loop (validation makes them on `DEFAULTS.data.fileCheckThreads` threads meanwhile).
 *
 * Each validation also reports its processor time, in all and on the main thread (from Linux's
 * /proc): on a machine shared with other work the wall-clock time says more about the neighbours.
 *
 * Env: MANIFEST_ROWS (default 1000000; the stray-quote file has 1.37 times as many),
 * MANIFEST_RUNS (validations of the clean manifest, default 1; the figure is the fastest),
 * MANIFEST_WORK (default a new folder under $TMPDIR, removed at the end).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { readCsvRecords } from '../src/data/csv.ts';
import { DEFAULTS } from '../src/config.ts';
import { loadDataset } from '../src/data/manifest.ts';
import { hasCode, PhenofaceError } from '../src/errors.ts';
import { envInt, machineLine } from './common.ts';

/** What a child process reports about one validation. */
interface Validation {
  seconds: number;
  /** Processor time of the validation (user and system, all threads), less sensitive than `seconds` to other work on the machine. */
  cpuSeconds: number;
  /** The main thread's share of `cpuSeconds` (null where /proc is not there to tell). */
  mainCpuSeconds: number | null;
  peakRssMb: number;
  items: number;
  problems: { kind: string; line?: number }[];
  message: string;
}

/** Processor seconds of this process's main thread so far (Linux), or null. */
function mainThreadCpu(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime and stime, in clock ticks of 1/100 s
  } catch {
    return null;
  }
}

/** Child mode: validate one manifest and print a {@link Validation} as JSON. */
async function validate(file: string): Promise<void> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpu();
  let items = 0;
  let problems: Validation['problems'] = [];
  let message = '';
  try {
    items = (await loadDataset(file, {})).items.length;
  } catch (err) {
    if (!hasCode(err, 'E_MANIFEST')) throw err;
    problems = ((err as PhenofaceError).details as Validation['problems']).map((p) => ({ kind: p.kind, line: p.line }));
    message = (err as Error).message;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThreadCpu();
  const result: Validation = { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, mainCpuSeconds: main0 === null || main1 === null ? null : main1 - main0, peakRssMb: process.resourceUsage().maxRSS / 1024, items, problems, message };
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** The data row for photo `i`: two photos per subject, subjects alternating between the classes. */
const rowOf = (i: number) => `img/${Math.floor(i / 10_000)}/${i}.png,s${i >> 1},${(i >> 1) % 2 ? 'vcfs' : 'control'}`;

function makeFiles(root: string, count: number): void {
  const done = path.join(root, `made-${count}`);
  if (existsSync(done)) return; // a MANIFEST_WORK folder from an earlier run
  // ext4 allows 65,000 hard links to one file.
  for (let i = 0; i < count; i++) {
    if (i % 10_000 === 0) mkdirSync(path.join(root, 'img', String(i / 10_000)), { recursive: true });
    const source = path.join(root, `source-${Math.floor(i / 50_000)}.bin`);
    if (i % 50_000 === 0) writeFileSync(source, 'x');
    linkSync(source, path.join(root, 'img', String(Math.floor(i / 10_000)), `${i}.png`));
  }
  writeFileSync(done, '');
}

/** Validate `file` in a fresh process (so its peak RSS is the validation's alone). */
function validateInChild(file: string): Validation {
  const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1], '--validate', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Validation;
}

/** `12.3 s of processor time, 5.4 s on the main thread`. */
const cpuText = (v: Validation) => `${v.cpuSeconds.toFixed(2)} s of processor time${v.mainCpuSeconds === null ? '' : `, ${v.mainCpuSeconds.toFixed(2)} s on the main thread`}`;

function timeIt(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const rows = envInt('MANIFEST_ROWS', 1_000_000, 1000);
  const runs = envInt('MANIFEST_RUNS', 1, 1);
  const strayRows = Math.round(rows * 1.37);
  const work = process.env.MANIFEST_WORK ? path.resolve(process.env.MANIFEST_WORK) : mkdtempSync(path.join(os.tmpdir(), 'phenoface-bench-manifest-'));
  console.log(`machine: ${await machineLine()}; load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}`);
  try {
    const root = path.join(work, 'data');
    let t = performance.now();
    makeFiles(root, strayRows);
    const lines = ['path,subject,label'];
    for (let i = 0; i < strayRows; i++) lines.push(rowOf(i));
    const clean = lines.slice(0, rows + 1).join('\n') + '\n';
    writeFileSync(path.join(root, 'clean.csv'), clean);
    // A quote opened in the middle of the file and never closed: the rest of the file is inside it.
    const strayLine = Math.floor(strayRows / 2) + 1;
    lines[strayLine - 1] = lines[strayLine - 1].replace(',s', ',"s');
    writeFileSync(path.join(root, 'stray.csv'), lines.join('\n') + '\n');
    console.log(`data: ${strayRows} files and two manifests in ${work} (${((performance.now() - t) / 1000).toFixed(1)} s)`);

    const text = clean.slice(clean.indexOf('\n') + 1);
    const ours = timeIt(() => {
      for (const r of readCsvRecords(text)) void r;
    });
    const peerInfo = timeIt(() => parse(text, { relax_column_count: true, skip_empty_lines: true, info: true }));
    const peerPlain = timeIt(() => parse(text, { relax_column_count: true, skip_empty_lines: true }));
    console.log(`reading ${rows} records: readCsvRecords ${ours.toFixed(2)} s; csv-parse with line numbers ${peerInfo.toFixed(2)} s, without ${peerPlain.toFixed(2)} s`);

    const lstatFloor = timeIt(() => {
      for (let i = 0; i < rows; i++) lstatSync(path.join(root, rowOf(i).split(',')[0]));
    });
    console.log(`file checks' floor on one thread: ${rows} lstat calls in a bare loop ${lstatFloor.toFixed(2)} s (validation spreads them over ${DEFAULTS.data.fileCheckThreads} threads)`);

    // The fastest of `runs`: the run least disturbed by other work on the machine.
    let a: Validation | undefined;
    for (let run = 1; run <= runs; run++) {
      t = performance.now();
      const v = validateInChild(path.join(root, 'clean.csv'));
      console.log(`clean${runs > 1 ? ` (run ${run} of ${runs})` : ''}: ${v.items} rows valid, ${v.problems.length} problems; ${v.seconds.toFixed(2)} s (${cpuText(v)}), peak RSS ${v.peakRssMb.toFixed(0)} MB (child total ${((performance.now() - t) / 1000).toFixed(1)} s); load average ${os.loadavg()[0].toFixed(1)}`);
      if (a === undefined || v.seconds < a.seconds) a = v;
    }
    a = a!;
    const b = validateInChild(path.join(root, 'stray.csv'));
    const named = b.problems.filter((p) => p.line === strayLine).length;
    const strayOk = b.problems.length === 1 && b.problems[0].kind === 'parse-error' && named === 1;
    console.log(`stray quote: ${b.problems.length} problem${b.problems.length === 1 ? '' : 's'} (${b.message.split('\n')[1]?.trim() ?? ''}); ${b.seconds.toFixed(2)} s (${cpuText(b)}), peak RSS ${b.peakRssMb.toFixed(0)} MB`);
    if (a.items !== rows || !strayOk) throw new Error('unexpected validation result (see above)');
    console.log(`figure: ${rows} rows validated in ${a.seconds.toFixed(2)} s${runs > 1 ? ` (fastest of ${runs})` : ''} (peak RSS ${a.peakRssMb.toFixed(0)} MB); ${strayRows} rows with a stray quote at line ${strayLine} in ${b.seconds.toFixed(2)} s (peak RSS ${b.peakRssMb.toFixed(0)} MB), reported once`);
  } finally {
    if (!process.env.MANIFEST_WORK) rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--validate') await validate(process.argv[3]);
else await main();
