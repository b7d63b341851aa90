/**
 * Generalised Procrustes alignment of 2-D landmark shapes (Gower 1975, "Generalized Procrustes
 * analysis", Psychometrika 40; Dryden & Mardia 2016, "Statistical Shape Analysis", ch. 7): each
 * shape is freed of translation (centred), of scale (unit centroid size) and of in-plane rotation
 * (rotated onto a mean shape); reflection is excluded, since a mirrored face is not the same
 * shape. The mean is the only thing learnt, from the training shapes; a new shape is then aligned
 * to that fixed mean, so aligning test rows never changes the fit.
 *
 * A shape is a `Float64Array` of interleaved coordinates `[x0, y0, x1, y1, ...]`.
 */
import { PhenofaceError } from '../errors.ts';
import type { Point } from '../types.ts';

/** Interleaved 2-D coordinates of one shape. */
export type Shape = Float64Array;

/** Flattens points into a shape. */
export function toShape(points: readonly Point[]): Shape {
  const s = new Float64Array(points.length * 2);
  points.forEach(([x, y], i) => {
    s[2 * i] = x;
    s[2 * i + 1] = y;
  });
  return s;
}

/** Centres a shape on its centroid and scales it to unit centroid size (sqrt of the summed squared coordinates). */
export function normaliseShape(shape: Shape): Shape {
  const k = shape.length / 2;
  let cx = 0, cy = 0;
  for (let i = 0; i < k; i++) {
    cx += shape[2 * i];
    cy += shape[2 * i + 1];
  }
  cx /= k;
  cy /= k;
  const out = new Float64Array(shape.length);
  let ss = 0;
  for (let i = 0; i < k; i++) {
    out[2 * i] = shape[2 * i] - cx;
    out[2 * i + 1] = shape[2 * i + 1] - cy;
    ss += out[2 * i] ** 2 + out[2 * i + 1] ** 2;
  }
  if (!(ss > 0) || !Number.isFinite(ss)) {
    throw new PhenofaceError('E_INPUT', `Invalid shape: centroid size ${Math.sqrt(ss)}. Expected the points to be finite and not all at one place.`);
  }
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < out.length; i++) out[i] *= inv;
  return out;
}

/**
 * Rotates a centred shape onto a centred target by the rotation that minimises the summed squared
 * distance (the 2-D closed form: angle = atan2(sum x×t, sum x·t)); a rotation, never a reflection.
 */
export function rotateOnto(shape: Shape, target: Shape): Shape {
  let a = 0, b = 0;
  for (let i = 0; i < shape.length; i += 2) {
    const [x, y, tx, ty] = [shape[i], shape[i + 1], target[i], target[i + 1]];
    a += x * tx + y * ty;
    b += x * ty - y * tx;
  }
  const norm = Math.hypot(a, b);
  const [c, s] = norm > 0 ? [a / norm, b / norm] : [1, 0];
  const out = new Float64Array(shape.length);
  for (let i = 0; i < shape.length; i += 2) {
    out[i] = c * shape[i] - s * shape[i + 1];
    out[i + 1] = s * shape[i] + c * shape[i + 1];
  }
  return out;
}

/** Aligns a raw shape to a fitted mean: centred, unit size, rotated onto it (partial Procrustes fit). */
export function alignToMean(shape: Shape, mean: Shape): Shape {
  if (shape.length !== mean.length) {
    throw new PhenofaceError('E_INPUT', `Invalid shape: ${shape.length / 2} points. Expected ${mean.length / 2}, as the fitted mean shape.`);
  }
  return rotateOnto(normaliseShape(shape), mean);
}

/** The fitted alignment. */
export interface ProcrustesFit {
  /** The mean shape: centred, unit centroid size. */
  mean: Shape;
  /** The training shapes aligned to it. */
  aligned: Shape[];
  /** Iterations until the mean moved less than the tolerance. */
  iterations: number;
}

/** The point-wise average of shapes. */
function averageShape(shapes: readonly Shape[]): Shape {
  const m = new Float64Array(shapes[0].length);
  for (const s of shapes) for (let i = 0; i < m.length; i++) m[i] += s[i];
  for (let i = 0; i < m.length; i++) m[i] /= shapes.length;
  return m;
}

/**
 * Generalised Procrustes alignment (Gower 1975): start from the first shape as the mean; align
 * every shape to the mean; replace the mean by the aligned shapes' average, re-normalised to unit
 * size and rotated onto the previous mean (so the frame does not drift); repeat until the mean
 * moves by less than `tolerance` (summed squared change) or `maxIterations` is reached.
 */
export function generalisedProcrustes(shapes: readonly Shape[], tolerance = 1e-10, maxIterations = 100): ProcrustesFit {
  if (shapes.length === 0) throw new PhenofaceError('E_INPUT', 'Invalid Procrustes input: no shapes. Expected at least one.');
  const normalised = shapes.map(normaliseShape);
  let mean = normalised[0];
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    const aligned = normalised.map((s) => rotateOnto(s, mean));
    const next = rotateOnto(normaliseShape(averageShape(aligned)), mean);
    let change = 0;
    for (let i = 0; i < next.length; i++) change += (next[i] - mean[i]) ** 2;
    mean = next;
    if (change < tolerance) break;
  }
  return { mean, aligned: normalised.map((s) => rotateOnto(s, mean)), iterations };
}
