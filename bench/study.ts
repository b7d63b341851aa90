/**
 * Benchmark of a full study on cached embeddings: 1,400 photos of 190 subjects, 192-D
 * synthetic embeddings with a planted signal, 5x5 subject-grouped CV with nested C choice,
 * 1,000 subject-bootstrap replicates and a 100-permutation test. Target: <= 10 s on 2 cores.
 * The peer is the same study on one thread (workers: 0). Prints the pooled run's wall time last.
 */
import { availableParallelism } from 'node:os';
import { crossValidate, type CrossValidationResult } from '../src/evaluate/index.ts';
import { syntheticStudy } from '../test/unit/evaluate/synthetic-embeddings.ts';

const data = syntheticStudy({ subjects: 190, photosPerSubject: 7.4, totalPhotos: 1400, dim: 192, signal: 3, seed: 2025 });

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function run(label: string, workers: number | undefined): Promise<{ wall: number; result: CrossValidationResult }> {
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  const result = await crossValidate({
    X: data.X,
    y: data.y,
    subjects: data.subjects,
    photoIds: data.photoIds,
    views: data.views,
    subgroups: { sex: data.sex },
    folds: 5,
    repeats: 5,
    bootstrap: 1000,
    permutations: 100,
    seed: 7,
    ...(workers === undefined ? {} : { workers }),
  });
  const wall = (performance.now() - wall0) / 1000;
  const cpu = (cpuMs() - cpu0) / 1000;
  const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  console.log(
    `${label}: ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU (all threads); subject AUC ${f(result.subject.auc.value)} ` +
      `[${result.subject.auc.ci95?.map(f).join(', ')}], photo AUC ${f(result.photo.auc.value)}, permutation p ${result.permutation?.p.toFixed(4)}`,
  );
  return { wall, result };
}

console.log(`data: ${data.X.length} photos, ${new Set(data.subjects).size} subjects, D=${data.X[0].length}; machine: ${availableParallelism()} cores`);
const single = await run('one thread (peer)', 0);
const pooled = await run('all cores', undefined);
const same = JSON.stringify(single.result) === JSON.stringify(pooled.result);
console.log(`results identical across thread counts: ${same}; speed-up ${(single.wall / pooled.wall).toFixed(2)}x`);
console.log(`bench:study 5x5 CV + 1000 bootstrap + 100 permutations, 1400 photos: ${pooled.wall.toFixed(2)} s (target <= 10 s)`);
