/**
 * Rendering of a screening result: the call at the model's threshold and what it means (the
 * validated rates, the chance at a prevalence the clinician sets), the score with its interval
 * against the threshold, the model's validated performance for the views uploaded, and one card per photo
 * (face box and landmarks over the photo, the heat map's warm part over it with an opacity slider
 * and its colour scale, view and quality badges, the region table with HPO terms above threshold,
 * the geometry's contribution by region when the model has one, the measurements).
 */
import { belowPhotoThreshold, regionsFromHeatMap, type ScreenPhoto, type ScreenResult } from '../../src/workflows/screen/result.ts';
import type { ModelInfo } from '../../src/server/api-types.ts';
import type { View } from '../../src/types.ts';
import { chanceRangeEndNote, likelihoodRatioText, postTest, prevalenceForm, prevalenceText, probabilityText, type PrevalenceForm } from '../../src/evaluate/post-test.ts';
import { REGION_RANKING_NOTE } from '../../src/explain/regions.ts';
import { heatMapCaption } from '../../src/explain/heat-scale.ts';
import { zText } from '../../src/features/measurements.ts';
import { h, svg, uid } from './dom.ts';
import { className, metricCells, pct, photoErrorText, regionName, scorePct, VIEW_TEXT } from './format.ts';
import { measurementLabel, measurementTable } from './measurement-view.ts';
import { geometryTable } from './geometry-view.ts';

/**
 * The model as the printed page's one header line names it: the backbone, whose embedding the
 * model reads, or for a model that leaves the embedding out its blocks as `--features` names them
 * ("geometry only"). Short, since one more line pushes a full summary onto a second page.
 */
function printedModel(model: ScreenResult['model']): string {
  return model.features && !model.features.includes('embedding') ? `${model.features.join('+')} only` : model.backbone;
}

/** The result section. `urls[i]` is a blob: URL of the i-th uploaded photo (the result keeps upload order). */
export function resultView(result: ScreenResult, urls: (string | undefined)[], model: ModelInfo | undefined, actions: { onClear(): void }): HTMLElement {
  const usableViews = [...new Set(result.photos.flatMap((p) => (p.error || !p.view ? [] : [p.view])))];
  const notes = photoNotes(result.photos);
  return h('section', { class: 'result', 'aria-labelledby': 'result-title' },
    h('div', { class: 'print-only print-header' },
      h('strong', {}, 'Phenoface screening summary'),
      h('span', {}, `Printed ${new Date().toLocaleString()} · model ${result.model.id} (${printedModel(result.model)})`),
      h('span', { class: 'patient-line' }, 'Patient: ______________________   Clinician: ______________________'),
    ),
    summaryCard(result, model, usableViews, actions),
    result.differential?.length ? differentialCard(result) : '',
    subjectMeasurements(result),
    h('h2', { class: 'photos-title' }, `Photos (${result.photos.length})`),
    result.photos.some(regionsFromHeatMap) ? h('p', { class: 'small muted region-note' }, [REGION_RANKING_NOTE, result.model.heatMapScope].filter(Boolean).join(' ')) : '',
    // A failed check of the maps is a warning, not small print: it qualifies every region table below.
    result.model.heatMapChecks ? h('ul', { class: 'warnings map-checks' }, h('li', {}, h('span', { class: 'visually-hidden' }, 'Warning: '), result.model.heatMapChecks)) : '',
    h('div', { class: 'photo-grid' }, ...result.photos.map((p, i) => photoCard(p, urls[i], i, { partialMaps: Boolean(result.model.heatMapScope), notes, photoThreshold: result.model.photoThreshold }))),
    notes.length ? h('ol', { class: 'photo-notes' }, ...notes.map((n) => h('li', {}, `${photoList(n.photos)}: ${n.text}`))) : '',
    h('p', { class: 'disclaimer' }, result.disclaimer || 'A screening aid, not a diagnosis.'),
  );
}

/** A warning printed once below the photos, with the photos (0-based) that carry it. */
interface PhotoNote { text: string; photos: number[] }

