/**
 * The report's leave-one-site-out section: for each held-out site, how the model trained on the
 * other sites did there (AUC with its interval, sensitivity and specificity at the training sites'
 * threshold, calibration in the large, Brier score), the pooled figures, and the spread between
 * sites. A model that travels shows similar rows; a wide spread says it does not, whatever the
 * pooled K-fold AUC. A site's caveats (no interval for too few people, a class its model never saw)
 * stand under the table, and an extreme of the spread that comes from such a site is marked: the
 * spread's max is otherwise read as the best site, though two people can make it.
 */
import type { LevelMetrics } from '../evaluate/crossval.ts';
import { calibrationInTheLarge, type SiteValidation } from '../evaluate/sites.ts';
import { DEFAULTS } from '../config.ts';
import { esc, est } from './index.ts';

const pct = (v: number | null) => (v === null ? '<span class="na">n/a</span>' : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null) => (v === null ? '<span class="na">n/a</span>' : v.toFixed(3));

/** One table row: a site's (or the pool's) per-person metrics. */
function row(name: string, m: LevelMetrics, train?: string, threshold?: number): string {
  const cal = calibrationInTheLarge(m.calibration);
  return `<tr><th scope="row">${esc(name)}</th><td>${train ?? ''}</td><td>${m.n.units} (${m.n.positive}+/${m.n.negative}&minus;)</td><td>${est(m.auc)}</td><td>${threshold === undefined ? '' : threshold.toFixed(3)}</td><td>${est(m.sensitivity, 3, true)}</td><td>${est(m.specificity, 3, true)}</td><td>${pct(cal.meanPredicted)} / ${pct(cal.observedRate)}</td><td>${est(m.brier)}</td></tr>`;
}

/** A site's caveats: why it has no interval, and its warnings. */
function caveats(v: SiteValidation, site: string): string[] {
  const r = v.bySite[site];
  return [...(r.intervalNote ? [r.intervalNote] : []), ...r.warnings];
}

/** The sites at an extreme of the spread, each marked * when it has a caveat. */
function at(v: SiteValidation, sites: string[]): string {
  return sites.length ? ` <span class="ci">(${sites.map((s) => esc(s) + (caveats(v, s).length ? '*' : '')).join(', ')})</span>` : '';
}

/** The section's HTML (escaped), per person; per-photo figures are in metrics.json. */
export function sitesSection(v: SiteValidation): { id: string; title: string; html: string } {
  const head = '<tr><th>held out</th><th>trained on (people)</th><th>people (pos/neg)</th><th>AUC (95% CI)</th><th>threshold</th><th>Sensitivity</th><th>Specificity</th><th>mean score / observed rate</th><th>Brier</th></tr>';
  const rows = v.sites.map((s) => {
    const r = v.bySite[s];
    return row(s, r.metrics.subject, String(r.train.subjects), r.thresholds.subject);
  });
  const spread = (['auc', 'sensitivity', 'specificity'] as const).map((k) => {
    const sp = v.spread.subject[k];
    return `<tr><th scope="row">${k === 'auc' ? 'AUC' : k}</th><td>${num(sp.min)}${at(v, sp.minAt)}</td><td>${num(sp.max)}${at(v, sp.maxAt)}</td><td>${num(sp.range)}</td><td>${num(sp.sd)}</td><td>${sp.sites}</td></tr>`;
  });
  const noted = v.sites.filter((s) => caveats(v, s).length);
  const notes = noted.length ? `<div class="warn"><p><strong>Read these sites with care</strong> (marked * in the spread where they make an extreme: a max from them is no measured best site, a min no measured worst):</p><ul>${noted.flatMap((s) => caveats(v, s).map((c) => `<li><strong>${esc(s)}</strong>: ${esc(c)}</li>`)).join('')}</ul></div>` : '';
  const differential = v.differentialNote ? `<p><strong>${esc(v.differentialNote)}</strong></p>` : '';
  const html = `${differential}<p>Each value of <code>${esc(v.column)}</code> was held out in turn; a model trained on the other values (hyperparameter by inner grouped CV, threshold by Youden's J on their inner out-of-fold scores) predicted it. No person is in two values (the study refuses one who is). Figures per person (a person's score is the mean of their photos'); per-photo figures and the calibration bins are in <code>metrics.json</code> under <code>sites</code>, and each photo's held-out score in <code>site-predictions.csv</code>. A site with one class has no AUC, and no sensitivity or specificity for the missing class. A site's interval resamples its own people within their class; a site with fewer than ${DEFAULTS.evaluate.groupBootstrapMinPerClass} people of a class it holds gets none.</p>
<table>${head}${rows.join('')}${row('pooled (all held-out predictions)', v.pooled.subject)}</table>
${notes}<table><caption>Spread between held-out values (per person)</caption><tr><th></th><th>min</th><th>max</th><th>range</th><th>SD</th><th>values with a figure</th></tr>${spread.join('')}</table>
<p class="ci">Calibration in the large: the mean score against the observed share of positive people; far apart, the scores do not carry over as probabilities to that site. The grouped K-fold results above mix every site into every training set; these do not.</p>`;
  return { id: 'sites', title: `Leave-one-${v.column}-out`, html };
}
