/**
 * JSON shapes of the CLI contract (`../shared/docs/cli-contract.md`, v1). Numbers are rounded to
 * what is meaningful (pixels to 1/1000, scores to 1e-6, angles to 0.1 degree) so files diff well.
 */
import type { Face } from '../types.ts';
import { printable, printableLine } from '../data/printable.ts';

export { printable, printableLine };

/** The contract version every JSON object carries. */
export const CONTRACT = 1;

const r = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;

/** A face as the contract writes it. */
export function faceJson(f: Face, withPose = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    box: { x: r(f.box.x, 3), y: r(f.box.y, 3), width: r(f.box.width, 3), height: r(f.box.height, 3) },
    score: r(f.score, 6),
    landmarks5: f.landmarks5.map(([x, y]) => [r(x, 3), r(y, 3)]),
  };
  if (withPose && f.pose) out.pose = { yaw: r(f.pose.yaw, 1), pitch: r(f.pose.pitch, 1), roll: r(f.pose.roll, 1) };
  if (withPose && f.view) out.view = f.view;
  if (f.turned) out.turned = f.turned;
  if (f.landmarksDense) out.landmarksDense = f.landmarksDense.map(([x, y]) => [r(x, 3), r(y, 3)]);
  return out;
}

/** A per-file error as one JSON line of the contract. */
export function errorJson(path: string, error: { code: string; message: string }): string {
  return JSON.stringify({ contract: CONTRACT, path, error }) + '\n';
}

/** A per-file error as a line of text, for human-readable output (no `--json`). */
export function errorLine(path: string, error: { code: string; message: string }): string {
  return printableLine(`${path}: ${error.code}: ${error.message}`) + '\n';
}

/** A face in a line of text: `frontal face (yaw 3°, score 0.998) at 12,30 140x160`. */
export function faceText(f: Face): string {
  const pose = f.pose ? `yaw ${f.pose.yaw.toFixed(0)}°, ` : '';
  return `${f.view ? `${f.view} ` : ''}face (${pose}score ${f.score.toFixed(3)}) at ${Math.round(f.box.x)},${Math.round(f.box.y)} ${Math.round(f.box.width)}x${Math.round(f.box.height)}`;
}