/**
 * Each distinct photo warning once, in the order the photos first raise it. A printout of four or
 * more photos lists them below the grid and each card only points to its notes: view advice quotes
 * two AUCs with their intervals, and repeated in five narrow columns it pushed ten photos onto a
 * second page.
 */
function photoNotes(photos: readonly ScreenPhoto[]): PhotoNote[] {
  const byText = new Map<string, number[]>();
  photos.forEach((p, i) => { if (!p.error) for (const w of p.warnings ?? []) byText.set(w, [...(byText.get(w) ?? []), i]); });
  return [...byText].map(([text, at]) => ({ text, photos: at }));
}

/** "Photo 4", "Photos 4 and 7", "Photos 1, 4 and 7" (1-based, as the cards are titled). */
function photoList(photos: readonly number[]): string {
  const n = photos.map((i) => String(i + 1));
  return n.length === 1 ? `Photo ${n[0]}` : `Photos ${n.slice(0, -1).join(', ')} and ${n.at(-1)}`;
}

/** The person's measurements (means over their photos), when the model carries control norms. */
function subjectMeasurements(result: ScreenResult): HTMLElement | string {
  const ms = result.subject.measurements;
  if (!ms?.length) return '';
  const note = result.subject.measurementsNote ?? 'z-scores are against the study\'s controls, not population norms.';
  const beyond = ms.filter((m) => m.hpo.length > 0);
  const line = beyond.length
    ? `Beyond ±2 SD of this study's controls (not population norms): ${beyond.map((m) => `${measurementLabel(m.name)} z ${zText(m.z)} (${m.hpo.map((t) => `${t.label} ${t.id}`).join(', ')})`).join('; ')}.`
    : 'No measurement of the person (the mean over their photos) beyond ±2 SD of this study\'s controls (not population norms); each photo\'s own are below.';
  return h('section', { class: 'card subject-measurements', 'aria-label': 'Measurements' },
    h('h2', {}, 'Measurements'),
    measurementTable(ms, 'Facial measurements of this person (mean over the photos of one view)', note),
    h('p', { class: 'print-only measurement-line' }, line),
  );
}

/**
 * A ranking model's differential: the classes it was trained on, most probable first, each with
 * its probability among those classes as a bar, and the note saying what the list can and cannot say.
 */
function differentialCard(result: ScreenResult): HTMLElement {
  const items = result.differential!.map((d, i) => {
    const bar = h('span', { class: 'differential-bar' });
    bar.style.width = `${Math.max(0.5, d.probability * 100)}%`;
    return h('li', { class: 'differential-item', 'data-testid': 'differential-item' },
      h('span', { class: 'differential-rank' }, `${i + 1}.`),
      h('span', { class: 'differential-label' }, className(d.label)),
      h('span', { class: 'differential-track', role: 'img', 'aria-label': `${scorePct(d.probability)}` }, bar),
      h('span', { class: 'differential-value' }, scorePct(d.probability)),
    );
  });
  return h('section', { class: 'differential card', 'aria-labelledby': 'differential-title', 'data-testid': 'differential' },
    h('h2', { id: 'differential-title' }, 'Ranked differential'),
    result.differentialEvidenceNote ? h('p', { class: 'synthetic-banner', role: 'note', 'data-testid': 'differential-evidence' }, result.differentialEvidenceNote) : '',
    h('ol', { class: 'differential-list' }, ...items),
    result.differentialNote ? h('p', { class: 'muted small differential-note' }, result.differentialNote) : '',
  );
}

/** A chance as `screen` prints it: two significant digits at either end (0.27%, 99.960%), never 100.0% for less (`probabilityText`). */
const chanceText = (v: number): string => probabilityText(v);

/** A counted rate, or an end of a range, which may be exactly 0% or 100%. */
const rateText = (v: number): string => probabilityText(v, true);

/** A rate's 95% interval in brackets, or nothing without one. */
const ciText = (v?: [number, number]): string => (v ? ` (95% CI ${rateText(v[0])}–${rateText(v[1])})` : '');

