/**
 * Charts for the report: Vega-Lite specifications compiled and rendered to SVG on the server
 * with Vega (no browser, no network), so the report stays one self-contained file.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One ROC curve with its optional pointwise band. */
export interface RocSeries {
  name: string;
  fpr: number[];
  tpr: number[];
  lower?: number[] | null;
  upper?: number[] | null;
}

/** Type sizes that stay readable when the SVG is scaled down to a narrow page, and legends whose labels are never cut. */
export const CONFIG = {
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  title: { fontSize: 15 },
  axis: { labelFontSize: 12, titleFontSize: 13 },
  legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 0, symbolStrokeWidth: 2.5 },
};

/**
 * The [0, 1] scale of a rate or probability, padded a little on both sides: a curve or point on 0
 * or 1 (a perfect ROC runs along the top) then stays clear of the frame instead of hiding on it.
 */
const UNIT_SCALE = { domain: [-0.02, 1.02], nice: false, zero: false };
const UNIT_AXIS = { values: [0, 0.2, 0.4, 0.6, 0.8, 1], format: '.1f' };
/** Curve colours and dash patterns, one per series in order; the chance line's own are the last. */
export const SERIES_COLOURS = ['#1f5fa8', '#d9560f', '#2b8a3e', '#8e3fa8', '#a8861f'];
export const SERIES_DASHES = [[1, 0], [7, 3], [2, 2], [10, 3, 2, 3], [4, 4]];
const CHANCE = { name: 'chance (AUC 0.5)', colour: '#888888', dash: [1, 4] };

/**
 * ROC curves with their 95% bands and the chance diagonal, each curve in its own colour and
 * dash pattern so overlapping curves (and one on the frame) stay distinguishable in print.
 */
export function rocSpec(series: RocSeries[], title: string): TopLevelSpec {
  // `band` repeats the series name so the bands' fill gets its own scale, without a legend of its own.
  const rows = series.flatMap((s) => s.fpr.map((f, i) => ({ series: s.name, band: s.name, fpr: f, tpr: s.tpr[i], lo: s.lower?.[i] ?? s.tpr[i], hi: s.upper?.[i] ?? s.tpr[i] })));
  const names = [...series.map((s) => s.name), CHANCE.name];
  const colour = { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: [...series.map((_, i) => SERIES_COLOURS[i % SERIES_COLOURS.length]), CHANCE.colour] }, legend: { orient: 'bottom', direction: 'vertical' } };
  const dash = { field: 'series', type: 'nominal', title: null, scale: { domain: names, range: [...series.map((_, i) => SERIES_DASHES[i % SERIES_DASHES.length]), CHANCE.dash] }, legend: { orient: 'bottom', direction: 'vertical' } };
  const x = { field: 'fpr', type: 'quantitative', title: '1 - specificity (false-positive rate)', scale: UNIT_SCALE, axis: UNIT_AXIS };
  const y = { field: 'tpr', type: 'quantitative', title: 'Sensitivity (true-positive rate)', scale: UNIT_SCALE, axis: UNIT_AXIS };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title,
    width: 340,
    height: 340,
    data: { values: [...rows, { series: CHANCE.name, fpr: 0, tpr: 0, lo: 0, hi: 0 }, { series: CHANCE.name, fpr: 1, tpr: 1, lo: 1, hi: 1 }] },
    layer: [
      { transform: [{ filter: { field: 'series', oneOf: series.map((s) => s.name) } }], mark: { type: 'area', opacity: 0.15 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, fill: { ...colour, field: 'band', legend: null } } },
      { mark: { type: 'line', strokeWidth: 2.5, clip: false }, encoding: { x, y, color: colour, strokeDash: dash } },
    ],
  } as TopLevelSpec;
}

/** One bin of a reliability diagram with its 95% interval (Wilson). */
export interface CalibrationPoint {
  meanPredicted: number;
  observedRate: number;
  count: number;
  ci95: [number, number] | null;
}

/**
 * A reliability diagram: per bin, the observed positive rate against the mean predicted
 * probability, as a point sized by the bin's count with its 95% interval as an error bar, and the
 * diagonal a calibrated model would follow. `unit` names what a bin counts (people or photos).
 */
export function calibrationSpec(bins: CalibrationPoint[], title: string, unit: string): TopLevelSpec {
  const rows = bins.filter((b) => b.count > 0).map((b) => ({ ...b, lo: b.ci95?.[0] ?? b.observedRate, hi: b.ci95?.[1] ?? b.observedRate }));
  const x = { field: 'meanPredicted', type: 'quantitative', title: 'Mean predicted probability in the bin', scale: UNIT_SCALE, axis: UNIT_AXIS };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title,
    width: 340,
    height: 340,
    layer: [
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: CHANCE.dash, color: CHANCE.colour, strokeWidth: 1.5 }, encoding: { x: { field: 'x', type: 'quantitative', scale: UNIT_SCALE, axis: UNIT_AXIS, title: x.title }, y: { field: 'y', type: 'quantitative', scale: UNIT_SCALE, axis: UNIT_AXIS } } },
      { data: { values: rows }, mark: { type: 'rule', strokeWidth: 1.5, color: '#333333' }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: UNIT_SCALE, axis: UNIT_AXIS, title: 'Observed positive rate (95% CI)' }, y2: { field: 'hi' } } },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, opacity: 0.85, color: SERIES_COLOURS[0], stroke: 'white', strokeWidth: 1 },
        encoding: {
          x,
          y: { field: 'observedRate', type: 'quantitative', scale: UNIT_SCALE, axis: UNIT_AXIS },
          size: { field: 'count', type: 'quantitative', title: `${unit} in the bin`, scale: { range: [40, 500], zero: false }, legend: { orient: 'bottom', direction: 'horizontal' } },
        },
      },
    ],
  } as TopLevelSpec;
}

/**
 * A horizontal bar chart of named values with optional CI whiskers (region shares...): names on
 * the vertical axis stay readable however long they are, and the chart stays narrow.
 */
export function barSpec(rows: { name: string; value: number; lo?: number; hi?: number; group?: string }[], title: string, valueTitle: string): TopLevelSpec {
  const y = { field: 'name', type: 'nominal', title: null, sort: null, axis: { labelLimit: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    config: CONFIG,
    title,
    width: 360,
    height: { step: 14 },
    data: { values: rows.map((r) => ({ ...r, lo: r.lo ?? r.value, hi: r.hi ?? r.value, group: r.group ?? '' })) },
    layer: [
      { mark: 'bar', encoding: { y, yOffset: { field: 'group' }, x: { field: 'value', type: 'quantitative', title: valueTitle }, color: { field: 'group', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical' } } } },
      { mark: { type: 'rule' }, encoding: { y, yOffset: { field: 'group' }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    ],
  } as TopLevelSpec;
}
