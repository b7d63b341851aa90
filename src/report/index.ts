/**
 * The study report: one self-contained `report.html` (inline CSS and SVG charts, no scripts, no
 * external requests) that a clinician can open, print or archive. Sections: intended use and
 * limitations, data, results (per photo and per person, with CIs), ROC, calibration and confusion
 * counts, per view and per subgroup, baseline and permutation test, leakage warnings, photos
 * without a usable face, explanations (when run), and the configuration and versions needed to
 * reproduce it. Every figure in it is in metrics.json (or explanation.json for the explanations).
 * A model whose AUC interval per person reaches 0.5 is said to carry no evidence above everything
 * else, and again above the Results table.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelBundle } from '../classify/bundle.ts';
import type { Dataset, LeakageReport, PhotoResult } from '../data/index.ts';
import type { Estimate, GroupMetrics, LevelMetrics, CrossValidationResult, PermutationResult } from '../evaluate/crossval.ts';
import { calibrationSpec, renderSvg, rocSpec, type RocSeries } from './charts.ts';
import { DEFAULTS } from '../config.ts';
import { boundPredictiveNote, noEvidenceStatement, prevalenceText, singleValueClause } from '../evaluate/post-test.ts';
import { permutationFloorNote } from '../evaluate/permutation.ts';
import type { ExplanationChecksSummary } from '../explain/study-result.ts';

export { renderSvg, rocSpec, calibrationSpec, barSpec } from './charts.ts';

/** Everything the report shows. */
export interface ReportInput {
  dataset: Dataset;
  photos: PhotoResult[];
  used: PhotoResult[];
  leakage: LeakageReport;
  result: CrossValidationResult;
  metrics: Record<string, unknown>;
  bundle: ModelBundle;
  options: { folds?: number; repeats?: number; seed?: number; classifier?: string; backbone?: string; prevalence?: number; synthetic?: boolean; frontalOnly?: boolean };
  /** Extra HTML sections (e.g. the explanation analysis), already escaped. */
  sections?: { id: string; title: string; html: string }[];
  /** The explanation analysis's checks by outcome, when it ran: the Checks section counts them, failures first. */
  explanationChecks?: ExplanationChecksSummary;
}

/**
 * An error message with the photo's absolute path, and the data set's folder, replaced by the path
 * as the manifest wrote it: a report is shared, and server paths say where patients' photos live.
 */
export function relativeToDataset(message: string, item: { path: string; absPath: string }, root: string): string {
  const folder = root.endsWith(path.sep) ? root : root + path.sep;
  return message.split(item.absPath).join(item.path).split(folder).join('');
}

/** Escapes text for HTML. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * A rate as a percentage that keeps two significant digits of what matters near the ends: of the
 * rate itself below 1% (a PPV at a low prevalence, 0.042%), of its complement above 99% (an NPV,
 * 99.9939%); one decimal elsewhere. At one decimal both read 0.0% and 100.0%.
 */
export function finePercent(v: number): string {
  const p = 100 * v;
  if (v > 0 && v < 0.01) return p < 1e-6 ? '<0.000001%' : `${p.toPrecision(2)}%`;
  if (v > 0.99 && v < 1) return `${p.toFixed(Math.min(8, 1 - Math.floor(Math.log10(100 - p))))}%`;
  return `${p.toFixed(1)}%`;
}

/** A figure as {@link est} prints it: a number with `digits` decimals, a percentage with one (`pct` true), or by {@link finePercent} (`pct` 'fine'). */
export function figureText(v: number, digits = 3, pct: boolean | 'fine' = false): string {
  return pct === 'fine' ? finePercent(v) : pct ? `${(100 * v).toFixed(1)}%` : v.toFixed(digits);
}

/**
 * An estimate with its 95% interval as HTML (`n/a` when undefined), each number by
 * {@link figureText}; without an interval, `missing` beside it (the "(no CI)" mark unless the
 * caller knows none is due).
 */
export function est(e: Estimate | undefined, digits = 3, pct: boolean | 'fine' = false, missing = NO_CI): string {
  if (!e || e.value === null) return '<span class="na">n/a</span>';
  const f = (v: number) => figureText(v, digits, pct);
  // An interval of one value (an AUC of 1 in every resample of a few people) is no measured certainty.
  const clause = singleValueClause(e.ci95);
  const single = clause ? `<span title="${esc(SINGLE_VALUE_CI)}">${clause}</span>` : '';
  const ci = e.ci95 ? `<span class="ci">(${f(e.ci95[0])}&ndash;${f(e.ci95[1])}${single})</span>` : missing;
  return ci ? `${f(e.value)} ${ci}` : f(e.value);
}

