/**
 * The clinician's measurements: a table of the anthropometric panel with each z-score drawn on a
 * strip against the control range (±2 SD shaded), and the HPO terms of a measurement beyond it.
 * The z-scores are against the study's own controls, not population norms; the caption says so.
 * On paper the person's measurements with HPO terms are one line (the page holds one summary).
 */
import type { Measurement, SubjectMeasurement } from '../../src/workflows/screen/result.ts';
import { measurementDefinition } from '../../src/features/anthropometry.ts';
import { zText } from '../../src/features/measurements.ts';
import { h } from './dom.ts';

/** The strip's half-width in SD: z beyond it is drawn at the edge. */
const STRIP_SD = 4;

/** A measurement's name as a clinician says it. */
export function measurementLabel(name: string): string {
  return measurementDefinition(name)?.label ?? name;
}

/** A z-score strip: the control range (±`hpoZ` SD) shaded, the z marked, clipped at ±4 SD. */
function zStrip(z: number, hpoZ: number): HTMLElement {
  const strip = h('span', { class: 'z-strip', role: 'img', 'aria-label': `z ${z.toFixed(2)}; the shaded band is ±${hpoZ} SD of the controls` });
  const band = h('span', { class: 'z-band' });
  band.style.left = `${50 - (50 * hpoZ) / STRIP_SD}%`;
  band.style.width = `${(100 * hpoZ) / STRIP_SD}%`;
  const mark = h('span', { class: `z-mark${Math.abs(z) > hpoZ ? ' beyond' : ''}` });
  mark.style.left = `${50 + (50 * Math.max(-STRIP_SD, Math.min(STRIP_SD, z))) / STRIP_SD}%`;
  strip.append(band, h('span', { class: 'z-mid' }), mark);
  return strip;
}

/**
 * The measurement table of a photo or of the person (`note` says whom the z-scores compare with).
 * `hpoZ` is the threshold the server used (2 SD unless the bundle says otherwise). A person's
 * measurement from photos other than frontal ones names their view.
 */
export function measurementTable(measurements: readonly (Measurement | SubjectMeasurement)[], caption: string, note: string, hpoZ = 2): HTMLElement {
  return h('div', { class: 'measurements-block' }, h('div', { class: 'table-scroll' }, h('table', { class: 'measurements', 'data-testid': 'measurements' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Measurement'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'z'), h('th', { scope: 'col' }, `Against controls (−4 to +4 SD; shaded ±${hpoZ})`), h('th', { scope: 'col' }, 'HPO'))),
    h('tbody', {}, ...measurements.map((m) => {
      const def = measurementDefinition(m.name);
      const view = 'view' in m && m.view !== 'frontal' ? ` (${m.view} photos)` : '';
      return h('tr', { class: Math.abs(m.z) > hpoZ ? 'beyond' : '' },
        h('th', { scope: 'row', title: def?.definition ?? m.name }, `${measurementLabel(m.name)}${view}`),
        h('td', { class: 'num' }, m.value.toFixed(3)),
        h('td', { class: 'num' }, zText(m.z)),
        h('td', {}, zStrip(m.z, hpoZ)),
        h('td', { class: 'hpo' }, m.hpo.length ? h('ul', {}, ...m.hpo.map((t) => h('li', {}, `${t.label} (${t.id})`))) : '–'),
      );
    })),
  )), h('p', { class: 'muted small' }, note));
}
