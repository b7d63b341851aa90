/**
 * The report section of the study-level explanation analysis ("What the model looks at"):
 * warnings first and loud, a summary line that follows every check, then the mean heat map, the
 * regions (where the score comes from, per person), how often each region ranks first (per
 * photo), for a model with a linear geometry part its exact contributions by region (in sample),
 * and the checks with their thresholds: the sanity checks, the occlusion test's agreement
 * with the heat map, and the share of heat outside the face.
 */
import { barSpec, renderSvg } from './charts.ts';
import { esc } from './index.ts';
import { signedFixed } from '../math/decimal.ts';
import { GEOMETRY_NEGLIGIBLE_LOGODDS, geometryNegligible, REGION_HPO, REGION_LABELS, REGION_NAMES, REGION_RANKING_NOTE } from '../explain/regions.ts';
import type { ExplanationCheck, MeanCi, StudyCam, StudyExplanation, StudyGeometryExplanation, TopRegionCounts } from '../explain/study-result.ts';

const pct = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '<span class="na">n/a</span>' : `${(100 * v).toFixed(d)}%`);
const num = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '<span class="na">n/a</span>' : v.toFixed(d));
/** Display names of the study's maps. */
const CAM_NAMES: Record<StudyCam, string> = { contrastive: 'contrastive HiResCAM (14&times;14)', hirescam: 'HiResCAM (14&times;14)', gradcam: 'Grad-CAM (7&times;7)' };
/** What each map is, for the section's first paragraph (HTML). */
const CAM_TEXT: Record<StudyCam, (pos: string, neg: string) => string> = {
  contrastive: (pos, neg) => `Contrastive HiResCAM of the final model's ${pos} score (before its sigmoid) on the backbone's last 14&times;14 block: each place's gradient times the difference between this face's map and the mean map of the sample's ${neg} faces, the first-order share of each place in the score's difference from a typical ${neg} face (HiResCAM, Draelos &amp; Carin 2020, with DeepLIFT's reference, Shrikumar et al. 2017). It shows where this face differs from the ${neg} faces in the direction of ${pos}, not where every aligned face is strongly activated (the eyes and nose).`,
  hirescam: (pos) => `HiResCAM (Draelos &amp; Carin 2020) of the final model's ${pos} score (before its sigmoid) on the backbone's last 14&times;14 block: each place's gradient times its activation. (No control faces in the sample, so no contrastive reference.)`,
  gradcam: (pos) => `Grad-CAM (Selvaraju et al. 2017) of the final model's ${pos} score (before its sigmoid) on the backbone's last 7&times;7 feature map.`,
};
const ci = (m: MeanCi, f: (v: number | null) => string) => `${f(m.mean)}${m.ci95 ? ` <span class="ci">(${f(m.ci95[0])}&ndash;${f(m.ci95[1])})</span>` : ''}`;

