/**
 * The geometry explanation beside the heat map: each facial region's contribution to the photo's
 * log-odds through the model's geometry features, as a bar from a centre line (towards the
 * positive class to the right, away from it to the left), with the server's note saying what it
 * is. Shown only when the result has `geometryRegions` (a model with a linear geometry part).
 */
import type { ScreenPhoto } from '../../src/workflows/screen/result.ts';
import { GEOMETRY_NEGLIGIBLE_NOTE, geometryNegligible } from '../../src/explain/regions.ts';
import { signedFixed } from '../../src/math/decimal.ts';
import { h } from './dom.ts';
import { regionName } from './format.ts';

/** A log-odds value to two decimals, with its (typographic) sign unless it rounds to zero. */
const signed = (v: number) => signedFixed(v, 2, '−');

/**
 * The bars' scale in log-odds: the largest contribution, but never under this, so that contributions
 * of a few thousandths are not drawn as full bars, as large as a real model's 0.8.
 */
const MIN_BAR_SCALE = 0.25;

/** The table of a photo's geometry contributions by region, or nothing without them. */
export function geometryTable(photo: ScreenPhoto): HTMLElement | string {
  const regions = photo.geometryRegions;
  if (!regions?.length) return '';
  const max = Math.max(...regions.map((r) => Math.abs(r.contribution)), MIN_BAR_SCALE);
  return h('div', { class: 'geometry-block' }, h('div', { class: 'table-scroll' }, h('table', { class: 'geometry', 'data-testid': 'geometry-regions' },
    h('caption', {}, 'Geometry: contribution by region (log-odds)'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Region'), h('th', { scope: 'col' }, 'Contribution'), h('th', { scope: 'col' }, 'Log-odds'))),
    h('tbody', {}, ...regions.map((r) => {
      const bar = h('span', { class: `geo-bar${r.contribution > 0 ? ' up' : r.contribution < 0 ? ' down' : ''}` });
      const half = (Math.abs(r.contribution) / max) * 50;
      bar.style.width = `${half}%`;
      bar.style.left = r.contribution >= 0 ? '50%' : `${50 - half}%`;
      return h('tr', {},
        h('th', { scope: 'row', title: r.name }, regionName(r.name)),
        h('td', {}, h('span', { class: 'geo-track', role: 'img', 'aria-label': `${signed(r.contribution)} log-odds ${r.contribution >= 0 ? 'towards' : 'away from'} the positive class` }, h('span', { class: 'geo-mid' }), bar)),
        h('td', { class: 'num' }, signed(r.contribution)),
      );
    })),
  )),
  geometryNegligible(regions) ? h('p', { class: 'small', 'data-testid': 'geometry-negligible' }, GEOMETRY_NEGLIGIBLE_NOTE) : '',
  h('p', { class: 'muted small' }, photo.geometryNote ?? ''));
}
