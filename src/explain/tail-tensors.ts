/**
 * The tensors of a backbone's tail (`readGraphTail`, `runtime/graph-tail.ts`) on one face, as `explain/`
 * passes them between onnxruntime's forward run and the tail's backward pass (`loadTailBackward`).
 * The JS forward and reverse-mode passes that check both live with the tests
 * (`test/unit/explain/js-tail.ts`).
 */

/** A feature map `[c, h, w]` of one face, row-major. */
export interface Feature {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

/** Tensors of one forward pass, keyed by name (the backward pass reads the PReLU inputs). */
export type TailActivations = Map<string, Feature>;