/** Why an interval of a single value is not a certainty. */
export const SINGLE_VALUE_CI = 'Every subject-bootstrap resample gave this same value (for an AUC of 1: the classes were separated in every resample). The resamples only reshuffle the people of this study, so with few people that says little about new ones.';

/**
 * Beside a figure without an interval, so that a bare 1.000 for a handful of people is not read
 * as a measured certainty: no interval is computed with `--bootstrap 0`, and none is given when
 * too few resamples hold what the figure needs (both classes of a small group, for its AUC).
 */
const NO_CI = `<span class="ci" title="No 95% interval: none is computed with --bootstrap 0; otherwise fewer than ${Math.round(100 * DEFAULTS.evaluate.minDefinedReplicates)}% of the subject-bootstrap resamples held what this figure needs (both classes, for an AUC): too few people for an interval.">(no CI)</span>`;

/**
 * A PPV or NPV cell. A point value of exactly 0 or 1 is Bayes' rule applied to a sensitivity or
 * specificity of 0 or 1 seen on finitely many people: a clinician reads "PPV 100%" as certainty,
 * so such a cell says "not 100%" (or "not 0%") with a dagger and gives only the interval; the
 * table's {@link predictiveFootnote} says why.
 */
export function predictiveCell(e: Estimate, which: 'ppv' | 'npv', missing = NO_CI): string {
  const note = boundPredictiveNote(which, e.value, Boolean(e.ci95));
  if (!note) return est(e, 4, 'fine', missing);
  const ci = e.ci95 ? `<span class="ci">(95% CI ${finePercent(e.ci95[0])}&ndash;${finePercent(e.ci95[1])})</span>` : missing;
  return `<span class="bound" title="${esc(note)}">not ${e.value === 1 ? '100%' : '0%'}<sup>&dagger;</sup></span>${ci ? ` ${ci}` : ''}`;
}

/** The footnote under a metrics table for each PPV or NPV of its rows that {@link predictiveCell} marked (empty when none). */
function predictiveFootnote(levels: LevelMetrics[]): string {
  const notes = new Set(levels.flatMap((m) => [boundPredictiveNote('ppv', m.ppv.value, Boolean(m.ppv.ci95)), boundPredictiveNote('npv', m.npv.value, Boolean(m.npv.ci95))]).filter((n): n is string => !!n));
  return notes.size ? `<p class="ci bound-note">&dagger; ${[...notes].map(esc).join(' ')}</p>` : '';
}

/** One metrics row; `noAuc` for a predictor without a ranking (the majority-class baseline). */
function levelRow(name: string, m: LevelMetrics, noAuc = false): string {
  const auc = noAuc ? '<span class="na" title="a constant score has no ranking: 0.5 by definition">&ndash;</span>' : est(m.auc);
  // The baseline's figures follow from the class counts alone and have no interval by design: no
  // "too few people" mark on them.
  const x = noAuc ? '' : NO_CI;
  return `<tr><th scope="row">${esc(name)}</th><td>${m.n.units} (${m.n.positive}+/${m.n.negative}&minus;)</td><td>${auc}</td><td>${est(m.accuracy, 3, true, x)}</td><td>${est(m.balancedAccuracy, 3, true, x)}</td><td>${est(m.sensitivity, 3, true, x)}</td><td>${est(m.specificity, 3, true, x)}</td><td>${predictiveCell(m.ppv, 'ppv', x)}</td><td>${predictiveCell(m.npv, 'npv', x)}</td><td>${est(m.brier, 3, false, x)}</td></tr>`;
}

/** What each column of the metrics tables measures, one short clause each, for a reader who is not a statistician. */
export function metricGlossary(pos: string, neg: string): string {
  return `AUC: the chance that a randomly chosen ${esc(pos)} person (photo) scores above a randomly chosen ${esc(neg)} one (0.5 is chance, 1 perfect separation). Balanced accuracy: the mean of sensitivity and specificity. PPV (NPV): the share of those called ${esc(pos)} (${esc(neg)}) who are, at that prevalence. Brier: the mean squared difference between the score and the truth, 0 or 1 (0 is perfect; a constant score of 50% gives 0.25).`;
}

