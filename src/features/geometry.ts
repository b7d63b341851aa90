/**
 * The geometry representation: a face's shape as dysmorphologists measure it. Per view, the
 * landmarks (the 68 iBUG-300W points and the extras the landmark model places after them) are
 * Procrustes-aligned to the training rows' mean shape (Gower 1975), optionally
 * reduced to their leading principal components, and joined by the anthropometric panel
 * (`anthropometry.ts`); every column is standardised on the training rows.
 *
 * Views: a frontal mean shape is meaningless for a profile (half the face is hidden and the
 * 68-point models place the hidden points on the visible contour), so each view that has at
 * least `minViewPhotos` training photos gets its own group of columns, with its own mean shape,
 * principal axes and panel (only the measurements that view supports). A photo fills only its
 * view's group; every other column, and every column of a photo without landmarks or view,
 * is imputed as 0 (the training mean), as the feature-block interface prescribes.
 *
 * Because every step after the (per-photo) alignment is linear, a linear model's score on this
 * block splits exactly into per-landmark and per-measurement parts; {@link geometryContributions}
 * groups them by facial region.
 */
import { DEFAULTS, VIEWS } from '../config.ts';
import { PhenofaceError } from '../errors.ts';
import { REGION_NAMES, type RegionName } from '../explain/regions.ts';
import type { Point, View } from '../types.ts';
import { MEASUREMENTS, measurePanel } from './anthropometry.ts';
import { landmarkRegion } from './ibug68.ts';
import { meanAndScale, readNumbers, readObject, readScales } from './json.ts';
import { fitPca } from './pca.ts';
import { alignToMean, generalisedProcrustes, toShape, type Shape } from './procrustes.ts';
import type { FeatureBlock, FeatureBlockJSON, FittedBlock, PhotoInputs } from './types.ts';

/** How the geometry block is built. */
export interface GeometryOptions {
  /**
   * Principal axes of the aligned shape kept per view: the fewest explaining this fraction of its
   * variance; 1 keeps the aligned coordinates themselves (no reduction).
   */
  shapeVariance: number;
  /** A view gets its own columns only with at least this many training photos with landmarks. */
  minViewPhotos: number;
}

/** The shape columns of one view: Procrustes mean, centring, optional axes, scales. */
interface ShapeColumns {
  /**
   * The Procrustes mean shape new faces are aligned to. Its length fixes the points a face is
   * read with: the first `mean.length / 2` of its landmarks (the 68 come first, so a block fitted
   * on 68 points reads the 68 of a model that adds extras).
   */
  mean: Shape;
  /** The aligned training shapes' average (coordinates are centred on it). */
  centre: Float64Array;
  /** Principal axes (each of the shape's length), or null for the coordinates themselves. */
  axes: Float64Array[] | null;
  /** Training SD of each column. */
  scale: Float64Array;
}

/** The panel columns of one view. */
interface PanelColumns {
  /** Indices into {@link MEASUREMENTS} of the measurements this view supports. */
  measures: number[];
  mean: Float64Array;
  scale: Float64Array;
}

/** One view's column group. */
interface ViewGroup {
  view: View;
  /** First column of the group in the block's vector. */
  offset: number;
  shape: ShapeColumns;
  panel: PanelColumns;
}

const width = (g: ViewGroup) => g.shape.scale.length + g.panel.measures.length;

/** Projects centred coordinates onto the axes (or keeps them), before scaling. */
function shapeScores(cols: Pick<ShapeColumns, 'centre' | 'axes'>, aligned: Shape): Float64Array {
  const u = aligned.map((v, i) => v - cols.centre[i]);
  if (!cols.axes) return u;
  return Float64Array.from(cols.axes, (a) => a.reduce((s, v, i) => s + v * u[i], 0));
}

/**
 * A face's shape as a block's mean shape reads it: its first `points` landmarks. Throws `E_BUNDLE`
 * when the face has fewer (a block fitted on another landmark model's points).
 */
function shapeOf(landmarks: readonly Point[], points: number): Shape {
  if (landmarks.length < points) {
    throw new PhenofaceError('E_BUNDLE', `The geometry features were fitted on ${points} landmarks per face; this photo has ${landmarks.length}. Screen with the landmark model the bundle was trained with (a model placing at least ${points} points).`);
  }
  return toShape(landmarks.length === points ? landmarks : landmarks.slice(0, points));
}

/** Fits one view's shape columns on its training shapes. */
function fitShape(shapes: Shape[], shapeVariance: number): ShapeColumns {
  const { mean, aligned } = generalisedProcrustes(shapes);
  const centre = new Float64Array(mean.length);
  for (const a of aligned) for (let i = 0; i < a.length; i++) centre[i] += a[i] / aligned.length;
  const axes = shapeVariance < 1 ? fitPca(aligned, shapeVariance).components : null;
  const scores = aligned.map((a) => shapeScores({ centre, axes }, a));
  const scale = Float64Array.from(scores[0], (_, k) => meanAndScale(scores.map((s) => s[k])).scale);
  return { mean, centre, axes, scale };
}

