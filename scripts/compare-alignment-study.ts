/**
 * How much the alignment alone moves a study: every photo of one view of a planted set (a
 * `phenoface synth` folder, e.g. bench:synth's `strength-0.5`) is embedded twice, aligned on MTCNN's
 * five points and on the dense landmarks' (`embed.alignOn`), and each set of embeddings goes
 * through `study --embeddings` with the same seed, so the folds are the same and only the alignment
 * differs. Prints the subject AUC of each.
 *
 *   npx tsx scripts/compare-alignment-study.ts DIR [VIEW=frontal]
 *
 * Needs the built models. Writes its manifest, embeddings and study folders to a temporary folder.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pipeline } from '../src/pipeline/pipeline.ts';
import { runStudy } from '../src/workflows/study/study.ts';

const dir = path.resolve(process.argv[2] ?? '');
const view = process.argv[3] ?? 'frontal';
const work = mkdtempSync(path.join(os.tmpdir(), 'phenoface-align-study-'));
const [header, ...lines] = readFileSync(path.join(dir, 'manifest.csv'), 'utf8').trim().split('\n');
const viewAt = header.split(',').indexOf('view');
const rows = lines.map((l) => l.split(',')).filter((r) => r[viewAt] === view);
const manifest = path.join(work, 'manifest.csv');
writeFileSync(manifest, [header, ...rows.map((r) => r.join(','))].join('\n') + '\n');
console.log(`${rows.length} ${view} photos of ${dir}; work folder ${work}`);
for (const alignOn of ['detector', 'landmarks'] as const) {
  const pipeline = await Pipeline.create({ config: { embed: { intraOpThreads: 2, alignOn } } });
  const records: string[] = [];
  for (const [file] of rows) {
    try {
      const { embedding } = await pipeline.embedFile(path.join(dir, file));
      records.push(JSON.stringify({ path: file, backbone: pipeline.backbone!.spec.name, embedding: Array.from(embedding.vector) }));
    } catch {
      // A photo without a face is left out for this alignment; the count is printed.
    }
  }
  await pipeline.close();
  const embeddings = path.join(work, `${alignOn}.jsonl`);
  writeFileSync(embeddings, records.join('\n') + '\n');
  const { result } = await runStudy({ source: manifest, root: dir, embeddings, out: path.join(work, `study-${alignOn}`), seed: 1, synthetic: true, permutations: 0, explain: false, log: { err: () => {}, isTTY: false } });
  const auc = result.subject.auc;
  console.log(`aligned on the ${alignOn === 'detector' ? "detector's" : "dense landmarks'"} points: ${records.length} photos, subject AUC ${auc.value?.toFixed(3)} [${auc.ci95?.[0].toFixed(3)}, ${auc.ci95?.[1].toFixed(3)}]`);
}
