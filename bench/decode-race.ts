/**
 * `npm run bench:decode`: decode decisions under concurrency. A 100-file mix made from face-api's
 * 1920-px demo photos (whole JPEGs; JPEGs whose decoder only warns: extraneous bytes, Samsung's scan
 * parameters, no end marker, bytes after it; JPEGs cut short, most closed with an end marker; a text
 * file and truncated PNGs) goes 5 times through the pipeline pool, whose worker threads of one
 * process decode two photos each at once, as `detect`, `embed` and `study` do. Each file's outcome
 * (accepted, or refused with its code and message) is compared with the same file decoded alone in
 * this thread, the peer every run must equal. Then the time of `decodeImage` on a 2.5-MP JPEG, on the
 * normal path and on the paths where the strict decode fails.
 * Env: DECODE_RUNS (default 5).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { hasCode } from '../src/errors.ts';
import { decodeImage } from '../src/image/index.ts';
import { PipelinePool } from '../src/pipeline/pool.ts';
import { decodeMix, type DecodeMixFile } from '../test/fixtures-gen/images.ts';
import { machineLine, median } from './common.ts';

const require = createRequire(import.meta.url);
const demo = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');
const photo = (i: number) => readFileSync(path.join(demo, `sample${i}.jpg`));
const runs = Number(process.env.DECODE_RUNS ?? 5);

/** "accepted" or "refused CODE: message": what a decision and its message are, without the pixels. */
async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'accepted';
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return hasCode(err, 'E_NO_FACE') ? 'accepted' : `refused ${e.code}: ${e.message}`;
  }
}

console.log(`Decode decisions under concurrency (${await machineLine()})`);
const cutSets = [[0.3, 0.55, 0.8], [0.4, 0.65, 0.9], [0.5, 0.75, 0.97]];
const mixes = await Promise.all([1, 2, 3, 4, 5, 6, 1, 2].map((i, k) => decodeMix(photo(i), `m${k}-s${i}`, 1920, cutSets[k % 3])));
const files: DecodeMixFile[] = mixes.flat().slice(0, 100);
const dir = mkdtempSync(path.join(os.tmpdir(), 'phenoface-bench-decode-'));
const paths = files.map((f) => path.join(dir, f.name));
files.forEach((f, i) => writeFileSync(paths[i], f.bytes));
const truncated = files.filter((f) => f.truncated).length;
console.log(`  ${files.length} files: ${truncated} truncated JPEGs, ${files.filter((f) => f.expected === 'accepted').length} to accept (${files.filter((f) => f.expected === 'accepted' && f.name.match(/junk|samsung|no-eoi/)).length} of them after a decoder warning)`);

const alone: string[] = [];
for (const p of paths) alone.push(await outcome(() => decodeImage(p)));
const aloneWrong = files.filter((f, i) => !alone[i].startsWith(f.expected)).map((f) => f.name);
console.log(`  alone, one at a time: ${aloneWrong.length === 0 ? 'every file as designed' : `NOT as designed: ${aloneWrong.join(', ')}`}`);

const pool = await PipelinePool.create({ detectOnly: true, photos: files.length });
const results: string[][] = [];
try {
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const got = await Promise.all(paths.map((p) => outcome(() => pool.detectFile(p))));
    results.push(got);
    const truncatedAccepted = files.filter((f, i) => f.truncated && got[i] === 'accepted').length;
    const harmlessRefused = files.filter((f, i) => f.expected === 'accepted' && got[i] !== 'accepted').length;
    const differ = got.filter((o, i) => o !== alone[i]);
    const unknown = got.filter((o) => /Unknown error/.test(o)).length;
    console.log(`  run ${r + 1}: ${((performance.now() - t0) / 1000).toFixed(1)} s; truncated accepted ${truncatedAccepted}/${truncated}; ` +
      `to-accept refused ${harmlessRefused}; outcomes differing from alone ${differ.length} (messages with "Unknown error": ${unknown})`);
  }
} finally {
  await pool.close();
}

// Decode time of one 2.5-MP JPEG (1920x1280), one at a time, on each path.
const sample = files.findIndex((f) => f.name === 'm0-s1-valid.jpg');
const timed = (name: string) => paths[files.findIndex((f) => f.name === `m0-s1-${name}`)];
const cases: [string, string][] = [
  ['whole JPEG (strict decode passes)', paths[sample]],
  ['extraneous bytes before SOS (checked, then decoded again)', timed('junk-before-sos.jpg')],
  ['progressive, extraneous bytes between scans', timed('junk-between-scans.jpg')],
  ['no end marker', timed('no-eoi.jpg')],
  ['cut at 55% and closed (refused)', timed('cut55-closed.jpg')],
  ['progressive cut at 55% and closed (refused)', timed('progressive-cut55-closed.jpg')],
];
console.log('  decodeImage, median of 15, one at a time:');
for (const [name, p] of cases) {
  const ms: number[] = [];
  for (let i = 0; i < 16; i++) {
    const t0 = performance.now();
    await outcome(() => decodeImage(p));
    if (i > 0) ms.push(performance.now() - t0);
  }
  console.log(`    ${name}: ${median(ms).toFixed(1)} ms`);
}
rmSync(dir, { recursive: true, force: true });

const identical = results.every((run) => run.every((o, i) => o === results[0][i]));
const asAlone = results.every((run) => run.every((o, i) => o === alone[i]));
const truncatedAccepted = results.reduce((n, run) => n + files.filter((f, i) => f.truncated && run[i] === 'accepted').length, 0);
console.log(`bench:decode ${runs} runs of ${files.length} files through the pipeline pool: runs identical: ${identical ? 'yes' : 'NO'}; ` +
  `every outcome as decoded alone: ${asAlone ? 'yes' : 'NO'}; truncated files accepted: ${truncatedAccepted} of ${truncated * runs}`);
