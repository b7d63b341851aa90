/**
 * `phenoface study --manifest FILE|FOLDER --out DIR [--folds K] [--repeats R] [--seed S] ...`:
 * trains and evaluates a classifier with subject-grouped cross-validation and writes
 * predictions.csv, metrics.json, report.html and model/ (contract v1).
 */
import path from 'node:path';
import { runStudy } from '../workflows/study/study.ts';
import { numberOption, parse, usageError } from './args.ts';
import { EXIT, type Command } from './io.ts';

const USAGE = 'phenoface study --manifest FILE|FOLDER --out DIR [--folds K] [--repeats R] [--seed S] [--positive CLASS] [--classifier logistic|svm|centroid] [--backbone NAME] [--prevalence P] [--bootstrap B] [--permutations P] [--frontal-only] [--cache FILE] [--root DIR] [--quiet]';

export const run: Command = async (argv, io) => {
  const { values, positionals } = parse(argv, {
    manifest: { type: 'string' },
    out: { type: 'string', short: 'o' },
    folds: { type: 'string' },
    repeats: { type: 'string' },
    seed: { type: 'string' },
    positive: { type: 'string' },
    classifier: { type: 'string' },
    backbone: { type: 'string' },
    prevalence: { type: 'string' },
    bootstrap: { type: 'string' },
    permutations: { type: 'string' },
    'frontal-only': { type: 'boolean' },
    cache: { type: 'string' },
    root: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  }, USAGE);
  if (values.help) { io.out(`Usage: ${USAGE}\n`); return EXIT.ok; }
  const source = values.manifest ?? positionals[0];
  if (!source) throw usageError('No --manifest given.', USAGE);
  if (!values.out) throw usageError('No --out folder given.', USAGE);
  if (values.classifier && !['logistic', 'svm', 'centroid'].includes(values.classifier)) {
    throw usageError(`Unknown --classifier: "${values.classifier}". Should be one of: logistic, svm, centroid.`, USAGE);
  }
  const res = await runStudy({
    source: path.resolve(io.cwd, source),
    out: path.resolve(io.cwd, values.out),
    positive: values.positive,
    root: values.root && path.resolve(io.cwd, values.root),
    folds: numberOption(values.folds, 'folds', 2, 100, USAGE, true),
    repeats: numberOption(values.repeats, 'repeats', 1, 1000, USAGE, true),
    seed: numberOption(values.seed, 'seed', 0, 2 ** 31 - 1, USAGE, true),
    prevalence: numberOption(values.prevalence, 'prevalence', 1e-9, 0.999, USAGE),
    bootstrap: numberOption(values.bootstrap, 'bootstrap', 0, 100_000, USAGE, true),
    permutations: numberOption(values.permutations, 'permutations', 0, 100_000, USAGE, true),
    classifier: values.classifier,
    backbone: values.backbone,
    frontalOnly: values['frontal-only'],
    cache: values.cache && path.resolve(io.cwd, values.cache),
    log: io,
    quiet: values.quiet,
  });
  const s = res.result.subject, p = res.result.photo;
  const f = (e: { value: number | null; ci95: [number, number] | null }) => (e.value === null ? 'n/a' : `${e.value.toFixed(3)}${e.ci95 ? ` [${e.ci95[0].toFixed(3)}, ${e.ci95[1].toFixed(3)}]` : ''}`);
  io.out([
    `AUC per person ${f(s.auc)}, per photo ${f(p.auc)}`,
    `sensitivity ${f(s.sensitivity)}, specificity ${f(s.specificity)} (per person)`,
    ...Object.entries(res.result.byView).map(([v, g]) => `${v}: AUC per person ${f(g!.subject.auc)} (${g!.subject.n.units} people)`),
    res.result.permutation ? `permutation test p = ${res.result.permutation.p.toFixed(4)}` : '',
    `wrote ${res.files.predictions}, ${res.files.metrics}, ${res.files.report}, ${res.files.model}/`,
  ].filter(Boolean).join('\n') + '\n');
  return EXIT.ok;
};