/**
 * What the call means: the model's validated rates at its threshold, and the chance of the
 * condition at a prevalence the clinician can change (Bayes on odds with this call's likelihood
 * ratio: the server's own `postTest`, on the same rates).
 */
function meaningBlock(result: ScreenResult): HTMLElement | string {
  const s = result.subject;
  if (s.sensitivity === undefined || s.specificity === undefined || s.prevalence === undefined) {
    return h('p', { class: 'muted' }, 'This model carries no validated sensitivity and specificity, so the result cannot be turned into a chance.');
  }
  const positive = className(result.model.positive);
  const above = s.label === result.model.positive;
  const sens = s.sensitivity;
  const spec = s.specificity;
  const chanceAt = (prevalence: number) => postTest(above, { value: sens }, { value: spec }, prevalence).chance;
  const chance = h('strong', { 'data-testid': 'chance' });
  const field = prevalenceField(s.prevalence, (prevalence) => {
    const c = prevalence === null ? null : chanceAt(prevalence);
    // A chance of exactly 0 or 1 comes from a validated rate of 1: the note below says to read the range.
    chance.textContent = c === null ? '–' : s.chanceNote && (c === 0 || c === 1) ? 'not a certainty (see below)' : chanceText(c);
  });
  const screenedAt = prevalenceText(s.prevalence);
  const lr = likelihoodRatioText(s.likelihoodRatio, s.likelihoodRatioRange);
  return h('div', { class: 'meaning' },
    h('p', {}, `In cross-validation, models built as this one was (each at the threshold its training folds chose) flagged ${rateText(sens)}${ciText(s.sensitivityCi95)} of people with ${positive} and cleared ${rateText(spec)}${ciText(s.specificityCi95)} of people without it (per person).`),
    h('p', {}, `Chance of ${positive} given this result: `, chance, ' at a prevalence of ', ...field, `; likelihood ratio of this result ${lr}.`,
      !s.chanceNote && s.chanceRange ? h('span', { 'data-testid': 'chance-range' }, ` At ${screenedAt}, its range over the rates' 95% intervals is ${rateText(s.chanceRange[0])} to ${rateText(s.chanceRange[1])}. ${chanceRangeEndNote(above, s.chanceRange)}`.trimEnd()) : '',
      h('span', { class: 'no-print' }, ' Set the prevalence of the population you screen: a referral clinic sees far more cases than 1 in 4,000 births.')),
    s.chanceNote ? h('p', { 'data-testid': 'chance-note' }, `${s.chanceNote}${s.chanceRange ? ` At the prevalence screened at (${screenedAt}), that range is ${rateText(s.chanceRange[0])} to ${rateText(s.chanceRange[1])}.` : ''}`) : '',
    // After the chance, whose "the rates'" are the per-person ones above it.
    s.photosNote ? h('p', { 'data-testid': 'photos-note' }, s.photosNote) : '',
  );
}

/**
 * The prevalence the chance is computed at, as the clinician reads and sets it: "1 in [N]" or
 * "[x]%", starting at the exact prevalence screened at in the form the CLI prints it
 * (`prevalenceForm`), so that a referral clinic's 30% is neither shown nor computed as 1 in 3. A
 * select switches the form for a population the other form suits; the value is converted to four
 * significant digits and read back, so the chance is always at the prevalence shown. Calls
 * `onChange` now and on every change with the prevalence entered, or null for a value that is none.
 */
