/**
 * `phenoface study --manifest FILE|FOLDER --out DIR [--folds K] [--repeats R] [--seed S] ...`:
 * trains and evaluates a classifier with subject-grouped cross-validation and writes
 * predictions.csv, metrics.json, report.html and model/ (contract v1).
 */
import path from 'node:path';
import { CLASSIFIER_NAMES } from '../classify/registry.ts';
import { RANKER_CHOICES } from '../classify/ranker.ts';
import { DEFAULTS } from '../config.ts';
import { backbones } from '../embed/registry.ts';
import type { FeatureComparison } from '../evaluate/crossval.ts';
import { FEATURE_NAMES, parseFeatures } from '../features/index.ts';
import { runStudy } from '../workflows/study/study.ts';
import type { Estimate } from '../evaluate/crossval.ts';
import { noEvidenceStatement, singleValueClause } from '../evaluate/post-test.ts';
import { permutationFloorNote } from '../evaluate/permutation.ts';
import { informativeTopK, type RankingMetrics } from '../evaluate/ranking.ts';
import type { SiteValidation } from '../evaluate/sites.ts';
import { defineCommand, helpText, parseCommand, usageError, usageLine } from './args.ts';
import { printable } from './format.ts';
import { EXIT, type Command } from './io.ts';

/** `phenoface study`'s options. */
export const STUDY = defineCommand({
  name: 'study',
  description: [
    'Trains and evaluates a classifier with subject-grouped cross-validation (no person is in both',
    'the training and the test folds) and writes predictions.csv, metrics.json, report.html and model/.',
  ].join('\n'),
  args: {
    manifest: { type: 'string', placeholder: 'FILE|FOLDER', required: true, description: 'CSV with path,subject,label[,view] (paths relative to it), or a folder ROOT/<label>/<subject>/<photo>' },
    out: { type: 'string', short: 'o', placeholder: 'DIR', required: true, description: 'output folder' },
    folds: { type: 'integer', placeholder: 'K', min: 2, max: 100, defaultText: `${DEFAULTS.evaluate.folds}, or fewer where a class has too few people`, description: 'outer cross-validation folds' },
    repeats: { type: 'integer', placeholder: 'R', min: 1, max: 1000, default: DEFAULTS.evaluate.repeats, description: 'repeats of the K-fold with fresh shuffles' },
    seed: { type: 'integer', placeholder: 'S', min: 0, max: 2 ** 31 - 1, default: DEFAULTS.evaluate.seed, description: 'seed of the splits, the bootstrap and the permutations' },
    positive: { type: 'string', placeholder: 'CLASS', defaultText: DEFAULTS.data.classes[0], description: 'the label that counts as positive; with 3+ classes it is\none-vs-rest (all others negative), and without it the classes are ranked' },
    classifier: { type: 'string', placeholder: 'NAME', values: CLASSIFIER_NAMES, default: DEFAULTS.classify.classifier, description: 'classifier family' },
    ranker: { type: 'string', placeholder: 'NAME', values: RANKER_CHOICES, default: DEFAULTS.classify.ranking.classifier, description: 'with 3+ classes and no --positive: the ranking classifier\n(auto: inner CV picks multinomial or gallery); writes ranking.csv' },
    backbone: { type: 'string', placeholder: 'NAME', values: () => Object.keys(backbones()), default: DEFAULTS.embed.backbone, description: 'embedding network' },
    prevalence: { type: 'number', placeholder: 'P', min: 1e-9, max: 0.999, default: DEFAULTS.evaluate.prevalence, description: 'population prevalence used for PPV and NPV' },
    bootstrap: { type: 'integer', placeholder: 'B', min: 0, max: 100_000, default: DEFAULTS.evaluate.bootstrap, description: 'subject bootstrap replicates of the 95% intervals (0 = none)' },
    permutations: { type: 'integer', placeholder: 'P', min: 0, max: 100_000, default: DEFAULTS.evaluate.permutations, description: 'label permutations of the permutation test (0 = none)' },
    features: { type: 'string', placeholder: 'NAMES', default: DEFAULTS.features.default, description: `what to learn from: auto (${DEFAULTS.features.autoCandidates.join(', ')} stacked, weighed by the inner CV; a block given weight 0 is dropped), or ${FEATURE_NAMES.join(', ')} or several joined by + (stacked)` },
    'frontal-only': { type: 'boolean', description: 'use frontal photos only' },
    embeddings: { type: 'string', placeholder: 'FILE.jsonl', defaultText: 'embed the photos', description: "precomputed embeddings (`phenoface embed`'s JSON lines) matched to the manifest by path; no photo is read" },
    'validate-by': { type: 'string', placeholder: 'COLUMN', defaultText: 'none', description: 'also hold out each value of this manifest column in turn (e.g. source, the site);\nwrites each held-out score to site-predictions.csv' },
    cache: { type: 'string', placeholder: 'FILE', defaultText: 'DIR/cache.sqlite', description: 'embedding cache file, reused by later runs' },
    root: { type: 'string', placeholder: 'DIR', defaultText: "the manifest's folder", description: 'folder the manifest\'s paths are relative to' },
    quiet: { type: 'boolean', short: 'q', description: 'no progress on stderr' },
  },
  examples: [
    'phenoface study --manifest study.csv --out results/ --classifier svm --permutations 1000',
    'phenoface study --manifest pooled.csv --embeddings pooled.jsonl --validate-by source --out results/',
  ],
});

