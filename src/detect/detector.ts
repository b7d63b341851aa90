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
  /** Releases the detector's models. */
  dispose(): Promise<void>;
}