function prevalenceField(screenedAt: number, onChange: (prevalence: number | null) => void): (HTMLElement | string)[] {
  let form = prevalenceForm(screenedAt);
  const before = h('span', {});
  const after = h('span', {});
  const input = h('input', { type: 'number', id: 'prevalence-input', step: 'any', class: 'prevalence-input', 'data-testid': 'prevalence' });
  const label = h('label', { for: 'prevalence-input', class: 'visually-hidden' });
  const select = h('select', { class: 'prevalence-form no-print', 'aria-label': 'Enter the prevalence as', 'data-testid': 'prevalence-form' },
    h('option', { value: 'one-in' }, 'as 1 in N'),
    h('option', { value: 'percent' }, 'as a percentage'));
  const read = (): number | null => {
    const v = Number(input.value);
    const p = form === 'one-in' ? 1 / v : v / 100;
    return input.value.trim() !== '' && p > 0 && p < 1 ? p : null;
  };
  const show = (p: number | null, digits: number) => {
    before.textContent = form === 'one-in' ? '1 in ' : '';
    after.textContent = form === 'percent' ? '%' : '';
    label.textContent = form === 'one-in' ? 'Prevalence, as 1 in N people' : 'Prevalence, as a percentage of people';
    input.min = form === 'one-in' ? '1' : '0';
    input.max = form === 'one-in' ? '1e9' : '100';
    select.value = form;
    input.value = p === null ? '' : String(Number((form === 'one-in' ? 1 / p : 100 * p).toPrecision(digits)));
  };
  // Twelve digits show the screened prevalence as given (0.3 as 30, 1/4000 as 4000); the chance uses it unrounded.
  show(screenedAt, 12);
  input.addEventListener('input', () => onChange(read()));
  select.addEventListener('change', () => {
    const p = read();
    form = select.value as PrevalenceForm;
    show(p, 4);
    onChange(read());
  });
  onChange(screenedAt);
  return [before, input, after, ' ', select, label];
}

function summaryCard(result: ScreenResult, model: ModelInfo | undefined, views: View[], actions: { onClear(): void }): HTMLElement {
  const s = result.subject;
  const positive = className(result.model.positive);
  const p = s.probability;
  const above = p !== null && p >= s.threshold;
  const scale = h('div', { class: 'scale', role: 'img', 'aria-label': `Score ${scorePct(p)}${s.interval ? `, interval ${scorePct(s.interval[0])} to ${scorePct(s.interval[1])}` : ''}; the model's threshold is ${pct(s.threshold)}.` });
  if (p !== null) {
    if (s.interval) {
      const band = h('div', { class: 'scale-interval' });
      band.style.left = `${s.interval[0] * 100}%`;
      band.style.width = `${Math.max(0.5, (s.interval[1] - s.interval[0]) * 100)}%`;
      scale.append(band);
    }
    const dot = h('div', { class: `scale-value ${above ? 'above' : 'below'}` });
    dot.style.left = `${p * 100}%`;
    scale.append(dot);
  }
  const mark = h('div', { class: 'scale-threshold' }, h('span', {}, `threshold ${pct(s.threshold)}`));
  mark.style.left = `${s.threshold * 100}%`;
  scale.append(mark);

  const intervalText = s.interval
    ? `95% interval from the spread of the ${s.photos} photos: ${scorePct(s.interval[0])} to ${scorePct(s.interval[1])}.`
    : s.intervalNote ?? '';
  const verdict = p === null
    ? 'No photo could be screened; see the messages below.'
    : s.evidenceNote
      ? `${above ? 'Above' : 'Below'} the model's threshold. ${s.evidenceNote}`
      : above
        ? `Above the model's threshold: the facial features resemble those of people with ${positive} in the training data. Consider clinical assessment and genetic testing.`
        : `Below the model's threshold. This does not rule out ${positive}: consider the clinical picture.`;

  return h('section', { class: `summary card ${p === null ? '' : above ? 'is-above' : 'is-below'}`, 'aria-labelledby': 'result-title' },
    h('h2', { id: 'result-title', tabindex: '-1' }, 'Result'),
    model?.synthetic ? h('p', { class: 'synthetic-banner', role: 'note' }, 'Demonstration model trained on synthetic data: this result means nothing about the patient.') : '',
    ...(result.model.warnings ?? []).map((w) => h('p', { class: 'synthetic-banner', role: 'note', 'data-testid': 'model-warning' }, w)),
    h('p', { class: 'verdict', 'data-testid': 'verdict' }, verdict),
    p === null ? '' : meaningBlock(result),
    h('div', { class: 'score' },
      h('span', { class: 'score-value', 'data-testid': 'probability' }, scorePct(p)),
      h('span', { class: 'score-caption' }, `classifier score (not a chance of disease), from ${s.photos} usable photo${s.photos === 1 ? '' : 's'}; threshold ${pct(s.threshold)}`),
    ),
    scale,
    intervalText && h('p', { class: 'interval' }, intervalText),
    performanceTable(model, views),
    h('div', { class: 'actions no-print' },
      h('button', { type: 'button', class: 'button', onclick: () => window.print() }, 'Print summary'),
      h('button', { type: 'button', class: 'button secondary', onclick: () => actions.onClear() }, 'Screen another patient'),
    ),
  );
}

