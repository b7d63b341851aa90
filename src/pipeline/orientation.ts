/**
 * Whether a face is shown on its side or upside down: a photo whose EXIF orientation tag was lost
 * (re-saved, sent through a messenger, scanned) still holds a face that MTCNN may find, with a
 * lower score and five points it has guessed, and the face is then aligned and scored as if it were
 * upright. MTCNN was trained on upright faces, so it finds a face turned back upright more surely:
 * on 1,080 upright LFW and CFP photos the chosen face scored 0.99 or more in 99% of them, while on
 * the same photos turned a quarter or half turn 93-95% of the faces it still found scored less
 * (docs/decisions.md). Only a face below that score is checked, on a small square crop about it,
 * in each of the four turns, and a face whose eye points lie on their side whatever its score.
 */
import { cropPad, resizeImage, rotateQuarterTurns } from '../image/index.ts';
import type { TurnCheckConfig } from '../config.ts';
import type { Box, Face, RgbImage } from '../types.ts';

/**
 * How far clockwise the photo must be turned for `face` (pixels of `img`) to stand upright (90,
 * 180 or 270 degrees), else undefined. A face scoring below `cfg.belowScore` is reported turned
 * when the detector finds it clearly more surely in a turn; a face whose eye points lie
 * `cfg.sideRollDeg` or more from level, at any score, when the turn that stands those points
 * upright finds it at `cfg.turnedScore` (its own score may be as high: the detector sometimes finds
 * a face on its side surely). Other faces are not checked. `detect` is the photo's face detector,
 * which skips faces under `minFaceSizePx`.
 */
export async function turnedBy(img: RgbImage, face: Pick<Face, 'box' | 'score' | 'landmarks5'>, detect: (img: RgbImage) => Promise<Face[]>, cfg: TurnCheckConfig, minFaceSizePx = 0): Promise<90 | 180 | 270 | undefined> {
  if (cfg.belowScore <= 0) return undefined;
  const roll = eyeRoll(face.landmarks5);
  const unsure = face.score < cfg.belowScore;
  const onItsSide = Math.abs(roll) >= cfg.sideRollDeg;
  if (!unsure && !onItsSide) return undefined;
  const scores = await turnScores(img, face.box, detect, cfg, minFaceSizePx);
  const k = [1, 2, 3].reduce((a, b) => (scores[b] > scores[a] ? b : a));
  if (unsure && scores[k] >= cfg.turnedScore && scores[k] - scores[0] >= cfg.margin) return (k * 90) as 90 | 180 | 270;
  // The quarter turns, clockwise, that bring the eye line back to level.
  const back = (((Math.round(-roll / 90) % 4) + 4) % 4) as 0 | 1 | 2 | 3;
  return onItsSide && back !== 0 && scores[back] >= cfg.turnedScore ? ((back * 90) as 90 | 180 | 270) : undefined;
}

/** The angle of the line from the first eye point to the second, in degrees clockwise from level (image y points down). */
function eyeRoll([left, right]: Face['landmarks5']): number {
  return (Math.atan2(right[1] - left[1], right[0] - left[0]) * 180) / Math.PI;
}

/** The best score of a face at the middle of a square crop about `box`, unturned and in each clockwise quarter turn. */
async function turnScores(img: RgbImage, box: Box, detect: (img: RgbImage) => Promise<Face[]>, cfg: TurnCheckConfig, minFaceSizePx: number): Promise<number[]> {
  // The face spans 1/cropScale of the crop: a detector set to skip small faces must still see it there.
  const cropSide = Math.max(cfg.cropSidePx, Math.ceil(cfg.cropScale * minFaceSizePx));
  // A square about the face's centre, with room for a box the detector placed off the turned face:
  // every turn keeps the face in the middle.
  const side = Math.max(2, Math.round(cfg.cropScale * Math.max(box.width, box.height)));
  const x1 = Math.round(box.x + box.width / 2 - side / 2);
  const y1 = Math.round(box.y + box.height / 2 - side / 2);
  const crop = await resizeImage(cropPad(img, x1, y1, x1 + side, y1 + side), cropSide, cropSide);
  const scores: number[] = [];
  for (let k = 0; k < 4; k++) {
    const faces = await detect(rotateQuarterTurns(crop, k));
    // The same face: one whose centre lies near the crop's centre (another face in the crop is not it).
    const near = faces.filter((f) => Math.hypot(f.box.x + f.box.width / 2 - cropSide / 2, f.box.y + f.box.height / 2 - cropSide / 2) < cropSide / 4);
    scores.push(Math.max(0, ...near.map((f) => f.score)));
  }
  return scores;
}
