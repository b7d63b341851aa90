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

/** ROC curves with 95% CI bands and the chance diagonal. */
export function rocSpec(series: RocSeries[], title: string): TopLevelSpec {
  const rows = series.flatMap((s) => s.fpr.map((f, i) => ({ series: s.name, fpr: f, tpr: s.tpr[i], lo: s.lower?.[i] ?? s.tpr[i], hi: s.upper?.[i] ?? s.tpr[i] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 320,
    height: 320,
    data: { values: rows },
    layer: [
      { mark: { type: 'area', opacity: 0.18 }, encoding: { x: { field: 'fpr', type: 'quantitative', title: '1 - specificity (false-positive rate)', scale: { domain: [0, 1] } }, y: { field: 'lo', type: 'quantitative', scale: { domain: [0, 1] } }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal', title: null } } },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative', title: 'Sensitivity (true-positive rate)' }, color: { field: 'series', type: 'nominal' } } },
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** A reliability diagram: mean predicted probability vs observed positive rate per bin. */
export function calibrationSpec(bins: { meanPredicted: number; observedRate: number; count: number }[], title: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 320,
    height: 320,
    layer: [
      { data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] }, mark: { type: 'line', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values: bins.filter((b) => b.count > 0) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'meanPredicted', type: 'quantitative', title: 'Mean predicted probability', scale: { domain: [0, 1] } },
          y: { field: 'observedRate', type: 'quantitative', title: 'Observed positive rate', scale: { domain: [0, 1] } },
          size: { field: 'count', type: 'quantitative', title: 'Photos' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** A bar chart of named values with optional CI whiskers (region shares, power curves...). */
export function barSpec(rows: { name: string; value: number; lo?: number; hi?: number; group?: string }[], title: string, yTitle: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 220,
    data: { values: rows.map((r) => ({ ...r, lo: r.lo ?? r.value, hi: r.hi ?? r.value, group: r.group ?? '' })) },
    layer: [
      { mark: 'bar', encoding: { x: { field: 'name', type: 'nominal', title: null, sort: null }, xOffset: { field: 'group' }, y: { field: 'value', type: 'quantitative', title: yTitle }, color: { field: 'group', type: 'nominal', title: null } } },
      { mark: { type: 'rule' }, encoding: { x: { field: 'name', type: 'nominal', sort: null }, xOffset: { field: 'group' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
    ],
  } as TopLevelSpec;
}
