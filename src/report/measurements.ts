/**
 * The report's measurement section: each anthropometric measurement's distribution in the study's
 * controls and cases, per view, and the difference of the case and control means with its 95%
 * subject-bootstrap interval (Efron & Tibshirani 1993). The person is the unit: each person's
 * value is the mean over their photos in that view, so a person with many photos counts once.
 */
import { DEFAULTS, VIEWS } from '../config.ts';
import { subjectBootstrap, percentileInterval } from '../evaluate/bootstrap.ts';
import { MEASUREMENTS, measurePanel } from '../features/anthropometry.ts';
import { MEASUREMENT_SENSITIVITY, type MeasurementNorms } from '../features/measurements.ts';
import { deriveSeed, mulberry32 } from '../math/random.ts';
import type { Point, View } from '../types.ts';
import { barSpec, renderSvg } from './charts.ts';
import { esc } from './index.ts';

/** One photo as the comparison needs it. */
export interface ComparedPhoto {
  subject: string;
  /** 1 = case (positive class), 0 = control. */
  y: number;
  view?: View;
  landmarks68?: readonly Point[];
}

/** Mean and SD over people. */
export interface GroupSummary {
  subjects: number;
  mean: number;
  sd: number;
}

/** One measurement in one view, cases against controls. */
export interface MeasurementComparison {
  name: string;
  label: string;
  view: View;
  controls: GroupSummary;
  cases: GroupSummary;
  /** Case mean minus control mean, with its 95% subject-bootstrap interval (null with too few people). */
  difference: { value: number; ci95: [number, number] | null };
  /** The difference in units of the controls' SD (a standardised effect size, Glass's delta). */
  differenceInControlSd: number | null;
}