const USAGE = usageLine(STUDY);

/** Each representation's AUC per person on the same folds, and how often the inner CV chose it. */
function representationLines(c: FeatureComparison | undefined, f: (e: { value: number | null; ci95: [number, number] | null }) => string): string[] {
  if (!c || c.representations.length < 2) return [];
  return c.representations.map((r) => `  ${r.label}: AUC per person ${f(r.subject)}; chosen in ${r.chosenInFolds} of ${c.folds} folds`);
}

export const run: Command = async (argv, io) => {
  const { values, positionals, help, given } = parseCommand(STUDY, argv);
  if (help) { io.out(helpText(STUDY)); return EXIT.ok; }
  const source = values.manifest ?? positionals[0];
  if (!source) throw usageError('No --manifest given.', USAGE);
  // One data set only: anything else on the line is a mistake, not something to ignore.
  const stray = positionals.slice(values.manifest ? 0 : 1);
  if (stray.length) throw usageError(`Unexpected argument "${stray[0]}"; the data set is given once, with --manifest.`, USAGE);
  if (!values.out) throw usageError('No --out folder given.', USAGE);
  let features;
  try {
    features = parseFeatures(values.features ?? DEFAULTS.features.default);
  } catch (err) {
    throw usageError((err as Error).message, USAGE);
  }
  const res = await runStudy({
    source: path.resolve(io.cwd, source),
    out: path.resolve(io.cwd, values.out),
    positive: values.positive,
    root: values.root && path.resolve(io.cwd, values.root),
    folds: values.folds,
    repeats: values.repeats,
    seed: values.seed,
    prevalence: values.prevalence,
    bootstrap: values.bootstrap,
    permutations: values.permutations,
    classifier: values.classifier,
    ranker: values.ranker as (typeof RANKER_CHOICES)[number] | undefined,
    // With --embeddings the records name their backbone; the default would only contradict them.
    backbone: values.embeddings && !given.has('backbone') ? undefined : values.backbone,
    embeddings: values.embeddings && path.resolve(io.cwd, values.embeddings),
    validateBy: values['validate-by'],
    frontalOnly: values['frontal-only'],
    features,
    cache: values.cache && path.resolve(io.cwd, values.cache),
    log: io,
    quiet: values.quiet,
  });
  const s = res.result.subject, p = res.result.photo;
  // A figure the bootstrap gave no interval (too few people in a view) says so, unless none was asked for.
  const asked = res.result.options.bootstrap > 0;
  const f: Format = (e, why = 'too few people') => (e.value === null ? 'n/a' : `${e.value.toFixed(3)}${e.ci95 ? ` [${e.ci95[0].toFixed(3)}, ${e.ci95[1].toFixed(3)}]${singleValueClause(e.ci95).replace(/^, (.*)$/, ' ($1)')}` : asked ? ` (no interval: ${why})` : ''}`);
  // Site names and warnings quote the manifest's values: a terminal escape in one must not reach the terminal.
  io.out(printable([
    `AUC per person ${f(s.auc)}, per photo ${f(p.auc)}`,
    noEvidenceStatement(s.auc) ?? '',
    `sensitivity ${f(s.sensitivity)}, specificity ${f(s.specificity)} (per person)`,
    ...Object.entries(res.result.byView).map(([v, g]) => `${v}: AUC per person ${f(g!.subject.auc)} (${g!.subject.n.units} ${g!.subject.n.units === 1 ? 'person' : 'people'})`),
    ...representationLines(res.result.features, f),
    figuresLegend(res.result.options),
    res.result.permutation ? `permutation test p = ${res.result.permutation.p.toFixed(4)}${permutationFloorNote(res.result.permutation.p, res.result.permutation.nulls.length)}` : '',
    ...(res.sites ? siteLines(res.sites, f) : []),
    ...(res.ranking ? [rankingLine(res.ranking.result.metrics, res.dataset.positive, f)] : []),
    `wrote ${res.files.predictions}, ${res.files.metrics}, ${res.files.report}, ${res.files.model}/${res.files.ranking ? `, ${res.files.ranking}` : ''}${res.files.sitePredictions ? `, ${res.files.sitePredictions}` : ''}`,
  ].filter(Boolean).join('\n')) + '\n');
  return EXIT.ok;
};

