/** Advice on a photo's view follows the model's own per-view results, never a fixed claim. */
import { describe, expect, it } from 'vitest';
import { photoWarnings, viewAdvice } from '../../../src/workflows/screen/photo-warnings.ts';

const byView = (frontal: [number, number, number], other: [number, number, number]) => ({
  frontal: { photo: { auc: { value: frontal[0], ci95: [frontal[1], frontal[2]] } } },
  oblique: { photo: { auc: { value: other[0], ci95: [other[1], other[2]] } } },
});

describe('viewAdvice', () => {
  it('says "lower" only when the view\'s interval lies below the frontal estimate', () => {
    expect(viewAdvice('oblique', byView([0.9, 0.85, 0.95], [0.7, 0.6, 0.8]))[0]).toMatch(/^oblique photo: the model's AUC is lower on oblique than on frontal photos \(AUC per photo 0\.70 \(0\.60-0\.80\) on oblique photos vs 0\.90/);
  });

  it('does not call a view worse when it scored higher, or when the intervals overlap', () => {
    const higher = viewAdvice('oblique', byView([0.81, 0.75, 0.86], [0.95, 0.9, 0.99]))[0];
    expect(higher).not.toMatch(/lower/);
    expect(higher).toMatch(/^oblique photo: the model's AUC is higher on oblique than on frontal photos/);
    expect(viewAdvice('oblique', byView([0.81, 0.7, 0.9], [0.78, 0.6, 0.92]))[0]).toMatch(/no clear difference/);
  });

  it('does not call a view better when its interval clears the frontal estimate but the intervals overlap, and never says "accuracy" of an AUC', () => {
    // The demo's figures: oblique 1.00 (0.97-1.00) against frontal 0.94 (0.84-1.00).
    const overlapping = viewAdvice('oblique', byView([0.94, 0.84, 1], [1, 0.97, 1]))[0];
    expect(overlapping).toMatch(/^oblique photo: no clear difference from frontal photos/);
    expect([overlapping, viewAdvice('oblique', byView([0.9, 0.85, 0.95], [0.7, 0.6, 0.8]))[0]].join(' ')).not.toMatch(/accuracy/);
  });

  it('says an AUC interval of one value (1 in every resample of a few people) is no certainty, as the report does', () => {
    // The quick demo's figures: oblique 1.00 (1.00-1.00) against frontal 0.92 (0.73-1.00).
    expect(viewAdvice('oblique', byView([0.92, 0.73, 1], [1, 1, 1]))[0]).toContain('AUC per photo 1.00 (1.00-1.00, every resample alike: not a certainty) on oblique photos vs 0.92 (0.73-1.00) on frontal photos');
  });

  it('gives nothing for frontal photos, and says so when the model has no figures for the view', () => {
    expect(viewAdvice('frontal', byView([0.9, 0.85, 0.95], [0.7, 0.6, 0.8]))).toEqual([]);
    expect(viewAdvice('profile', byView([0.9, 0.85, 0.95], [0.7, 0.6, 0.8]))[0]).toBe('profile photo: this model has no validated results for profile photos (its study validated frontal and oblique photos)');
  });

  it('says so for a frontal photo when the study validated other views only, and compares nothing without frontal figures', () => {
    const profilesOnly = { profile: { photo: { auc: { value: 0.8, ci95: [0.7, 0.9] } } } };
    expect(viewAdvice('frontal', profilesOnly)).toEqual(['frontal photo: this model has no validated results for frontal photos (its study validated profile photos)']);
    expect(viewAdvice('profile', profilesOnly)).toEqual([]);
  });
  it('gives a face found on its side or upside down no view advice: its view was estimated on the turned face', () => {
    const views = byView([0.9, 0.85, 0.95], [0.7, 0.6, 0.8]);
    expect(photoWarnings(['the face looks turned on its side'], 'oblique', views, 1)).toHaveLength(2);
    expect(photoWarnings(['the face looks turned on its side'], 'oblique', views, 1, true)).toEqual(['the face looks turned on its side']);
    expect(photoWarnings([], 'oblique', views, 2, true)).toEqual(['2 faces in the photo: the largest, most central one was used']);
  });
});
