/**
 * Head pose from the 5 MTCNN landmarks: a weak-perspective (scaled orthographic) fit of a generic
 * 3-D five-point face, solved by Gauss-Newton over (scale, yaw, pitch, roll, tx, ty).
 *
 * The 3-D face takes x and y from the ArcFace template (a mean frontal face) and depths from
 * anthropometric proportions: the nose tip stands ~0.42 inter-ocular distances in front of the eyes,
 * the mouth corners ~0.05 (as in the generic head model of the OpenCV/dlib head-pose examples).
 * Five points and a generic face make this a coarse estimate, good to about ten degrees: enough to
 * sort photos into frontal, oblique and profile views, which is what the study needs.
 *
 * Angles in degrees. yaw > 0: the nose tip moves towards the image's right; pitch > 0: the face tilts
 * up (the nose tip moves up in the image); roll > 0: the eye line turns clockwise in the image.
 */
import type { Landmarks5, Pose } from '../types.ts';
import { ARCFACE_TEMPLATE } from '../align/template.ts';
import { solveLinear } from '../math/linear.ts';

const IOD = ARCFACE_TEMPLATE[1][0] - ARCFACE_TEMPLATE[0][0];
const CX = (ARCFACE_TEMPLATE[0][0] + ARCFACE_TEMPLATE[1][0]) / 2;
const CY = (ARCFACE_TEMPLATE[0][1] + ARCFACE_TEMPLATE[3][1]) / 2;
/** Depth (towards the camera) of each of the 5 points, in template pixels. */
const DEPTH = [0, 0, 0.42 * IOD, 0.05 * IOD, 0.05 * IOD];

/** The generic 3-D face, centred, y down, z towards the camera. Symmetrised left/right. */
const MODEL: [number, number, number][] = ARCFACE_TEMPLATE.map((p, i) => {
  const mirror = [1, 0, 2, 4, 3][i];
  const q = ARCFACE_TEMPLATE[mirror];
  const x = (p[0] - CX - (q[0] - CX)) / 2;
  const y = (p[1] + q[1]) / 2 - CY;
  return [i === 2 ? 0 : x, y, DEPTH[i]];
});

const DEG = 180 / Math.PI;

/** Projects the model with parameters `[s, yaw, pitch, roll, tx, ty]` (angles in radians). */
function project(params: readonly number[], out: Float64Array): void {
  const [s, yaw, pitch, roll, tx, ty] = params;
  const cy = Math.cos(yaw), sy = Math.sin(yaw);
  const cp = Math.cos(pitch), sp = Math.sin(pitch);
  const cr = Math.cos(roll), sr = Math.sin(roll);
  for (let i = 0; i < 5; i++) {
    const [x, y, z] = MODEL[i];
    // yaw about the vertical axis, then pitch about the horizontal axis, then roll in the image plane
    const x1 = x * cy + z * sy;
    const z1 = -x * sy + z * cy;
    const y2 = y * cp - z1 * sp;
    out[2 * i] = s * (x1 * cr - y2 * sr) + tx;
    out[2 * i + 1] = s * (x1 * sr + y2 * cr) + ty;
  }
}

/**
 * Where the generic face's 5 points land for a given pose, scale (pixels per template pixel) and
 * centre: the forward model that {@link estimatePose} inverts. Used by tests and synthetic data.
 */
export function projectPose(pose: Pose, scale: number, cx: number, cy: number): Landmarks5 {
  const buf = new Float64Array(10);
  project([scale, pose.yaw / DEG, pose.pitch / DEG, pose.roll / DEG, cx, cy], buf);
  return [0, 1, 2, 3, 4].map((i) => [buf[2 * i], buf[2 * i + 1]]) as Landmarks5;
}

function residual(params: readonly number[], target: readonly number[], buf: Float64Array): number {
  project(params, buf);
  let e = 0;
  for (let i = 0; i < 10; i++) e += (buf[i] - target[i]) ** 2;
  return e;
}

/** Estimates yaw, pitch and roll (degrees) from 5 landmarks. */
export function estimatePose(lm: Landmarks5): Pose {
  const target = lm.flatMap((p) => [p[0], p[1]]);
  const [le, re, nose, ml, mr] = lm;
  const eyeMid: [number, number] = [(le[0] + re[0]) / 2, (le[1] + re[1]) / 2];
  const mouthMid: [number, number] = [(ml[0] + mr[0]) / 2, (ml[1] + mr[1]) / 2];
  const faceH = Math.hypot(mouthMid[0] - eyeMid[0], mouthMid[1] - eyeMid[1]);
  const modelH = MODEL[3][1] - MODEL[0][1];
  const s0 = Math.max(faceH / modelH, 1e-3);
  // Roll from the eye-to-mouth axis (robust in profile, where the eye line collapses).
  const roll0 = Math.atan2(-(mouthMid[0] - eyeMid[0]), mouthMid[1] - eyeMid[1]);
  // Yaw sign and size from the nose's sideways offset from the eye-mouth axis.
  const ax = [Math.cos(roll0), Math.sin(roll0)];
  const off = ((nose[0] - eyeMid[0]) * ax[0] + (nose[1] - eyeMid[1]) * ax[1]) / s0;
  const yaw0 = Math.max(-1.4, Math.min(1.4, Math.asin(Math.max(-1, Math.min(1, off / DEPTH[2])))));
  const cx = target.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0) / 5;
  const cy = target.filter((_, i) => i % 2 === 1).reduce((a, b) => a + b, 0) / 5;

  let params = [s0, yaw0, 0, roll0, cx, cy];
  const buf = new Float64Array(10);
  const buf2 = new Float64Array(10);
  let err = residual(params, target, buf);
  let lambda = 1e-3;
  for (let iter = 0; iter < 50; iter++) {
    // Jacobian by central differences (6 parameters, 10 residuals: negligible cost).
    project(params, buf);
    const J: number[][] = [];
    for (let k = 0; k < 6; k++) {
      const h = k === 0 ? 1e-4 * params[0] : k >= 4 ? 1e-3 : 1e-5;
      const p1 = [...params]; p1[k] += h;
      const p2 = [...params]; p2[k] -= h;
      project(p1, buf2);
      const col = Array.from(buf2);
      project(p2, buf2);
      J.push(col.map((v, i) => (v - buf2[i]) / (2 * h)));
    }
    project(params, buf);
    const r = Array.from(buf, (v, i) => target[i] - v);
    const A = J.map((ji) => J.map((jj) => ji.reduce((s, v, i) => s + v * jj[i], 0)));
    const g = J.map((ji) => ji.reduce((s, v, i) => s + v * r[i], 0));
    let improved = false;
    for (let tries = 0; tries < 8 && !improved; tries++) {
      const Ad = A.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) + 1e-9 : v)));
      const step = solveLinear(Ad, g.map((v) => [v]))?.map(([v]) => v);
      if (!step) break;
      const cand = params.map((v, i) => v + step[i]);
      cand[1] = Math.max(-Math.PI / 2, Math.min(Math.PI / 2, cand[1]));
      cand[2] = Math.max(-Math.PI / 2, Math.min(Math.PI / 2, cand[2]));
      const e = residual(cand, target, buf2);
      if (e < err) { params = cand; err = e; lambda = Math.max(lambda / 3, 1e-7); improved = true; }
      else lambda *= 10;
    }
    if (!improved || err < 1e-10) break;
  }
  const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));
  return { yaw: params[1] * DEG, pitch: params[2] * DEG, roll: wrap(params[3]) * DEG };
}
