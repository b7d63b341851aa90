/**
 * The detector interface every face detector implements (deepface's habit: one interface, a
 * registry by name). A detector finds faces with 5 landmarks in an RGB image; pose, view and
 * quality are added downstream by `pose/`.
 */
import type { Face, RgbImage } from '../types.ts';

/** A face detector. Coordinates are in the pixels of the image passed in. */
export interface Detector {
  /** Registry name, e.g. `mtcnn`. */
  readonly name: string;
  /** Faces found, largest box first. */
  detect(image: RgbImage): Promise<Face[]>;
  /**
   * Optional: re-estimates faces (box, score, landmarks) at `image`'s resolution, e.g. faces found in
   * a reduced copy of the photo; an entry is `undefined` when the detector no longer sees a face there.
   */
  refine?(image: RgbImage, faces: readonly Face[]): Promise<(Face | undefined)[]>;
  /** Releases the detector's models. */
  dispose(): Promise<void>;
}
