/**
 * The ranked differential of a study with three or more classes and no `--positive`: beside the
 * binary study of the reference class against all others, every face gets a probability for each
 * class, cross-validated by subject (`evaluate/ranking.ts`), written to `ranking.csv`, summarised
 * in `metrics.json`'s `ranking` and the report, and fitted on all the data for the bundle, which
 * `screen` turns into a ranked `differential`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fitRanker, type FittedRanker, type RankerChoice } from '../../classify/ranker.ts';
import type { ClassifierJSON } from '../../classify/types.ts';
import { DEFAULTS } from '../../config.ts';
import { formatCsv } from '../../data/csv.ts';
import type { Dataset, PhotoResult } from '../../data/index.ts';
import { crossValidateRanking, rankOf, topClass, type RankingMetrics, type RankingResult } from '../../evaluate/ranking.ts';
import { groupedClassKFold } from '../../evaluate/splits.ts';
import { deriveSeed } from '../../math/random.ts';
import { oneVsRestSection, rankingSection, type RankingSection } from '../../report/ranking.ts';

/** What the ranking adds to a study. */
export interface RankingOutcome {
  result: RankingResult;
  final: FittedRanker;
  /** `ranking.csv`. */
  file: string;
  /** `metrics.json`'s `ranking`. */
  metrics: Record<string, unknown>;
  /** The bundle's `ranking`. */
  bundle: { classes: string[]; classifier: ClassifierJSON; metrics: Record<string, unknown> };
  section: RankingSection;
}

/** Options of {@link rankStudy}: the study's own. */
export interface RankStudyOptions {
  ranker?: RankerChoice;
  folds?: number;
  repeats?: number;
  seed?: number;
  bootstrap?: number;
}

const r6 = (v: number) => Math.round(v * 1e6) / 1e6;

/** The ranking columns of `ranking.csv` beyond the contract's: the person's fused rank, and each class's probability. */
export const probabilityColumn = (label: string) => `probability:${label}`;

/** Writes `ranking.csv`: one row per photo per repeat (columns in {@link rankingCsvHeader}). */
async function writeRankingCsv(file: string, result: RankingResult, labels: readonly string[]): Promise<void> {
  await writeFile(file, formatCsv(rankingCsvHeader(labels), result.predictions.map((p) => [
    p.path, p.subject, labels[p.label], p.repeat, p.fold, labels[topClass(p.probabilities)], rankOf(p.probabilities, p.label),
    labels[topClass(p.subjectProbabilities)], rankOf(p.subjectProbabilities, p.label),
    ...Array.from(p.probabilities, r6),
  ])));
}

/**
 * The header of `ranking.csv`: the contract's `path,subject,label,repeat,fold,predicted,rank`
 * (the photo's top class and the rank of its true class, 1 = first), then the person's
 * (`subjectPredicted`, `subjectRank`, from their fused photos) and each class's probability.
 */
export function rankingCsvHeader(labels: readonly string[]): string[] {
  return ['path', 'subject', 'label', 'repeat', 'fold', 'predicted', 'rank', 'subjectPredicted', 'subjectRank', ...labels.map(probabilityColumn)];
}

/** `metrics.json`'s `ranking`: the metrics with the ranker's evaluation settings. */
function rankingJson(m: RankingMetrics, result: RankingResult): Record<string, unknown> {
  const families: Record<string, number> = {};
  for (const f of result.folds) families[f.family] = (families[f.family] ?? 0) + 1;
  const { curve, ...rest } = m;
  return { ...rest, topKCurve: curve, classifier: result.options.classifier, familiesChosen: families, options: result.options };
}

/**
 * How the ranker was chosen and evaluated, in words for the report, with what it learns from and
 * what the final model is: the ranker reads the embedding alone, so its figures for a class
 * against the rest differ from the binary results, which come from the one-vs-rest model.
 */
function describe(result: RankingResult, final: FittedRanker, backbone: string): string {
  const o = result.options;
  const chosen = Object.entries(rankingJson(result.metrics, result).familiesChosen as Record<string, number>).map(([f, n]) => `${f} in ${n}`).join(', ');
  const family = final.family === 'gallery' ? 'a cosine gallery' : 'multinomial logistic regression';
  return `Classifier "${o.classifier}" (multinomial L2 logistic regression or a cosine gallery, chosen with its setting by inner ${o.innerFolds}-fold subject-grouped CV on each training fold; chosen: ${chosen} of ${result.folds.length} folds); subject-grouped ${o.folds}-fold cross-validation stratified by class, repeated ${o.repeats} times (seed ${o.seed}), in folds of its own (ranking.csv's folds are not predictions.csv's); 95% CIs from ${o.bootstrap} subject-bootstrap resamples stratified by class. The final ranking model is ${family}. It learns from the ${backbone} embedding alone, not from the feature blocks the binary model reads, so its figures for a class against all others (below) differ from the binary results above, which come from the separate one-vs-rest model that screening's call uses.`;
}

/** Cross-validates the ranking, writes `ranking.csv` into `work`, and fits the final ranker. */
export async function rankStudy(work: string, dataset: Dataset, used: readonly PhotoResult[], opts: RankStudyOptions & { backbone: string }, log: (t: string) => void): Promise<RankingOutcome> {
  const labels = dataset.classes!;
  const index = new Map(labels.map((l, k) => [l, k]));
  const data = {
    X: used.map((p) => p.embedding!),
    classes: used.map((p) => index.get(p.item.label)!),
    labels,
    subjects: used.map((p) => p.item.subject),
    photoIds: used.map((p) => p.item.path),
  };
  log(`study: ranking ${labels.length} classes (${opts.folds ?? DEFAULTS.evaluate.folds} folds x ${opts.repeats ?? DEFAULTS.evaluate.repeats} repeats)...\n`);
  const result = crossValidateRanking({ ...data, classifier: opts.ranker, folds: opts.folds, repeats: opts.repeats, seed: opts.seed, bootstrap: opts.bootstrap });
  const final = fitRanker(data.X, data.classes, data.subjects, labels, {
    classifier: result.options.classifier, seed: deriveSeed(result.options.seed, 4), innerFolds: result.options.innerFolds, split: groupedClassKFold, patience: result.options.patience,
  });
  const file = path.join(work, 'ranking.csv');
  await writeRankingCsv(file, result, labels);
  const m = result.metrics;
  const headline = { photo: m.photo, subject: m.subject, perClass: m.perClass, chance: m.chance };
  return {
    result,
    final,
    file,
    metrics: rankingJson(m, result),
    bundle: { classes: [...labels], classifier: final.toJSON(), metrics: headline },
    section: await rankingSection(m, { description: describe(result, final, opts.backbone), reference: dataset.positive }),
  };
}

/** The report note of a one-vs-rest study (three or more classes with `--positive`). */
export function oneVsRestNote(dataset: Dataset): RankingSection {
  return oneVsRestSection(dataset.positive, dataset.negative, (dataset.classes ?? []).filter((c) => c !== dataset.positive));
}
