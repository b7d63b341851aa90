/**
 * The study report: one self-contained `report.html` (inline CSS and SVG charts, no scripts, no
 * external requests) that a clinician can open, print or archive. Sections: data, results
 * (per photo and per person, with CIs), ROC and calibration, per view and per subgroup, baseline and
 * permutation test, leakage warnings, photos without a usable face, explanations (when run), and
 * the configuration and versions needed to reproduce it.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ModelBundle } from '../classify/bundle.ts';
import type { Dataset, LeakageReport, PhotoResult } from '../data/index.ts';
import type { Estimate, GroupMetrics, LevelMetrics, CrossValidationResult } from '../evaluate/crossval.ts';
import { calibrationSpec, renderSvg, rocSpec, type RocSeries } from './charts.ts';

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

/** An estimate with its 95% interval, as the report's tables show it. */
export function est(e: Estimate | undefined, digits = 3, pct = false): string {
  if (!e || e.value === null) return '<span class="na">n/a</span>';
  const f = (v: number) => (pct ? `${(100 * v).toFixed(1)}%` : v.toFixed(digits));
  return `${f(e.value)}${e.ci95 ? ` <span class="ci">(${f(e.ci95[0])}&ndash;${f(e.ci95[1])})</span>` : ''}`;
}

function levelRow(name: string, m: LevelMetrics): string {
  return `<tr><th scope="row">${esc(name)}</th><td>${m.n.units} (${m.n.positive}+/${m.n.negative}&minus;)</td><td>${est(m.auc)}</td><td>${est(m.accuracy, 3, true)}</td><td>${est(m.balancedAccuracy, 3, true)}</td><td>${est(m.sensitivity, 3, true)}</td><td>${est(m.specificity, 3, true)}</td><td>${est(m.ppv, 4, true)}</td><td>${est(m.npv, 4, true)}</td><td>${est(m.brier)}</td></tr>`;
}

const METRIC_HEAD = '<tr><th></th><th>n (pos/neg)</th><th>AUC (95% CI)</th><th>Accuracy</th><th>Balanced acc.</th><th>Sensitivity</th><th>Specificity</th><th>PPV*</th><th>NPV*</th><th>Brier</th></tr>';

function groupRows(name: string, g: GroupMetrics): string {
  return levelRow(`${name}: per photo`, g.photo) + levelRow(`${name}: per person`, g.subject);
}

