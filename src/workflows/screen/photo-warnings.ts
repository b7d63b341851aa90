/**
 * What a screened photo's card warns of besides its face's quality: advice on its view from the
 * model's own per-view results, and which face of a group photo was screened. Kept apart from the
 * Screener so that anything showing a screening (the web app's test double included) words it
 * the same way without loading the pipeline.
 */
import { VIEWS } from '../../config.ts';
import { singleValueClause, type ValidatedRate } from '../../evaluate/post-test.ts';
import type { View } from '../../types.ts';

/**
 * A screened photo's warnings, in the order both screening paths give them (photos, `embed`'s
 * records): its face's quality, advice on its view from the model's per-view results, and, for a
 * photo that holds several faces, that the screened one was chosen by the README's rule (the
 * largest, most central), so a clinician checks it is the patient's. A face found on its side or
 * upside down (`turned`) gets no view advice: its view was estimated from points placed on a face
 * the detector saw turned, and the turned warning already asks for the photo upright.
 */
export function photoWarnings(quality: readonly string[], view: View | undefined, byView: Record<string, unknown>, faces: number, turned = false): string[] {
  return [...quality, ...(turned ? [] : viewAdvice(view, byView)), ...(faces > 1 ? [`${faces} faces in the photo: the largest, most central one was used`] : [])];
}

/**
 * Advice on a photo's view from the model's own cross-validated per-view results (AUC per photo
 * with its 95% interval, as the bundle keeps them): a view the study did not validate is said to
 * be so, frontal included (a study of profiles only); otherwise "lower" when the view's interval
 * lies below the frontal estimate (advice to add a frontal photo errs on the side of caution), but
 * "higher" only when the two intervals do not overlap (a claim that would make a clinician trust
 * the view more needs more than the frontal point estimate), else the figures, which a clinician
 * can weigh. The figure compared is the AUC, so the words say AUC, not accuracy.
 */
export function viewAdvice(view: View | undefined, byView: Record<string, unknown>): string[] {
  if (!view) return [];
  const aucOf = (v: View) => (byView[v] as { photo?: { auc?: ValidatedRate } } | undefined)?.photo?.auc;
  const validated = (v: View) => { const a = aucOf(v); return a !== undefined && a.value !== null; };
  const here = aucOf(view);
  const frontal = aucOf('frontal');
  if (!here || here.value === null) {
    const others = VIEWS.filter((v) => v !== view && validated(v));
    return [`${view} photo: this model has no validated results for ${view} photos${others.length ? ` (its study validated ${others.join(' and ')} photos)` : ''}`];
  }
  if (view === 'frontal' || !frontal || frontal.value === null) return [];
  const fmt = (a: ValidatedRate) => `${a.value!.toFixed(2)}${a.ci95 ? ` (${a.ci95[0].toFixed(2)}-${a.ci95[1].toFixed(2)}${singleValueClause(a.ci95)})` : ''}`;
  const figures = `AUC per photo ${fmt(here)} on ${view} photos vs ${fmt(frontal)} on frontal photos in this model's study`;
  if (here.ci95 && here.ci95[1] < frontal.value) return [`${view} photo: the model's AUC is lower on ${view} than on frontal photos (${figures}); add a frontal photo if you can`];
  if (here.ci95 && frontal.ci95 && here.ci95[0] > frontal.ci95[1]) return [`${view} photo: the model's AUC is higher on ${view} than on frontal photos (${figures})`];
  return [`${view} photo: no clear difference from frontal photos (${figures})`];
}