/** Builds the section (already escaped HTML) for `renderReport`'s `sections`. */
export async function explanationSection(x: StudyExplanation, meanHeatmapPng: string | null): Promise<{ id: string; title: string; html: string }> {
  const pos = esc(x.positive), neg = esc(x.negative);
  const html = `
${checksSummary(x)}
<p>${CAM_TEXT[x.cam](pos, neg)}${x.scope ? ` ${esc(x.scope)}` : ''} Computed on ${x.sample.photos} photos of ${x.sample.subjects} people (photos: ${x.sample.positivePhotos} ${pos}, ${x.sample.controlPhotos} ${neg}; at most a bounded sample per study)${x.sample.failed.length ? `; ${x.sample.failed.length} photos could not be explained (no face found again)` : ''}. Every gradient is exact. Regions are drawn from the five landmarks of the aligned template; a region's share is its heat per unit area, normalised over regions. Sides are the patient's (the eye on the image's left is the patient's right eye). "Correct" means classified correctly out of fold in most repeats. These say where the score comes from, not what the face shows: they are not findings. ${esc(REGION_RANKING_NOTE)}</p>
${meanHeatmapPng ? `<figure><img src="${meanHeatmapPng}" height="224" alt="mean heat map" style="image-rendering:auto"><figcaption>Mean heat map of ${x.meanHeatmapSubjects} correctly classified ${pos} people over their mean aligned face (each map scaled to unit energy, people weighted equally; colour bar: top = hottest).</figcaption></figure>` : `<p>No correctly classified ${pos} person in the sample: no mean heat map.</p>`}
<figure>${await regionChart(x)}</figure>
${regionTable(x)}
${topRegionTable(x)}
${x.geometry ? geometryTable(x.geometry) : ''}
${checksTable(x)}
<p>Occlusion test: greying out one region at a time and measuring the drop in the ${pos} score before its sigmoid (log-odds), divided by the region's fraction of the crop's area, so that a large region does not win by its size alone. Its agreement is the rank correlation (Spearman, over the 9 regions, one value per photo, mean over people) of those drops with the heat map's shares: near 1, both methods rank the regions alike; near 0, they disagree and neither ranking should be trusted alone.</p>
<p>Heat outside the face (hair, ears, background): ${ci(x.outsideFace.energy, (v) => pct(v))} of the energy on ${pct(x.outsideFace.area, 0)} of the crop; per unit area, ${num(x.outsideFace.densityRatio)} times the heat on the face (a flat map gives 1).</p>
<p class="ci">Per-photo details are in <code>explanation.json</code>.</p>`;
  return { id: 'explanations', title: 'What the model looks at', html };
}

/**
 * The geometry part's contributions by region (log-odds, with subject-bootstrap intervals) and how
 * often each region contributes most, on the correctly screened positive photos; said plainly to be
 * the final model's, in sample.
 */
export function geometryTable(g: StudyGeometryExplanation): string {
  const pos = esc(g.positive);
  const signed = (v: number | null) => (v === null ? '<span class="na">n/a</span>' : signedFixed(v, 3, '&minus;'));
  const names = Object.keys(g.regions) as (keyof typeof g.regions)[];
  const negligible = geometryNegligible(names.map((r) => ({ contribution: g.regions[r]!.mean ?? 0 })));
  const ranked = names.sort((a, b) => (g.regions[b]!.mean ?? 0) - (g.regions[a]!.mean ?? 0));
  // Where every contribution is negligible, which region "contributes most" is noise: the column is left out.
  const first = (r: keyof typeof g.regions) => (negligible ? '' : `<td>${pct(g.first[r], 0)}</td>`);
  const rows = ranked.map((r) => `<tr><th scope="row" title="${esc(r)}">${esc(REGION_LABELS[r])}</th><td>${ci(g.regions[r]!, signed)}</td>${first(r)}</tr>`).join('');
  return `<table class="fit" id="geometry-contributions"><caption>Geometry: contribution by region to the final model's log-odds, on ${g.photos} correctly screened ${pos} photos of ${g.subjects} people (each person's photos averaged, then people; 95% subject-bootstrap CI).</caption>
<tr><th>Region</th><th>Mean contribution (log-odds; + towards ${pos})</th>${negligible ? '' : '<th>Photos where it contributes most</th>'}</tr>${rows}</table>
${negligible ? `<p class="warn" id="geometry-negligible">Every region's mean contribution is under ${GEOMETRY_NEGLIGIBLE_LOGODDS} log-odds: the geometry part hardly moves the final model's score, so which region contributes most means nothing here.</p>` : ''}
<p>The geometry part of the model is linear, so its coefficients times each photo's standardised landmark coordinates and measurements split its share of the score exactly among the regions (a measurement's part is divided equally among its landmarks' regions), relative to the mean face of the study's photos. <strong>In sample:</strong> these are the final model's contributions on photos it was trained on (cross-validation chose which photos count as correctly screened), so they say what the model uses, not how well that generalises.</p>`;
}

