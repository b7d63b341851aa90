/** The web app's wording of class names, which come from the study's manifest. */
import { describe, expect, it } from 'vitest';
import { className, metricCells, pct, photoErrorText, scorePct } from '../../../web/src/format.ts';

describe('className', () => {
  it('names the known classes as a clinician reads them', () => {
    expect(className('VCFS')).toBe('22q11.2 deletion syndrome');
    expect(className('control')).toBe('no syndrome (control)');
    expect(className('noonan')).toBe('noonan');
  });

  it('shows classes named like built-in properties as they are, not what an object inherits under that name', () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) expect(className(name)).toBe(name);
  });
});

describe('photoErrorText', () => {
  it('keeps the server\'s finding that a face shows with the photo turned, which the plain advice would hide', () => {
    const message = 'No face found in the image. A face is found with the photo turned 180 degrees clockwise: its orientation tag may be missing; turn the photo upright and try again.';
    expect(photoErrorText({ code: 'E_NO_FACE', message })).toMatch(/one is with the photo turned 180 degrees clockwise/);
    expect(photoErrorText({ code: 'E_NO_FACE', message: 'No face found in the image.' })).toMatch(/^No face was found\. Use a photo in which the face is clearly visible/);
    expect(photoErrorText({ code: 'E_WHATEVER', message: 'the server says' })).toBe('the server says');
    expect(photoErrorText({ code: 'constructor', message: 'odd' })).toBe('odd');
  });
});

describe('scorePct', () => {
  it('shows a score of exactly 1 or 0, which is rounded to four decimals, as near it, not as a certainty', () => {
    expect([1, 0, 0.62, 0.995, 0.004].map(scorePct)).toEqual(['>99%', '<1%', '62%', '>99%', '<1%']);
    // A counted rate of 1 stays 100%.
    expect(pct(1)).toBe('100%');
  });
});

describe('metricCells', () => {
  it('says what n counts and how many of each class, so a 100% of four people is not read as one of many', () => {
    const m = { n: { units: 10, positive: 4, negative: 6 }, sensitivity: { value: 1, ci95: [0.51, 1] as [number, number] } };
    expect(metricCells(m, 'people')).toMatchObject({ n: '10 people: 4 with, 6 without', sensitivity: '100% (51%–100%)' });
    expect(metricCells({ n: 35 }, 'photos').n).toBe('35 photos');
    expect(metricCells(undefined, 'people').n).toBe('–');
  });

  it('says an interval of one value is no certainty, as the report does, so an AUC of 1.00 (1.00–1.00) does not read as proven', () => {
    expect(metricCells({ auc: { value: 1, ci95: [1, 1] } }, 'photos').auc).toBe('1.00 (1.00–1.00, every resample alike: not a certainty)');
    expect(metricCells({ auc: { value: 0.92, ci95: [0.73, 1] } }, 'photos').auc).toBe('0.92 (0.73–1.00)');
  });
});
