/**
 * The report section of the study-level explanation analysis ("What the model looks at"):
 * warnings first and loud, then the mean heat map, the regions with their HPO terms and
 * intervals, the occlusion test, the outside-face share and the sanity checks.
 */
import { barSpec, renderSvg } from '../report/charts.ts';
import { esc } from '../report/index.ts';
import { REGION_HPO, REGION_NAMES } from './regions.ts';
import type { MeanCi, StudyExplanation } from './study.ts';

const pct = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '<span class="na">n/a</span>' : `${(100 * v).toFixed(d)}%`);
const num = (v: number | null | undefined, d = 2) => (v === null || v === undefined ? '<span class="na">n/a</span>' : v.toFixed(d));
const ci = (m: MeanCi, f: (v: number | null) => string) => `${f(m.mean)}${m.ci95 ? ` <span class="ci">(${f(m.ci95[0])}&ndash;${f(m.ci95[1])})</span>` : ''}`;

/** Builds the section (already escaped HTML) for `renderReport`'s `sections`. */
export async function explanationSection(x: StudyExplanation, meanHeatmapPng: string | null): Promise<{ id: string; title: string; html: string }> {
  const pos = esc(x.positive), neg = esc(x.negative);
  const bars = REGION_NAMES.flatMap((r) => [
    { name: r, group: `${x.positive} (correct)`, value: x.regions.positives[r].mean ?? 0, lo: x.regions.positives[r].ci95?.[0], hi: x.regions.positives[r].ci95?.[1] },
    { name: r, group: `${x.negative} (correct)`, value: x.regions.controls[r].mean ?? 0, lo: x.regions.controls[r].ci95?.[0], hi: x.regions.controls[r].ci95?.[1] },
  ]);
  const chart = await renderSvg(barSpec(bars, 'Share of Grad-CAM heat per unit area, by region (95% CI)', 'share'));
  const om = x.occlusionMapTop;
  const fc = x.fineCamTop;
  const hr = x.fineHiResTop;
  const cr = x.fineContrastTop;
  // The finer maps' top-region columns (final model, shuffled-label model), for the maps that were made.
  const finer = ([[fc, '14&times;14 Grad-CAM'], [hr, '14&times;14 HiResCAM'], [cr, 'contrastive HiResCAM'], [om, '14&times;14 occlusion map']] as const).flatMap(([t, name]) => (t ? [{ t, name }] : []));
  const finerHeads = finer.map(({ t, name }) => `<th>Top region, ${name} (final, ${t.photos} photos)</th><th>Top region, ${name} (shuffled labels)</th>`).join('');
  const finerCells = (r: (typeof REGION_NAMES)[number]) => finer.map(({ t }) => `<td>${pct(t.real[r], 0)}</td><td>${t.shuffled ? pct(t.shuffled[r], 0) : '&ndash;'}</td>`).join('');
  const regionRows = REGION_NAMES.map((r) => `<tr><th scope="row">${esc(r)}</th><td style="text-align:left">${REGION_HPO[r].map(esc).join('<br>') || '&ndash;'}</td><td>${ci(x.regions.positives[r], (v) => pct(v))}</td><td>${ci(x.regions.controls[r], (v) => pct(v))}</td><td>${pct(x.topRegion.real[r], 0)}</td><td>${x.topRegion.shuffled ? pct(x.topRegion.shuffled[r], 0) : '&ndash;'}</td><td>${ci(x.occlusion.dropPerArea[r], (v) => num(v, 3))}</td>${finerCells(r)}</tr>`).join('');
  const sanityRows = x.sanity.map((s) => `<tr><th scope="row">${esc(s.name)}</th><td style="text-align:left">${esc(s.description)}</td><td>${ci(s.spearman, (v) => num(v))}</td><td>${ci(s.regionSpearman, (v) => num(v))}</td><td>${s.passed ? 'changed (passed)' : '<strong>NOT CHANGED (FLAGGED)</strong>'}</td></tr>`).join('');
  const html = `
${x.warnings.length ? `<div class="warn">${x.warnings.map((w) => `<p><strong>${esc(w)}</strong></p>`).join('')}</div>` : '<p>No sanity check failed and no shortcut warning was raised.</p>'}
<p>Grad-CAM (Selvaraju et al. 2017) of the final model's ${pos} score (before its sigmoid) on the backbone's last 7&times;7 feature map, on ${x.sample.photos} photos of ${x.sample.subjects} people (${x.sample.positivePhotos} ${pos}, ${x.sample.controlPhotos} ${neg}; at most a bounded sample per study)${x.sample.failed.length ? `; ${x.sample.failed.length} photos could not be explained (no face found again)` : ''}. The gradient through the embedding head is exact (the head is linear). Regions are drawn from the five landmarks of the aligned template; a region's share is its heat per unit area, normalised over regions. "Correct" means classified correctly out of fold in most repeats.</p>
${meanHeatmapPng ? `<figure><img src="${meanHeatmapPng}" height="224" alt="mean heat map" style="image-rendering:auto"><figcaption>Mean heat map of ${x.meanHeatmapSubjects} correctly classified ${pos} people over their mean aligned face (each map scaled to unit energy, people weighted equally; colour bar: top = hottest).</figcaption></figure>` : `<p>No correctly classified ${pos} person in the sample: no mean heat map.</p>`}
<figure>${chart}</figure>
<table><caption>Regions: share of heat per unit area (mean over people, 95% subject-bootstrap CI), how often each region ranks first among the ${x.topRegion.photos} correctly classified ${pos} photos (final model vs shuffled-label model), and the occlusion test</caption>
<tr><th>Region</th><th>HPO terms</th><th>${pos} share</th><th>${neg} share</th><th>Top region (final)</th><th>Top region (shuffled labels)</th><th>Score drop per area when greyed out</th>${finerHeads}</tr>${regionRows}</table>
${fc ? `<p>14&times;14 Grad-CAM: the same method on the backbone's last 14&times;14 block (exact gradient through the layers above it), for ${fc.photos} correctly classified ${pos} photos; its cells are twice as fine as the 7&times;7 map's. HiResCAM (Draelos &amp; Carin 2020) on the same block weights each place by its own gradient instead of the channel's mean gradient, so it shows each place's first-order contribution to the score.${cr ? ` Contrastive HiResCAM measures each place against the mean 14&times;14 map of the sample's ${neg} faces (gradient times the difference from that reference: the first-order share of each place in the score's difference from a typical ${neg} face), so it shows where this face differs from the ${neg} faces in the direction of ${pos}, not where every aligned face is strongly activated (the eyes and nose); it is the map to read first.` : ''}</p>` : ''}
${om ? `<p>Occlusion maps: a grey 16&times;16 square slid over a 14&times;14 grid of the aligned face, the map holding the drop of the ${pos} score at each place (model-agnostic, finer than the 7&times;7 Grad-CAM, but 196 forward passes per photo, so made for ${om.photos} correctly classified ${pos} photos only). Where they disagree, prefer contrastive HiResCAM, the occlusion map or the 14&times;14 HiResCAM: the occlusion map measures what the model does when a part of the face is hidden, while each 7&times;7 Grad-CAM cell of this network sees most of the face (bench:explain, planted sets at strength 0.6: the planted eye region ranked first in 87% of photos by contrastive HiResCAM, 90% by occlusion map, 89% by 14&times;14 HiResCAM, 37% by 7&times;7 and 15% by 14&times;14 Grad-CAM; the planted nose in 69%, 51%, 53%, 18% and 10%; with the shuffled-label model, contrastive HiResCAM put the planted region first in only 18-21%).</p>` : ''}
<p>Occlusion test: greying out one region at a time and measuring the drop in the ${pos} score (per unit area). Rank agreement of the occlusion drops with the Grad-CAM shares (Spearman, over the 9 regions, mean over people): <strong>${ci(x.occlusion.agreement, (v) => num(v))}</strong>. Agreement near 1 means both methods rank the regions alike; near 0, they disagree and neither ranking should be trusted alone.</p>
<p>Heat outside the face (hair, ears, background): ${ci(x.outsideFace.energy, (v) => pct(v))} of the energy on ${pct(x.outsideFace.area, 0)} of the crop (heat density outside vs inside the face: ${num(x.outsideFace.densityRatio)}; a flat map gives 1; the shortcut warning is raised from ${x.outsideFace.threshold}).</p>
<table><caption>Sanity checks (Adebayo et al. 2018): the heat maps of randomised models must differ from the real ones</caption><tr><th>Check</th><th>What was randomised</th><th>Spearman of 7&times;7 maps (95% CI)</th><th>Spearman of region shares</th><th>Verdict</th></tr>${sanityRows}</table>
<p class="ci">Per-photo details are in <code>explanation.json</code>.</p>`;
  return { id: 'explanations', title: 'What the model looks at', html };
}