/** Warnings (loud), then one line that counts every check: passed, failed and not measured. */
function checksSummary(x: StudyExplanation): string {
  const warnings = x.warnings.length ? `<div class="warn">${x.warnings.map((w) => `<p><strong>${esc(w)}</strong></p>`).join('')}</div>` : '';
  const failed = x.checks.filter((c) => c.passed === false);
  const unmeasured = x.checks.filter((c) => c.passed === null);
  const names = (cs: ExplanationCheck[]) => cs.map((c) => esc(c.name)).join(', ');
  const parts = [
    failed.length ? `<strong>${failed.length} of ${x.checks.length} checks failed</strong> (${names(failed)})` : `${x.checks.length - unmeasured.length} of ${x.checks.length} checks passed`,
    ...(unmeasured.length ? [`${unmeasured.length} could not be measured (${names(unmeasured)})`] : []),
  ];
  const summary = !failed.length && !unmeasured.length ? `All ${x.checks.length} checks passed (see <a href="#explanation-checks">the checks</a>).` : `${parts.join('; ')}; see <a href="#explanation-checks">the checks</a>.`;
  return `${warnings}<p class="summary">${summary}</p>`;
}

/** The bar chart of the region shares, positives vs controls (people weighted equally). */
function regionChart(x: StudyExplanation): Promise<string> {
  const bars = REGION_NAMES.flatMap((r) => [
    { name: REGION_LABELS[r], group: `${x.positive} (correct)`, value: x.regions.positives[r].mean ?? 0, lo: x.regions.positives[r].ci95?.[0], hi: x.regions.positives[r].ci95?.[1] },
    { name: REGION_LABELS[r], group: `${x.negative} (correct)`, value: x.regions.controls[r].mean ?? 0, lo: x.regions.controls[r].ci95?.[0], hi: x.regions.controls[r].ci95?.[1] },
  ]);
  return renderSvg(barSpec(bars, `Share of ${CAM_NAMES[x.cam].replace(/&times;/g, 'x')} heat per unit area, by region, per person (95% CI)`, 'share of heat'));
}

/** Where the score comes from, per region: the shares of both classes and the occlusion drop, per person. */
function regionTable(x: StudyExplanation): string {
  const pos = esc(x.positive), neg = esc(x.negative);
  const rows = REGION_NAMES.map((r) => `<tr><th scope="row" title="${esc(r)}">${esc(REGION_LABELS[r])}</th><td class="text">${REGION_HPO[r].map(esc).join('<br>') || '&ndash;'}</td><td>${ci(x.regions.positives[r], (v) => pct(v))}</td><td>${ci(x.regions.controls[r], (v) => pct(v))}</td><td>${ci(x.occlusion.dropPerArea[r], (v) => num(v, 3))}</td></tr>`).join('');
  return `<table class="fit"><caption>Where the score comes from, by region, per person (each person's photos averaged, then people; 95% subject-bootstrap CI). Shares are of correctly classified people; the score drop when a region is greyed out is over every person of the sample, of both classes, classified correctly or not.</caption>
<colgroup><col style="width:18%"><col style="width:28%"><col><col><col></colgroup>
<tr><th>Region</th><th>HPO terms the region relates to (not findings)</th><th>${pos} share of heat</th><th>${neg} share of heat</th><th>${pos} score drop when greyed out, in log-odds per unit of area (the drop divided by the region's fraction of the 112&times;112 crop; every person of the sample)</th></tr>${rows}</table>`;
}