/** The model's cross-validated sensitivity and specificity: per patient overall, and per view uploaded. */
function performanceTable(model: ModelInfo | undefined, views: View[]): HTMLElement {
  const m = model?.metrics;
  if (!m) return h('p', { class: 'muted' }, 'The model holds no validated performance figures; see the Model page.');
  const rows: [string, ReturnType<typeof metricCells>][] = [];
  if (m.subject) rows.push(['Per patient, all views', metricCells(m.subject, 'people')]);
  else if (m.photo) rows.push(['Per photo, all views', metricCells(m.photo, 'photos')]);
  for (const v of views) {
    const byView = m.byView?.[v];
    // Per patient where the view has it, as the top row and the sentence below count people.
    if (byView?.subject) rows.push([`Per patient, from ${VIEW_TEXT[v].label.toLowerCase()} photos`, metricCells(byView.subject, 'people')]);
    else if (byView?.photo) rows.push([`Per photo, ${VIEW_TEXT[v].label.toLowerCase()} photos`, metricCells(byView.photo, 'photos')]);
  }
  const cv = m.folds && m.repeats ? ` (${m.folds}-fold cross-validation, repeated ${m.repeats} times)` : ' (cross-validation)';
  return h('div', { class: 'performance' },
    h('table', {},
      h('caption', {}, `How accurate is the model? Validated on its training data${cv}`),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Figures'), h('th', { scope: 'col' }, 'Sensitivity'), h('th', { scope: 'col' }, 'Specificity'), h('th', { scope: 'col' }, 'AUC'), h('th', { scope: 'col' }, 'Counted on'))),
      h('tbody', {}, ...rows.map(([label, c]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, c.sensitivity), h('td', {}, c.specificity), h('td', {}, c.auc), h('td', {}, c.n)))),
    ),
    h('p', { class: 'muted small' }, 'Sensitivity: the share of people with the syndrome whom the model flagged. Specificity: the share of people without it whom the model did not flag. With few people in a row, its interval is wide: read the interval, not the point. Figures from other populations or cameras may differ.'),
  );
}

/** What a photo's card reads from the whole result. */
interface CardContext {
  /** The heat maps follow part of the model's score only (the note above the photos says which). */
  partialMaps: boolean;
  /** The warnings printed once below the photos ({@link photoNotes}). */
  notes: readonly PhotoNote[];
  /** The model's threshold for one photo, when the result gives it. */
  photoThreshold?: number;
}

