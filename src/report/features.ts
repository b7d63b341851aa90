/**
 * The report's "Representations" section: every representation the study could learn from, side
 * by side on the same outer folds (AUC per person and per photo with 95% subject-bootstrap
 * intervals, overall and per view), how often each fold's inner CV chose it, and the final model's
 * choice with the inner-CV figures it was made on. A reader can see whether the choice mattered
 * and whether it was made without the test folds.
 */
import { VIEWS } from '../config.ts';
import type { FeatureComparison } from '../evaluate/crossval.ts';
import type { FeatureSelection, FittedFeatureModel } from '../features/index.ts';
import { esc, est } from './index.ts';

/** The inner-CV figures of a choice, best first. */
function selectionTable(s: FeatureSelection): string {
  const rows = [...s.candidates].sort((a, b) => a.logLoss - b.logLoss)
    .map((c) => `<tr><td>${esc(c.features.join(' + '))}${c.features.join() === s.chosen.join() ? ' <b>(taken)</b>' : ''}</td><td>${c.logLoss.toFixed(4)}</td></tr>`).join('');
  return `<table><tr><th>Candidate</th><th>Inner out-of-fold log-loss per photo (lower is better)</th></tr>${rows}</table>`;
}

/** What the combiner dropped from the candidate taken, as a clause. */
function dropped(s: FeatureSelection): string {
  const gone = s.kept ? s.chosen.filter((f) => !s.kept!.includes(f)) : [];
  return gone.length ? ` (${esc(gone.join(' and '))} got weight 0 in the stack of ${esc(s.chosen.join(' + '))} and ${gone.length > 1 ? 'were' : 'was'} dropped)` : '';
}

/** The section's HTML, or undefined without feature blocks. */
export function featuresSection(c: FeatureComparison | undefined, model: FittedFeatureModel | undefined): { id: string; title: string; html: string } | undefined {
  if (!c || !model) return undefined;
  const views = VIEWS.filter((v) => c.representations.some((r) => r.byView[v]));
  const head = `<tr><th>Representation</th><th>AUC per person</th><th>AUC per photo</th>${views.map((v) => `<th>${esc(v)}: per person</th>`).join('')}<th>Chosen by the inner CV</th></tr>`;
  const rows = c.representations.map((r) => `<tr><td>${esc(r.label.replace(/\+/g, ' + '))}</td><td>${est(r.subject)}</td><td>${est(r.photo)}</td>${views.map((v) => `<td>${est(r.byView[v]?.subject)}</td>`).join('')}<td>${r.chosenInFolds} of ${c.folds} folds</td></tr>`).join('');
  const final = model.features.join(' + ');
  const how = c.request === 'auto'
    ? `<p>Asked for <code>auto</code>: in every outer fold, each representation got a classifier, and a stacked logistic regression with non-negative weights combined their out-of-fold logits on that fold's training photos; a representation it gave weight 0 was dropped. A smaller candidate (one representation, or a stack of fewer) replaced the stack of all only when its inner out-of-fold log-loss was lower by more than ${model.selection?.minGain ?? 0} per photo. The test folds never took part. The study's AUC is that of the model fitted fold by fold; the rows below score every candidate on the same folds, for comparison only (picking the best row afterwards would be optimistic).</p>`
    : `<p>Asked for <code>${esc(c.request)}</code>: every fold learnt from it; the rows below are what each block and fusion does on the same folds, for comparison.</p>`;
  const stack = model.stacker ? `<p>The blocks are fused by stacking: one classifier per block, combined by logistic regression on their out-of-fold logits with weights ${model.features.map((f, k) => `${esc(f)} ${model.stacker!.weights[k].toFixed(2)}`).join(', ')}.</p>` : '';
  const choice = model.selection ? `<h3>The final model's choice</h3><p>On all the training photos (${model.selection.innerFolds}-fold inner CV), the final model learns from <b>${esc(final)}</b>${dropped(model.selection)}:</p>${selectionTable(model.selection)}` : `<p>The final model learns from <b>${esc(final)}</b>.</p>`;
  return { id: 'representations', title: 'Representations', html: `${how}<table>${head}${rows}</table>${choice}${stack}` };
}
