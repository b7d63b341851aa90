/**
 * Quality flags and their warnings: the photo's measures are quoted when known, and the same
 * wording serves a record's flags without them (`screen --embeddings`).
 */
import { describe, expect, it } from 'vitest';
import { assessQuality, qualityWarnings } from '../../../src/pose/index.ts';
import { DEFAULTS } from '../../../src/config.ts';
import type { Face } from '../../../src/types.ts';

const face = (over: Partial<Face> = {}): Face => ({ box: { x: 10, y: 10, width: 100, height: 120 }, score: 0.99, landmarks5: [[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], view: 'frontal', ...over });

describe('assessQuality', () => {
  it('raises no flag for a large, sure, frontal face inside the photo', () => {
    expect(assessQuality(face(), 400, 400, DEFAULTS.quality)).toMatchObject({ flags: [], warnings: [], faceSidePx: 100 });
  });

  it('words each flag with the measure behind it, and leaves a view to the model\'s advice', () => {
    const q = assessQuality(face({ box: { x: -30, y: 10, width: 36.4, height: 50 }, score: 0.5, view: 'oblique', turned: 180 }), 400, 400, DEFAULTS.quality);
    expect(q.flags).toEqual(['turned', 'small', 'cut-off', 'low-confidence', 'not-frontal']);
    expect(q.warnings).toEqual([
      'the face looks upside down: it is found more surely with the photo turned 180 degrees clockwise (its orientation tag may be missing); turn the photo upright and screen it again',
      'face is small (36 px): details are lost; use a closer photo',
      'face is partly outside the photo',
      'detector is unsure this is a face (score 0.50)',
    ]);
  });
});

describe('qualityWarnings', () => {
  it('gives the same warnings without the measures, in the flags\' order, each once', () => {
    expect(qualityWarnings(['blurry', 'low-confidence', 'small', 'blurry', 'not-frontal', 'turned'])).toEqual([
      'the face looks on its side or upside down: it is found more surely with the photo turned (its orientation tag may be missing); turn the photo upright and screen it again',
      'face is small: details are lost; use a closer photo',
      'detector is unsure this is a face',
      'photo looks blurry',
    ]);
  });
});