/** One photo's card. */
function photoCard(photo: ScreenPhoto, url: string | undefined, index: number, { partialMaps, notes, photoThreshold }: CardContext): HTMLElement {
  const titleId = uid('photo-title');
  const card = h('article', { class: `photo-card card${photo.error ? ' has-error' : ''}`, 'aria-labelledby': titleId, 'data-testid': 'photo-card' },
    h('h3', { id: titleId }, h('span', { class: 'photo-index' }, `Photo ${index + 1}`), ' ', h('span', { class: 'photo-name' }, h('bdi', {}, photo.path))),
  );
  if (photo.error) {
    card.append(
      url ? thumbOrNothing(url, index) : '',
      h('p', { class: 'error-text', role: 'note' }, h('strong', {}, 'Not screened. '), photoErrorText(photo.error)),
      h('details', {}, h('summary', {}, 'Technical details'), h('p', { class: 'small' }, `${photo.error.code}: ${photo.error.message}`)),
    );
    return card;
  }
  const stage = photoStage(photo, url, index);
  const details = h('div', { class: 'photo-details' }, badges(photo));
  const refs = notes.flatMap((n, k) => (n.photos.includes(index) ? [k + 1] : []));
  if (refs.length) details.append(h('p', { class: 'warning-refs' }, `Warning${refs.length > 1 ? 's' : ''}: see note${refs.length > 1 ? 's' : ''} ${refs.join(', ')} below`));
  if (photo.regions?.length) {
    const below = belowPhotoThreshold(photo, photoThreshold);
    details.append(regionTable(photo, partialMaps, below));
    // The printout of many photos shows this line in place of the table, so it says what the table's caption says.
    const top = [...photo.regions].sort((a, b) => b.share - a.share).slice(0, 3);
    details.append(h('p', { class: 'top-regions print-only' }, `${below ? 'Below the photo threshold, what little raises the score comes from' : 'Top regions'}: ${top.map((r) => `${regionName(r.name)} ${pct(r.share)}`).join(' · ')}`));
  }
  details.append(geometryTable(photo));
  if (photo.measurements?.length) {
    details.append(measurementTable(photo.measurements, 'Measurements of this photo (z against the study\'s controls in this view)', 'Lengths over the face\'s reference size; the z-scores are against this model\'s study controls, not population norms.'));
  }
  if (photo.heatmapAligned) {
    details.append(h('figure', { class: 'aligned' }, h('img', { src: photo.heatmapAligned, alt: `Heatmap on the aligned face of photo ${index + 1}` }), h('figcaption', { class: 'small muted' }, 'The aligned face the model saw, with its heatmap.')));
  }
  card.append(h('div', { class: 'photo-body' }, h('div', { class: 'photo-visual' }, stage.element, stage.controls), details));
  return card;
}

/** The upload's thumbnail beside its error; removed when the file is not an image the browser can show (a document sent by mistake). */
function thumbOrNothing(url: string, index: number): HTMLElement {
  const img = h('img', { class: 'thumb-error', src: url, alt: `Photo ${index + 1} as uploaded` });
  img.addEventListener('error', () => img.remove());
  return img;
}