/**
 * Fits one view's panel columns on its training faces: the measurements the view supports and the
 * training faces' landmark model places the points of (the nasal bridge width needs the face
 * mesh's extras), so no column is constant.
 */
function fitPanel(view: View, panels: (number | null)[][]): PanelColumns {
  const measures = MEASUREMENTS.flatMap((m, k) => (m.views.includes(view) && panels.some((p) => p[k] !== null) ? [k] : []));
  const stats = measures.map((k) => meanAndScale(panels.flatMap((p) => (p[k] === null ? [] : [p[k]]))));
  return { measures, mean: Float64Array.from(stats, (s) => s.mean), scale: Float64Array.from(stats, (s) => s.scale) };
}

/** The photo's landmarks and view when it has both and its view has a group. */
function usable(row: PhotoInputs): row is PhotoInputs & Required<Pick<PhotoInputs, 'landmarks68' | 'view'>> {
  return row.landmarks68 !== undefined && row.view !== undefined;
}

/** A fitted geometry block. */
export class FittedGeometry implements FittedBlock {
  readonly name = 'geometry' as const;
  readonly dim: number;

  constructor(readonly groups: readonly ViewGroup[]) {
    this.dim = groups.reduce((s, g) => s + width(g), 0);
  }

  /** The group of a photo's view, if the block has one. */
  group(view: View | undefined): ViewGroup | undefined {
    return this.groups.find((g) => g.view === view);
  }

  transform(rows: readonly PhotoInputs[]): Float32Array[] {
    return rows.map((row) => {
      const out = new Float32Array(this.dim);
      const g = usable(row) ? this.group(row.view) : undefined;
      if (!g || !usable(row)) return out;
      const scores = shapeScores(g.shape, alignToMean(shapeOf(row.landmarks68, g.shape.mean.length / 2), g.shape.mean));
      scores.forEach((v, k) => (out[g.offset + k] = v / g.shape.scale[k]));
      const panel = measurePanel(row.landmarks68, row.view);
      const at = g.offset + scores.length;
      g.panel.measures.forEach((m, k) => {
        const v = panel[m];
        out[at + k] = v === null ? 0 : (v - g.panel.mean[k]) / g.panel.scale[k];
      });
      return out;
    });
  }

  toJSON(): FeatureBlockJSON {
    const groups = this.groups.map((g) => ({
      view: g.view,
      offset: g.offset,
      shape: { mean: [...g.shape.mean], centre: [...g.shape.centre], axes: g.shape.axes?.map((a) => [...a]) ?? null, scale: [...g.shape.scale] },
      panel: { names: g.panel.measures.map((k) => MEASUREMENTS[k].name), mean: [...g.panel.mean], scale: [...g.panel.scale] },
    }));
    return { kind: 'phenoface-feature-block', version: 1, name: 'geometry', dim: this.dim, params: { reference: 'rms-centroid-distance', groups } };
  }
}

/**
 * The geometry block: fits, per view with enough training photos, the Procrustes mean shape, the
 * optional principal axes, and the column scales, all on the training rows only; `fromJSON`
 * restores a fitted one from the bundle.
 */
export function geometryBlock(options: GeometryOptions = DEFAULTS.geometry): FeatureBlock & { fromJSON(json: FeatureBlockJSON): FittedGeometry } {
  const { shapeVariance, minViewPhotos } = options;
  if (!(shapeVariance > 0 && shapeVariance <= 1) || !(Number.isInteger(minViewPhotos) && minViewPhotos >= 2)) {
    throw new PhenofaceError('E_CONFIG', `Invalid geometry options: shapeVariance ${shapeVariance}, minViewPhotos ${minViewPhotos}. Expected a fraction in (0, 1] and an integer >= 2.`);
  }
  return {
    name: 'geometry',
    fromJSON: (json) => geometryFromJSON(json),
    fit(train) {
      const groups: ViewGroup[] = [];
      let offset = 0;
      for (const view of VIEWS) {
        const rows = train.filter((r) => usable(r) && r.view === view);
        if (rows.length < minViewPhotos) continue;
        // The points every training face has (all of them, from one landmark model).
        const points = Math.min(...rows.map((r) => r.landmarks68!.length));
        const group: ViewGroup = {
          view,
          offset,
          shape: fitShape(rows.map((r) => shapeOf(r.landmarks68!, points)), shapeVariance),
          panel: fitPanel(view, rows.map((r) => measurePanel(r.landmarks68!, view))),
        };
        groups.push(group);
        offset += width(group);
      }
      if (groups.length === 0) {
        throw new PhenofaceError('E_INPUT', `Cannot fit the geometry features: no view has ${minViewPhotos} training photos with landmarks (found ${train.filter(usable).length} in all).`);
      }
      return new FittedGeometry(groups);
    },
  };
}

