/**
 * The report's ranked-differential section: top-k accuracy per photo and per person beside chance,
 * the top-k curve, each class's one-vs-rest figures, and the confusion matrix (true class by the
 * class ranked first), as GestaltMatcher reports a gallery ranking (Hsieh et al. 2022). Also the
 * note of a one-vs-rest study, which pools every other class as the negative.
 */
import type { TopLevelSpec } from 'vega-lite';
import { informativeTopK, type RankingMetrics } from '../evaluate/ranking.ts';
import { CONFIG, renderSvg, SERIES_COLOURS, SERIES_DASHES } from './charts.ts';
import { esc, est } from './index.ts';

/** A report section, already escaped. */
export interface RankingSection {
  id: string;
  title: string;
  html: string;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Top-k accuracy against k, per person and per photo, with the chance line k / classes (styled as the ROC charts). */
export function topKSpec(m: RankingMetrics, title: string): TopLevelSpec {
  const K = m.classes.length;
  const series = [['per person (photos fused)', m.curve.subject], ['per photo', m.curve.photo], ['chance (k / classes)', m.classes.map((_, i) => (i + 1) / K)]] as const;
  const names = series.map(([name]) => name);
  const rows = series.flatMap(([name, values]) => values.map((value, i) => ({ k: i + 1, value, series: name })));
  const legend = { orient: 'bottom', direction: 'vertical' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title,
    width: 340,
    height: 280,
    data: { values: rows },
    mark: { type: 'line', point: true, strokeWidth: 2.5 },
    encoding: {
      x: { field: 'k', type: 'quantitative', title: 'k (the true class among the first k)', scale: { domain: [1, K] }, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: 'Top-k accuracy', scale: { domain: [0, 1] } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: [SERIES_COLOURS[0], SERIES_COLOURS[1], '#888888'] }, legend },
      strokeDash: { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: [SERIES_DASHES[0], SERIES_DASHES[1], [1, 4]] }, legend },
    },
  } as TopLevelSpec;
}

/**
 * The confusion matrix as a heat map: share of each true class's units ranked first as each class.
 * The axes keep the classes' order by each cell's class indices: an array sort would put the class
 * names into a Vega expression, where a name such as "constructor" or "toString" fails to compile.
 */
export function confusionSpec(m: RankingMetrics, level: 'photo' | 'subject', title: string): TopLevelSpec {
  const matrix = m.confusion[level];
  const rows = matrix.flatMap((row, t) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return row.map((count, p) => ({ truth: m.classes[t], predicted: m.classes[p], truthIndex: t, predictedIndex: p, share: count / total, count }));
  });
  const x = { field: 'predicted', type: 'nominal', sort: { field: 'predictedIndex', op: 'min' } };
  const y = { field: 'truth', type: 'nominal', sort: { field: 'truthIndex', op: 'min' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title,
    data: { values: rows },
    width: Math.max(160, 28 * m.classes.length),
    height: Math.max(160, 28 * m.classes.length),
    layer: [
      { mark: 'rect', encoding: { x: { ...x, title: 'Ranked first' }, y: { ...y, title: 'True class' }, color: { field: 'share', type: 'quantitative', title: 'Share of the row', scale: { domain: [0, 1], scheme: 'blues' } } } },
      { mark: { type: 'text', fontSize: 10 }, encoding: { x, y, text: { field: 'count', type: 'quantitative', format: '.1f' }, color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' } } },
    ],
  } as TopLevelSpec;
}

function topKTable(m: RankingMetrics): string {
  const ks = informativeTopK(m.classes.length).map((k) => `top${k}` as const);
  const head = `<tr><th></th>${ks.map((k) => `<th>Top-${k.slice(3)}</th>`).join('')}</tr>`;
  const row = (name: string, cells: string[]) => `<tr><th scope="row">${esc(name)}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  return `<table><caption>Top-k accuracy (95% CI)</caption>${head}${row('Per photo', ks.map((k) => est(m.photo[k], 1, true)))}${row('Per person (photos fused)', ks.map((k) => est(m.subject[k], 1, true)))}${row('Chance: random ranking (k / classes)', ks.map((k) => pct(m.chance.uniform[k])))}</table>
${majorityNote(m.chance.majority)}`;
}

/** Top-1 of always naming the largest class, which per photo is the class with the most photos. */
function majorityNote(m: RankingMetrics['chance']['majority']): string {
  const named = (c: string) => `&ldquo;${esc(c)}&rdquo;`;
  if (m.photoClass === m.class) return `<p>Majority class (${named(m.class)} named every time): top-1 ${pct(m.photo)} per photo, ${pct(m.subject)} per person.</p>`;
  return `<p>Majority class named every time: top-1 ${pct(m.photo)} per photo (${named(m.photoClass)}, the class with the most photos), ${pct(m.subject)} per person (${named(m.class)}, the class with the most people).</p>`;
}

function perClassTable(m: RankingMetrics): string {
  const rows = m.classes.map((c) => {
    const x = m.perClass[c];
    return `<tr><th scope="row">${esc(c)}</th><td>${x.support.subjects}</td><td>${x.support.photos}</td><td>${est(x.subject.auc)}</td><td>${est(x.subject.sensitivity, 1, true)}</td><td>${est(x.subject.specificity, 1, true)}</td><td>${est(x.photo.auc)}</td><td>${est(x.photo.sensitivity, 1, true)}</td></tr>`;
  });
  return `<table><caption>Each class against all others</caption><tr><th>Class</th><th>People</th><th>Photos</th><th>AUC per person</th><th>Sensitivity per person</th><th>Specificity per person</th><th>AUC per photo</th><th>Sensitivity per photo</th></tr>${rows.join('')}</table>
<p class="ci">AUC: the class's probability as the score, the class against every other class. Sensitivity: the share of the class's people (photos) ranked first as that class; specificity: the share of everyone else not ranked first as it.</p>`;
}

/**
 * The ranking section. `family` and `folds` describe how the ranker was chosen and evaluated;
 * `reference` is the class whose probability the binary results above carry.
 */
export async function rankingSection(m: RankingMetrics, how: { description: string; reference: string }): Promise<RankingSection> {
  const [curve, confusion] = await Promise.all([renderSvg(topKSpec(m, 'Top-k accuracy')), renderSvg(confusionSpec(m, 'subject', 'Confusion per person (mean over repeats)'))]);
  const html = `<p>${m.classes.length} classes ranked for each face. ${esc(how.description)} A person's photos are fused by the mean of their log-probabilities. The binary results above are for &ldquo;${esc(how.reference)}&rdquo; against all other classes pooled.</p>
${topKTable(m)}
<div class="charts"><figure>${curve}</figure><figure>${confusion}</figure></div>
${perClassTable(m)}`;
  return { id: 'ranking', title: 'Ranked differential', html };
}

/** The note of a one-vs-rest study: which classes were pooled as the negative. */
export function oneVsRestSection(positive: string, negative: string, pooled: readonly string[]): RankingSection {
  return {
    id: 'one-vs-rest',
    title: 'One against the rest',
    html: `<p class="banner">This study is one-vs-rest: &ldquo;${esc(positive)}&rdquo; against every other class, pooled as &ldquo;${esc(negative)}&rdquo; (${pooled.map((c) => `&ldquo;${esc(c)}&rdquo;`).join(', ')}). Its sensitivity and specificity depend on this mix of other classes; a ranking of all classes runs without <code>--positive</code>.</p>`,
  };
}
