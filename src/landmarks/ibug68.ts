/**
 * The 68-point iBUG-300W landmark scheme (Sagonas et al., "300 Faces in-the-Wild Challenge", 2013;
 * the points of dlib's shape predictor and of face-api's FaceLandmark68Net), as 0-based index
 * ranges. "Left"/"right" are the IMAGE's left and right, as in the five-point contract: the
 * image-left eye is the subject's right eye.
 */
import type { Point } from '../types.ts';

/** Number of points of the scheme. */
export const IBUG68_POINTS = 68;

/** Index ranges [first, last] (inclusive) of the scheme's parts. */
export const IBUG68 = {
  /** Jaw line, image-left ear to image-right ear; 8 is the chin (menton). */
  jaw: [0, 16],
  leftBrow: [17, 21],
  rightBrow: [22, 26],
  /** Nasal bridge, nasion (27) down to the nose tip (30, pronasale). */
  noseBridge: [27, 30],
  /** Lower nose, image-left ala (31) through subnasale (33) to image-right ala (35). */
  noseBase: [31, 35],
  /** Image-left eye: outer corner 36, upper lid 37-38, inner corner 39, lower lid 40-41. */
  leftEye: [36, 41],
  /** Image-right eye: inner corner 42, upper lid 43-44, outer corner 45, lower lid 46-47. */
  rightEye: [42, 47],
  /** Outer lip contour from the image-left mouth corner (48) clockwise; 51 upper lip top, 57 lower lip bottom, 54 image-right corner. */
  outerLip: [48, 59],
  /** Inner lip contour from 60 (image-left) clockwise; 62 upper inner midpoint, 66 lower inner midpoint. */
  innerLip: [60, 67],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * Each point's mirror partner: the index a point takes when the face is flipped left to right
 * (jaw, brows, eyes, nostrils and lips swap sides; the midline points of the nasal bridge and the
 * lips' midpoints stay). An involution: `IBUG68_MIRROR[IBUG68_MIRROR[i]] === i`.
 */
export const IBUG68_MIRROR: readonly number[] = (() => {
  const m = Array.from({ length: IBUG68_POINTS }, (_, i) => i);
  const pair = (a: number, b: number) => ((m[a] = b), (m[b] = a));
  for (let i = 0; i <= 7; i++) pair(i, 16 - i);
  for (let i = 0; i < 5; i++) pair(17 + i, 26 - i);
  pair(31, 35);
  pair(32, 34);
  // Eyes: outer corner 36 <-> 45, upper lid 37 <-> 44, 38 <-> 43, inner corner 39 <-> 42, lower lid 40 <-> 47, 41 <-> 46.
  [[36, 45], [37, 44], [38, 43], [39, 42], [40, 47], [41, 46]].forEach(([a, b]) => pair(a, b));
  // Outer lip: corners 48 <-> 54, upper 49 <-> 53, 50 <-> 52; lower 55 <-> 59, 56 <-> 58.
  [[48, 54], [49, 53], [50, 52], [55, 59], [56, 58]].forEach(([a, b]) => pair(a, b));
  // Inner lip: 60 <-> 64, 61 <-> 63, 65 <-> 67.
  [[60, 64], [61, 63], [65, 67]].forEach(([a, b]) => pair(a, b));
  return m;
})();

/**
 * Points a dense model may place after the 68, at fixed indices from 68 on, so that code which
 * needs the iBUG-300W scheme itself (region masks, the five-point reduction, the panel's reference
 * length, mirror tables) reads the first {@link IBUG68_POINTS}, and a measurement that needs an
 * extra point is absent where the model does not place it. The nasal sidewalls at the nasal root,
 * where the side wall meets the medial canthal region (the surface point over Farkas' maxillofrontale,
 * mf), mark the width of the nasal root, which the 68 cannot: iBUG marks only the bridge's midline (27-30).
 */
export const EXTRA_POINTS = Object.freeze({
  /** Image-left nasal sidewall at the nasal root (the patient's right in an ordinary photo). */
  nasalSidewallLeft: 68,
  /** Image-right nasal sidewall at the nasal root. */
  nasalSidewallRight: 69,
});

/** Largest number of points a dense model returns: the 68, then every one of {@link EXTRA_POINTS}. */
export const EXTENDED_POINTS = IBUG68_POINTS + Object.keys(EXTRA_POINTS).length;

/**
 * {@link IBUG68_MIRROR} for the 68 and the extras (the two sidewalls swap). A model with fewer
 * extras uses its first entries: the 68's partners lie among the 68.
 */
export const EXTENDED_MIRROR: readonly number[] = [...IBUG68_MIRROR, EXTRA_POINTS.nasalSidewallRight, EXTRA_POINTS.nasalSidewallLeft];

/** The centroid of the points in an inclusive index range. */
export function centroid(points: readonly Point[], [first, last]: readonly [number, number]): Point {
  let x = 0, y = 0;
  for (let i = first; i <= last; i++) {
    x += points[i][0];
    y += points[i][1];
  }
  const n = last - first + 1;
  return [x / n, y / n];
}

/**
 * The five contract points (image-left eye, image-right eye, nose tip, image-left and image-right
 * mouth corner) as the 68 points give them: eye centres are the centroids of the six eye points,
 * the nose tip is point 30, the mouth corners 48 and 54. For checking dense landmarks against
 * MTCNN's five points.
 */
export function fivePointsOf68(points: readonly Point[]): [Point, Point, Point, Point, Point] {
  return [centroid(points, IBUG68.leftEye), centroid(points, IBUG68.rightEye), points[30], points[48], points[54]];
}
