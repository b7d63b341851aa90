/**
 * The report section of the study-level explanation analysis ("What the model looks at"):
 * warnings first and loud, then the mean heat map, the regions with their HPO terms and
 * intervals, the occlusion test, the outside-face share and the sanity checks.
 */
import { barSpec, renderSvg } from './charts.ts';
import { esc } from './index.ts';
import { REGION_HPO, REGION_LABELS, REGION_NAMES } from '../explain/regions.ts';
import type { MeanCi, StudyCam, StudyExplanation } from '../explain/study-result.ts';

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
  const bars = REGION_NAMES.flatMap((r) => [
    { name: r, group: `${x.positive} (correct)`, value: x.regions.positives[r].mean ?? 0, lo: x.regions.positives[r].ci95?.[0], hi: x.regions.positives[r].ci95?.[1] },
    { name: r, group: `${x.negative} (correct)`, value: x.regions.controls[r].mean ?? 0, lo: x.regions.controls[r].ci95?.[0], hi: x.regions.controls[r].ci95?.[1] },
  ]);
  const camName = CAM_NAMES[x.cam];
  const chart = await renderSvg(barSpec(bars, `Share of ${camName.replace(/&times;/g, 'x')} heat per unit area, by region (95% CI)`, 'share'));
  const om = x.occlusionMapTop;
  const fc = x.fineCamTop;
  const hr = x.fineHiResTop;
  // The other maps' top-region columns (final model, shuffled-label model), for the maps that were made.
  const finer = ([[x.gradcamTop, '7&times;7 Grad-CAM'], [fc, '14&times;14 Grad-CAM'], [hr, '14&times;14 HiResCAM'], [om, '14&times;14 occlusion map']] as const).flatMap(([t, name]) => (t ? [{ t, name }] : []));
  const finerHeads = finer.map(({ t, name }) => `<th>Top region, ${name} (final, ${t.photos} photos)</th><th>Top region, ${name} (shuffled labels)</th>`).join('');
  const finerCells = (r: (typeof REGION_NAMES)[number]) => finer.map(({ t }) => `<td>${pct(t.real[r], 0)}</td><td>${t.shuffled ? pct(t.shuffled[r], 0) : '&ndash;'}</td>`).join('');
  const regionRows = REGION_NAMES.map((r) => `<tr><th scope="row" title="${esc(r)}">${esc(REGION_LABELS[r])}</th><td style="text-align:left">${REGION_HPO[r].map(esc).join('<br>') || '&ndash;'}</td><td>${ci(x.regions.positives[r], (v) => pct(v))}</td><td>${ci(x.regions.controls[r], (v) => pct(v))}</td><td>${pct(x.topRegion.real[r], 0)}</td><td>${x.topRegion.shuffled ? pct(x.topRegion.shuffled[r], 0) : '&ndash;'}</td><td>${ci(x.occlusion.dropPerArea[r], (v) => num(v, 3))}</td>${finerCells(r)}</tr>`).join('');
  const sanityRows = x.sanity.map((s) => `<tr><th scope="row">${esc(s.name)}</th><td style="text-align:left">${esc(s.description)}</td><td>${ci(s.spearman, (v) => num(v))}</td><td>${ci(s.regionSpearman, (v) => num(v))}</td><td>${s.passed ? 'changed (passed)' : '<strong>NOT CHANGED (FLAGGED)</strong>'}</td></tr>`).join('');
  const html = `
${x.warnings.length ? `<div class="warn">${x.warnings.map((w) => `<p><strong>${esc(w)}</strong></p>`).join('')}</div>` : '<p>No sanity check failed and no shortcut warning was raised.</p>'}
<p>${CAM_TEXT[x.cam](pos, neg)} Computed on ${x.sample.photos} photos of ${x.sample.subjects} people (${x.sample.positivePhotos} ${pos}, ${x.sample.controlPhotos} ${neg}; at most a bounded sample per study)${x.sample.failed.length ? `; ${x.sample.failed.length} photos could not be explained (no face found again)` : ''}. Every gradient is exact. Regions are drawn from the five landmarks of the aligned template; a region's share is its heat per unit area, normalised over regions. "Correct" means classified correctly out of fold in most repeats.</p>
${meanHeatmapPng ? `<figure><img src="${meanHeatmapPng}" height="224" alt="mean heat map" style="image-rendering:auto"><figcaption>Mean heat map of ${x.meanHeatmapSubjects} correctly classified ${pos} people over their mean aligned face (each map scaled to unit energy, people weighted equally; colour bar: top = hottest).</figcaption></figure>` : `<p>No correctly classified ${pos} person in the sample: no mean heat map.</p>`}
<figure>${chart}</figure>
<table><caption>Regions: share of heat per unit area (mean over people, 95% subject-bootstrap CI), how often each region ranks first among the ${x.topRegion.photos} correctly classified ${pos} photos (final model vs shuffled-label model), and the occlusion test</caption>
<tr><th>Region</th><th>HPO terms</th><th>${pos} share</th><th>${neg} share</th><th>Top region (final)</th><th>Top region (shuffled labels)</th><th>Score drop per area when greyed out</th>${finerHeads}</tr>${regionRows}</table>
<p>The other maps, for comparison, on correctly classified ${pos} photos: Grad-CAM on the last 7&times;7 map (the method of Baek et al. 2025) and on the 14&times;14 block, which weight each channel by its mean gradient; HiResCAM on the 14&times;14 block without a reference, which lights the eyes and nose of every aligned face${om ? `; and occlusion maps, a grey 16&times;16 square slid over a 14&times;14 grid of the face, the map holding the drop of the ${pos} score at each place (model-agnostic, but 196 forward passes per photo, so made for ${om.photos} photos only)` : ''}. On planted sets (<code>npm run bench:explain</code>, strength 0.6) the planted region ranked first for 86% (nose) and 81% (eyes) of correctly classified positives by contrastive HiResCAM, with the shuffled-label model 16-21%; by 7&times;7 Grad-CAM for 24% of both. Each 7&times;7 cell of this network sees most of the face, and Grad-CAM's channel averaging ignores that the network's head weights every place separately.</p>
<p>Occlusion test: greying out one region at a time and measuring the drop in the ${pos} score (per unit area). Rank agreement of the occlusion drops with the heat-map shares (Spearman, over the 9 regions, mean over people): <strong>${ci(x.occlusion.agreement, (v) => num(v))}</strong>. Agreement near 1 means both methods rank the regions alike; near 0, they disagree and neither ranking should be trusted alone.</p>
<p>Heat outside the face (hair, ears, background): ${ci(x.outsideFace.energy, (v) => pct(v))} of the energy on ${pct(x.outsideFace.area, 0)} of the crop (heat density outside vs inside the face: ${num(x.outsideFace.densityRatio)}; a flat map gives 1; the shortcut warning is raised from ${x.outsideFace.threshold}).</p>
<table><caption>Sanity checks (Adebayo et al. 2018): the heat maps of randomised models must differ from the real ones</caption><tr><th>Check</th><th>What was randomised</th><th>Spearman of the maps (95% CI)</th><th>Spearman of region shares</th><th>Verdict</th></tr>${sanityRows}</table>
<p class="ci">Per-photo details are in <code>explanation.json</code>.</p>`;
  return { id: 'explanations', title: 'What the model looks at', html };
}
