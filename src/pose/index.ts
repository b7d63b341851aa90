/**
 * Head pose, view and quality of a detected face.
 */
import type { PoseConfig } from '../config.ts';
import type { View } from '../types.ts';

export { estimatePose, projectPose } from './headpose.ts';
export { assessQuality, type QualityFlag, type Quality } from './quality.ts';

/**
 * The view band of a yaw angle: |yaw| < `frontalMaxYawDeg` is frontal, |yaw| >= `profileMinYawDeg`
 * is profile, oblique in between (defaults 20 and 60 degrees, see `config.ts`).
 */
export function viewOfYaw(yawDeg: number, cfg: PoseConfig): View {
  const a = Math.abs(yawDeg);
  if (a < cfg.frontalMaxYawDeg) return 'frontal';
  if (a >= cfg.profileMinYawDeg) return 'profile';
  return 'oblique';
}
