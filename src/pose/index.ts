/**
 * Head pose, view and quality of a detected face.
 */
import type { PoseConfig } from '../config.ts';
import type { Landmarks5, View } from '../types.ts';

export { estimatePose, projectPose } from './headpose.ts';
export { assessQuality, qualityWarnings, QUALITY_FLAGS, turnedWarning, type QualityFlag, type QualityMeasures, type Quality } from './quality.ts';

/**
 * The view band of a yaw angle: |yaw| < `frontalMaxYawDeg` is frontal, |yaw| >= `profileMinYawDeg`
 * is profile, oblique in between (defaults 20 and 45 degrees, see `config.ts`).
 */
export function viewOfYaw(yawDeg: number, cfg: PoseConfig): View {
  const a = Math.abs(yawDeg);
  if (a < cfg.frontalMaxYawDeg) return 'frontal';
  if (a >= cfg.profileMinYawDeg) return 'profile';
  return 'oblique';
}

/**
 * True when the nose tip lies outside the horizontal span of the two eyes (in the face's own frame,
 * roll removed): the near eye then hides the far one, which happens only beyond ~50 deg of yaw.
 */
export function noseOutsideEyes(lm: Landmarks5): boolean {
  const [le, re, nose] = lm;
  const ang = Math.atan2(re[1] - le[1], re[0] - le[0]);
  const c = Math.cos(-ang), s = Math.sin(-ang);
  const x = (p: readonly number[]) => c * (p[0] - le[0]) - s * (p[1] - le[1]);
  const a = 0, b = x(re), n = x(nose);
  return n < Math.min(a, b) || n > Math.max(a, b);
}

/** The view of a face: the yaw band, or profile when the nose tip is outside the eyes' span. */
export function viewOfFace(yawDeg: number, lm: Landmarks5, cfg: PoseConfig): View {
  return noseOutsideEyes(lm) ? 'profile' : viewOfYaw(yawDeg, cfg);
}
