/**
 * `npm run bench:leakage`: the leakage check. CFP-dev people get labels at random per
 * person (no signal at all), and a full study is run. A subject-grouped evaluation must give a
 * subject AUC near 0.5 with a CI covering 0.5; a photo-level split would score far above 0.5 by
 * recognising people, which is the failure this guards against.
 * Env: LEAKAGE_SUBJECTS (default all 250), LEAKAGE_SEED (default 11), LEAKAGE_PERMUTATIONS (default 50).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../src/math/random.ts';
import { runStudy } from '../src/workflows/study/study.ts';
import { machineLine, REPO, requireShared } from './common.ts';

const root = requireShared('data/cfp-dev');
const rows = readFileSync(path.join(root, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const subjects = [...new Set(rows.map((r) => r[1]))].sort().slice(0, Number(process.env.LEAKAGE_SUBJECTS ?? 250));
const rng = mulberry32(Number(process.env.LEAKAGE_SEED ?? 11));
const label = new Map(subjects.map((s) => [s, rng() < 0.5 ? 'vcfs' : 'control']));
const out = path.join(REPO, 'bench', '.results', 'leakage');
// The manifest beside the output folder: the study replaces its output folder as a whole.
const inputs = path.join(REPO, 'bench', '.results', 'leakage-input');
mkdirSync(inputs, { recursive: true });
const manifest = path.join(inputs, 'manifest.csv');
writeFileSync(manifest, 'path,subject,label,view\n' + rows.filter((r) => label.has(r[1])).map((r) => `${r[0]},${r[1]},${label.get(r[1])},${r[r.length - 1]}`).join('\n') + '\n');
console.log(`Leakage check on CFP-dev, random labels per person, ${subjects.length} people (${await machineLine()})`);
const t0 = performance.now();
const res = await runStudy({ source: manifest, root, out, cache: path.join(REPO, 'bench', '.results', 'cfp-cache.sqlite'), log: { err: (t) => process.stderr.write(t), isTTY: false }, permutations: Number(process.env.LEAKAGE_PERMUTATIONS ?? 50) });
const s = res.result.subject.auc, p = res.result.photo.auc;
const f = (e: { value: number | null; ci95: [number, number] | null }) => `${e.value?.toFixed(3)} [${e.ci95?.[0].toFixed(3)}, ${e.ci95?.[1].toFixed(3)}]`;
console.log(`  photo AUC ${f(p)}; permutation p ${res.result.permutation?.p.toFixed(3)}; ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const covers = s.ci95 !== null && s.ci95[0] <= 0.5 && 0.5 <= s.ci95[1];
console.log(`leakage: subject AUC ${f(s)} with random labels; CI ${covers ? 'covers' : 'DOES NOT cover'} 0.5`);
