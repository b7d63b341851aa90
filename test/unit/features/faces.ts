/**
 * Hand-placed 68-point faces (iBUG-300W order, pixels) with round distances between the points
 * the panel uses, so each measurement's expected value can be written down by hand.
 */
import { mulberry32 } from '../../../src/math/random.ts';
import type { PhotoInputs } from '../../../src/features/types.ts';
import type { Point } from '../../../src/types.ts';

/**
 * A frontal face. Distances by construction: palpebral fissures 36-39 and 42-45 = 30; inner
 * canthal 39-42 = 60; outer canthal 36-45 = 120; alar base 31-35 = 40; nasal tip 32-34 = 20;
 * nasal length 27-33 = 95; mouth 48-54 = 60; philtrum 33-51 = 25; lower face 33-8 = 85;
 * face height 27-8 = 180 over width 0-16 = 200.
 */
export function frontalFace(): Point[] {
  const p: Point[] = [];
  for (let i = 0; i <= 16; i++) {
    const t = (i / 16) * Math.PI;
    p.push([200 - 100 * Math.cos(t), 200 + 180 * Math.sin(t)]);
  }
  for (let i = 0; i < 5; i++) p.push([130 + 12 * i, 170]);
  for (let i = 0; i < 5; i++) p.push([222 + 12 * i, 170]);
  p.push([200, 200], [200, 225], [200, 250], [200, 275]);
  p.push([180, 290], [190, 293], [200, 295], [210, 293], [220, 290]);
  p.push([140, 210], [150, 203], [160, 203], [170, 210], [160, 215], [150, 215]);
  p.push([230, 210], [240, 203], [250, 203], [260, 210], [250, 215], [240, 215]);
  p.push([170, 330], [180, 324], [190, 321], [200, 320], [210, 321], [220, 324], [230, 330], [220, 338], [210, 342], [200, 345], [190, 342], [180, 338]);
  p.push([175, 330], [190, 327], [200, 327], [210, 327], [225, 330], [210, 334], [200, 335], [190, 334]);
  return p;
}

/**
 * {@link frontalFace} with the face mesh's two extra points after the 68 (`EXTRA_POINTS`): the
 * image-left and image-right nasal sidewall at the root, between the inner eye corners (170 and
 * 230) at x 185 and 215, so the nasal bridge width is 30 px.
 */
export function meshFace(): Point[] {
  return [...frontalFace(), [185, 205], [215, 205]];
}

/** A profile face turned to the image's right: the nose tip 30 stands 20 px right and 20 px above subnasale 33 (sn-prn = 20 sqrt 2). */
export function profileFace(): Point[] {
  const p = frontalFace().map(([x, y]): Point => [200 + (x - 200) * 0.3, y]);
  p[30] = [p[33][0] + 20, p[33][1] - 20];
  return p;
}

/** The points moved by a similarity: scaled by `s`, rotated by `deg` about the origin, shifted by (tx, ty). */
export function similarity(points: readonly Point[], s: number, deg: number, tx: number, ty: number): Point[] {
  const a = (deg * Math.PI) / 180;
  const [c, n] = [Math.cos(a), Math.sin(a)];
  return points.map(([x, y]): Point => [s * (c * x - n * y) + tx, s * (n * x + c * y) + ty]);
}

/** A face whose points are moved by seeded Gaussian noise of `sd` px (Box-Muller). */
export function jittered(points: readonly Point[], sd: number, seed: number): Point[] {
  const rng = mulberry32(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return points.map(([x, y]): Point => [x + sd * g(), y + sd * g()]);
}

/**
 * 16 people per class, 3 frontal photos each: positives have a wider nose base (alar points pushed
 * out 4 px) and an embedding shifted along its first axis; every photo has its own jitter.
 */
export function plantedNoseStudy() {
  const rng = mulberry32(21);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const rows: PhotoInputs[] = [];
  const y: number[] = [];
  const subjects: string[] = [];
  for (let s = 0; s < 32; s++) {
    const label = s % 2;
    for (let k = 0; k < 3; k++) {
      const face: Point[] = jittered(frontalFace(), 2, 100 * s + k);
      if (label) for (const [i, dx] of [[31, -4], [35, 4], [32, -2], [34, 2]] as const) face[i] = [face[i][0] + dx, face[i][1]];
      const embedding = Float32Array.from({ length: 8 }, (_, a) => gauss() + (a === 0 ? 1.5 * label : 0));
      rows.push({ embedding, view: 'frontal', landmarks68: face });
      y.push(label);
      subjects.push(`s${s}`);
    }
  }
  return { rows, y, subjects };
}