/** The photo with its heatmap and face overlay stacked, and the controls that toggle them. */
function photoStage(photo: ScreenPhoto, url: string | undefined, index: number): { element: HTMLElement; controls: HTMLElement } {
  const w = photo.width ?? 0, hgt = photo.height ?? 0;
  const stage = h('div', { class: 'stage' });
  const photoImg = h('img', { class: 'stage-photo', src: url ?? '', alt: `Photo ${index + 1}${photo.view ? `, ${photo.view} view` : ''}, with the detected face marked` });
  photoImg.addEventListener('error', () => { stage.classList.add('no-preview'); stage.prepend(h('p', { class: 'muted small' }, 'This browser cannot show a preview of this file type; the result below is still valid.')); });
  stage.append(photoImg);
  let heat: HTMLImageElement | undefined;
  let legend: HTMLElement | undefined;
  if (photo.heatmap) {
    // Only the warm part of the map is drawn over the photo (the rest of the image is the photo itself), so it can be shown whole.
    heat = h('img', { class: 'stage-heat', src: photo.heatmap, alt: '', 'data-testid': 'heatmap' });
    heat.style.opacity = String(HEAT_OPACITY / 100);
    stage.append(heat);
    legend = h('div', { class: 'heat-legend', 'aria-hidden': 'true' }, h('img', { src: photo.heatmap, alt: '' }), peakMark(photo));
    const heatImg = heat;
    heatImg.addEventListener('load', () => fitHeatmap(heatImg, legend!, stage, w / hgt || photoImg.naturalWidth / photoImg.naturalHeight));
  }
  let overlay: SVGElement | undefined;
  if (photo.box && w > 0 && hgt > 0) {
    const r = Math.max(w, hgt) * 0.008;
    overlay = svg('svg', { class: 'stage-overlay', viewBox: `0 0 ${w} ${hgt}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': 'Detected face box and five landmarks: eyes, nose tip, mouth corners' },
      svg('rect', { x: photo.box.x, y: photo.box.y, width: photo.box.width, height: photo.box.height, class: 'face-box', 'vector-effect': 'non-scaling-stroke' }),
      ...(photo.landmarks5 ?? []).map(([x, y]) => svg('circle', { cx: x, cy: y, r, class: 'landmark', 'vector-effect': 'non-scaling-stroke' })),
    );
    stage.append(overlay);
  }
  const controls = h('div', { class: 'stage-controls no-print' });
  if (heat) {
    const id = uid('opacity');
    const slider = h('input', { type: 'range', id, min: 0, max: 100, step: 5, value: HEAT_OPACITY, 'aria-valuetext': `${HEAT_OPACITY}%` });
    const out = h('output', { for: id }, `${HEAT_OPACITY}%`);
    slider.addEventListener('input', () => {
      heat!.style.opacity = String(Number(slider.value) / 100);
      out.textContent = `${slider.value}%`;
      slider.setAttribute('aria-valuetext', `${slider.value}%`);
    });
    controls.append(h('div', { class: 'control' }, h('label', { for: id }, 'Heatmap opacity'), slider, out));
  }
  if (overlay) {
    const id = uid('marks');
    const box = h('input', { type: 'checkbox', id, checked: true });
    box.addEventListener('change', () => overlay!.classList.toggle('hidden', !box.checked));
    controls.append(h('div', { class: 'control' }, box, h('label', { for: id }, 'Face box and landmarks')));
  }
  const row = h('div', { class: 'stage-row' }, stage, legend ? h('div', { class: 'legend-box' }, h('span', { class: 'legend-end small' }, 'strong'), legend, h('span', { class: 'legend-end small' }, 'none')) : '');
  const caption = heat ? h('figcaption', { class: 'small muted heat-caption', 'data-testid': 'heat-caption' }, heatMapCaption(photo.cam), ' ', scaleCaption(photo)) : '';
  return { element: h('figure', { class: 'stage-figure' }, row, caption), controls };
}

/** The heat map's opacity over the photo at first, in percent: the map tints only where there is evidence, so it can be shown whole. */
const HEAT_OPACITY = 100;

/** The colour scale in words: shared across photos or this photo's own (the server's note), and how far up it this photo's evidence reaches. */
function scaleCaption(photo: ScreenPhoto): string {
  const s = photo.heatScale;
  if (!s) return 'The colour bar runs from no evidence (bottom) to this photo\'s strongest (top).';
  // Beyond the top, "reaches 100% of the top" would read as the scale's maximum: say how far beyond.
  // Under 1.05 times the top, one decimal would print "1.0 times it", which reads as at the top, not beyond.
  const by = s.peak < 1.05 ? 'by under 5%' : `${s.peak.toFixed(1)} times it`;
  const beyond = `This photo's strongest evidence goes beyond the top of the scale (${by}) and is drawn in its hottest colour.`;
  const reach = s.peak <= 0 ? 'This photo shows no net evidence for the condition anywhere (no tint).' : s.basis !== 'study' ? '' : s.peak > 1 ? beyond : `This photo's strongest evidence reaches ${pct(s.peak)} of the top of the scale.`;
  return `${s.note} ${reach}`.trim();
}

/** A tick on the colour bar at this photo's strongest evidence, when the scale is shared. */
function peakMark(photo: ScreenPhoto): HTMLElement | string {
  const s = photo.heatScale;
  if (!s || s.basis !== 'study') return '';
  const mark = h('span', { class: 'legend-peak', 'data-testid': 'legend-peak' });
  mark.style.top = `${(1 - Math.min(1, Math.max(0, s.peak))) * 100}%`;
  return mark;
}

/**
 * Lays the heatmap over the photo. The server's heatmap is the photo with the heat blended in and a
 * colour bar appended on its right (src/explain/overlay.ts), so its photo part, not the whole
 * image, must match the photo: the image is widened by its bar's share and the bar is clipped
 * off, then shown beside the photo as the legend. A heatmap without a bar just covers the photo.
 */
function fitHeatmap(heat: HTMLImageElement, legend: HTMLElement, stage: HTMLElement, photoAspect: number): void {
  const nw = heat.naturalWidth, nh = heat.naturalHeight;
  const photoPartW = Number.isFinite(photoAspect) && photoAspect > 0 ? Math.min(nw, Math.round(nh * photoAspect)) : nw;
  const barW = nw - photoPartW;
  if (barW < 3) {
    legend.parentElement?.classList.add('hidden');
    return;
  }
  heat.style.width = `${(nw / photoPartW) * 100}%`;
  const box = legend.parentElement!;
  const size = () => {
    box.style.height = `${stage.clientHeight}px`;
    legend.style.width = `${Math.max(4, (legend.clientHeight * barW) / nh)}px`;
  };
  size();
  new ResizeObserver(size).observe(stage);
}

function badges(photo: ScreenPhoto): HTMLElement {
  const list = h('ul', { class: 'badges', 'aria-label': 'Photo quality and result' });
  if (photo.view) list.append(h('li', { class: `badge view-${photo.view}`, title: VIEW_TEXT[photo.view].note }, `${VIEW_TEXT[photo.view].label} view`));
  if (photo.probability !== undefined) list.append(h('li', { class: 'badge neutral' }, `Score ${scorePct(photo.probability)}`));
  const warnings = [...(photo.warnings ?? [])];
  if (warnings.length === 0) list.append(h('li', { class: 'badge good no-problem' }, 'No quality problem found'));
  const frag = h('div', { class: 'quality' }, list);
  if (warnings.length) {
    frag.append(h('ul', { class: 'warnings' }, ...warnings.map((w) => h('li', {}, h('span', { class: 'visually-hidden' }, 'Warning: '), w))));
  }
  return frag;
}

/**
 * The regions' shares of the evidence raising a photo's score. Below the model's photo threshold
 * (`below`) the caption says they are of what little raises it: "where the score comes from" on a
 * score near 0 reads as the region being why.
 */
function regionTable(photo: ScreenPhoto, partialMaps: boolean, below: boolean): HTMLElement {
  const regions = [...(photo.regions ?? [])].sort((a, b) => b.share - a.share);
  const max = Math.max(...regions.map((r) => r.share), 1e-9);
  const fromMap = regionsFromHeatMap(photo);
  const notes = ["left and right are the patient's", fromMap ? 'neighbouring regions blur together' : '', "HPO terms: features to look for, not findings, and only above the per-photo threshold"].filter(Boolean).join('; ');
  // The note above the photos says which part; printed once there, not again under every photo.
  const part = partialMaps && fromMap ? h('span', { class: 'no-print' }, 'the part of the score the heat map follows, as the note above the photos says; ') : '';
  return h('div', { class: 'table-scroll' }, h('table', { class: 'regions' },
    h('caption', {}, `${below ? "Below the model's photo threshold: where what little raises the score comes from" : 'Where the score comes from'}, by facial region${photo.cam === 'geometry' ? ", from the face's geometry (this model has no heat map)" : ''} (`, part, `${notes})`),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Region'), h('th', { scope: 'col' }, 'Share'), h('th', { scope: 'col' }, 'Related features (HPO)'))),
    h('tbody', {}, ...regions.map((r) => {
      const bar = h('span', { class: 'bar' });
      bar.style.width = `${(r.share / max) * 100}%`;
      return h('tr', {},
        h('th', { scope: 'row', title: r.name }, regionName(r.name)),
        h('td', { class: 'share' }, h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar), ` ${pct(r.share)}`),
        h('td', { class: 'hpo' }, r.hpo?.length ? h('ul', {}, ...r.hpo.map((t) => h('li', {}, t))) : '–'),
      );
    })),
  ));
}