/**
 * How the figures were measured: cross-validated, over how many folds and repeats (a study not
 * told its folds chooses them), and what the brackets hold, which a reader who is not a
 * statistician would otherwise have to guess.
 */
export function figuresLegend(o: { folds: number; repeats: number; bootstrap: number }): string {
  const brackets = o.bootstrap > 0 ? '; [brackets] are 95% intervals, from resampling the people' : '';
  return `Cross-validation: subject-grouped, ${o.folds} folds x ${o.repeats} repeat${o.repeats === 1 ? '' : 's'}, each person's photos held out together${brackets}.`;
}

/** A figure with its interval, or why it has none (`why`; said only when intervals were asked for). */
type Format = (e: Estimate, why?: string) => string;

/**
 * Each held-out site's AUC per person, never a bare number where an interval was due: a site with
 * too few people of a class for its own bootstrap says so, as does a site with one class (no AUC);
 * then the site's warnings, and in a ranking study which model the sites validate.
 */
function siteLines(v: SiteValidation, f: Format): string[] {
  const lines = v.sites.flatMap((site) => {
    const r = v.bySite[site];
    const { auc, n } = r.metrics.subject;
    const figure = auc.value === null ? `n/a (only ${n.positive ? 'positive' : 'negative'} people)` : f(auc, `too few people, ${n.positive} positive and ${n.negative} negative`);
    return [`held out ${v.column} ${site}: AUC per person ${figure}`, ...r.warnings.map((w) => `  warning: ${w}`)];
  });
  return v.differentialNote ? [...lines, v.differentialNote] : lines;
}

/**
 * The ranking's headline: top-1 and top-3 per person beside chance. Top-3 is left out with three
 * classes, where it is 1 by construction ({@link informativeTopK}, as in the report).
 */
export function rankingLine(m: RankingMetrics, reference: string, f: Format): string {
  const ks = informativeTopK(m.classes.length).filter((k) => k <= 3);
  const figures = ks.map((k) => `top-${k}${k === 1 ? ' per person' : ''} ${f(m.subject[`top${k}`])}`).join(', ');
  const chance = ks.map((k) => m.chance.uniform[`top${k}`].toFixed(3)).join(' and ');
  return `ranking of ${m.classes.length} classes: ${figures} (chance ${chance}; majority class ${m.chance.majority.subject.toFixed(3)}); the lines above are "${reference}" against all other classes`;
}