function confusionTable(m: LevelMetrics, pos: string, neg: string, title: string): string {
  const c = m.confusion;
  const r = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  return `<table class="confusion"><caption>${esc(title)}</caption><tr><th></th><th>predicted ${esc(pos)}</th><th>predicted ${esc(neg)}</th></tr><tr><th scope="row">${esc(pos)}</th><td>${r(c.tp)}</td><td>${r(c.fn)}</td></tr><tr><th scope="row">${esc(neg)}</th><td>${r(c.fp)}</td><td>${r(c.tn)}</td></tr></table>`;
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}th{background:#f4f4f4}th[scope=row]{text-align:left}
caption{text-align:left;font-weight:600;padding:.3em 0}.ci{color:#555;font-size:.9em}.na{color:#999}
.banner{background:#fff3cd;border:1px solid #e0c36a;padding:.8em 1em;border-radius:6px}
.warn{background:#fdecea;border:1px solid #e6a19a;padding:.6em 1em;border-radius:6px}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}.charts figure{margin:0}
.confusion td{min-width:5em;text-align:center}code,pre{background:#f6f6f6;padding:.1em .3em;border-radius:3px}pre{padding:.6em;overflow:auto}
nav a{margin-right:1em}
@media print{nav{display:none}body{margin:0}h2{page-break-after:avoid}}
`;

/** Builds the report HTML. */
export async function renderReport(input: ReportInput): Promise<string> {
  const { dataset, leakage, result, bundle, options } = input;
  const pos = dataset.positive, neg = dataset.negative;
  const views = Object.keys(result.byView) as (keyof typeof result.byView)[];
  const charts = await reportCharts(result, views);
  const subgroupHtml = Object.entries(result.bySubgroup).map(([col, groups]) => `<table><caption>By ${esc(col)}</caption>${METRIC_HEAD}${Object.entries(groups).map(([k, g]) => groupRows(`${col} = ${k}`, g)).join('')}</table>`).join('');
  const perm = result.permutation;
  const versions = {
    phenoface: bundle.phenofaceVersion,
    model: bundle.id,
    backbone: `${bundle.backbone.name} (weights sha256 ${bundle.backbone.weightsSha256})`,
    pipeline: bundle.pipeline.version,
    node: process.version,
    dataHash: bundle.training.datasetHash,
  };
  const sections = input.sections ?? [];

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Phenoface study report</title><style>${CSS}</style></head><body>
<header><h1>Phenoface study report</h1><p>${esc(pos)} vs ${esc(neg)} &middot; ${esc(new Date(bundle.createdAt).toUTCString())} &middot; model ${esc(bundle.id)}</p>
${options.synthetic ? '<p class="banner"><strong>Synthetic data.</strong> This study ran on planted-phenotype photos made by <code>phenoface synth</code>: a demonstration of the pipeline, not a clinical model.</p>' : ''}
<p class="banner">A screening aid, not a diagnosis. These are cross-validated estimates on this data set; they hold only for people and photos like these.</p></header>
<nav><a href="#data">Data</a><a href="#results">Results</a><a href="#views">Views</a>${Object.keys(result.bySubgroup).length ? '<a href="#subgroups">Subgroups</a>' : ''}<a href="#checks">Checks</a>${sections.map((x) => `<a href="#${esc(x.id)}">${esc(x.title)}</a>`).join('')}<a href="#config">Configuration</a></nav>

${dataSection(input)}

<section id="results"><h2>Results</h2>
<p>${esc(result.classifier)} classifier on ${esc(bundle.backbone.name)} embeddings; subject-grouped, class-stratified ${result.options.folds}-fold cross-validation repeated ${result.options.repeats} times (seed ${result.options.seed}); 95% CIs from ${result.options.bootstrap} subject-level bootstrap resamples. A person's score is the mean of their photos' probabilities. Thresholds were fixed on the training folds.</p>
<table>${METRIC_HEAD}${levelRow('All views: per photo', result.photo)}${levelRow('All views: per person', result.subject)}${groupRows('Majority-class baseline', result.baseline)}</table>
<p class="ci">* PPV and NPV at a prevalence of 1 in ${Math.round(1 / result.options.prevalence).toLocaleString('en')} (set with <code>--prevalence</code>).</p>
<div class="charts"><figure>${charts[0]}</figure><figure>${charts[2]}</figure></div>
<div class="charts">${confusionTable(result.photo, pos, neg, 'Confusion per photo (mean over repeats)')}${confusionTable(result.subject, pos, neg, 'Confusion per person (mean over repeats)')}</div>
</section>

<section id="views"><h2>By view</h2>
<p>The paper reported 95% accuracy on frontal photos and 81&ndash;88% on photos at any angle.</p>
<table>${METRIC_HEAD}${views.map((v) => groupRows(v, result.byView[v]!)).join('')}</table>
${charts[1] ? `<figure>${charts[1]}</figure>` : ''}
</section>
${subgroupHtml ? `<section id="subgroups"><h2>Subgroups</h2>${subgroupHtml}</section>` : ''}

<section id="checks"><h2>Checks</h2>
<p>Permutation test (labels permuted by person, whole cross-validation re-run): ${perm ? `subject AUC ${perm.observed.toFixed(3)} vs ${perm.nulls.length} permutations, <strong>p = ${perm.p.toFixed(4)}</strong>` : 'not run'}.</p>
${leakage.warnings.length ? `<div class="warn"><p><strong>${leakage.warnings.length} possible leakage problem(s)</strong>: the same photo or the same person may appear under two names, which inflates results.</p><ul>${leakage.warnings.slice(0, 50).map((w) => `<li>${esc(w.message)}</li>`).join('')}</ul></div>` : '<p>No duplicate photos and no person under two subject ids were found.</p>'}
</section>
${sections.map((x) => `<section id="${esc(x.id)}"><h2>${esc(x.title)}</h2>${x.html}</section>`).join('\n')}
<section id="config"><h2>Configuration and versions</h2>
<pre>${esc(JSON.stringify({ options: result.options, classifier: result.classifier, hyperparameters: bundle.classifier.hyper, versions, pipeline: bundle.pipeline.config }, null, 2))}</pre>
<p>Intended use: ${esc(bundle.intendedUse)}</p><ul>${bundle.limitations.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>
</section>
</body></html>
`;
}

/** The report's charts: ROC of all views (per person and per photo), ROC per view (with two or more views), and calibration. */
async function reportCharts(result: CrossValidationResult, views: (keyof CrossValidationResult['byView'])[]): Promise<[string, string, string]> {
  const rocSeries: RocSeries[] = [];
  if (result.subject.roc) rocSeries.push({ name: `per person (AUC ${result.subject.auc.value?.toFixed(3)})`, ...result.subject.roc });
  if (result.photo.roc) rocSeries.push({ name: `per photo (AUC ${result.photo.auc.value?.toFixed(3)})`, ...result.photo.roc });
  const viewSeries: RocSeries[] = views.flatMap((v) => {
    const roc = result.byView[v]!.subject.roc;
    return roc ? [{ name: `${v} (AUC ${result.byView[v]!.subject.auc.value?.toFixed(3)})`, ...roc }] : [];
  });
  return Promise.all([
    rocSeries.length ? renderSvg(rocSpec(rocSeries, 'ROC, all views (95% bootstrap band)')) : '',
    viewSeries.length > 1 ? renderSvg(rocSpec(viewSeries, 'ROC per person, by view')) : '',
    renderSvg(calibrationSpec(result.photo.calibration, 'Calibration (per photo, all repeats)')),
  ]);
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
<table><caption>Subjects and photos per class (views as given in the manifest)</caption><tr><th></th><th>Subjects</th><th>Photos</th><th>Frontal</th><th>Oblique</th><th>Profile</th><th>Not given</th></tr>${classRows}</table>
<p>${used.length} photos of ${new Set(used.map((p) => p.item.subject)).size} people entered the analysis${options.frontalOnly ? ' (frontal photos only)' : ''}; views used (manifest, else estimated from the face): ${Object.entries(estimatedViews).map(([k, v]) => `${esc(k)} ${v}`).join(', ')}.</p>
${failed.length ? `<details><summary>${failed.length} photos without a usable face (excluded)</summary><table><tr><th>Photo</th><th>Subject</th><th>Code</th><th>Reason</th></tr>${failed.map((p) => `<tr><td style="text-align:left">${esc(p.item.path)}</td><td>${esc(p.item.subject)}</td><td>${esc(p.error!.code)}</td><td style="text-align:left">${esc(relativeToDataset(p.error!.message, p.item, dataset.root))}</td></tr>`).join('')}</table></details>` : '<p>Every photo had a usable face.</p>'}
</section>`;
}

/** Writes the report. */
export async function writeReport(file: string, input: ReportInput): Promise<void> {
  await writeFile(file, await renderReport(input));
}