/** How often each region ranks first, per photo, for each map that was made: final model / shuffled-label model. */
function topRegionTable(x: StudyExplanation): string {
  const maps = ([[x.topRegion, `${CAM_NAMES[x.cam]} (the study's map)`], [x.gradcamTop, 'Grad-CAM 7&times;7'], [x.fineCamTop, 'Grad-CAM 14&times;14'], [x.fineHiResTop, 'HiResCAM 14&times;14'], [x.occlusionMapTop, 'occlusion map 14&times;14']] as const)
    .flatMap(([t, name]): { t: TopRegionCounts; name: string }[] => (t && t.photos ? [{ t, name }] : []));
  if (!maps.length) return `<p>No correctly classified ${esc(x.positive)} photo in the sample: no top-region counts.</p>`;
  const heads = maps.map(({ t, name }) => `<th>${name}, ${t.photos} photos</th>`).join('');
  const cell = (t: TopRegionCounts, r: (typeof REGION_NAMES)[number]) => `${pct(t.real[r], 0)} / ${t.shuffled ? pct(t.shuffled[r], 0) : '&ndash;'}`;
  // A photo whose map shows no evidence anywhere has no first region: its own row, so each column sums to 100%.
  const none = (shares: Record<string, number>) => Math.max(0, 1 - Object.values(shares).reduce((a, v) => a + v, 0));
  const noneRow = maps.some(({ t }) => none(t.real) > 1e-9 || (t.shuffled && none(t.shuffled) > 1e-9))
    ? `<tr><th scope="row">No region (the map shows no evidence anywhere)</th>${maps.map(({ t }) => `<td>${pct(none(t.real), 0)} / ${t.shuffled ? pct(none(t.shuffled), 0) : '&ndash;'}</td>`).join('')}</tr>`
    : '';
  const rows = REGION_NAMES.map((r) => `<tr><th scope="row" title="${esc(r)}">${esc(REGION_LABELS[r])}</th>${maps.map(({ t }) => `<td>${cell(t, r)}</td>`).join('')}</tr>`).join('') + noneRow;
  return `<table class="fit"><caption>How often each region ranks first, per photo, among correctly classified ${esc(x.positive)} photos: final model / model trained on shuffled labels (which should show no preference)</caption>
<tr><th>Region</th>${heads}</tr>${rows}</table>
<p>The other maps, for comparison: Grad-CAM on the last 7&times;7 map (the method of Baek et al. 2025) and on the 14&times;14 block, which weight each channel by its mean gradient; HiResCAM on the 14&times;14 block without a reference, which lights the eyes and nose of every aligned face; occlusion maps, a grey 16&times;16 square slid over a 14&times;14 grid of the face, the map holding the drop of the ${esc(x.positive)} score at each place (model-agnostic, but 196 forward passes per photo, so made for a few photos only). Why the study's map is the default is measured in the tool's own benchmark on synthetic planted data, not on this study (<code>docs/decisions.md</code>).</p>`;
}

/** What each kind of check tests, for the checks table. */
function checkDescription(x: StudyExplanation, c: ExplanationCheck): string {
  const sanity = x.sanity.find((s) => `sanity: ${s.name}` === c.name);
  if (sanity) return `Sanity check (Adebayo et al. 2018): ${esc(sanity.description)}; the heat maps must change. Spearman of the maps, real vs randomised (region shares: ${ci(sanity.regionSpearman, (v) => num(v))}).`;
  if (c.name === 'occlusion agreement') return 'Greying out each region must rank the regions as the heat map does: Spearman of the occlusion drops with the heat shares.';
  return 'Heat per unit area outside the face (hair, ears, background) over that on it: from the threshold up, the model may rely on non-facial cues (shortcut learning).';
}

/** Every check with its measured value, its threshold and its result. */
function checksTable(x: StudyExplanation): string {
  const rows = x.checks.map((c) => {
    const result = c.passed === null ? '<span class="na">not measured</span>' : c.passed ? 'passed' : '<strong>FAILED</strong>';
    return `<tr><th scope="row">${esc(c.name)}</th><td class="text">${checkDescription(x, c)}</td><td>${ci(c.measured, (v) => num(v))}</td><td>${c.rule === 'max' ? '&lt;' : '&ge;'} ${c.threshold}</td><td>${result}</td></tr>`;
  }).join('');
  return `<table class="fit" id="explanation-checks"><caption>Checks of the explanations: each measured per photo, mean over people (95% subject-bootstrap CI), against its threshold</caption>
<colgroup><col style="width:17%"><col style="width:43%"><col><col><col></colgroup>
<tr><th>Check</th><th>What it tests</th><th>Measured</th><th>Passes when</th><th>Result</th></tr>${rows}</table>`;
}
