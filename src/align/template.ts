/**
 * The ArcFace 112x112 alignment template (insightface `utils/face_align.py`, `arcface_dst`):
 * where the 5 landmarks of a frontal face land in the aligned crop every ArcFace-style
 * recognition network (MobileFaceNet included) was trained on.
 */
import type { Landmarks5 } from '../types.ts';

/** Aligned crop side in pixels. */
export const ALIGNED_SIZE = 112;

/** Template landmarks, contract order (image-left eye, image-right eye, nose, mouth left, mouth right). */
export const ARCFACE_TEMPLATE: Readonly<Landmarks5> = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
]) as unknown as Readonly<Landmarks5>;