const METRIC_HEAD = '<tr><th>Rows: per photo or per person</th><th>n (pos/neg)</th><th>AUC (95% CI)</th><th>Accuracy</th><th>Balanced acc.</th><th>Sensitivity</th><th>Specificity</th><th>PPV*</th><th>NPV*</th><th>Brier</th></tr>';

function groupRows(name: string, g: GroupMetrics, noAuc = false): string {
  return levelRow(`${name}: per photo`, g.photo, noAuc) + levelRow(`${name}: per person`, g.subject, noAuc);
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const rate = (k: number, n: number) => (n ? pct(k / n) : '<span class="na">n/a</span>');

/**
 * One repeat's confusion counts (integers: each unit predicted once, out of fold, summed over the
 * folds) with the rates they give and a sentence saying what they mean; with several repeats,
 * the range of each count over them.
 */
function confusionTable(m: LevelMetrics, pos: string, neg: string, level: 'photo' | 'person'): string {
  const c = m.confusionByRepeat[0];
  const units = level === 'person' ? 'people' : 'photos';
  const repeats = m.confusionByRepeat.length;
  const range = (k: keyof typeof c) => {
    const v = m.confusionByRepeat.map((r) => r[k]);
    return Math.min(...v) === Math.max(...v) ? `${v[0]}` : `${Math.min(...v)}&ndash;${Math.max(...v)}`;
  };
  const caption = `Confusion per ${level}${repeats > 1 ? `, repeat 1 of ${repeats}` : ''}: each ${level} counted once (out of fold)`;
  const table = `<table class="confusion"><caption>${esc(caption)}</caption><tr><th>Truth (rows, per ${level})</th><th>called ${esc(pos)}</th><th>called ${esc(neg)}</th><th>rate</th></tr><tr><th scope="row">${esc(pos)}</th><td class="count">${c.tp}</td><td class="count">${c.fn}</td><td>sensitivity ${rate(c.tp, c.tp + c.fn)}</td></tr><tr><th scope="row">${esc(neg)}</th><td class="count">${c.fp}</td><td class="count">${c.tn}</td><td>specificity ${rate(c.tn, c.tn + c.fp)}</td></tr></table>`;
  const meaning = `Of ${c.tp + c.fn} ${esc(pos)} ${units}, ${c.tp} were called ${esc(pos)} and ${c.fn} missed; of ${c.fp + c.tn} ${esc(neg)} ${units}, ${c.tn} were cleared and ${c.fp} wrongly called ${esc(pos)}.`;
  const spread = repeats > 1 ? ` Over all ${repeats} repeats (each a different split into folds) the counts ranged: ${esc(pos)} called ${esc(pos)} ${range('tp')}, missed ${range('fn')}; ${esc(neg)} wrongly called ${esc(pos)} ${range('fp')}, cleared ${range('tn')}. The Results table's rates are the means over the repeats.` : '';
  return `<figure class="confusion">${table}<figcaption>${meaning}${spread}</figcaption></figure>`;
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em;max-width:100%}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right;overflow-wrap:break-word}th{background:#f4f4f4}th[scope=row]{text-align:left}
table.fit{table-layout:fixed;width:100%}td.text{text-align:left}
caption{text-align:left;font-weight:600;padding:.3em 0}.ci{color:#555;font-size:.9em}.na{color:#999}
.banner{background:#fff3cd;border:1px solid #e0c36a;padding:.8em 1em;border-radius:6px}
.warn{background:#fdecea;border:1px solid #e6a19a;padding:.6em 1em;border-radius:6px}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}.charts figure{margin:0;max-width:100%}svg{max-width:100%;height:auto}
figure.confusion{margin:0;max-width:32em}.confusion td{min-width:4em;text-align:center}code,pre{background:#f6f6f6;padding:.1em .3em;border-radius:3px}pre{padding:.6em;overflow:auto}
nav a{margin-right:1em;display:inline-block}
@media (max-width:800px){body{font-size:14px;padding:0 .5em}th,td{padding:.25em .35em}table{font-size:.85em}}
@media print{nav{display:none}body{margin:0}h2{page-break-after:avoid}}
`;

/** Builds the report HTML: intended use first, the configuration dump last. */
export async function renderReport(input: ReportInput): Promise<string> {
  const { dataset, result, bundle, options } = input;
  const pos = dataset.positive, neg = dataset.negative;
  const sections = input.sections ?? [];
  // Before any figure: a point AUC of 0.68 in a table reads as a working test.
  const evidence = noEvidenceStatement(result.subject.auc);
  const nav = [['intended-use', 'Intended use'], ['data', 'Data'], ['results', 'Results'], ['views', 'Views'], ...(Object.keys(result.bySubgroup).length ? [['subgroups', 'Subgroups']] : []), ['checks', 'Checks'], ...sections.map((x) => [x.id, x.title]), ['config', 'Configuration']];

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Phenoface study report</title><style>${CSS}</style></head><body>
<header><h1>Phenoface study report</h1><p>${esc(pos)} vs ${esc(neg)} &middot; ${esc(new Date(bundle.createdAt).toUTCString())} &middot; model ${esc(bundle.id)}</p>
${options.synthetic ? '<p class="banner"><strong>Synthetic data.</strong> This study ran on planted-phenotype photos made by <code>phenoface synth</code>: a demonstration of the pipeline, not a clinical model.</p>' : ''}
<p class="banner">A screening aid, not a diagnosis. These are cross-validated estimates on this data set; they hold only for people and photos like these.</p>
${evidence ? `<p class="warn" id="no-evidence"><strong>${esc(evidence)}</strong> See <a href="#results">Results</a>.</p>` : ''}</header>
<nav>${nav.map(([id, title]) => `<a href="#${esc(id)}">${esc(title)}</a>`).join('')}</nav>
${intendedUseSection(bundle)}
${dataSection(input)}
${await resultsSection(result, bundle, pos, neg)}
${await viewsSection(result)}
${subgroupsSection(result)}
${checksSection(input)}
${sections.map((x) => `<section id="${esc(x.id)}"><h2>${esc(x.title)}</h2>${x.html}</section>`).join('\n')}
${configSection(result, bundle)}
</body></html>
`;
}

/** What the model is for and what it cannot do, before any number. */
function intendedUseSection(bundle: ModelBundle): string {
  return `<section id="intended-use"><h2>Intended use and limitations</h2>
<p>${esc(bundle.intendedUse)}</p><ul>${bundle.limitations.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
</section>`;
}

/** Names of the feature blocks as the report's sentences say them. */
const BLOCK_WORDS: Record<string, string> = { embedding: 'the identity embedding', geometry: 'the facial geometry', regions: 'the region-pooled maps' };

/**
 * What the final model is, in words: the classifier, the blocks it reads (stacked when several)
 * and the networks behind the embedding.
 */
export function modelDescription(classifier: string, bundle: Pick<ModelBundle, 'features' | 'backbone'>): string {
  const networks = bundle.backbone.second ? `${bundle.backbone.name}'s with ${bundle.backbone.second.name}'s beside it` : `${bundle.backbone.name}'s`;
  const blocks = bundle.features?.features ?? ['embedding'];
  const said = blocks.map((b) => (b === 'embedding' ? `${BLOCK_WORDS.embedding} (${networks})` : BLOCK_WORDS[b] ?? b));
  const model = blocks.length === 1
    ? `a ${classifier} classifier on ${said[0]}`
    : `a stack of ${classifier} classifiers, one on each of ${said.slice(0, -1).join(', ')} and ${said.at(-1)}, combined by a logistic regression on their out-of-fold logits`;
  // Under `auto` each outer fold chose its own blocks: the figures are of that choosing, not of this one model.
  const chosen = bundle.features?.selection ? ', as the inner cross-validation chose it (each outer fold chose its own blocks the same way; see Representations)' : '';
  return `The final model: ${model}${chosen}`;
}

/** The headline metrics (per photo and per person, and the baseline), the ROC and calibration charts, and the confusion counts. */
async function resultsSection(result: CrossValidationResult, bundle: ModelBundle, pos: string, neg: string): Promise<string> {
  const o = result.options;
  const rocs = rocSeries([['per person', result.subject], ['per photo', result.photo]]);
  const [roc, calPerson, calPhoto] = await Promise.all([
    rocs.length ? renderSvg(rocSpec(rocs, 'ROC, all views (95% bootstrap band)')) : '',
    renderSvg(calibrationSpec(result.subject.calibration, 'Calibration per person', 'people')),
    renderSvg(calibrationSpec(result.photo.calibration, 'Calibration per photo', 'photos')),
  ]);
  const evidence = noEvidenceStatement(result.subject.auc);
  return `<section id="results"><h2>Results</h2>
<p>${esc(modelDescription(result.classifier, bundle))}; subject-grouped, class-stratified ${o.folds}-fold cross-validation repeated ${o.repeats} times (seed ${o.seed}); metrics are means over the repeats, with 95% CIs from ${o.bootstrap} subject-level bootstrap resamples (for accuracy, sensitivity and specificity, widened to Wilson's interval on the counts where that is wider, so a rate of 0 or 1 keeps an interval). A person's score is the mean of their photos' scores (the classifier's probabilities within this study's mix of classes, not a chance of disease). Thresholds were fixed on the training folds.</p>
${evidence ? `<p class="warn" id="no-evidence-results"><strong>${esc(evidence)}</strong></p>` : ''}
<table><caption>Cross-validated performance, per photo and per person</caption>${METRIC_HEAD}${levelRow('All views: per photo', result.photo)}${levelRow('All views: per person', result.subject)}${groupRows('Majority-class baseline', result.baseline, true)}</table>
${predictiveFootnote([result.photo, result.subject, result.baseline.photo, result.baseline.subject])}
<p class="ci">* PPV and NPV at a prevalence of ${esc(prevalenceText(o.prevalence))} (set with <code>--prevalence</code>). The majority-class baseline gives everyone the training folds' share of ${esc(pos)} as a score and calls the larger class: a model must beat its accuracy, and as a constant score it ranks no one, so it has no AUC to show.</p>
<p class="ci">${metricGlossary(pos, neg)}</p>
<div class="charts"><figure>${roc}</figure><figure>${calPerson}</figure><figure>${calPhoto}</figure></div>
<p class="ci">Calibration: each point is a bin of people (photos) by their out-of-fold probability${o.repeats > 1 ? ` averaged over the ${o.repeats} repeats` : ''}; its size is the number in the bin, its bar the 95% Wilson interval of the observed positive rate (too narrow per photo, as photos of one person are not independent). A calibrated model's points lie on the dotted diagonal. These probabilities come from a study with ${result.subject.n.positive} ${esc(pos)} and ${result.subject.n.negative} ${esc(neg)} people, not from the population: a person's chance is the PPV.</p>
<div class="charts">${confusionTable(result.subject, pos, neg, 'person')}${confusionTable(result.photo, pos, neg, 'photo')}</div>
</section>`;
}

/** ROC series of levels that have a curve, each named with its AUC. */
function rocSeries(levels: [string, LevelMetrics][]): RocSeries[] {
  return levels.flatMap(([name, m]) => (m.roc ? [{ name: `${name} (AUC ${m.auc.value?.toFixed(3) ?? 'n/a'})`, ...m.roc }] : []));
}

/** The metrics per view, per photo and per person, and the per-person ROC by view (with two or more views). */
async function viewsSection(result: CrossValidationResult): Promise<string> {
  const views = Object.keys(result.byView) as (keyof typeof result.byView)[];
  const series = rocSeries(views.map((v) => [v, result.byView[v]!.subject]));
  const chart = series.length > 1 ? await renderSvg(rocSpec(series, 'ROC per person, by view')) : '';
  return `<section id="views"><h2>By view</h2>
<table><caption>Cross-validated performance by view, per photo and per person</caption>${METRIC_HEAD}${views.map((v) => groupRows(v, result.byView[v]!)).join('')}</table>
${predictiveFootnote(views.flatMap((v) => [result.byView[v]!.photo, result.byView[v]!.subject]))}
${chart ? `<figure>${chart}</figure>` : ''}
</section>`;
}

/** Text order with digits compared as numbers ("2 to <6 years" before "12 to <18 years", "site2" before "site10"). */
const byNumbersInText = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The metrics per value of each subgroup column, per photo and per person, in the values' order. */
function subgroupsSection(result: CrossValidationResult): string {
  const tables = Object.entries(result.bySubgroup).map(([col, groups]) => `<table><caption>By ${esc(col)}, per photo and per person</caption>${METRIC_HEAD}${Object.entries(groups).sort(([a], [b]) => byNumbersInText(a, b)).map(([k, g]) => groupRows(`${col} = ${k}`, g)).join('')}</table>${predictiveFootnote(Object.values(groups).flatMap((g) => [g.photo, g.subject]))}`).join('');
  return tables ? `<section id="subgroups"><h2>Subgroups</h2>${tables}</section>` : '';
}

/** The permutation test, the leakage warnings, and the photos whose face looks on its side or upside down. */
function checksSection({ leakage, result, used, explanationChecks }: ReportInput): string {
  const perm = result.permutation;
  const turned = used.filter((p) => p.face?.turned);
  return `<section id="checks"><h2>Checks</h2>
${explanationChecks ? explanationChecksLine(explanationChecks) : ''}
<p>Permutation test (labels permuted by person, whole cross-validation re-run): ${perm ? permutationText(perm, result.subject.auc.value) : 'not run'}.</p>
${leakage.warnings.length ? `<div class="warn"><p><strong>${leakage.warnings.length} possible leakage problem(s)</strong>: the same photo or the same person may appear under two names, which inflates results.</p><ul>${leakage.warnings.slice(0, 50).map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul></div>` : '<p>No duplicate photos and no person under two subject ids were found.</p>'}
${turned.length ? `<div class="warn"><p><strong>${turned.length} photo(s) look on their side or upside down</strong> (their orientation tag may have been lost): the face was found more surely with the photo turned, so it was aligned from points the detector guessed. They were used as they are; turn them upright and run the study again.</p><ul>${turned.slice(0, 50).map((p) => `<li>${esc(p.item.path)}: turn ${p.face!.turned} degrees clockwise</li>`).join('')}</ul></div>` : ''}
</section>`;
}

/**
 * The permutation test in words. Its observed AUC is not the Results table's: to keep the
 * permutations affordable the test fixes the classifier's setting before seeing any label and runs
 * fewer repeats (and folds), so a reader comparing the two numbers is told why they differ. A p-value at its
 * floor, 1 / (permutations + 1), says no permutation reached the real labels' AUC, and that more
 * permutations would be needed to show a smaller p.
 */
export function permutationText(perm: PermutationResult, headlineAuc: number | null): string {
  const n = perm.nulls.length;
  const setting = Object.entries(perm.hyper).map(([k, v]) => `${k} = ${v}`).join(', ');
  const procedure = `${setting ? `${setting} fixed before any label was seen` : 'a setting fixed before any label was seen'}, ${perm.repeats} repeat${perm.repeats === 1 ? '' : 's'} of ${perm.folds}-fold cross-validation`;
  const differs = headlineAuc !== null && headlineAuc.toFixed(3) !== perm.observed.toFixed(3)
    ? `; not the Results table's ${headlineAuc.toFixed(3)}, which tunes the setting in each training fold and averages all repeats`
    : '';
  return `on the real labels, with the test's own procedure (${esc(procedure)}), subject AUC ${perm.observed.toFixed(3)}${differs}; against ${n} permutations, <strong>p = ${perm.p.toFixed(4)}</strong>${permutationFloorNote(perm.p, n)}`;
}

/**
 * The final model's hyperparameters: each block's, keyed `block.name` (e.g. `geometry.C`), and the
 * combiner's weights of a stack; a bundle without blocks, its classifier's.
 */
export function finalHyperparameters(bundle: Pick<ModelBundle, 'features' | 'classifier'>): Record<string, number> {
  const f = bundle.features;
  if (!f) return { ...bundle.classifier.hyper };
  const blocks = f.features.flatMap((name, k) => Object.entries((f.classifiers[k] as { hyper?: Record<string, number> }).hyper ?? {}).map(([h, v]) => [`${name}.${h}`, v] as const));
  const weights = f.stacker ? f.features.map((name, k) => [`stack.${name}`, f.stacker!.weights[k]] as const) : [];
  return Object.fromEntries([...blocks, ...weights]);
}

/** The options, hyperparameters and versions needed to reproduce the study. */
function configSection(result: CrossValidationResult, bundle: ModelBundle): string {
  const versions = {
    phenoface: bundle.phenofaceVersion,
    model: bundle.id,
    backbone: bundle.embeddings ? `${bundle.backbone.name}, ${bundle.backbone.dim}-D, precomputed (${bundle.embeddings.file}, sha256 ${bundle.embeddings.sha256})` : `${bundle.backbone.name} (weights sha256 ${bundle.backbone.weightsSha256})`,
    ...(bundle.backbone.second ? { secondNetwork: `${bundle.backbone.second.name}, ${bundle.backbone.second.dim}-D, beside the backbone's embedding in the embedding block (weights sha256 ${bundle.backbone.second.weightsSha256})` } : {}),
    pipeline: bundle.pipeline.version,
    node: process.version,
    dataHash: bundle.training.datasetHash,
  };
  return `<section id="config"><h2>Configuration and versions</h2>
<pre>${esc(JSON.stringify({ options: result.options, classifier: result.classifier, hyperparameters: finalHyperparameters(bundle), versions, pipeline: bundle.pipeline.config }, null, 2))}</pre>
</section>`;
}

/** The Data section: subjects and photos per class and view, the photos used, and those without a usable face. */
function dataSection({ dataset, photos, used, options }: ReportInput): string {
  const s = dataset.summary;
  const pos = dataset.positive;
  const failed = photos.filter((p) => p.error);
  const classRows = Object.entries(s.byClass).map(([k, c]) => {
    const v = (name: string) => c.byView[name as keyof typeof c.byView]?.photos ?? 0;
    return `<tr><th scope="row">${esc(k)}${k === pos ? ' (positive)' : ''}</th><td>${c.subjects}</td><td>${c.photos}</td><td>${v('frontal')}</td><td>${v('oblique')}</td><td>${v('profile')}</td><td>${v('unspecified')}</td></tr>`;
  }).join('');
  const estimatedViews: Record<string, number> = {};
  for (const p of used) estimatedViews[p.view ?? 'unknown'] = (estimatedViews[p.view ?? 'unknown'] ?? 0) + 1;
  return `<section id="data"><h2>Data</h2>
<table><caption>People (subjects) and photos per class, one row per class (views as given in the manifest)</caption><tr><th>Class</th><th>Subjects</th><th>Photos</th><th>Frontal</th><th>Oblique</th><th>Profile</th><th>Not given</th></tr>${classRows}</table>
<p>${used.length} photos of ${new Set(used.map((p) => p.item.subject)).size} people entered the analysis${options.frontalOnly ? ' (frontal photos only)' : ''}; views used (manifest, else estimated from the face): ${Object.entries(estimatedViews).map(([k, v]) => `${esc(k)} ${v}`).join(', ')}.</p>
${failed.length ? `<details><summary>${failed.length} photos without a usable face (excluded)</summary><table><caption>One row per photo</caption><tr><th>Photo</th><th>Subject</th><th>Code</th><th>Reason</th></tr>${failed.map((p) => `<tr><td style="text-align:left">${esc(p.item.path)}</td><td>${esc(p.item.subject)}</td><td>${esc(p.error!.code)}</td><td style="text-align:left">${esc(relativeToDataset(p.error!.message, p.item, dataset.root))}</td></tr>`).join('')}</table></details>` : '<p>Every photo had a usable face.</p>'}
</section>`;
}

/**
 * The explanation checks in the Checks section, which a reader scans for what failed: a failed or
 * unmeasured check is a warning there too, not only in the explanation section further down.
 */
function explanationChecksLine(c: ExplanationChecksSummary): string {
  const link = '<a href="#explanations">What the model looks at</a>';
  if (!c.failed.length && !c.notMeasured.length) return `<p>Explanation checks (sanity checks, occlusion agreement, heat outside the face): all ${c.total} passed; see ${link}.</p>`;
  const parts = [
    ...(c.failed.length ? [`<strong>${c.failed.length} of ${c.total} FAILED</strong> (${esc(c.failed.join(', '))})`] : []),
    ...(c.notMeasured.length ? [`${c.notMeasured.length} of ${c.total} could not be measured (${esc(c.notMeasured.join(', '))})`] : []),
  ];
  return `<div class="warn" id="checks-explanation"><p>Explanation checks: ${parts.join('; ')}. The heat maps' region shares are one method's view, not established; see ${link}.</p></div>`;
}

/** Writes the report. */
export async function writeReport(file: string, input: ReportInput): Promise<void> {
  await writeFile(file, await renderReport(input));
}