/** Restores a fitted geometry block from {@link FittedGeometry.toJSON}; throws `E_BUNDLE` on a malformed record. */
export function geometryFromJSON(json: FeatureBlockJSON): FittedGeometry {
  const params = readObject(json.params, 'geometry.params');
  if (!Array.isArray(params.groups)) throw new PhenofaceError('E_BUNDLE', 'Invalid feature record: geometry.params.groups should be an array.');
  let offset = 0;
  const groups = params.groups.map((raw, i): ViewGroup => {
    const g = readObject(raw, `geometry.groups[${i}]`);
    if (!VIEWS.includes(g.view as View)) throw new PhenofaceError('E_BUNDLE', `Invalid feature record: geometry.groups[${i}].view is ${JSON.stringify(g.view)}. Should be one of: ${VIEWS.join(', ')}.`);
    const s = readObject(g.shape, `geometry.groups[${i}].shape`);
    const p = readObject(g.panel, `geometry.groups[${i}].panel`);
    const mean = readNumbers(s.mean, 'shape.mean');
    const axes = s.axes === null ? null : (Array.isArray(s.axes) ? s.axes : [undefined]).map((a) => readNumbers(a, 'shape.axes', mean.length));
    const names = Array.isArray(p.names) ? p.names : [];
    const measures = names.map((n) => MEASUREMENTS.findIndex((m) => m.name === n));
    if (measures.some((k) => k < 0)) throw new PhenofaceError('E_BUNDLE', `Invalid feature record: geometry.groups[${i}].panel.names holds an unknown measurement. Known: ${MEASUREMENTS.map((m) => m.name).join(', ')}.`);
    const shape = { mean, centre: readNumbers(s.centre, 'shape.centre', mean.length), axes, scale: readScales(s.scale, 'shape.scale', axes ? axes.length : mean.length) };
    const panel = { measures, mean: readNumbers(p.mean, 'panel.mean', measures.length), scale: readScales(p.scale, 'panel.scale', measures.length) };
    const group = { view: g.view as View, offset, shape, panel };
    offset += width(group);
    return group;
  });
  const fitted = new FittedGeometry(groups);
  if (fitted.dim !== json.dim) throw new PhenofaceError('E_BUNDLE', `Invalid feature record: geometry.dim is ${json.dim}, but its groups hold ${fitted.dim} columns.`);
  return fitted;
}

/** One region's share of a linear score. */
export interface RegionContribution {
  region: RegionName;
  /** Sum over the region's columns of coefficient × standardised value (in the score's units, e.g. log-odds). */
  contribution: number;
}

/**
 * Each facial region's exact contribution to a linear score `w · x + b` on this block's vector
 * `x` for one photo (Baehrens et al. 2010; for a linear model the gradient × input decomposition
 * is exact). Shape columns are linear in the aligned coordinates, so each principal axis's
 * `w_k x_k` is carried back to the coordinates (`u_i Σ_k w_k a_ki / s_k`) and each coordinate to
 * its landmark's region (`ibug68.ts`); a panel measurement's `w_j x_j` is split equally among the
 * regions of the landmarks it uses. The contributions sum to `w · x` (the score less its
 * intercept): relative to the training mean face, whose vector is 0. `weights` are the model's
 * coefficients on this block's columns (length `dim`).
 */
export function geometryContributions(block: FittedBlock, row: PhotoInputs, weights: ArrayLike<number>): RegionContribution[] {
  if (!(block instanceof FittedGeometry) || weights.length !== block.dim) {
    throw new PhenofaceError('E_INPUT', `Invalid geometry explanation: block ${block.name} of ${block.dim} columns, ${weights.length} weights. Expected a fitted geometry block and one weight per column.`);
  }
  const sums = new Map<RegionName, number>(REGION_NAMES.map((r) => [r, 0]));
  const add = (r: RegionName, v: number) => sums.set(r, sums.get(r)! + v);
  const g = usable(row) ? block.group(row.view) : undefined;
  if (g && usable(row)) {
    const x = block.transform([row])[0];
    const aligned = alignToMean(shapeOf(row.landmarks68, g.shape.mean.length / 2), g.shape.mean);
    const { centre, axes, scale } = g.shape;
    for (let i = 0; i < aligned.length; i++) {
      const beta = axes ? axes.reduce((s, a, k) => s + (weights[g.offset + k] * a[i]) / scale[k], 0) : weights[g.offset + i] / scale[i];
      add(landmarkRegion(Math.floor(i / 2)), (aligned[i] - centre[i]) * beta);
    }
    const at = g.offset + scale.length;
    g.panel.measures.forEach((m, k) => {
      const lm = MEASUREMENTS[m].landmarks;
      for (const l of lm) add(landmarkRegion(l), (weights[at + k] * x[at + k]) / lm.length);
    });
  }
  return REGION_NAMES.map((region) => ({ region, contribution: sums.get(region)! }));
}
