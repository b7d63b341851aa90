import { describe, expect, it } from 'vitest';
import { estimatePose, noseOutsideEyes, projectPose, viewOfFace, viewOfYaw } from '../../../src/pose/index.ts';
import { ARCFACE_TEMPLATE } from '../../../src/align/template.ts';
import { DEFAULTS } from '../../../src/config.ts';
import type { Landmarks5 } from '../../../src/types.ts';

describe('head pose from 5 landmarks', () => {
  it('reads the ArcFace template (a mean frontal face) as frontal and level', () => {
    const p = estimatePose(ARCFACE_TEMPLATE as Landmarks5);
    expect(Math.abs(p.yaw)).toBeLessThan(3);
    expect(Math.abs(p.roll)).toBeLessThan(1);
    expect(Math.abs(p.pitch)).toBeLessThan(10);
  });

  it.each([
    [0, 0, 0], [30, 0, 0], [-30, 5, 10], [50, -10, -15], [-70, 0, 5], [15, 15, 30],
  ])('recovers yaw %d, pitch %d, roll %d from a projected face', (yaw, pitch, roll) => {
    const lm = projectPose({ yaw, pitch, roll }, 3.2, 400, 300);
    const p = estimatePose(lm);
    expect(p.yaw).toBeCloseTo(yaw, 0);
    expect(p.pitch).toBeCloseTo(pitch, 0);
    expect(p.roll).toBeCloseTo(roll, 0);
  });

  it('gives yaw > 0 when the nose moves towards the image right', () => {
    const lm = ARCFACE_TEMPLATE.map((p) => [...p]) as Landmarks5;
    lm[2][0] += 8;
    expect(estimatePose(lm).yaw).toBeGreaterThan(10);
    lm[2][0] -= 16;
    expect(estimatePose(lm).yaw).toBeLessThan(-10);
  });

  it('reads roll from a face rotated in the image plane', () => {
    const a = (20 * Math.PI) / 180;
    const lm = ARCFACE_TEMPLATE.map(([x, y]) => [x * Math.cos(a) - y * Math.sin(a), x * Math.sin(a) + y * Math.cos(a)]) as Landmarks5;
    expect(estimatePose(lm).roll).toBeCloseTo(20, 0);
  });
});

describe('view bands', () => {
  const cfg = DEFAULTS.pose;
  it('splits |yaw| at 20 and 45 degrees', () => {
    expect(viewOfYaw(0, cfg)).toBe('frontal');
    expect(viewOfYaw(-19.9, cfg)).toBe('frontal');
    expect(viewOfYaw(20, cfg)).toBe('oblique');
    expect(viewOfYaw(-44.9, cfg)).toBe('oblique');
    expect(viewOfYaw(45, cfg)).toBe('profile');
    expect(viewOfYaw(-85, cfg)).toBe('profile');
  });
  it('calls a face profile when the nose tip is outside the eyes (one eye hidden), whatever the yaw estimate', () => {
    const frontal = projectPose({ yaw: 10, pitch: 0, roll: 25 }, 2, 100, 100);
    expect(noseOutsideEyes(frontal)).toBe(false);
    expect(viewOfFace(10, frontal, cfg)).toBe('frontal');
    const turned = projectPose({ yaw: -70, pitch: 0, roll: -20 }, 2, 100, 100); // beyond atan(E/D) ~ 50 deg
    expect(noseOutsideEyes(turned)).toBe(true);
    expect(viewOfFace(30, turned, cfg)).toBe('profile');
    expect(noseOutsideEyes(projectPose({ yaw: 40, pitch: 0, roll: 0 }, 2, 100, 100))).toBe(false);
  });
});