const avg = (xs: readonly number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;
const sdOf = (xs: readonly number[]) => (xs.length > 1 ? Math.sqrt(xs.reduce((s, v) => s + (v - avg(xs)) ** 2, 0) / (xs.length - 1)) : 0);
const summary = (xs: readonly number[]): GroupSummary => ({ subjects: xs.length, mean: avg(xs), sd: sdOf(xs) });

/** Each person's mean value of every measurement in one view: [subject values by measurement index]. */
function personMeans(photos: readonly ComparedPhoto[], view: View): { y: number; values: (number | null)[] }[] {
  const bySubject = new Map<string, { y: number; panels: (number | null)[][] }>();
  for (const p of photos) {
    if (p.view !== view || !p.landmarks68) continue;
    const entry = bySubject.get(p.subject) ?? { y: p.y, panels: [] };
    entry.panels.push(measurePanel(p.landmarks68, view));
    bySubject.set(p.subject, entry);
  }
  return [...bySubject.values()].map(({ y, panels }) => ({
    y,
    values: MEASUREMENTS.map((_, k) => {
      const v = panels.flatMap((panel) => (panel[k] === null ? [] : [panel[k]!]));
      return v.length ? avg(v) : null;
    }),
  }));
}

/**
 * Compares cases with controls for every measurement and view that has at least two people in
 * each class. The interval resamples people within each class (`replicates` times, seeded).
 */
export function compareMeasurements(photos: readonly ComparedPhoto[], replicates = DEFAULTS.evaluate.bootstrap, seed = DEFAULTS.evaluate.seed): MeasurementComparison[] {
  const out: MeasurementComparison[] = [];
  for (const view of VIEWS) {
    const people = personMeans(photos, view);
    MEASUREMENTS.forEach((def, k) => {
      const ctrl = people.flatMap((p) => (p.y === 0 && p.values[k] !== null ? [p.values[k]!] : []));
      const cases = people.flatMap((p) => (p.y === 1 && p.values[k] !== null ? [p.values[k]!] : []));
      if (ctrl.length < 2 || cases.length < 2) return;
      const values = [...ctrl, ...cases];
      const strata = [ctrl.map((_, i) => i), cases.map((_, i) => ctrl.length + i)];
      const rng = mulberry32(deriveSeed(seed, VIEWS.indexOf(view), k));
      const diffs = subjectBootstrap(strata, replicates, rng, (drawn) => {
        const half = ctrl.length;
        return avg(drawn.slice(half).map((i) => values[i])) - avg(drawn.slice(0, half).map((i) => values[i]));
      });
      const c = summary(ctrl), t = summary(cases);
      const value = t.mean - c.mean;
      out.push({ name: def.name, label: def.label, view, controls: c, cases: t, difference: { value, ci95: percentileInterval(diffs, 0.95, 0.9) }, differenceInControlSd: c.sd > 0 ? value / c.sd : null });
    });
  }
  return out;
}

const f3 = (v: number) => v.toFixed(3);

/** The differences in control SDs with their intervals, one bar per measurement and view. */
async function differenceChart(rows: readonly MeasurementComparison[], names: { positive: string; negative: string }): Promise<string> {
  const bars = rows.flatMap((r) => {
    const sd = r.controls.sd;
    if (r.differenceInControlSd === null || !(sd > 0)) return [];
    const ci = r.difference.ci95;
    return [{ name: r.label, value: r.differenceInControlSd, ...(ci ? { lo: ci[0] / sd, hi: ci[1] / sd } : {}), group: r.view }];
  });
  if (bars.length === 0) return '';
  return `<figure>${await renderSvg(barSpec(bars, `${names.positive} mean minus ${names.negative} mean, in ${names.negative} SDs (95% CI)`, `difference / ${names.negative} SD`))}</figure>`;
}

/**
 * The section's HTML: one row per measurement and view, with a sentence saying what the values
 * are and that the screen's z-scores are against these controls, not population norms.
 */
export async function measurementsSection(rows: readonly MeasurementComparison[], names: { positive: string; negative: string }, replicates: number, norms?: MeasurementNorms): Promise<string> {
  const interval = replicates > 0 ? `with its 95% interval from ${replicates} resamplings of people within each class` : 'without an interval (no bootstrap was asked for)';
  const intro = `<p>Each measurement is a distance between landmarks over the face's reference length (the root-mean-square distance of its 68 landmarks from their centroid), or a ratio; definitions below. Per view, each person counts once (the mean of their photos). The difference is the ${esc(names.positive)} mean minus the ${esc(names.negative)} mean, ${interval}; "in control SDs" divides it by the controls' SD.</p>
<p><strong>Reference population:</strong> the z-scores that <code>screen</code> reports are against ${norms ? esc(norms.population) : `this study's ${esc(names.negative)} people`}, not against population norms such as Farkas's tables: they hold only for people like these controls in age, sex and ancestry.</p>
<p><strong>Sensitivity:</strong> ${esc(MEASUREMENT_SENSITIVITY)}</p>`;
  if (rows.length === 0) return `${intro}<p>No measurement had two or more people with landmarks in each class in any view.</p>`;
  const body = rows.map((r) => `<tr><td>${esc(r.label)}</td><td>${esc(r.view)}</td><td>${r.controls.subjects}</td><td>${f3(r.controls.mean)} ± ${f3(r.controls.sd)}</td><td>${r.cases.subjects}</td><td>${f3(r.cases.mean)} ± ${f3(r.cases.sd)}</td><td>${f3(r.difference.value)}${r.difference.ci95 ? ` (${f3(r.difference.ci95[0])} to ${f3(r.difference.ci95[1])})` : ''}</td><td>${r.differenceInControlSd === null ? 'n/a' : r.differenceInControlSd.toFixed(2)}</td></tr>`).join('');
  const defs = MEASUREMENTS.map((m) => `<li><strong>${esc(m.label)}</strong> (${esc(m.views.join(', '))}): ${esc(m.definition)}${m.hpo.length ? `; beyond ±${norms?.hpoZ ?? DEFAULTS.measurements.hpoZ} SD: ${esc(m.hpo.map((t) => `${t.side === 'low' ? 'low' : 'high'} ${t.id} ${t.label}`).join(', '))}` : ''}</li>`).join('');
  return `${intro}
${await differenceChart(rows, names)}
<table><caption>Measurements per view: ${esc(names.negative)} and ${esc(names.positive)} people (mean ± SD over people), and the difference of the means</caption>
<tr><th>Measurement</th><th>View</th><th>${esc(names.negative)} people</th><th>${esc(names.negative)}</th><th>${esc(names.positive)} people</th><th>${esc(names.positive)}</th><th>Difference (95% CI)</th><th>In control SDs</th></tr>${body}</table>
<details><summary>Definitions (Farkas 1994; iBUG-300W landmark indices)</summary><ul>${defs}</ul></details>`;
}
