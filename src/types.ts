/**
 * Result types shared by every stage. Coordinates follow the CLI contract: pixels in the
 * EXIF-oriented image, origin top-left, x right, y down.
 */

/** A 2-D point `[x, y]` in pixels. */
export type Point = [number, number];

/** An axis-aligned box in pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Five landmarks in MTCNN/ArcFace order: image-left eye, image-right eye, nose tip,
 * image-left mouth corner, image-right mouth corner.
 */
export type Landmarks5 = [Point, Point, Point, Point, Point];

/** Head pose in degrees; yaw 0 is frontal, positive yaw = face turned towards the image's left. */
export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** Coarse view class from |yaw| (bands in `config.ts` DEFAULTS.pose). */
export type View = 'frontal' | 'oblique' | 'profile';

/** One detected face. */
export interface Face {
  box: Box;
  /** O-Net face probability in [0, 1]. */
  score: number;
  landmarks5: Landmarks5;
  pose?: Pose;
  view?: View;
  /**
   * Dense landmarks of the configured model (`config.landmarks.model`) in the same pixels, when
   * they were asked for: the 68 iBUG-300W points, then the model's extra points (the default face
   * mesh adds the image-left and image-right nasal sidewall at the nasal root: 70 in all).
   */
  landmarksDense?: Point[];
  /**
   * The five points the face's crop is aligned on, when they are not `landmarks5`: with
   * `embed.alignOn` 'landmarks', the dense landmarks' five points (`fivePointsOf68`), which go onto
   * the landmark model's own template (`alignmentOf` in `pipeline/pipeline.ts`).
   */
  alignPoints?: Landmarks5;
  /**
   * Where one face is chosen (`Pipeline.embedFile`): how far clockwise the photo must be turned for
   * this face to stand upright, when the orientation check found it on its side or upside down
   * (`pipeline/orientation.ts`); absent when it looks upright or was not checked.
   */
  turned?: 90 | 180 | 270;
}

/** An RGB image in memory: interleaved 8-bit RGB, row-major, `width * height * 3` bytes. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A face warped to the 112x112 ArcFace template. */
export interface AlignedFace {
  image: RgbImage;
  /** 2x3 affine matrix mapping original-image pixels to aligned pixels. */
  matrix: [number, number, number, number, number, number];
}

/** An L2-normalised face embedding. */
export interface Embedding {
  backbone: string;
  vector: Float32Array;
}

/**
 * An empty object for keys that come from user data (labels, subjects, column names and values,
 * network names), without a prototype: "__proto__" and "constructor" are keys like any other. On a
 * plain `{}`, assigning "__proto__" sets the prototype (the key is lost from the output) and reading
 * "constructor" finds Object's.
 */
export function nameMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * JSON with every object's keys sorted, so that a hash of it does not depend on the order the
 * fields were written in (a tool that rewrites a JSON file, such as `jq -S`, may reorder them).
 * Numbers print as `JSON.stringify` prints the parsed value, so re-indenting or reformatting a
 * file's numbers without changing their value keeps the text.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
    : v));
}
