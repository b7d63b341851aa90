/**
 * `npm run bench:views`: on CFP-dev (250 people, 10 frontal + 4 near-full-profile photos each),
 * how often our view estimate separates frontal from profile photos, and how often a face is found
 * in profile photos. Targets: frontal-vs-profile accuracy >= 95%, faces found in >= 90% of
 * profile photos. Accuracy counts a frontal photo right when called `frontal`, a profile photo right
 * when called `profile` or `oblique` is wrong for both: the number reported is strict, and the
 * looser "not frontal" reading is printed too.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chooseFace, Pipeline } from '../src/pipeline/pipeline.ts';
import type { View } from '../src/types.ts';
import { machineLine, requireShared } from './common.ts';

const root = requireShared('data/cfp-dev');
const rows = readFileSync(path.join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => {
  const cells = l.split(',');
  return { file: cells[0], pose: cells[cells.length - 1] as 'frontal' | 'profile' };
});
// VIEWS_STRIDE=k takes every k-th photo (a quick look); the default is all 3,500.
const stride = Number(process.env.VIEWS_STRIDE ?? 1);
const pipeline = await Pipeline.create({ detectOnly: true });
const counts = { frontal: { n: 0, found: 0, views: { frontal: 0, oblique: 0, profile: 0 } as Record<View, number> }, profile: { n: 0, found: 0, views: { frontal: 0, oblique: 0, profile: 0 } as Record<View, number> } };
const yaws: Record<string, number[]> = { frontal: [], profile: [] };
const t0 = performance.now();
for (const row of rows.filter((_, i) => i % stride === 0)) {
  const c = counts[row.pose];
  c.n++;
  const res = await pipeline.detectFile(path.join(root, row.file)).catch(() => undefined);
  const face = res && chooseFace(res.faces, res.width, res.height);
  if (!face) continue;
  c.found++;
  c.views[face.view!]++;
  yaws[row.pose].push(Math.abs(face.pose!.yaw));
}
await pipeline.close();
const secs = (performance.now() - t0) / 1000;
const strict = (counts.frontal.views.frontal + counts.profile.views.profile) / (counts.frontal.found + counts.profile.found);
const loose = (counts.frontal.views.frontal + counts.profile.views.profile + counts.profile.views.oblique) / (counts.frontal.found + counts.profile.found);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
console.log(`CFP-dev views (${await machineLine()}), ${counts.frontal.n + counts.profile.n} photos in ${secs.toFixed(0)} s`);
for (const pose of ['frontal', 'profile'] as const) {
  const c = counts[pose];
  console.log(`  ${pose.padEnd(8)} n=${c.n} found=${c.found} (${((100 * c.found) / c.n).toFixed(1)}%) -> frontal ${c.views.frontal}, oblique ${c.views.oblique}, profile ${c.views.profile}; mean |yaw| ${mean(yaws[pose]).toFixed(1)}°`);
}
console.log(`  frontal-vs-not-frontal accuracy ${(100 * loose).toFixed(1)}%`);
console.log(`views: frontal-vs-profile accuracy ${(100 * strict).toFixed(1)}%, faces found in ${((100 * counts.profile.found) / counts.profile.n).toFixed(1)}% of profile photos`);
